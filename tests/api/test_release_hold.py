"""Results held for clinician review: NOPAT keeps a not-yet-final result from the patient
(read, search totals, $everything) while clinicians see it; removing the label releases it."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.testclient import TestClient

from chartkeeper.app import Services
from tests.api.conftest import put
from tests.api.people import build_hospital, observation, user

NOPAT = {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "NOPAT"}


@pytest.fixture
def hospital(client: TestClient) -> TestClient:
    build_hospital(client)
    return client


def _preliminary(ident: str) -> dict[str, Any]:
    return {**observation(ident, "pa"), "status": "preliminary"}


def _codes(resource: dict[str, Any]) -> set[str]:
    return {c["code"] for c in resource.get("meta", {}).get("security", [])}


def _ids(client: TestClient, path: str, headers: dict[str, str]) -> tuple[int, list[str]]:
    body = client.get(path, headers=headers).json()
    return body["total"], sorted(e["resource"]["id"] for e in body.get("entry", []))


def test_a_preliminary_result_is_held_and_hidden_from_the_patient_only(
    services: Services, hospital: TestClient
) -> None:
    stored = put(hospital, "/fhir/Observation/o-held", _preliminary("o-held")).json()
    assert "NOPAT" in _codes(stored)
    patient = user(services, "alice", "patient", patient_id="pa")
    held = hospital.get("/fhir/Observation/o-held", headers=patient)
    missing = hospital.get("/fhir/Observation/never-was", headers=patient)
    assert held.status_code == missing.status_code == 404
    assert _ids(hospital, "/fhir/Observation", patient) == (1, ["o-pa"])
    everything = hospital.get("/fhir/Patient/pa/$everything", headers=patient).json()
    assert "o-held" not in {e["resource"]["id"] for e in everything["entry"]}
    doctor = user(services, "doc1", "physician", practitioner_id="doc")
    assert hospital.get("/fhir/Observation/o-held", headers=doctor).status_code == 200
    assert _ids(hospital, "/fhir/Observation?patient=pa", doctor) == (2, ["o-held", "o-pa"])


def test_removing_the_label_releases_the_result(services: Services, hospital: TestClient) -> None:
    put(hospital, "/fhir/Observation/o-held", _preliminary("o-held"))
    released = put(hospital, "/fhir/Observation/o-held", observation("o-held", "pa")).json()
    assert "NOPAT" not in _codes(released)
    patient = user(services, "alice", "patient", patient_id="pa")
    assert hospital.get("/fhir/Observation/o-held", headers=patient).status_code == 200
    assert _ids(hospital, "/fhir/Observation", patient) == (2, ["o-held", "o-pa"])


def test_a_final_result_held_by_hand_stays_hidden(services: Services, hospital: TestClient) -> None:
    body = {**observation("o-kept", "pa"), "meta": {"security": [NOPAT]}}
    put(hospital, "/fhir/Observation/o-kept", body)
    patient = user(services, "alice", "patient", patient_id="pa")
    assert hospital.get("/fhir/Observation/o-kept", headers=patient).status_code == 404
    assert _ids(hospital, "/fhir/Observation", patient) == (1, ["o-pa"])
