"""Access control through the real API: who may see what, refusals that look like missing
records, filters that never leak through totals, includes, chains, _has, history or
$everything, and an audit entry for every access."""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import text
from starlette.testclient import TestClient

from chartkeeper.app import Services
from chartkeeper.privacy.actor import Actor
from tests.api.conftest import bearer
from tests.api.people import PASSWORD, build_hospital, observation, user


@pytest.fixture
def hospital(client: TestClient) -> TestClient:
    build_hospital(client)
    return client


def test_anonymous_requests_for_patient_data_get_401(anonymous: TestClient) -> None:
    response = anonymous.get("/fhir/Patient")
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == 'Bearer realm="chartkeeper"'
    assert response.json()["issue"][0]["code"] == "login"
    assert anonymous.get("/fhir/metadata").status_code == 200


@pytest.mark.parametrize(
    "header",
    [
        "Bearer not.a.token",
        "Bearer eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJzdWIiOiJ4In0.",
        "Basic dXNlcjpwYXNz",
    ],
)
def test_forged_tokens_get_401(anonymous: TestClient, header: str) -> None:
    response = anonymous.get("/fhir/Patient", headers={"authorization": header})
    assert response.status_code == 401


def test_an_expired_token_gets_401(services: Services, anonymous: TestClient, clock: Any) -> None:
    headers = user(services, "nurse1", "nurse")
    clock.advance(hours=2)
    assert anonymous.get("/fhir/Patient", headers=headers).status_code == 401


def test_a_patient_sees_only_their_own_chart(services: Services, hospital: TestClient) -> None:
    headers = user(services, "alice", "patient", patient_id="pa")
    own = hospital.get("/fhir/Observation", headers=headers).json()
    assert own["total"] == 1
    assert [e["resource"]["id"] for e in own["entry"]] == ["o-pa"]
    assert hospital.get("/fhir/Observation/o-pa", headers=headers).status_code == 200
    hidden = hospital.get("/fhir/Observation/o-pb", headers=headers)
    missing = hospital.get("/fhir/Observation/never-was", headers=headers)
    assert hidden.status_code == missing.status_code == 404
    assert hidden.json()["issue"][0]["code"] == "not-found"


def test_nothing_leaks_through_includes_chains_has_history_or_everything(
    services: Services, hospital: TestClient
) -> None:
    headers = user(services, "alice", "patient", patient_id="pa")

    def ids(path: str, **params: str) -> list[str]:
        body = hospital.get(path, params=params, headers=headers).json()
        return sorted(
            e["resource"]["id"]
            for e in body.get("entry", [])
            if e.get("search", {}).get("mode") != "outcome"
        )

    assert ids("/fhir/Patient", _revinclude="Observation:subject") == ["o-pa", "pa"]
    assert ids("/fhir/Observation", _include="Observation:subject") == ["o-pa", "pa"]
    assert ids("/fhir/Observation", **{"subject:Patient.family": "Fampb"}) == []
    assert ids("/fhir/Patient", **{"_has:Observation:subject:code": "8867-4"}) == ["pa"]
    assert hospital.get("/fhir/Patient/pb/$everything", headers=headers).status_code in (403, 404)
    history = hospital.get("/fhir/_history", headers=headers).json()
    assert {e["resource"]["id"] for e in history.get("entry", [])} <= {"pa", "o-pa", "ct-a", "doc"}
    assert hospital.get("/fhir/Observation/o-pb/_history", headers=headers).status_code == 404


def test_a_clinician_needs_a_treatment_relationship(
    services: Services, hospital: TestClient
) -> None:
    headers = user(services, "drdoc", "physician", practitioner_id="doc")
    assert hospital.get("/fhir/Observation/o-pa", headers=headers).status_code == 200
    assert hospital.get("/fhir/Observation/o-pb", headers=headers).status_code == 404
    found = hospital.get("/fhir/Observation", headers=headers).json()
    assert [e["resource"]["id"] for e in found["entry"]] == ["o-pa"]


def test_front_desk_sees_demographics_but_not_results(
    services: Services, hospital: TestClient
) -> None:
    headers = user(services, "desk", "front_desk")
    assert hospital.get("/fhir/Patient/pa", headers=headers).status_code == 200
    refused = hospital.get("/fhir/Observation", headers=headers)
    assert refused.status_code == 403
    assert "front_desk" in refused.json()["issue"][0]["diagnostics"]


def test_a_token_scope_narrower_than_the_role_is_enforced(
    services: Services, hospital: TestClient
) -> None:
    services.security.identity.add_user("tech", "him_technician", PASSWORD)
    actor = services.security.identity.user_actor("tech")
    narrow = Actor(**{**actor.__dict__, "scopes": frozenset({"user/Patient.rs"})})
    headers = bearer(services, narrow)
    assert hospital.get("/fhir/Patient/pa", headers=headers).status_code == 200
    assert hospital.get("/fhir/Observation/o-pa", headers=headers).status_code == 403


def test_refused_writes_leave_no_trace(services: Services, hospital: TestClient) -> None:
    headers = user(services, "alice", "patient", patient_id="pa")
    response = hospital.put(
        "/fhir/Observation/o-pa",
        json=observation("o-pa", "pa"),
        headers={**headers, "content-type": "application/fhir+json"},
    )
    assert response.status_code in (403, 404)
    assert hospital.get("/fhir/Observation/o-pa/_history").json()["total"] == 1


def test_every_access_is_audited(services: Services, hospital: TestClient) -> None:
    headers = user(services, "alice", "patient", patient_id="pa")
    hospital.get("/fhir/Observation/o-pa", headers=headers)
    hospital.get("/fhir/Observation/o-pb", headers=headers)
    services.ledger.buffered().flush()
    with services.engine.connect() as conn:
        rows = conn.execute(
            text("SELECT agent, action, outcome FROM audit_ledger WHERE agent = 'alice'")
        ).all()
    assert ("alice", "R", "0") in [tuple(r) for r in rows]
    assert ("alice", "R", "4") in [tuple(r) for r in rows]
    assert services.ledger.verify().ok
    writes = (
        services.engine.connect()
        .execute(text("SELECT count(*) FROM audit_ledger WHERE action IN ('C', 'U')"))
        .scalar()
    )
    assert writes and writes >= 5


def test_a_clock_skewed_future_token_is_refused(
    services: Services, anonymous: TestClient, clock: Any
) -> None:
    headers = user(services, "nurse2", "nurse")
    clock.advance(hours=-1)
    assert anonymous.get("/fhir/Patient", headers=headers).status_code == 401


def test_a_deleted_record_of_another_patient_looks_missing_not_gone(
    services: Services, hospital: TestClient
) -> None:
    assert hospital.delete("/fhir/Observation/o-pb").status_code == 204
    headers = user(services, "alice", "patient", patient_id="pa")
    assert hospital.get("/fhir/Observation/o-pb", headers=headers).status_code == 404
    assert hospital.get("/fhir/Observation/o-pb").status_code == 410
