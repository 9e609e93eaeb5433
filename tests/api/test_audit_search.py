"""Searching the audit ledger through FHIR: auditors and privacy officers only, never writable."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from sqlalchemy import text
from starlette.testclient import TestClient

from chartkeeper.app import Services
from chartkeeper.core.clock import FixedClock
from tests.api.conftest import INTEGRATION, bearer
from tests.api.people import PASSWORD, build_hospital, token, user


@pytest.fixture
def hospital(services: Services, client: TestClient, clock: FixedClock) -> TestClient:
    """The hospital built on 15 Jan 2026; drdoc reads pa's (allowed) and pb's (refused)
    Observation on 16 Jan; the reads are flushed to the ledger."""
    build_hospital(client)
    services.security.identity.add_user("drdoc", "physician", PASSWORD, practitioner_id="doc")
    clock.advance(days=1)
    doctor = token(services, "drdoc")
    assert client.get("/fhir/Observation/o-pa", headers=doctor).status_code == 200
    assert client.get("/fhir/Observation/o-pb", headers=doctor).status_code == 404
    services.ledger.buffered().flush()
    return client


def search(client: TestClient, headers: dict[str, str], **params: str) -> Any:
    response = client.get("/fhir/AuditEvent", params=params, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()


def patients_of(event: dict[str, Any]) -> set[str]:
    return {
        e["what"]["reference"]
        for e in event.get("entity", [])
        if e.get("role", {}).get("code") == "1"
    }


def agent_of(event: dict[str, Any]) -> str:
    return str(event["agent"][0]["who"]["identifier"]["value"])


def ledger_size(services: Services) -> int:
    services.ledger.buffered().flush()
    with services.engine.connect() as conn:
        return int(conn.execute(text("SELECT count(*) FROM audit_ledger")).scalar_one())


def test_an_auditor_finds_the_entries_of_a_patient(
    services: Services, hospital: TestClient
) -> None:
    auditor = user(services, "audrey", "auditor")
    bundle = search(hospital, auditor, patient="Patient/pa")
    assert bundle["resourceType"] == "Bundle" and bundle["type"] == "searchset"
    events = [e["resource"] for e in bundle["entry"]]
    assert bundle["total"] == len(events) >= 4  # pa's creation, o-pa, ct-a, drdoc's read
    assert all("Patient/pa" in patients_of(event) for event in events)
    assert all(e["fullUrl"].endswith(f"/AuditEvent/{e['resource']['id']}") for e in bundle["entry"])
    recorded = [event["recorded"] for event in events]
    assert recorded == sorted(recorded, reverse=True)  # newest first
    assert agent_of(events[0]) == "drdoc"
    assert {agent_of(event) for event in events} == {"drdoc", INTEGRATION.name}


def test_filters_by_agent_date_action_and_outcome(services: Services, hospital: TestClient) -> None:
    auditor = user(services, "audrey", "auditor")
    by_agent = search(hospital, auditor, agent="drdoc")
    assert by_agent["total"] == 2
    assert {agent_of(e["resource"]) for e in by_agent["entry"]} == {"drdoc"}
    refused = search(hospital, auditor, agent="drdoc", outcome="4")
    assert [patients_of(e["resource"]) for e in refused["entry"]] == [{"Patient/pb"}]
    assert search(hospital, auditor, patient="pa", action="R", outcome="0")["total"] == 1
    later = search(hospital, auditor, date="ge2026-01-16", action="R")
    assert {agent_of(e["resource"]) for e in later["entry"]} == {"drdoc"}
    day_one = search(hospital, auditor, date="lt2026-01-16", action="C")
    assert day_one["total"] >= 1
    assert {agent_of(e["resource"]) for e in day_one["entry"]} == {INTEGRATION.name}
    window = hospital.get(
        "/fhir/AuditEvent",
        params=[("date", "ge2026-01-16T00:00:00Z"), ("date", "le2026-01-16"), ("agent", "drdoc")],
        headers=auditor,
    ).json()
    assert window["total"] == 2
    assert search(hospital, auditor, date="eq2025", agent="drdoc")["total"] == 0


def test_pages_with_count_and_offset(services: Services, hospital: TestClient) -> None:
    auditor = user(services, "audrey", "auditor")
    # Creations only: the auditor's own searches of pa's entries join the ledger as it pages.
    everything = search(hospital, auditor, patient="pa", action="C")
    first = search(hospital, auditor, patient="pa", action="C", _count="2")
    second = search(hospital, auditor, patient="pa", action="C", _count="2", _offset="2")
    assert first["total"] == second["total"] == everything["total"] == 3
    ids = [e["resource"]["id"] for e in everything["entry"]]
    assert [e["resource"]["id"] for e in first["entry"]] == ids[:2]
    assert [e["resource"]["id"] for e in second["entry"]] == ids[2:]
    links = {link["relation"]: link["url"] for link in first["link"]}
    assert "_offset=2" in links["next"] and "previous" not in links
    assert "previous" in {link["relation"] for link in second["link"]}


def test_a_privacy_officer_may_search_and_read_one_entry(
    services: Services, hospital: TestClient
) -> None:
    officer = user(services, "polly", "privacy_officer")
    bundle = search(hospital, officer, agent="drdoc", _count="1")
    seq = bundle["entry"][0]["resource"]["id"]
    response = hospital.get(f"/fhir/AuditEvent/{seq}", headers=officer)
    assert response.status_code == 200
    assert response.json() == bundle["entry"][0]["resource"]
    assert hospital.get("/fhir/AuditEvent/999999", headers=officer).status_code == 404
    assert hospital.get("/fhir/AuditEvent/not-a-seq", headers=officer).status_code == 404


@pytest.mark.parametrize("role", ["physician", "nurse", "him_technician", "admin", "front_desk"])
def test_other_roles_get_403(services: Services, hospital: TestClient, role: str) -> None:
    headers = user(services, f"someone-{role}", role)
    response = hospital.get("/fhir/AuditEvent", params={"patient": "pa"}, headers=headers)
    assert response.status_code == 403
    outcome = response.json()
    assert outcome["resourceType"] == "OperationOutcome"
    assert "auditors and privacy officers" in outcome["issue"][0]["diagnostics"]
    assert hospital.get("/fhir/AuditEvent/1", headers=headers).status_code == 403


def test_patients_and_service_clients_get_403(services: Services, hospital: TestClient) -> None:
    alice = user(services, "alice", "patient", patient_id="pa")
    assert hospital.get("/fhir/AuditEvent", headers=alice).status_code == 403
    client = bearer(services, INTEGRATION)
    assert hospital.get("/fhir/AuditEvent", headers=client).status_code == 403


def test_anonymous_gets_401(anonymous: TestClient) -> None:
    response = anonymous.get("/fhir/AuditEvent")
    assert response.status_code == 401
    assert response.json()["issue"][0]["code"] == "login"
    assert anonymous.get("/fhir/AuditEvent/1").status_code == 401


def test_bad_parameters_get_400(services: Services, hospital: TestClient) -> None:
    auditor = user(services, "audrey", "auditor")
    for params in ({"action": "X"}, {"outcome": "3"}, {"date": "ge2026-13"}, {"name": "x"}):
        response = hospital.get("/fhir/AuditEvent", params=params, headers=auditor)
        assert response.status_code == 400, params
        assert response.json()["resourceType"] == "OperationOutcome"


def test_writes_get_405_and_change_nothing(services: Services, hospital: TestClient) -> None:
    auditor = user(services, "audrey", "auditor")
    seq = search(hospital, auditor, _count="1")["entry"][0]["resource"]["id"]
    before = ledger_size(services)
    original = hospital.get(f"/fhir/AuditEvent/{seq}", headers=auditor).json()
    forged = {**original, "outcome": "0", "action": "C"}
    json_headers = {**auditor, "content-type": "application/fhir+json"}
    attempts = [
        hospital.post("/fhir/AuditEvent", json=forged, headers=json_headers),
        hospital.put(f"/fhir/AuditEvent/{seq}", json=forged, headers=json_headers),
        hospital.patch(f"/fhir/AuditEvent/{seq}", json=[], headers=json_headers),
        hospital.delete(f"/fhir/AuditEvent/{seq}", headers=auditor),
        hospital.delete("/fhir/AuditEvent", params={"agent": "drdoc"}, headers=auditor),
        hospital.put("/fhir/AuditEvent", params={"agent": "x"}, json=forged, headers=json_headers),
        hospital.post("/fhir/AuditEvent", json=forged, headers=bearer(services, INTEGRATION)),
    ]
    for response in attempts:
        assert response.status_code == 405
        assert response.json()["issue"][0]["diagnostics"] == (
            "AuditEvents are written by the server only"
        )
    assert ledger_size(services) == before + 1  # only the auditor's read of the entry
    assert hospital.get(f"/fhir/AuditEvent/{seq}", headers=auditor).json() == original
    assert services.ledger.verify().ok


def test_searches_are_audited_and_the_chain_stays_intact(
    services: Services, hospital: TestClient
) -> None:
    auditor = user(services, "audrey", "auditor")
    search(hospital, auditor, patient="Patient/pa", action="R")
    doctor = token(services, "drdoc")
    assert hospital.get("/fhir/AuditEvent", headers=doctor).status_code == 403
    services.ledger.buffered().flush()
    mine = search(hospital, auditor, agent="audrey")["entry"]
    assert len(mine) == 1
    event = mine[0]["resource"]
    assert event["subtype"][0]["code"] == "search-type" and event["action"] == "E"
    assert patients_of(event) == {"Patient/pa"}
    query = next(e["query"] for e in event["entity"] if "query" in e)
    assert base64.b64decode(query).decode().startswith("AuditEvent?patient=Patient%2Fpa")
    refused = search(hospital, auditor, agent="drdoc", outcome="4", action="E")["entry"]
    assert [e["resource"]["subtype"][0]["code"] for e in refused] == ["search-type"]
    assert services.ledger.verify().ok


def test_audit_events_are_not_in_the_resources_table(
    services: Services, hospital: TestClient
) -> None:
    with services.engine.connect() as conn:
        stored = conn.execute(
            text("SELECT count(*) FROM resources WHERE res_type = 'AuditEvent'")
        ).scalar_one()
    assert stored == 0


def test_malformed_patient_ids_are_400_not_500(services: Services, hospital: TestClient) -> None:
    officer = user(services, "polly", "privacy_officer")
    for path in ("/fhir/AuditEvent?patient=a%20b", "/fhir/Patient/a%20b/$access-log"):
        response = hospital.get(path, headers=officer)
        assert response.status_code == 400, path
        assert response.json()["resourceType"] == "OperationOutcome"
