"""``chartkeeper mpi``: re-index, train, dedupe, the queue, explain, merge and unmerge."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from sqlalchemy import delete

from chartkeeper.app import Services, build_services
from chartkeeper.cli.main import cli
from chartkeeper.core.settings import load_settings
from chartkeeper.fhir.interactions.read import read
from chartkeeper.fhir.interactions.update import update
from chartkeeper.store.mpi_schema import mpi_blocks, mpi_records

SSN = "http://hl7.org/fhir/sid/us-ssn"


def _run(database_url: str, tmp_path: Path, *args: str) -> Result:
    command = ["--data-dir", str(tmp_path), "--database-url", database_url, *args]
    return CliRunner().invoke(cli, command)


def _patient(ident: str, given: str, family: str, birth: str, ssn: str) -> dict[str, Any]:
    return {
        "resourceType": "Patient",
        "id": ident,
        "name": [{"family": family, "given": [given]}],
        "birthDate": birth,
        "gender": "female",
        "identifier": [{"system": SSN, "value": ssn}],
        "address": [{"line": ["4 Elm Row"], "city": "Dayton", "postalCode": "45402"}],
    }


@pytest.fixture
def store(database_url: str, tmp_path: Path) -> Iterator[Services]:
    """Twenty people, one of them registered twice (Margaret / Peggy)."""
    settings = load_settings({"data_dir": str(tmp_path), "database_url": database_url}, environ={})
    services = build_services(settings)
    families = ["Ortega", "Lindqvist", "Abara", "Novak", "Tanaka"]
    givens = ["Ruth", "Ines", "Maya", "Olga"]
    for n in range(20):
        body = _patient(
            f"p{n}",
            givens[n % 4],
            families[n % 5],
            f"19{50 + n}-0{1 + n % 9}-1{n % 9}",
            f"52{n:01d}-11-{1000 + n}",
        )
        update(services.fhir, "Patient", f"p{n}", body)
    twin = _patient("peggy", "Peggy", "Whitcombe", "1948-03-09", "501-22-3344")
    update(services.fhir, "Patient", "peggy", twin)
    original = _patient("margaret", "Margaret", "Whitcombe", "1948-09-03", "501-22-3344")
    update(services.fhir, "Patient", "margaret", original)
    services.security.identity.add_user("hank", "him_technician", "correct horse battery")
    yield services
    services.close()


def test_reindex_rebuilds_a_lost_index(store: Services, database_url: str, tmp_path: Path) -> None:
    with store.engine.begin() as connection:
        connection.execute(delete(mpi_blocks))
        connection.execute(delete(mpi_records))
    result = _run(database_url, tmp_path, "mpi", "reindex")
    assert result.exit_code == 0, result.output
    assert "re-indexed 22 patients" in result.output


def test_train_dedupe_queue_explain_merge_unmerge(
    store: Services, database_url: str, tmp_path: Path
) -> None:
    trained = _run(database_url, tmp_path, "mpi", "train")
    assert trained.exit_code == 0, trained.output
    assert "trained model" in trained.output
    deduped = _run(database_url, tmp_path, "mpi", "dedupe")
    assert deduped.exit_code == 0, deduped.output
    queue = _run(database_url, tmp_path, "mpi", "queue", "--as", "hank", "--status", "open,linked")
    assert queue.exit_code == 0, queue.output
    lines = [line for line in queue.output.splitlines() if "Patient/margaret" in line]
    assert len(lines) == 1, queue.output
    assert "Patient/peggy" in lines[0]
    pair_id = lines[0].split()[0]
    explained = _run(database_url, tmp_path, "mpi", "explain", pair_id, "--as", "hank")
    assert explained.exit_code == 0, explained.output
    assert "nickname" in explained.output
    merged = _run(
        database_url, tmp_path, "mpi", "merge", "Patient/margaret", "peggy", "--as", "hank"
    )
    assert merged.exit_code == 0, merged.output
    merge_id = re.search(r"merge (\S+)$", merged.output.strip()).group(1)  # type: ignore[union-attr]
    assert read(store.fhir, "Patient", "peggy").body_text is not None
    assert '"active":false' in (read(store.fhir, "Patient", "peggy").body_text or "")
    undone = _run(database_url, tmp_path, "mpi", "unmerge", merge_id, "--as", "hank")
    assert undone.exit_code == 0, undone.output
    assert '"active"' not in (read(store.fhir, "Patient", "peggy").body_text or "")
    again = _run(database_url, tmp_path, "mpi", "unmerge", merge_id, "--as", "hank")
    assert again.exit_code == 75
    assert "already been undone" in again.output


def test_a_conflicting_merge_is_a_plain_message(
    store: Services, database_url: str, tmp_path: Path
) -> None:
    refused = _run(database_url, tmp_path, "mpi", "merge", "p1", "p2", "--as", "hank")
    assert refused.exit_code == 75
    assert refused.output.startswith("error: Refused: the SSN numbers differ")
    nobody = _run(database_url, tmp_path, "mpi", "merge", "p1", "p2", "--as", "nobody")
    assert nobody.exit_code != 0
    assert "Traceback" not in nobody.output
    wrong = _run(database_url, tmp_path, "mpi", "merge", "Observation/1", "p2", "--as", "hank")
    assert wrong.exit_code == 65
