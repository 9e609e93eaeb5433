"""read, vread, create, update, delete, patch and their headers, on SQLite and PostgreSQL."""

from __future__ import annotations

from starlette.testclient import TestClient

from chartkeeper.core.clock import FixedClock
from tests.api.conftest import patient, post, put


def test_create_assigns_an_id_and_answers_201_with_location_etag_and_last_modified(
    client: TestClient,
) -> None:
    response = post(client, "/fhir/Patient", patient(id="client-chosen"))
    assert response.status_code == 201
    body = response.json()
    assert body["id"] != "client-chosen"
    assert body["meta"] == {"versionId": "1", "lastUpdated": "2026-01-15T09:30:00.000Z"}
    assert response.headers["etag"] == 'W/"1"'
    assert response.headers["last-modified"] == "Thu, 15 Jan 2026 09:30:00 GMT"
    assert response.headers["location"] == (
        f"http://127.0.0.1:8000/fhir/Patient/{body['id']}/_history/1"
    )
    assert response.headers["content-type"] == "application/fhir+json; charset=utf-8"


def test_read_returns_the_stored_resource_with_its_etag(client: TestClient) -> None:
    created = post(client, "/fhir/Patient", patient()).json()
    response = client.get(f"/fhir/Patient/{created['id']}")
    assert response.status_code == 200
    assert response.json() == created
    assert response.headers["etag"] == 'W/"1"'


def test_read_of_an_unknown_id_is_404_with_an_operation_outcome(client: TestClient) -> None:
    response = client.get("/fhir/Patient/nope")
    assert response.status_code == 404
    assert response.json() == {
        "resourceType": "OperationOutcome",
        "issue": [
            {"severity": "error", "code": "not-found", "diagnostics": "Patient/nope is not known"}
        ],
    }


def test_update_makes_a_new_version_and_vread_returns_each(
    client: TestClient, clock: FixedClock
) -> None:
    created = post(client, "/fhir/Patient", patient()).json()
    clock.advance(minutes=5)
    changed = {**created, "gender": "male"}
    response = put(client, f"/fhir/Patient/{created['id']}", changed)
    assert response.status_code == 200
    assert response.json()["meta"]["versionId"] == "2"
    assert response.headers["etag"] == 'W/"2"'
    first = client.get(f"/fhir/Patient/{created['id']}/_history/1").json()
    second = client.get(f"/fhir/Patient/{created['id']}/_history/2").json()
    assert first["gender"] == "female"
    assert second["gender"] == "male"
    assert second["meta"]["lastUpdated"] == "2026-01-15T09:35:00.000Z"


def test_update_as_create_answers_201(client: TestClient) -> None:
    response = put(client, "/fhir/Patient/p-1", patient(id="p-1"))
    assert response.status_code == 201
    assert client.get("/fhir/Patient/p-1").status_code == 200


def test_update_with_a_stale_if_match_is_412_and_changes_nothing(client: TestClient) -> None:
    created = put(client, "/fhir/Patient/p-1", patient(id="p-1")).json()
    put(client, "/fhir/Patient/p-1", {**created, "gender": "male"})
    response = put(
        client, "/fhir/Patient/p-1", {**created, "gender": "other"}, **{"if-match": 'W/"1"'}
    )
    assert response.status_code == 412
    assert response.json()["issue"][0]["code"] == "conflict"
    assert client.get("/fhir/Patient/p-1").json()["gender"] == "male"


def test_update_with_the_current_if_match_succeeds(client: TestClient) -> None:
    created = put(client, "/fhir/Patient/p-1", patient(id="p-1")).json()
    response = put(
        client, "/fhir/Patient/p-1", {**created, "gender": "male"}, **{"if-match": 'W/"1"'}
    )
    assert response.status_code == 200


def test_update_whose_body_id_differs_from_the_url_is_400(client: TestClient) -> None:
    response = put(client, "/fhir/Patient/p-1", patient(id="p-2"))
    assert response.status_code == 400
    issue = response.json()["issue"][0]
    assert issue["expression"] == ["Patient.id"]
    assert client.get("/fhir/Patient/p-1").status_code == 404


def test_delete_keeps_history_and_a_later_read_is_410(client: TestClient) -> None:
    put(client, "/fhir/Patient/p-1", patient(id="p-1"))
    response = client.delete("/fhir/Patient/p-1")
    assert response.status_code == 204
    assert client.get("/fhir/Patient/p-1").status_code == 410
    assert client.get("/fhir/Patient/p-1/_history/1").status_code == 200
    history = client.get("/fhir/Patient/p-1/_history").json()
    assert history["total"] == 2
    assert [e["request"]["method"] for e in history["entry"]] == ["DELETE", "PUT"]


def test_deleting_twice_is_harmless(client: TestClient) -> None:
    put(client, "/fhir/Patient/p-1", patient(id="p-1"))
    assert client.delete("/fhir/Patient/p-1").status_code == 204
    assert client.delete("/fhir/Patient/p-1").status_code == 204


def test_a_deleted_resource_can_be_recreated_by_update(client: TestClient) -> None:
    put(client, "/fhir/Patient/p-1", patient(id="p-1"))
    client.delete("/fhir/Patient/p-1")
    response = put(client, "/fhir/Patient/p-1", patient(id="p-1"))
    assert response.status_code == 201
    assert response.json()["meta"]["versionId"] == "3"


def test_json_patch_changes_the_resource(client: TestClient) -> None:
    put(client, "/fhir/Patient/p-1", patient(id="p-1"))
    response = client.patch(
        "/fhir/Patient/p-1",
        json=[{"op": "replace", "path": "/gender", "value": "male"}],
        headers={"content-type": "application/json-patch+json"},
    )
    assert response.status_code == 200
    assert response.json()["gender"] == "male"
    assert response.json()["meta"]["versionId"] == "2"


def test_a_json_patch_that_breaks_the_resource_is_refused(client: TestClient) -> None:
    put(client, "/fhir/Patient/p-1", patient(id="p-1"))
    response = client.patch(
        "/fhir/Patient/p-1",
        json=[{"op": "replace", "path": "/birthDate", "value": "1990-13-45"}],
        headers={"content-type": "application/json-patch+json"},
    )
    assert response.status_code == 400
    assert response.json()["issue"][0]["expression"] == ["Patient.birthDate"]
    assert client.get("/fhir/Patient/p-1").json()["birthDate"] == "1980-02-03"


def test_prefer_return_minimal_sends_no_body(client: TestClient) -> None:
    response = post(client, "/fhir/Patient", patient(), prefer="return=minimal")
    assert response.status_code == 201
    assert response.content == b""
    assert response.headers["location"]


def test_prefer_return_operation_outcome(client: TestClient) -> None:
    response = post(client, "/fhir/Patient", patient(), prefer="return=OperationOutcome")
    assert response.status_code == 201
    assert response.json()["resourceType"] == "OperationOutcome"


def test_conditional_create_returns_the_existing_match(client: TestClient) -> None:
    first = post(client, "/fhir/Patient", patient(identifier=[{"system": "urn:mrn", "value": "7"}]))
    again = post(
        client,
        "/fhir/Patient",
        patient(identifier=[{"system": "urn:mrn", "value": "7"}]),
        **{"if-none-exist": "identifier=urn:mrn|7"},
    )
    assert again.status_code == 200
    assert again.json()["id"] == first.json()["id"]
    assert client.get("/fhir/Patient?_summary=count").json()["total"] == 1


def test_conditional_create_with_several_matches_is_412(client: TestClient) -> None:
    post(client, "/fhir/Patient", patient())
    post(client, "/fhir/Patient", patient())
    response = post(client, "/fhir/Patient", patient(), **{"if-none-exist": "family=Smith"})
    assert response.status_code == 412


def test_conditional_update_creates_then_updates(client: TestClient) -> None:
    body = patient(identifier=[{"system": "urn:mrn", "value": "9"}])
    created = put(client, "/fhir/Patient?identifier=urn:mrn|9", body)
    assert created.status_code == 201
    again = put(client, "/fhir/Patient?identifier=urn:mrn|9", {**body, "gender": "male"})
    assert again.status_code == 200
    assert again.json()["id"] == created.json()["id"]
    assert again.json()["meta"]["versionId"] == "2"


def test_conditional_delete_removes_the_single_match(client: TestClient) -> None:
    put(client, "/fhir/Patient/p-1", patient(id="p-1", family="Olsen"))
    assert client.delete("/fhir/Patient?family=Olsen").status_code == 204
    assert client.get("/fhir/Patient/p-1").status_code == 410


def test_type_and_system_history_list_versions_newest_first(
    client: TestClient, clock: FixedClock
) -> None:
    put(client, "/fhir/Patient/p-1", patient(id="p-1"))
    clock.advance(minutes=1)
    put(client, "/fhir/Patient/p-2", patient(id="p-2"))
    clock.advance(minutes=1)
    post(client, "/fhir/Practitioner", {"resourceType": "Practitioner"})
    assert client.get("/fhir/Patient/_history").json()["total"] == 2
    system = client.get("/fhir/_history").json()
    assert system["total"] == 3
    assert system["entry"][0]["resource"]["resourceType"] == "Practitioner"
    since = client.get("/fhir/_history", params={"_since": "2026-01-15T09:31:00Z"}).json()
    assert since["total"] == 2
    page = client.get("/fhir/_history", params={"_count": "1"}).json()
    assert len(page["entry"]) == 1
    assert any(link["relation"] == "next" for link in page["link"])
