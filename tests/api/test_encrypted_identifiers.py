"""SSNs and driver's licence numbers: encrypted at rest, plaintext to callers, found by value.

Through the real ASGI app on SQLite and PostgreSQL; the database is then read directly to show
that no table (bodies, history, index rows, full text) holds the values.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, text
from sqlalchemy.engine import make_url
from starlette.testclient import TestClient

from chartkeeper.app import Services
from chartkeeper.cli.exporter import export_ndjson
from chartkeeper.core.clock import FixedClock
from chartkeeper.fhir.interactions.context import FhirContext
from chartkeeper.fhir.interactions.update import update
from chartkeeper.privacy.encryption import Reencryption, key_usage, retire_unused
from tests.api.conftest import FHIR_JSON, patient, post, put

SSN_SYSTEM = "http://hl7.org/fhir/sid/us-ssn"
DL_SYSTEM = "urn:oid:2.16.840.1.113883.4.3.25"
V2 = "http://terminology.hl7.org/CodeSystem/v2-0203"
SSN = "999-12-3456"
LICENCE = "S99943289"
MRN = "MRN-778899"
SECRETS = (SSN, LICENCE, "999-65-4321")


def _quinn(**extra: Any) -> dict[str, Any]:
    return patient(
        id="p1",
        family="Quinn",
        identifier=[
            {"system": "urn:mrn", "value": MRN},
            {
                "type": {"coding": [{"system": V2, "code": "SS"}]},
                "system": SSN_SYSTEM,
                "value": SSN,
            },
            {
                "type": {"coding": [{"system": V2, "code": "DL"}]},
                "system": DL_SYSTEM,
                "value": LICENCE,
            },
        ],
        generalPractitioner=[{"reference": "Practitioner/dr1"}],
        **extra,
    )


@pytest.fixture
def chart(client: TestClient, clock: FixedClock) -> TestClient:
    doctor = {
        "resourceType": "Practitioner",
        "id": "dr1",
        "identifier": [{"system": SSN_SYSTEM, "value": "999-65-4321"}],
    }
    assert put(client, "/fhir/Practitioner/dr1", doctor).status_code == 201
    clock.advance(minutes=1)
    assert put(client, "/fhir/Patient/p1", _quinn()).status_code == 201
    clock.advance(minutes=1)
    assert put(client, "/fhir/Patient/p1", _quinn(gender="other")).status_code == 200
    assert put(client, "/fhir/Patient/p2", patient(id="p2", family="Other")).status_code == 201
    observation = {
        "resourceType": "Observation",
        "id": "o1",
        "status": "final",
        "code": {"text": "pulse"},
        "subject": {"reference": "Patient/p1"},
    }
    assert put(client, "/fhir/Observation/o1", observation).status_code == 201
    return client


def _ids(client: TestClient, path: str, **params: str) -> list[str]:
    response = client.get(path, params=params)
    assert response.status_code == 200, response.text
    return sorted(e["resource"]["id"] for e in response.json().get("entry", []))


def _values(resource: dict[str, Any]) -> list[str]:
    return [i["value"] for i in resource.get("identifier", [])]


def _database_text(engine: Engine) -> str:
    """Every row of every table, as text (tsvector and FTS5 content included)."""
    if engine.dialect.name == "sqlite":
        names_sql = "SELECT name FROM sqlite_master WHERE type = 'table'"
    else:
        names_sql = "SELECT tablename FROM pg_tables WHERE schemaname = 'public'"
    parts: list[str] = []
    with engine.connect() as connection:
        for (name,) in connection.execute(text(names_sql)).all():
            rows = connection.execute(text(f'SELECT * FROM "{name}"')).all()
            parts.extend(f"{name}: {tuple(row)}" for row in rows)
    return "\n".join(parts)


def _database_files(database_url: str) -> bytes:
    """The SQLite database file and its write-ahead log, as bytes (empty on PostgreSQL)."""
    url = make_url(database_url)
    if url.get_backend_name() != "sqlite":
        return b""
    main = Path(url.database or "")
    wal = main.with_name(main.name + "-wal")
    return main.read_bytes() + (wal.read_bytes() if wal.exists() else b"")


def _fulltext_terms(engine: Engine, term: str) -> int:
    """Full-text documents holding ``term`` as a word, whatever the dialect."""
    with engine.connect() as connection:
        if engine.dialect.name == "sqlite":
            query = "SELECT count(*) FROM fulltext WHERE fulltext MATCH :t"
            return int(connection.execute(text(query), {"t": f'"{term}"'}).scalar() or 0)
        query = (
            "SELECT count(*) FROM fulltext_docs WHERE content_tsv @@ to_tsquery('simple', :t) "
            "OR narrative_tsv @@ to_tsquery('simple', :t)"
        )
        return int(connection.execute(text(query), {"t": term}).scalar() or 0)


def test_designated_identifiers_never_reach_the_database_in_plaintext(
    chart: TestClient, services: Services, database_url: str
) -> None:
    dump = _database_text(services.engine)
    assert MRN in dump  # the dump does see identifier values...
    for secret in SECRETS:
        assert secret not in dump  # ...but not these, in any table
        assert secret.encode() not in _database_files(database_url)
    assert dump.count("ckenc1.") == 8  # Patient: 3 versions x 2 values; Practitioner: 2 x 1
    assert _fulltext_terms(services.engine, "3456") == 0
    assert _fulltext_terms(services.engine, LICENCE.lower()) == 0
    assert _fulltext_terms(services.engine, "quinn") == 1  # the rest is still searchable
    with services.engine.connect() as connection:
        codes = connection.execute(
            text("SELECT code FROM idx_token WHERE res_id = 'p1' AND param LIKE 'identifier%'")
        ).scalars()
        blind = services.encrypted.cipher.blind_index
        assert sorted(codes) == sorted(
            [MRN, blind(SSN), blind(LICENCE), f"SS|{blind(SSN)}", f"DL|{blind(LICENCE)}"]
        )


def test_every_read_returns_the_plaintext(
    chart: TestClient, services: Services, tmp_path: Path
) -> None:
    expected = [MRN, SSN, LICENCE]
    assert _values(chart.get("/fhir/Patient/p1").json()) == expected
    assert _values(chart.get("/fhir/Patient/p1/_history/1").json()) == expected
    history = chart.get("/fhir/Patient/p1/_history").json()
    assert [_values(e["resource"]) for e in history["entry"]] == [expected, expected]
    found = chart.get("/fhir/Patient", params={"family": "quinn"}).json()
    assert _values(found["entry"][0]["resource"]) == expected
    included = chart.get(
        "/fhir/Patient", params={"_id": "p1", "_include": "Patient:general-practitioner"}
    )
    doctor = [e["resource"] for e in included.json()["entry"] if e["resource"]["id"] == "dr1"]
    assert _values(doctor[0]) == ["999-65-4321"]
    everything = chart.get("/fhir/Patient/p1/$everything").json()
    by_id = {e["resource"]["id"]: e["resource"] for e in everything["entry"]}
    assert _values(by_id["p1"]) == expected and _values(by_id["dr1"]) == ["999-65-4321"]
    counts = export_ndjson(services, tmp_path / "out", ["Patient"])
    assert counts == {"Patient": 2}
    exported = (tmp_path / "out" / "Patient.ndjson").read_text()
    assert SSN in exported and LICENCE in exported and "ckenc1." not in exported


def test_a_create_answers_with_the_plaintext_it_was_given(client: TestClient) -> None:
    response = post(client, "/fhir/Patient", _quinn(), prefer="return=representation")
    assert response.status_code == 201
    assert _values(response.json()) == [MRN, SSN, LICENCE]


def test_search_by_ssn_or_licence_finds_the_patient(chart: TestClient) -> None:
    assert _ids(chart, "/fhir/Patient", identifier=f"{SSN_SYSTEM}|{SSN}") == ["p1"]
    assert _ids(chart, "/fhir/Patient", identifier=f"{DL_SYSTEM}|{LICENCE}") == ["p1"]
    assert _ids(chart, "/fhir/Patient", identifier=SSN) == ["p1"]  # value only, no system
    assert _ids(chart, "/fhir/Patient", identifier="999123456") == ["p1"]  # hyphens ignored
    assert _ids(chart, "/fhir/Patient", identifier=f"{SSN_SYSTEM}|999-12-0000") == []
    assert _ids(chart, "/fhir/Patient", identifier=f"{DL_SYSTEM}|{SSN}") == []  # wrong system
    assert _ids(chart, "/fhir/Patient", identifier=f"urn:mrn|{MRN}") == ["p1"]
    assert _ids(chart, "/fhir/Patient", **{"identifier:of-type": f"{V2}|SS|{SSN}"}) == ["p1"]
    assert _ids(chart, "/fhir/Patient", **{"identifier:not": f"{SSN_SYSTEM}|{SSN}"}) == ["p2"]
    assert _ids(chart, "/fhir/Practitioner", identifier="999-65-4321") == ["dr1"]
    chained = {"subject:Patient.identifier": f"{SSN_SYSTEM}|{SSN}"}
    assert _ids(chart, "/fhir/Observation", **chained) == ["o1"]
    assert _ids(chart, "/fhir/Patient", _content=SSN) == []  # not in the full-text index


def test_a_conditional_create_on_an_ssn_finds_the_existing_patient(chart: TestClient) -> None:
    response = post(
        chart,
        "/fhir/Patient",
        _quinn(),
        **{"if-none-exist": f"identifier={SSN_SYSTEM}|{SSN}"},
    )
    assert response.status_code == 200
    assert _ids(chart, "/fhir/Patient", identifier=SSN) == ["p1"]


def test_a_ciphertext_moved_to_another_record_is_refused_not_shown(
    chart: TestClient, services: Services
) -> None:
    with services.engine.begin() as connection:
        stolen = connection.execute(
            text("SELECT body FROM resources WHERE res_type = 'Practitioner' AND res_id = 'dr1'")
        ).scalar_one()
        connection.execute(
            text("UPDATE resources SET res_id = 'dr2' WHERE res_type = 'Practitioner'")
        )
        assert "ckenc1." in stolen
    response = chart.get("/fhir/Practitioner/dr2")
    assert response.status_code == 500
    outcome = response.json()
    assert outcome["resourceType"] == "OperationOutcome"
    message = outcome["issue"][0]["diagnostics"]
    assert "Practitioner/dr2" in message and "999" not in message and "ckenc1" not in message


def test_rotation_reencrypts_every_version_and_reads_still_work(
    chart: TestClient, services: Services
) -> None:
    cipher = services.encrypted.cipher
    old = cipher.active_key_id
    new = cipher.keyring.add_data_key("2026-02-01T00:00:00Z").id
    report = Reencryption(services.repository, cipher, batch_size=2).run()
    assert (report.versions, report.reencrypted, report.encrypted) == (7, 5, 0)
    with services.engine.connect() as connection:
        usage = key_usage(connection)
    assert usage.by_key == {new: 5} and usage.plaintext == 0
    assert retire_unused(cipher.keyring, usage) == ([old], {})
    assert _values(chart.get("/fhir/Patient/p1").json()) == [MRN, SSN, LICENCE]
    assert _values(chart.get("/fhir/Patient/p1/_history/1").json()) == [MRN, SSN, LICENCE]
    assert _ids(chart, "/fhir/Patient", identifier=SSN) == ["p1"]
    assert Reencryption(services.repository, cipher).run().reencrypted == 0  # nothing left


def test_rotation_encrypts_values_stored_before_encryption_existed(
    client: TestClient, services: Services
) -> None:
    raw = FhirContext(repository=services.repository, clock=services.clock)  # no encryption
    assert update(raw, "Patient", "p1", _quinn()).status == 201
    assert SSN in _database_text(services.engine)
    with services.engine.connect() as connection:
        assert key_usage(connection).plaintext == 2  # the current version and its history
    report = Reencryption(services.repository, services.encrypted.cipher).run()
    assert (report.encrypted, report.reencrypted) == (2, 0)
    dump = _database_text(services.engine)
    assert SSN not in dump and LICENCE not in dump
    assert _ids(client, "/fhir/Patient", identifier=f"{SSN_SYSTEM}|{SSN}") == ["p1"]
    assert _ids(client, "/fhir/Patient", family="quinn") == ["p1"]  # other indexes kept
    assert _values(client.get("/fhir/Patient/p1").json()) == [MRN, SSN, LICENCE]
    response = client.get("/fhir/Patient/p1", headers=FHIR_JSON)
    assert response.headers["etag"] == 'W/"1"'  # no new version
