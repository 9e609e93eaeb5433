"""``$explain`` and the portal's explanations through the real API: plain words with spans
and grades, every kind of record, the access rules (looks missing, held results), audit, and
bad input answered 400 with an OperationOutcome."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from sqlalchemy import text
from starlette.testclient import TestClient

from chartkeeper.app import Services
from chartkeeper.core.errors import InvalidError
from tests.api.conftest import post, put
from tests.api.people import build_hospital, user

NOTE = (
    "58 yo M w/ h/o HTN and DM2 p/w CP x2 days. Pt denies SOB. "
    "FHx of MI in father. r/o ACS. Plan: start ASA 81 mg PO daily."
)


@pytest.fixture
def hospital(client: TestClient) -> TestClient:
    build_hospital(client)
    note = {
        "resourceType": "DocumentReference",
        "id": "note-pa",
        "status": "current",
        "docStatus": "final",
        "type": {"text": "ED note"},
        "subject": {"reference": "Patient/pa"},
        "date": "2026-01-10T10:00:00Z",
        "content": [
            {
                "attachment": {
                    "contentType": "text/plain",
                    "data": base64.b64encode(NOTE.encode()).decode(),
                }
            }
        ],
    }
    put(client, "/fhir/DocumentReference/note-pa", note)
    return client


def _params(body: dict[str, Any]) -> dict[str, list[Any]]:
    found: dict[str, list[Any]] = {}
    for item in body["parameter"]:
        found.setdefault(item["name"], []).append(item)
    return found


def _parts(item: dict[str, Any]) -> dict[str, Any]:
    return {p["name"]: next(v for k, v in p.items() if k.startswith("value")) for p in item["part"]}


def _explain(client: TestClient, name: str, value: Any, **headers: str) -> Any:
    key = {"text": "valueString", "resource": "resource", "reference": "valueString"}[name]
    return post(
        client,
        "/fhir/$explain",
        {"resourceType": "Parameters", "parameter": [{"name": name, key: value}]},
        **headers,
    )


def test_a_note_is_explained_with_spans_and_grades(hospital: TestClient) -> None:
    response = _explain(hospital, "text", NOTE)
    assert response.status_code == 200
    body = response.json()
    assert body["resourceType"] == "Parameters"
    params = _params(body)
    explained = params["text"][0]["valueString"]
    assert "high blood pressure" in explained.lower()
    assert params["original"][0]["valueString"] == NOTE
    grades = {_parts(g)["of"]: _parts(g) for g in params["grade"]}
    assert set(grades) == {"original", "explanation"}
    assert "flesch-kincaid" in grades["original"] and "coleman-liau-index" in grades["original"]
    assert grades["explanation"]["flesch-kincaid"] <= 8
    spans = [_parts(s) for s in params["span"]]
    assert spans, "no explained phrase was linked to the original"
    for span in spans:
        assert NOTE[span["start"] : span["end"]] == span["original"]
    assert any(s["original"] == "HTN" and s["kind"] == "abbreviation" for s in spans)


def test_negation_and_doubt_survive_the_explanation(hospital: TestClient) -> None:
    explained = _params(_explain(hospital, "text", "Pt denies CP. r/o MI.").json())
    words = explained["text"][0]["valueString"].lower()
    assert "chest pain" in words and ("not" in words or "no " in words)
    assert "heart attack" in words or "myocardial infarction" in words
    assert any(w in words for w in ("possible", "may", "check", "rule out"))


def _reads_of_pa(services: Services) -> int:
    services.ledger.buffered().flush()
    with services.engine.connect() as conn:
        return int(
            conn.execute(
                text("SELECT count(*) FROM audit_ledger WHERE patient_ids = 'pa' AND action = 'R'")
            ).scalar_one()
        )


def test_a_stored_note_is_explained_by_reference_and_audited(
    services: Services, hospital: TestClient
) -> None:
    before = _reads_of_pa(services)
    by_post = _explain(hospital, "reference", "DocumentReference/note-pa")
    by_get = hospital.get("/fhir/DocumentReference/note-pa/$explain")
    assert by_post.status_code == by_get.status_code == 200
    assert by_post.json() == by_get.json()
    params = _params(by_post.json())
    assert params["source"][0]["valueReference"]["reference"] == "DocumentReference/note-pa"
    assert params["original"][0]["valueString"] == NOTE
    assert _reads_of_pa(services) == before + 2
    assert services.ledger.verify().ok


def test_a_diagnosis_a_result_and_a_sig(hospital: TestClient) -> None:
    condition = {
        "resourceType": "Condition",
        "subject": {"reference": "Patient/pa"},
        "code": {"coding": [{"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": "I10"}]},
    }
    words = _params(_explain(hospital, "resource", condition).json())["text"][0]["valueString"]
    assert "blood pressure" in words.lower()
    result = {
        "resourceType": "Observation",
        "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": "2345-7"}], "text": "Glucose"},
        "valueQuantity": {"value": 250, "unit": "mg/dL"},
        "referenceRange": [{"low": {"value": 70}, "high": {"value": 99}}],
    }
    words = _params(_explain(hospital, "resource", result).json())["text"][0]["valueString"]
    assert "higher than the usual range" in words
    medicine = {
        "resourceType": "MedicationRequest",
        "status": "active",
        "intent": "order",
        "subject": {"reference": "Patient/pa"},
        "medicationCodeableConcept": {"text": "ibuprofen 200 mg tablet"},
        "dosageInstruction": [{"text": "1 tab PO BID prn pain"}],
    }
    words = _params(_explain(hospital, "resource", medicine).json())["text"][0]["valueString"]
    assert "Take 1 tablet by mouth 2 times a day if needed for pain" in words
    by_reference = {
        **{k: v for k, v in medicine.items() if k != "medicationCodeableConcept"},
        "medicationReference": {"reference": "Medication/m1", "display": "ibuprofen 200 mg"},
    }
    words = _params(_explain(hospital, "resource", by_reference).json())["text"][0]["valueString"]
    assert words.startswith("ibuprofen 200 mg: Take 1 tablet")


def test_another_patients_note_and_a_held_result_look_missing(
    services: Services, hospital: TestClient
) -> None:
    held = {
        "resourceType": "Observation",
        "id": "o-held",
        "status": "preliminary",
        "code": {"text": "Glucose"},
        "subject": {"reference": "Patient/pa"},
        "valueQuantity": {"value": 250, "unit": "mg/dL"},
    }
    put(hospital, "/fhir/Observation/o-held", held)
    alice = user(services, "alice", "patient", patient_id="pa")
    boris = user(services, "boris", "patient", patient_id="pb")
    assert _explain(hospital, "reference", "DocumentReference/note-pa", **alice).status_code == 200
    refused = _explain(hospital, "reference", "DocumentReference/note-pa", **boris)
    missing = _explain(hospital, "reference", "DocumentReference/never-was", **boris)
    assert refused.status_code == missing.status_code == 404
    assert refused.json()["issue"][0]["code"] == missing.json()["issue"][0]["code"]
    assert hospital.get("/fhir/Observation/o-held/$explain", headers=alice).status_code == 404
    assert hospital.get("/fhir/Observation/o-held/$explain").status_code == 200


@pytest.mark.parametrize(
    ("body", "where"),
    [
        ({"resourceType": "Parameters", "parameter": []}, "Parameters.parameter"),
        (
            {
                "resourceType": "Parameters",
                "parameter": [
                    {"name": "text", "valueString": "a"},
                    {"name": "reference", "valueString": "Patient/pa"},
                ],
            },
            "Parameters.parameter",
        ),
        (
            {
                "resourceType": "Parameters",
                "parameter": [{"name": "reference", "valueString": "x"}],
            },
            "reference",
        ),
        (
            {"resourceType": "Parameters", "parameter": [{"name": "text", "valueInteger": 3}]},
            "text",
        ),
        (
            {"resourceType": "Parameters", "parameter": [{"name": "resource", "valueString": "x"}]},
            "resource",
        ),
        ({"resourceType": "Patient"}, "resourceType"),
    ],
)
def test_bad_requests_get_400_with_the_place(
    hospital: TestClient, body: dict[str, Any], where: str
) -> None:
    response = post(hospital, "/fhir/$explain", body)
    assert response.status_code == 400
    issue = response.json()["issue"][0]
    assert issue["expression"] == [where]


def test_empty_unknown_foreign_and_huge_text(services: Services, client: TestClient) -> None:
    empty = _params(_explain(client, "text", "").json())
    assert "text" not in empty and "span" not in empty
    unknown = _params(_explain(client, "text", "Pt seen for XQZT follow-up.").json())
    assert "XQZT" in unknown["text"][0]["valueString"]
    assert "unknown-abbreviation:XQZT" in [f["valueString"] for f in unknown["flag"]]
    foreign = "El paciente tiene dolor de pecho y no tiene fiebre desde hace dos días."
    spanish = _params(_explain(client, "text", foreign).json())
    assert "not-english" in [f["valueString"] for f in spanish["flag"]]
    assert spanish["text"][0]["valueString"] == foreign
    too_big = _explain(client, "text", "x" * 1_000_001)
    assert too_big.status_code in (400, 413)


def test_anonymous_callers_get_401(anonymous: TestClient) -> None:
    response = post(anonymous, "/fhir/$explain", {"resourceType": "Parameters"})
    assert response.status_code == 401


def test_the_capability_statement_declares_explain(client: TestClient) -> None:
    rest = client.get("/fhir/metadata").json()["rest"][0]
    assert "explain" in [op["name"] for op in rest["operation"]]


def test_the_portal_lists_and_explains_the_patients_own_record(
    services: Services, hospital: TestClient
) -> None:
    held = {
        "resourceType": "Observation",
        "id": "o-held",
        "status": "preliminary",
        "code": {"text": "Held glucose"},
        "subject": {"reference": "Patient/pa"},
        "valueQuantity": {"value": 250, "unit": "mg/dL"},
    }
    put(hospital, "/fhir/Observation/o-held", held)
    alice = user(services, "alice", "patient", patient_id="pa")
    listing = hospital.get("/portal/explain", headers={"accept": "text/html", **alice})
    assert listing.status_code == 200
    assert 'href="/portal/explain/DocumentReference/note-pa"' in listing.text
    assert "Held glucose" not in listing.text
    page = hospital.get("/portal/explain/DocumentReference/note-pa", headers=alice)
    assert page.status_code == 200
    assert "<mark" in page.text and "What your care team wrote" in page.text
    assert "high blood pressure" in page.text.lower()
    nurse = user(services, "nurse9", "nurse")
    assert hospital.get("/portal/explain", headers=nurse).status_code == 403


@pytest.mark.parametrize(
    "resource",
    [
        {"resourceType": "Observation", "interpretation": ["H"], "valueQuantity": {"value": 1}},
        {"resourceType": "Observation", "interpretation": [{"coding": "x"}]},
        {
            "resourceType": "Observation",
            "referenceRange": [{"low": 3}],
            "valueQuantity": {"value": 1},
        },
        {"resourceType": "Observation", "component": 5},
        {"resourceType": "Observation", "valueQuantity": {"value": True}, "code": 7},
        {"resourceType": "DocumentReference", "content": 5},
        {"resourceType": "DocumentReference", "content": [{"attachment": "x"}]},
        {"resourceType": "DiagnosticReport", "presentedForm": [7], "conclusion": 5},
        {"resourceType": "Composition", "section": 5},
        {"resourceType": "Composition", "section": [{"title": 3, "text": {"div": 4}}]},
        {"resourceType": "MedicationRequest", "dosageInstruction": 5},
        {"resourceType": "MedicationRequest", "dosageInstruction": [{"text": 5}]},
        {"resourceType": "Condition", "code": {"coding": 5}},
        {
            "resourceType": "Condition",
            "code": {"coding": [{"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": 5}]},
        },
        {"resourceType": "Patient", "text": "x"},
    ],
)
def test_odd_resources_are_explained_or_refused_never_a_500(
    client: TestClient, resource: dict[str, Any]
) -> None:
    response = _explain(client, "resource", resource)
    assert response.status_code in (200, 400), response.text


def test_a_resource_with_too_much_text_is_refused_with_the_place(services: Services) -> None:
    """Over HTTP a body this big is already 413 here; a stored record can be this big."""
    report = {"resourceType": "DiagnosticReport", "conclusion": "x " * 600_000}
    with pytest.raises(InvalidError) as refused:
        services.explainer.explain_posted(report)
    assert refused.value.expression == ("DiagnosticReport",)
