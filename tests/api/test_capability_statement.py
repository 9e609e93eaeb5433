"""The CapabilityStatement declares what the server really does about security and the audit
ledger: SMART on FHIR with the same OAuth endpoints as the SMART discovery document, the
ledger's read-only AuditEvent with the parameters it answers, and the operations
``$access-log`` and ``$break-the-glass`` at the paths that serve them."""

from __future__ import annotations

from typing import Any

from starlette.testclient import TestClient

from chartkeeper.app import Services
from chartkeeper.fhir.interactions.capabilities import LEDGER_PARAMS, OAUTH_URIS
from chartkeeper.privacy.audit.query import PARAMETERS
from tests.api.conftest import FHIR_JSON
from tests.api.people import user


def _statement(client: TestClient) -> dict[str, Any]:
    response = client.get("/fhir/metadata")
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


def _resource(statement: dict[str, Any], kind: str) -> dict[str, Any]:
    found: dict[str, Any] = next(r for r in statement["rest"][0]["resource"] if r["type"] == kind)
    return found


def test_security_is_smart_on_fhir_with_the_discovered_endpoints(anonymous: TestClient) -> None:
    security = _statement(anonymous)["rest"][0]["security"]
    codes = [c["code"] for s in security["service"] for c in s["coding"]]
    assert codes == ["SMART-on-FHIR"]
    uris = next(e for e in security["extension"] if e["url"] == OAUTH_URIS)
    declared = {e["url"]: e["valueUri"] for e in uris["extension"]}
    discovered = anonymous.get("/.well-known/smart-configuration").json()
    assert declared == {
        "authorize": discovered["authorization_endpoint"],
        "token": discovered["token_endpoint"],
    }
    assert security["cors"] is False
    assert "access-control-allow-origin" not in anonymous.get("/fhir/metadata").headers


def test_the_patient_operations_are_declared_and_served(
    services: Services, client: TestClient, anonymous: TestClient
) -> None:
    operations = {op["name"] for op in _resource(_statement(anonymous), "Patient")["operation"]}
    assert {
        "everything",
        "access-log",
        "break-the-glass",
        "match",
        "merge",
        "unmerge",
    } <= operations
    match = client.post(
        "/fhir/Patient/$match",
        json={
            "resourceType": "Parameters",
            "parameter": [{"name": "resource", "resource": {"resourceType": "Patient"}}],
        },
        headers=FHIR_JSON,
    )
    assert match.status_code == 200, match.text
    client.put("/fhir/Patient/p1", json={"resourceType": "Patient", "id": "p1"}, headers=FHIR_JSON)
    own = user(services, "pat", "patient", patient_id="p1")
    assert client.get("/fhir/Patient/p1/$access-log", headers=own).status_code == 200
    doctor = user(services, "drdoc", "physician")
    declared = client.post(
        "/fhir/Patient/p1/$break-the-glass",
        json={
            "resourceType": "Parameters",
            "parameter": [{"name": "reason", "valueString": "Unconscious in the ED"}],
        },
        headers={**doctor, **FHIR_JSON},
    )
    assert declared.status_code == 201, declared.text


def test_audit_event_is_declared_read_only_with_the_ledger_parameters(
    services: Services, client: TestClient
) -> None:
    entry = _resource(_statement(client), "AuditEvent")
    assert [i["code"] for i in entry["interaction"]] == ["read", "search-type"]
    names = [p["name"] for p in entry["searchParam"]]
    assert set(names) == set(LEDGER_PARAMS) == set(PARAMETERS) - {"_count", "_offset"}
    auditor = user(services, "audrey", "auditor")
    values = {"action": "R", "agent": "x", "date": "ge2026", "outcome": "0", "patient": "p1"}
    for name in names:
        response = client.get("/fhir/AuditEvent", params={name: values[name]}, headers=auditor)
        assert response.status_code == 200, (name, response.text)
    undeclared = client.get("/fhir/AuditEvent", params={"entity": "x"}, headers=auditor)
    assert undeclared.status_code == 400
    assert client.put("/fhir/AuditEvent/1", json={}, headers=FHIR_JSON).status_code == 405
