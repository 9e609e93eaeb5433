"""GET /api/patients/{id}/summary and the summary on the chart page, on a small synthetic record
(SQLite and PostgreSQL)."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.testclient import TestClient

from chartkeeper.app import Services
from tests.api.conftest import patient, put
from tests.api.people import PASSWORD, token, user

LOINC = "http://loinc.org"
CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
P1 = {"reference": "Patient/p1"}
DOC = {"reference": "Practitioner/doc"}  # no display: the summary looks the name up


def concept(code: str, display: str, system: str = LOINC) -> dict[str, Any]:
    return {"coding": [{"system": system, "code": code, "display": display}]}


def lab(ident: str, day: str, value: float, **extra: Any) -> dict[str, Any]:
    """An HbA1c result of p1; its range says above 5.6 % is high."""
    return {
        "resourceType": "Observation",
        "id": ident,
        "status": "final",
        "category": [concept("laboratory", "Laboratory", CATEGORY)],
        "code": concept("4548-4", "Hemoglobin A1c"),
        "subject": P1,
        "effectiveDateTime": day,
        "performer": [{"reference": "Organization/lab", "display": "Riverside Lab"}],
        "valueQuantity": {"value": value, "unit": "%"},
        "referenceRange": [{"high": {"value": 5.6, "unit": "%"}}],
        **extra,
    }


def blood_pressure(ident: str, day: str, systolic: int, diastolic: int) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "id": ident,
        "status": "final",
        "category": [concept("vital-signs", "Vital Signs", CATEGORY)],
        "code": concept("85354-9", "Blood pressure panel"),
        "subject": P1,
        "effectiveDateTime": day,
        "performer": [DOC],
        "component": [
            {"code": concept("8480-6", "Systolic"), "valueQuantity": {"value": systolic}},
            {"code": concept("8462-4", "Diastolic"), "valueQuantity": {"value": diastolic}},
        ],
    }


def code_status(ident: str, day: str, text: str) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "id": ident,
        "status": "final",
        "code": concept("100822-6", "Cardiopulmonary resuscitation orders"),
        "subject": P1,
        "effectiveDateTime": day,
        "performer": [DOC],
        "valueCodeableConcept": {"text": text},
    }


def record() -> list[dict[str, Any]]:
    """Patient p1's chart: one active and one resolved problem, meds, allergies, results,
    orders, a referral tracked by a Task, an advance directive and a care team."""
    addressed_by_med = {"reasonReference": [{"reference": "Condition/c-dm"}]}
    return [
        {
            "resourceType": "Practitioner",
            "id": "doc",
            "name": [{"family": "Doc", "given": ["Dana"]}],
        },
        {"resourceType": "Organization", "id": "lab", "name": "Riverside Lab"},
        {"resourceType": "Organization", "id": "cardio", "name": "Hill Cardiology"},
        {
            "resourceType": "Condition",
            "id": "c-dm",
            "clinicalStatus": concept(
                "active", "Active", "http://terminology.hl7.org/CodeSystem/condition-clinical"
            ),
            "code": {"text": "Type 2 diabetes"},
            "subject": P1,
            "onsetDateTime": "2019-03-01",
            "recordedDate": "2019-03-05",
            "recorder": DOC,
        },
        {
            "resourceType": "Condition",
            "id": "c-old",
            "clinicalStatus": concept(
                "resolved", "Resolved", "http://terminology.hl7.org/CodeSystem/condition-clinical"
            ),
            "code": {"text": "Sprained ankle"},
            "subject": P1,
            "recordedDate": "2020-01-01",
        },
        {
            "resourceType": "Encounter",
            "id": "e1",
            "status": "finished",
            "class": {"code": "AMB", "display": "ambulatory"},
            "subject": P1,
            "period": {"start": "2025-06-01T09:00:00Z"},
            "participant": [
                {
                    "type": [
                        concept(
                            "ATND",
                            "attender",
                            "http://terminology.hl7.org/CodeSystem/v3-ParticipationType",
                        )
                    ],
                    "individual": DOC,
                }
            ],
            "diagnosis": [{"condition": {"reference": "Condition/c-dm"}}],
        },
        {
            "resourceType": "MedicationRequest",
            "id": "m1",
            "status": "active",
            "intent": "order",
            "medicationCodeableConcept": {"text": "Metformin 500 mg tablet"},
            "subject": P1,
            "authoredOn": "2025-10-01",
            "requester": {"reference": "Practitioner/doc", "display": "Dr Dana Doc"},
            "dosageInstruction": [{"text": "1 tablet twice a day"}],
            **addressed_by_med,
        },
        {
            "resourceType": "MedicationRequest",
            "id": "m-stopped",
            "status": "stopped",
            "intent": "order",
            "medicationCodeableConcept": {"text": "Glipizide"},
            "subject": P1,
        },
        {
            "resourceType": "AllergyIntolerance",
            "id": "a-low",
            "criticality": "low",
            "code": {"text": "Adhesive tape"},
            "patient": P1,
            "recordedDate": "2024-01-01",
        },
        {
            "resourceType": "AllergyIntolerance",
            "id": "a-high",
            "criticality": "high",
            "code": {"text": "Penicillin"},
            "patient": P1,
            "recordedDate": "2015-01-01",
            "asserter": DOC,
            "reaction": [{"manifestation": [{"text": "Anaphylaxis"}], "severity": "severe"}],
        },
        lab("hba1c-1", "2025-01-10", 6.8),
        lab("hba1c-2", "2025-06-01", 7.4),
        lab("hba1c-3", "2025-10-01", 8.1),
        blood_pressure("bp-1", "2025-06-01", 150, 95),
        blood_pressure("bp-2", "2025-10-01", 128, 82),
        code_status("cs-1", "2024-01-01", "Full code"),
        code_status("cs-2", "2025-09-01", "Do not resuscitate"),
        {
            "resourceType": "ServiceRequest",
            "id": "sr-lipids",
            "status": "active",
            "intent": "order",
            "code": {"text": "Lipid panel"},
            "subject": P1,
            "authoredOn": "2025-10-01",
            "requester": DOC,
        },
        {
            "resourceType": "ServiceRequest",
            "id": "sr-done",
            "status": "active",
            "intent": "order",
            "code": {"text": "Urine albumin"},
            "subject": P1,
            "authoredOn": "2025-06-01",
        },
        {
            "resourceType": "DiagnosticReport",
            "id": "dr-done",
            "status": "final",
            "code": {"text": "Urine albumin"},
            "subject": P1,
            "basedOn": [{"reference": "ServiceRequest/sr-done"}],
        },
        {
            "resourceType": "ServiceRequest",
            "id": "sr-ref",
            "status": "active",
            "intent": "order",
            "category": [concept("3457005", "Patient referral", "http://snomed.info/sct")],
            "code": {"text": "Cardiology consultation"},
            "subject": P1,
            "authoredOn": "2025-09-15",
            "requester": DOC,
            "performer": [{"reference": "Organization/cardio"}],
        },
        {
            "resourceType": "Task",
            "id": "t-ref",
            "status": "in-progress",
            "intent": "order",
            "focus": {"reference": "ServiceRequest/sr-ref"},
            "for": P1,
            "authoredOn": "2025-09-16",
        },
        {
            "resourceType": "Consent",
            "id": "adr-1",
            "status": "active",
            "scope": concept(
                "adr",
                "Advanced Care Directive",
                "http://terminology.hl7.org/CodeSystem/consentscope",
            ),
            "category": [{"text": "Living will"}],
            "patient": P1,
            "dateTime": "2024-02-02",
            "performer": [P1],
            "policyRule": {"text": "State advance directive law"},
        },
        {
            "resourceType": "CareTeam",
            "id": "ct-1",
            "status": "active",
            "subject": P1,
            "period": {"start": "2019-03-05"},
            "participant": [{"role": [{"text": "Endocrinologist"}], "member": DOC}],
        },
    ]


@pytest.fixture
def chart(client: TestClient) -> TestClient:
    """Patients p1 (the record above; GP Dr Gray) and p2 (nothing but the Patient)."""
    gp = {"reference": "Practitioner/gp", "display": "Dr Gale Gray"}
    put(client, "/fhir/Practitioner/gp", {"resourceType": "Practitioner", "id": "gp"})
    p1 = patient(id="p1", family="Quill", given="Ada", generalPractitioner=[gp])
    assert put(client, "/fhir/Patient/p1", p1).status_code in (200, 201)
    p2 = patient(id="p2", family="Rowe", given="Bo", birth="1950-05-05")
    assert put(client, "/fhir/Patient/p2", p2).status_code in (200, 201)
    for resource in record():
        path = f"/fhir/{resource['resourceType']}/{resource['id']}"
        response = put(client, path, resource)
        assert response.status_code in (200, 201), (path, response.text)
    return client


def test_the_summary_lists_what_a_clinician_needs_first(chart: TestClient) -> None:
    response = chart.get("/api/patients/p1/summary")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["patient"] == {
        "reference": "Patient/p1",
        "name": "Quill, Ada",
        "birth_date": "1980-02-03",
        "gender": "female",
    }
    assert body["problems"] == [
        {
            "reference": "Condition/c-dm",
            "title": "Type 2 diabetes",
            "date": "2019-03-05",
            "author": "Dana Doc",
            "status": "Active",
            "onset": "2019-03-01",
            "last_addressed": "2025-10-01",
            "last_addressed_by": "MedicationRequest/m1",
        }
    ]
    assert [(m["reference"], m["dosage"], m["author"]) for m in body["medications"]] == [
        ("MedicationRequest/m1", "1 tablet twice a day", "Dr Dana Doc")
    ]
    assert [(a["title"], a["criticality"], a["reactions"]) for a in body["allergies"]] == [
        ("Penicillin", "high", ["Anaphylaxis (severe)"]),
        ("Adhesive tape", "low", []),
    ]
    assert body["code_status"]["detail"] == "Do not resuscitate"
    assert body["code_status"]["reference"] == "Observation/cs-2"
    directives = [(d["reference"], d["title"], d["author"]) for d in body["advance_directives"]]
    assert directives == [("Consent/adr-1", "Living will", "Quill, Ada")]


def test_results_carry_their_trend_and_abnormal_flag(chart: TestClient) -> None:
    body = chart.get("/api/patients/p1/summary").json()
    [hba1c] = body["labs"]
    assert (hba1c["reference"], hba1c["value"], hba1c["flag"], hba1c["trend"]) == (
        "Observation/hba1c-3",
        "8.1 %",
        "H",
        "up",
    )
    assert hba1c["author"] == "Riverside Lab"
    assert [p["reference"] for p in hba1c["previous"]] == [
        "Observation/hba1c-2",
        "Observation/hba1c-1",
    ]
    by_code = {v["code"]: v for v in body["vitals"]}
    assert set(by_code) == {"8480-6", "8462-4"}  # the panel's components, each its own series
    assert (by_code["8480-6"]["value"], by_code["8480-6"]["trend"]) == ("128", "down")
    assert by_code["8480-6"]["reference"] == "Observation/bp-2"
    assert all(v["author"] == "Dana Doc" for v in body["vitals"])


def test_orders_referrals_and_care_team(chart: TestClient) -> None:
    body = chart.get("/api/patients/p1/summary").json()
    assert [o["reference"] for o in body["pending_orders"]] == ["ServiceRequest/sr-lipids"]
    [referral] = body["referrals"]
    assert (referral["reference"], referral["open"], referral["task"], referral["task_status"]) == (
        "ServiceRequest/sr-ref",
        True,
        "Task/t-ref",
        "in-progress",
    )
    assert referral["performer"] == "Hill Cardiology"
    assert body["open_referrals"] == ["ServiceRequest/sr-ref"]
    team = [(c["name"], c["role"], c["reference"]) for c in body["care_team"]]
    assert team == [
        ("Dr Gale Gray", "General practitioner", "Patient/p1"),
        ("Dana Doc", "Endocrinologist", "CareTeam/ct-1"),
        ("Dana Doc", "Attending (latest encounter)", "Encounter/e1"),
    ]
    assert [e["reference"] for e in body["encounters"]] == ["Encounter/e1"]


def test_an_empty_chart_has_an_empty_summary(chart: TestClient) -> None:
    body = chart.get("/api/patients/p2/summary").json()
    assert body["patient"]["reference"] == "Patient/p2"
    lists = [k for k, v in body.items() if isinstance(v, list)]
    assert len(lists) == 13 and all(body[k] == [] for k in lists)
    assert body["code_status"] is None


def _not_found(response: Any) -> None:
    assert response.status_code == 404
    assert response.json()["resourceType"] == "OperationOutcome"
    assert response.json()["issue"][0]["code"] == "not-found"


def test_an_unknown_patient_is_404_with_an_outcome(chart: TestClient) -> None:
    _not_found(chart.get("/api/patients/nobody/summary"))


def test_without_credentials_the_summary_is_401(chart: TestClient, anonymous: TestClient) -> None:
    response = anonymous.get("/api/patients/p1/summary")
    assert response.status_code == 401
    assert response.json()["resourceType"] == "OperationOutcome"


def test_a_patient_sees_their_own_summary_only(services: Services, chart: TestClient) -> None:
    ada = user(services, "ada", "patient", patient_id="p1")
    own = chart.get("/api/patients/p1/summary", headers=ada)
    assert own.status_code == 200
    assert own.json()["problems"][0]["reference"] == "Condition/c-dm"
    other, missing = (chart.get(f"/api/patients/{i}/summary", headers=ada) for i in ("p2", "zz"))
    _not_found(other)
    _not_found(missing)
    assert other.json() == missing.json() | {"issue": other.json()["issue"]}


def test_a_physician_outside_the_care_team_cannot_see_the_summary(
    services: Services, chart: TestClient
) -> None:
    services.security.identity.add_user("drdoc", "physician", PASSWORD, practitioner_id="doc")
    doctor = token(services, "drdoc")
    assert chart.get("/api/patients/p1/summary", headers=doctor).status_code == 200
    _not_found(chart.get("/api/patients/p2/summary", headers=doctor))


def test_reading_the_summary_is_audited(services: Services, chart: TestClient) -> None:
    ada = user(services, "ada", "patient", patient_id="p1")
    assert chart.get("/api/patients/p1/summary", headers=ada).status_code == 200
    services.ledger.buffered().flush()
    auditor = user(services, "audrey", "auditor")
    found = chart.get("/fhir/AuditEvent", params={"agent": "ada"}, headers=auditor).json()
    events = [e["resource"] for e in found["entry"]]
    # the Patient read and the compartment read of the one summary
    kinds = sorted((e["subtype"][0]["code"], e["action"], e["outcome"]) for e in events)
    assert kinds == [("operation", "E", "0"), ("read", "R", "0")]
    for event in events:
        whose = {e["what"]["reference"] for e in event["entity"] if e["role"]["code"] == "1"}
        assert whose == {"Patient/p1"}


def test_the_chart_page_shows_the_summary_on_top(chart: TestClient) -> None:
    page = chart.get("/patients/p1", headers={"accept": "text/html"})
    assert page.status_code == 200
    html = page.text
    assert html.index("Clinician summary") < html.index('id="encounters"')
    assert 'href="/patients/p1/emergency">Emergency view</a>' in html
    assert 'action="/patients/p1/search"' in html and 'name="q"' in html
    assert "Do not resuscitate" in html
    assert "High (H)" in html and "rising" in html
    assert "High criticality" in html and "Anaphylaxis (severe)" in html
    assert 'href="/fhir/MedicationRequest/m1"' in html
    assert "Hill Cardiology" in html and "Open" in html


@pytest.mark.parametrize(
    "segment", ["a%00b", "%00", "9" * 400, "%C2%B2", "..", "%2E%2E%2Fx", "p1%2Fsummary", "x" * 5000]
)
def test_odd_ids_are_404_never_500(chart: TestClient, segment: str) -> None:
    response = chart.get(f"/api/patients/{segment}/summary")
    assert response.status_code == 404
    assert response.json()["resourceType"] == "OperationOutcome"


def test_only_get_is_allowed(chart: TestClient) -> None:
    response = chart.post("/api/patients/p1/summary", json={})
    assert response.status_code == 405
    assert response.json()["issue"][0]["code"] == "not-supported"
