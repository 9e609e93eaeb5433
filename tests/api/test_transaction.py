"""batch and transaction Bundles: atomicity, urn:uuid and conditional references, order."""

from __future__ import annotations

from typing import Any

from starlette.testclient import TestClient

from tests.api.conftest import patient, post


def _entry(
    resource: dict[str, Any],
    method: str = "POST",
    url: str | None = None,
    full_url: str | None = None,
    **request: str,
) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "resource": resource,
        "request": {"method": method, "url": url or resource["resourceType"], **request},
    }
    if full_url:
        entry["fullUrl"] = full_url
    return entry


def _observation(subject: str) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": "8867-4"}]},
        "subject": {"reference": subject},
        "valueQuantity": {
            "value": 72,
            "unit": "/min",
            "system": "http://unitsofmeasure.org",
            "code": "/min",
        },
    }


def test_transaction_resolves_urn_uuid_references(client: TestClient) -> None:
    bundle = {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            _entry(_observation("urn:uuid:11111111-1111-1111-1111-111111111111")),
            _entry(patient(), full_url="urn:uuid:11111111-1111-1111-1111-111111111111"),
        ],
    }
    response = post(client, "/fhir", bundle)
    assert response.status_code == 200
    body = response.json()
    assert body["type"] == "transaction-response"
    statuses = [e["response"]["status"] for e in body["entry"]]
    assert statuses == ["201 Created", "201 Created"]
    patient_location = body["entry"][1]["response"]["location"]
    patient_id = patient_location.split("/")[1]
    observations = client.get("/fhir/Observation", params={"subject": f"Patient/{patient_id}"})
    assert observations.json()["total"] == 1
    stored = observations.json()["entry"][0]["resource"]
    assert stored["subject"]["reference"] == f"Patient/{patient_id}"


def test_a_failing_entry_rolls_back_the_whole_transaction(client: TestClient) -> None:
    bundle = {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            _entry(patient(family="Keep")),
            _entry(patient(family="Broken", birth="1990-13-45")),
        ],
    }
    response = post(client, "/fhir", bundle)
    assert response.status_code == 400
    issue = response.json()["issue"][0]
    assert issue["expression"] == ["Bundle.entry[1].resource.birthDate"]
    assert client.get("/fhir/Patient", params={"_summary": "count"}).json()["total"] == 0
    assert client.get("/fhir/_history").json()["total"] == 0


def test_transaction_resolves_conditional_references(client: TestClient) -> None:
    post(client, "/fhir/Patient", patient(identifier=[{"system": "urn:mrn", "value": "42"}]))
    bundle = {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [_entry(_observation("Patient?identifier=urn:mrn|42"))],
    }
    response = post(client, "/fhir", bundle)
    assert response.status_code == 200
    found = client.get("/fhir/Observation", params={"subject:Patient.identifier": "urn:mrn|42"})
    assert found.json()["total"] == 1


def test_a_conditional_reference_without_a_match_fails_the_transaction(client: TestClient) -> None:
    bundle = {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [_entry(_observation("Patient?identifier=urn:mrn|404"))],
    }
    response = post(client, "/fhir", bundle)
    assert response.status_code == 412
    assert "entry[0]" in response.json()["issue"][0]["diagnostics"]
    assert client.get("/fhir/Observation", params={"_summary": "count"}).json()["total"] == 0


def test_transaction_carries_out_deletes_before_creates(client: TestClient) -> None:
    client.put(
        "/fhir/Patient/p-1",
        json=patient(id="p-1"),
        headers={"content-type": "application/fhir+json"},
    )
    bundle = {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            _entry(patient(family="New")),
            {"request": {"method": "DELETE", "url": "Patient/p-1"}},
        ],
    }
    response = post(client, "/fhir", bundle)
    assert response.status_code == 200
    assert [e["response"]["status"] for e in response.json()["entry"]] == [
        "201 Created",
        "204 No Content",
    ]
    assert client.get("/fhir/Patient/p-1").status_code == 410


def test_batch_entries_succeed_or_fail_alone(client: TestClient) -> None:
    bundle = {
        "resourceType": "Bundle",
        "type": "batch",
        "entry": [
            _entry(patient(family="Good")),
            _entry(patient(family="Bad", birth="not-a-date")),
            {"request": {"method": "GET", "url": "Patient/unknown"}},
        ],
    }
    response = post(client, "/fhir", bundle)
    assert response.status_code == 200
    entries = response.json()["entry"]
    assert entries[0]["response"]["status"] == "201 Created"
    assert entries[1]["response"]["status"] == "400 Bad Request"
    assert entries[1]["response"]["outcome"]["resourceType"] == "OperationOutcome"
    assert entries[2]["response"]["status"] == "404 Not Found"
    assert client.get("/fhir/Patient", params={"_summary": "count"}).json()["total"] == 1


def test_a_bundle_of_another_type_is_refused(client: TestClient) -> None:
    response = post(client, "/fhir", {"resourceType": "Bundle", "type": "collection"})
    assert response.status_code == 400
    assert response.json()["issue"][0]["expression"] == ["Bundle.type"]


def test_transaction_put_entries_with_ids(client: TestClient) -> None:
    bundle = {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [_entry(patient(id="fixed"), method="PUT", url="Patient/fixed")],
    }
    assert post(client, "/fhir", bundle).status_code == 200
    again = post(client, "/fhir", bundle).json()
    assert again["entry"][0]["response"]["status"] == "200 OK"
    assert again["entry"][0]["response"]["etag"] == 'W/"2"'
