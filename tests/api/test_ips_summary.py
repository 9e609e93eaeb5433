"""``Patient/{id}/$summary`` and the emergency view through the real app, on each database:
the IPS document's shape, who may see which summary, break-the-glass, and the audit trail."""

from __future__ import annotations

import re
from typing import Any
from urllib.parse import quote

import pytest
from fhir.resources.R4B import get_fhir_model_class
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from chartkeeper.app import Services
from chartkeeper.fhir.validation import validation_issues
from tests.api.conftest import put
from tests.api.people import PASSWORD, build_hospital, token, user

REASON = "Collapsed in the waiting room, no relationship on file"
HTML = {"accept": "text/html"}
CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
HOSTILE = "<script>alert('ips')</script>"


def _concept(code: str, text: str) -> dict[str, Any]:
    return {"coding": [{"system": "http://snomed.info/sct", "code": code}], "text": text}


def _chart(client: TestClient, pid: str) -> None:
    """A problem (with a hostile name), an active medication, a high-criticality allergy, a
    code status and a care-team contact for ``pid``."""
    subject = {"reference": f"Patient/{pid}"}
    resources = [
        {"resourceType": "Condition", "id": f"c-{pid}", "subject": subject,
         "clinicalStatus": {"coding": [{"system": CLINICAL, "code": "active"}]},
         "code": _concept("44054006", f"Diabetes {HOSTILE}")},
        {"resourceType": "MedicationRequest", "id": f"m-{pid}", "subject": subject,
         "status": "active", "intent": "order",
         "medicationCodeableConcept": _concept("860975", "Metformin 500 mg"),
         "dosageInstruction": [{"text": "One tablet twice daily"}]},
        {"resourceType": "AllergyIntolerance", "id": f"a-{pid}", "patient": subject,
         "criticality": "high", "code": _concept("91936005", "Penicillin"),
         "reaction": [{"manifestation": [_concept("39579001", "Anaphylaxis")]}]},
        {"resourceType": "Observation", "id": f"dnr-{pid}", "subject": subject,
         "status": "final", "effectiveDateTime": "2025-12-01",
         "code": {"coding": [{"system": "http://loinc.org", "code": "100822-6"}],
                  "text": "Resuscitation orders"},
         "valueCodeableConcept": _concept("304253006", "Do not resuscitate")},
    ]  # fmt: skip
    for resource in resources:
        response = put(client, f"/fhir/{resource['resourceType']}/{resource['id']}", resource)
        assert response.status_code == 201, response.text


@pytest.fixture
def hospital(client: TestClient) -> TestClient:
    """pa (treated by Practitioner doc through CareTeam ct-a) and pb, each with a chart."""
    build_hospital(client)
    _chart(client, "pa")
    _chart(client, "pb")
    return client


def _summary(client: TestClient, pid: str, headers: dict[str, str] | None = None) -> Any:
    return client.get(f"/fhir/Patient/{pid}/$summary", headers=headers or {})


def test_the_summary_is_a_valid_ips_document(services: Services, hospital: TestClient) -> None:
    response = _summary(hospital, "pa")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("application/fhir+json")
    doc = response.json()
    get_fhir_model_class("Bundle").model_validate(doc)
    for n, entry in enumerate(doc["entry"]):
        assert validation_issues(entry["resource"], f"Bundle.entry[{n}].resource") == []
    assert doc["type"] == "document"
    composition = doc["entry"][0]["resource"]
    assert composition["type"]["coding"][0]["code"] == "60591-5"
    assert doc["entry"][1]["resource"]["id"] == "pa"
    urls = {e["fullUrl"] for e in doc["entry"]}
    codes = [s["code"]["coding"][0]["code"] for s in composition["section"]]
    assert codes == ["11450-4", "10160-0", "48765-2", "42348-3"]
    for section in composition["section"]:
        assert {e["reference"] for e in section["entry"]} <= urls
        assert section["text"]["status"] == "generated"
    problems = composition["section"][0]["text"]["div"]
    assert "<script>" not in problems and "&lt;script&gt;" in problems
    ids = sorted(e["resource"]["id"] for e in doc["entry"][3:])
    assert ids == ["a-pa", "c-pa", "dnr-pa", "m-pa"]
    base = services.options.base_url
    assert all(u.startswith((f"{base}/", "urn:uuid:")) for u in urls)


def test_post_takes_no_body_or_a_parameters_resource(hospital: TestClient) -> None:
    path = "/fhir/Patient/pa/$summary"
    assert hospital.post(path).status_code == 200
    parameters = {"resourceType": "Parameters"}
    assert hospital.post(path, json=parameters).status_code == 200
    for body, kind, status in [
        (b"{not json", "application/fhir+json", 400),
        (b'{"resourceType": "Patient"}', "application/fhir+json", 400),
        (b"<Parameters/>", "application/fhir+xml", 415),
    ]:
        refused = hospital.post(path, content=body, headers={"content-type": kind})
        assert refused.status_code == status
        assert refused.json()["resourceType"] == "OperationOutcome"


def test_an_unknown_patient_is_the_404_of_a_read(hospital: TestClient) -> None:
    read = hospital.get("/fhir/Patient/nobody")
    summary = _summary(hospital, "nobody")
    assert (summary.status_code, summary.json()) == (404, read.json())


@pytest.mark.parametrize(
    "ident", ["a%20b", "%00", "x" * 300, "..", "%2E%2E", "%C3%A9", "_history", "%FF", "pa%0A"]
)
def test_odd_ids_are_never_a_server_error(hospital: TestClient, ident: str) -> None:
    response = hospital.get(f"/fhir/Patient/{ident}/$summary")
    assert response.status_code == 404
    assert response.json()["resourceType"] == "OperationOutcome"


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    ident=st.text(min_size=1, max_size=80),
    body=st.binary(max_size=200),
    kind=st.sampled_from(["application/fhir+json", "application/json", "text/plain", ""]),
)
def test_no_summary_request_yields_a_server_error(
    hospital: TestClient, ident: str, body: bytes, kind: str
) -> None:
    path = quote(ident, safe="")
    headers = {"content-type": kind} if kind else {}
    responses = [
        hospital.get(f"/fhir/Patient/{path}/$summary"),
        hospital.post("/fhir/Patient/pa/$summary", content=body, headers=headers),
        hospital.get(f"/patients/{path}/emergency", headers=HTML),
    ]
    assert all(r.status_code < 500 for r in responses), [r.text[:200] for r in responses]


def test_anonymous_callers_get_401(anonymous: TestClient, hospital: TestClient) -> None:
    response = anonymous.get("/fhir/Patient/pa/$summary")
    assert response.status_code == 401
    assert response.json()["issue"][0]["code"] == "login"


def test_a_patient_sees_their_own_summary_only(services: Services, hospital: TestClient) -> None:
    headers = user(services, "anna", "patient", patient_id="pa")
    own = _summary(hospital, "pa", headers)
    assert own.status_code == 200
    assert own.json()["entry"][1]["resource"]["id"] == "pa"
    other = _summary(hospital, "pb", headers)
    missing = hospital.get("/fhir/Patient/nobody", headers=headers)
    assert (other.status_code, other.json()) == (404, _renamed(missing.json(), "nobody", "pb"))


def _renamed(outcome: dict[str, Any], old: str, new: str) -> dict[str, Any]:
    for issue in outcome["issue"]:
        issue["diagnostics"] = issue["diagnostics"].replace(old, new)
    return outcome


def _entries(services: Services, client: TestClient, pid: str, agent: str) -> list[Any]:
    """The audit ledger's entries about ``pid`` by ``agent``, as an auditor finds them."""
    services.ledger.buffered().flush()
    auditor = token(services, "audrey")
    params = {"patient": f"Patient/{pid}", "_count": "100"}
    found = client.get("/fhir/AuditEvent", params=params, headers=auditor)
    assert found.status_code == 200, found.text
    events = [e["resource"] for e in found.json().get("entry", [])]
    return [e for e in events if e["agent"][0]["who"]["identifier"]["value"] == agent]


def test_break_the_glass_opens_the_summary_and_every_look_is_audited(
    services: Services, hospital: TestClient
) -> None:
    user(services, "audrey", "auditor")
    doctor = user(services, "drdoc", "physician", practitioner_id="doc")
    assert _summary(hospital, "pa", doctor).status_code == 200  # the care team
    refused = _summary(hospital, "pb", doctor)
    assert refused.status_code == 404
    glass = {"resourceType": "Parameters", "parameter": [{"name": "reason", "valueString": REASON}]}
    declared = hospital.post("/fhir/Patient/pb/$break-the-glass", json=glass, headers=doctor)
    assert declared.status_code == 201
    opened = _summary(hospital, "pb", doctor)
    assert opened.status_code == 200
    assert opened.json()["entry"][1]["resource"]["id"] == "pb"

    events = _entries(services, hospital, "pb", "drdoc")
    outcomes = [(e["action"], e["outcome"]) for e in events]
    assert ("E", "0") in outcomes  # the declaration
    assert ("R", "4") in outcomes  # the refused look before it
    emergency_reads = [
        e for e in events if e["action"] == "R" and "break-the-glass" in e.get("outcomeDesc", "")
    ]
    assert emergency_reads, "the look under the grant is recorded as an emergency access"
    treated = [e for e in _entries(services, hospital, "pa", "drdoc") if e["action"] == "R"]
    assert treated and all("break-the-glass" not in e.get("outcomeDesc", "") for e in treated)


def _sign_in(browser: TestClient, name: str) -> str:
    page = browser.get("/signin").text
    found = re.search(r'name="csrf" value="([^"]+)"', page)
    assert found
    form = {"name": name, "password": PASSWORD, "csrf": found.group(1), "next": "/patients"}
    assert browser.post("/signin", data=form, follow_redirects=False).status_code == 303
    csrf = re.search(r'name="csrf" value="([^"]+)"', browser.get("/patients").text)
    assert csrf
    return csrf.group(1)


def test_the_emergency_view_puts_the_critical_first(
    services: Services, hospital: TestClient, anonymous: TestClient
) -> None:
    user(services, "drdoc", "physician", practitioner_id="doc")
    _sign_in(anonymous, "drdoc")
    page = anonymous.get("/patients/pa/emergency", headers=HTML)
    assert page.status_code == 200
    assert "default-src 'self'" in page.headers["content-security-policy"]
    text = page.text
    assert text.index("Do not resuscitate") < text.index("Penicillin") < text.index("Diabetes")
    assert text.index("Diabetes") < text.index("Metformin 500 mg")
    assert "High criticality" in text and "Anaphylaxis" in text
    assert "One tablet twice daily" in text
    assert 'href="/fhir/AllergyIntolerance/a-pa"' in text
    assert 'href="/fhir/CareTeam/ct-a"' in text
    assert HOSTILE not in text and "&lt;script&gt;" in text


def test_a_clinician_breaks_the_glass_from_the_emergency_view(
    services: Services, hospital: TestClient, anonymous: TestClient
) -> None:
    user(services, "nurse1", "nurse")
    csrf = _sign_in(anonymous, "nurse1")
    refused = anonymous.get("/patients/pb/emergency", headers=HTML)
    assert refused.status_code == 404
    path = "/patients/pb/emergency/break-the-glass"
    assert f'action="{path}"' in refused.text
    forged = anonymous.post(path, data={"reason": REASON, "csrf": "x"}, headers=HTML)
    assert forged.status_code == 403
    short = anonymous.post(path, data={"reason": "now", "csrf": csrf}, headers=HTML)
    assert short.status_code == 400 and "Break the glass" in short.text
    opened = anonymous.post(path, data={"reason": REASON, "csrf": csrf}, follow_redirects=False)
    assert (opened.status_code, opened.headers["location"]) == (303, "/patients/pb/emergency")
    page = anonymous.get("/patients/pb/emergency", headers=HTML)
    assert page.status_code == 200 and "Penicillin" in page.text
    grants = services.break_glass.queue("pending")
    assert [(g.actor_name, g.patient_id) for g in grants] == [("nurse1", "pb")]


def test_other_roles_get_the_plain_refusal(services: Services, hospital: TestClient) -> None:
    headers = user(services, "desk", "front_desk")
    for path in ("/patients/pb/emergency", "/fhir/Patient/pb/$summary"):
        response = hospital.get(path, headers=headers)
        assert response.status_code == 403  # the role may never see a whole record
        assert response.json()["issue"][0]["code"] == "forbidden"


def test_the_capability_statement_declares_the_operation(hospital: TestClient) -> None:
    statement = hospital.get("/fhir/metadata").json()
    patient = next(r for r in statement["rest"][0]["resource"] if r["type"] == "Patient")
    operations = {o["name"]: o["definition"] for o in patient["operation"]}
    assert operations["summary"] == "http://hl7.org/fhir/uv/ips/OperationDefinition/summary"


def test_a_chart_with_nothing_still_has_the_required_sections(
    services: Services, client: TestClient
) -> None:
    put(client, "/fhir/Patient/empty", {"resourceType": "Patient", "id": "empty"})
    doc = _summary(client, "empty").json()
    sections = doc["entry"][0]["resource"]["section"]
    assert [s["emptyReason"]["coding"][0]["code"] for s in sections] == ["unavailable"] * 3


def test_a_medication_named_by_reference_travels_in_the_document(
    services: Services, hospital: TestClient
) -> None:
    medication = {"resourceType": "Medication", "id": "med1", "code": _concept("1", "Warfarin")}
    assert put(hospital, "/fhir/Medication/med1", medication).status_code == 201
    request = {
        "resourceType": "MedicationRequest",
        "id": "m-ref",
        "status": "active",
        "intent": "order",
        "subject": {"reference": "Patient/pa"},
        "medicationReference": {"reference": "Medication/med1", "display": "Warfarin"},
    }
    assert put(hospital, "/fhir/MedicationRequest/m-ref", request).status_code == 201
    patient_headers = user(services, "anna", "patient", patient_id="pa")
    for headers in ({}, patient_headers):
        doc = _summary(hospital, "pa", headers).json()
        urls = [e["fullUrl"] for e in doc["entry"]]
        assert f"{services.options.base_url}/Medication/med1" in urls
