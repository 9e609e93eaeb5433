"""Bad input gets a 4xx OperationOutcome that says what and where, and stores nothing."""

from __future__ import annotations

from starlette.testclient import TestClient

from tests.api.conftest import FHIR_JSON, patient, post, put


def _count(client: TestClient) -> int:
    total: int = client.get("/fhir/_history").json()["total"]
    return total


def test_malformed_json_is_400(client: TestClient) -> None:
    response = client.post("/fhir/Patient", content=b"{not json", headers=FHIR_JSON)
    assert response.status_code == 400
    assert "not valid JSON" in response.json()["issue"][0]["diagnostics"]
    assert _count(client) == 0


def test_a_wrong_content_type_is_415(client: TestClient) -> None:
    response = client.post(
        "/fhir/Patient", content=b"<Patient/>", headers={"content-type": "application/xml"}
    )
    assert response.status_code == 415
    assert response.json()["issue"][0]["code"] == "not-supported"


def test_a_resource_type_that_differs_from_the_url_is_400(client: TestClient) -> None:
    response = post(client, "/fhir/Observation", patient())
    assert response.status_code == 400
    assert response.json()["issue"][0]["expression"] == ["Observation.resourceType"]


def test_an_unknown_resource_type_is_404(client: TestClient) -> None:
    response = post(client, "/fhir/Spaceship", {"resourceType": "Spaceship"})
    assert response.status_code == 404
    assert client.get("/fhir/Spaceship/1").status_code == 404


def test_an_invalid_date_names_the_element(client: TestClient) -> None:
    response = post(client, "/fhir/Patient", patient(birth="1990-13-45"))
    assert response.status_code == 400
    assert response.json()["issue"][0]["expression"] == ["Patient.birthDate"]
    assert _count(client) == 0


def test_an_unknown_element_is_refused(client: TestClient) -> None:
    response = post(client, "/fhir/Patient", patient(favouriteColour="blue"))
    assert response.status_code == 400
    assert response.json()["issue"][0]["expression"] == ["Patient.favouriteColour"]


def test_an_oversized_body_is_413(client: TestClient) -> None:
    body = patient(text={"status": "generated", "div": "<div>" + "x" * 300_000 + "</div>"})
    response = post(client, "/fhir/Patient", body)
    assert response.status_code == 413
    assert response.json()["issue"][0]["code"] == "too-long"
    assert _count(client) == 0


def test_an_invalid_search_value_is_400(client: TestClient) -> None:
    response = client.get("/fhir/Patient", params={"birthdate": "notadate"})
    assert response.status_code == 400
    assert "birthdate" in response.json()["issue"][0]["diagnostics"]


def test_a_body_that_is_not_an_object_is_400(client: TestClient) -> None:
    response = client.post("/fhir/Patient", content=b"[1,2]", headers=FHIR_JSON)
    assert response.status_code == 400


def test_an_empty_body_is_400(client: TestClient) -> None:
    response = client.post("/fhir/Patient", content=b"", headers=FHIR_JSON)
    assert response.status_code == 400


def test_an_invalid_id_in_the_url_is_400(client: TestClient) -> None:
    response = put(client, "/fhir/Patient/bad$id", patient(id="bad$id"))
    assert response.status_code == 400


def test_an_unknown_route_is_404_with_an_operation_outcome(client: TestClient) -> None:
    response = client.get("/fhir/Patient/1/_history/1/extra")
    assert response.status_code == 404
    assert response.json()["resourceType"] == "OperationOutcome"


def test_a_wrong_method_is_405(client: TestClient) -> None:
    response = client.patch("/fhir/metadata")
    assert response.status_code == 405
    assert response.json()["resourceType"] == "OperationOutcome"


def test_unknown_search_parameters_are_ignored_with_a_warning(client: TestClient) -> None:
    response = client.get("/fhir/Patient", params={"shoe-size": "42"})
    assert response.status_code == 200
    outcome = response.json()["entry"][-1]
    assert outcome["search"]["mode"] == "outcome"
    assert outcome["resource"]["issue"][0]["severity"] == "warning"


def test_unknown_search_parameters_are_refused_under_strict_handling(client: TestClient) -> None:
    response = client.get(
        "/fhir/Patient", params={"shoe-size": "42"}, headers={"prefer": "handling=strict"}
    )
    assert response.status_code == 400


def test_a_reference_to_a_type_the_element_does_not_allow_is_400(client: TestClient) -> None:
    observation = {
        "resourceType": "Observation",
        "status": "final",
        "code": {"text": "pulse"},
        "subject": {"reference": "Condition/1"},
    }
    response = post(client, "/fhir/Observation", observation)
    assert response.status_code == 400
    issue = response.json()["issue"][0]
    assert issue["expression"] == ["Observation.subject"]
    assert issue["diagnostics"].startswith("Observation.subject refers to a Condition resource")
    assert _count(client) == 0
