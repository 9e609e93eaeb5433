"""``chartkeeper keys status`` and ``keys rotate``: rotation, resuming, retiring, auditing."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import text

from chartkeeper.app import Services, build_services
from chartkeeper.cli.main import cli
from chartkeeper.core.settings import load_settings
from chartkeeper.fhir.interactions.read import read
from chartkeeper.fhir.interactions.update import update
from chartkeeper.privacy.encryption import Reencryption, keyring_path

SSN_SYSTEM = "http://hl7.org/fhir/sid/us-ssn"
PATIENTS = 5


def _run(database_url: str, tmp_path: Path, *args: str) -> Result:
    command = ["--data-dir", str(tmp_path), "--database-url", database_url, *args]
    return CliRunner().invoke(cli, command)


def _services(database_url: str, tmp_path: Path) -> Services:
    settings = load_settings({"data_dir": str(tmp_path), "database_url": database_url}, environ={})
    return build_services(settings)


@pytest.fixture
def store(database_url: str, tmp_path: Path) -> Iterator[Services]:
    """A store with a few patients, each with an SSN (two versions each)."""
    services = _services(database_url, tmp_path)
    for n in range(PATIENTS):
        for gender in ("female", "male"):
            patient = {
                "resourceType": "Patient",
                "id": f"p{n}",
                "gender": gender,
                "identifier": [{"system": SSN_SYSTEM, "value": f"999-00-{n:04d}"}],
            }
            update(services.fhir, "Patient", f"p{n}", patient)
    yield services
    services.close()


def _key_ids(tmp_path: Path) -> tuple[str, list[str]]:
    document = json.loads(keyring_path(tmp_path).read_text())
    return document["active"], [k["id"] for k in document["data_keys"]]


def _ssn(services: Services, n: int) -> str:
    body = json.loads(read(services.fhir, "Patient", f"p{n}").body_text or "{}")
    return str(body["identifier"][0]["value"])


def _audited(services: Services) -> list[str]:
    with services.engine.connect() as connection:
        events = connection.execute(text("SELECT event FROM audit_ledger ORDER BY seq")).scalars()
        return [
            json.loads(e).get("outcomeDesc", "")
            for e in events
            if '"110129"' in e  # Security Configuration
        ]


def test_status_lists_the_keys_and_what_each_protects(
    store: Services, database_url: str, tmp_path: Path
) -> None:
    active, _ = _key_ids(tmp_path)
    result = _run(database_url, tmp_path, "keys", "status")
    assert result.exit_code == 0, result.output
    assert f"keyring: {keyring_path(tmp_path)}" in result.output
    assert re.search(
        rf"data key {active}  active  created \S+  {3 * PATIENTS} versions", result.output
    )
    assert "designated identifiers stored in plaintext: 0 versions" in result.output


def test_rotate_makes_a_new_key_reencrypts_everything_and_retires_the_old(
    store: Services, database_url: str, tmp_path: Path
) -> None:
    old, _ = _key_ids(tmp_path)
    result = _run(database_url, tmp_path, "keys", "rotate", "--batch-size", "3", "--retire-old")
    assert result.exit_code == 0, result.output
    new, ring = _key_ids(tmp_path)
    assert new != old and ring == [new]
    assert f"New active data key {new}" in result.output
    assert "Re-encrypting" in result.output  # the progress bar
    assert f"Re-encrypted {3 * PATIENTS} and encrypted 0 stored in plaintext of" in result.output
    assert f"Retired 1 old data keys: {old}" in result.output
    status = _run(database_url, tmp_path, "keys", "status").output
    assert f"data key {new}  active" in status and old not in status
    assert _ssn(store, 3) == "999-00-0003"  # the running services pick up the new key
    assert _audited(store) == [
        f"data key {new} created and made active",
        f"re-encrypted {3 * PATIENTS} and encrypted 0 stored in plaintext of {3 * PATIENTS} "
        f"versions under data key {new}",
        f"data keys retired: {old}",
    ]
    verify = _run(database_url, tmp_path, "audit", "verify")
    assert verify.exit_code == 0, verify.output


def test_an_interrupted_rotation_is_finished_by_resume(
    store: Services, database_url: str, tmp_path: Path
) -> None:
    old, _ = _key_ids(tmp_path)
    cipher = store.encrypted.cipher
    new = cipher.keyring.add_data_key("2026-02-01T00:00:00Z").id

    def crash(_batch: int) -> None:
        raise KeyboardInterrupt  # the operator's ^C after the first committed batch

    with pytest.raises(KeyboardInterrupt):
        Reencryption(store.repository, cipher, batch_size=2).run(crash)
    status = _run(database_url, tmp_path, "keys", "status").output
    assert f"data key {old}  old     created" in status and f"{3 * PATIENTS - 2} versions" in status
    assert all(_ssn(store, n) == f"999-00-{n:04d}" for n in range(PATIENTS))  # mixed keys read
    result = _run(database_url, tmp_path, "keys", "rotate", "--resume", "--retire-old")
    assert result.exit_code == 0, result.output
    assert f"Resuming with the active data key {new}" in result.output
    assert _key_ids(tmp_path) == (new, [new])
    assert all(_ssn(store, n) == f"999-00-{n:04d}" for n in range(PATIENTS))


def test_a_lost_keyring_is_reported_not_papered_over(
    store: Services, database_url: str, tmp_path: Path
) -> None:
    old, _ = _key_ids(tmp_path)
    keyring_path(tmp_path).unlink()
    result = _run(database_url, tmp_path, "keys", "status")  # makes a new, empty keyring
    assert result.exit_code == 75
    assert f"data key {old}  MISSING  {3 * PATIENTS} versions" in result.output
    rotate = _run(database_url, tmp_path, "keys", "rotate")
    assert rotate.exit_code == 70
    assert f"data key {old} is not in the keyring" in rotate.output
    assert "999-00" not in rotate.output
