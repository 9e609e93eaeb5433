"""Requests that once answered 500, found by tests/api/test_never_500.py; each now gets the 4xx
OperationOutcome that says what was wrong and where (and PostgreSQL stores nothing odd)."""

from __future__ import annotations

from typing import Any

from starlette.testclient import TestClient

from tests.api.conftest import FHIR_JSON, patient, post, put


def _issue(response: Any, status: int) -> dict[str, Any]:
    """The first issue of the OperationOutcome of a ``status`` response."""
    assert response.status_code == status, response.text
    body = response.json()
    assert body["resourceType"] == "OperationOutcome"
    issue: dict[str, Any] = body["issue"][0]
    assert issue["diagnostics"]
    return issue


def _bundle(kind: str, *entries: dict[str, Any]) -> dict[str, Any]:
    return {"resourceType": "Bundle", "type": kind, "entry": list(entries)}


def _entry_outcome(response: Any, status: str) -> dict[str, Any]:
    """The issue of the single entry of a batch-response, which failed with ``status``."""
    assert response.status_code == 200, response.text
    entry_response = response.json()["entry"][0]["response"]
    assert entry_response["status"] == status
    issue: dict[str, Any] = entry_response["outcome"]["issue"][0]
    assert issue["diagnostics"]
    return issue


def _stored_patient(client: TestClient, resource_id: str = "p1", **extra: Any) -> None:
    response = put(client, f"/fhir/Patient/{resource_id}", patient(id=resource_id, **extra))
    assert response.status_code == 201, response.text


# --- numbers in the URL: str.isdigit() takes '²', int() refuses it and 5000-digit strings -------


def test_a_history_count_in_superscript_digits_is_400(client: TestClient) -> None:
    issue = _issue(client.get("/fhir/_history", params={"_count": "²"}), 400)
    assert issue["expression"] == ["_count"]


def test_a_history_offset_beyond_a_sql_bigint_is_400(client: TestClient) -> None:
    issue = _issue(client.get("/fhir/_history", params={"_offset": "9" * 30}), 400)
    assert issue["expression"] == ["_offset"]


def test_a_history_count_of_thousands_of_digits_is_400(client: TestClient) -> None:
    issue = _issue(client.get("/fhir/Patient/_history", params={"_count": "9" * 5000}), 400)
    assert issue["expression"] == ["_count"]


def test_a_version_in_superscript_digits_or_beyond_a_bigint_is_404(client: TestClient) -> None:
    _stored_patient(client)
    assert "has no version" in _issue(client.get("/fhir/Patient/p1/_history/²"), 404)["diagnostics"]
    huge = client.get("/fhir/Patient/p1/_history/" + "9" * 30)
    assert "has no version" in _issue(huge, 404)["diagnostics"]


def test_everything_with_a_count_in_superscript_digits_is_400(client: TestClient) -> None:
    _stored_patient(client)
    response = client.get("/fhir/Patient/p1/$everything", params={"_count": "²"})
    assert _issue(response, 400)["expression"] == ["_count"]


def test_an_if_match_of_thousands_of_digits_is_400(client: TestClient) -> None:
    _stored_patient(client)
    response = put(client, "/fhir/Patient/p1", patient(id="p1"), **{"if-match": "9" * 5000})
    assert "If-Match" in _issue(response, 400)["diagnostics"]


def test_the_patient_page_ignores_an_offset_in_superscript_digits(client: TestClient) -> None:
    response = client.get("/patients", params={"offset": "²"})
    assert response.status_code == 200


def test_a_given_name_that_is_only_an_extension_does_not_break_the_workbench(
    client: TestClient,
) -> None:
    # Valid FHIR JSON: a null primitive in an array, carried by its "_given" extension.
    name = {"family": "Smith", "given": [None, "Anna"], "_given": [{"id": "g0"}, None]}
    body = {"resourceType": "Patient", "id": "p1", "name": [name]}
    assert put(client, "/fhir/Patient/p1", body).status_code == 201
    chart = client.get("/patients/p1")
    assert chart.status_code == 200
    assert "Smith, Anna" in chart.text
    assert client.get("/patients").status_code == 200


# --- bodies ----------------------------------------------------------------------------------


def test_validate_with_parameters_that_are_not_an_array_is_400(client: TestClient) -> None:
    body = {"resourceType": "Parameters", "parameter": 5}
    issue = _issue(post(client, "/fhir/Patient/$validate", body), 400)
    assert issue["expression"] == ["Parameters.parameter"]


def test_a_deeply_nested_resource_is_400(client: TestClient) -> None:
    depth = 300
    body = (
        b'{"resourceType":"Patient","extension":'
        + b'[{"url":"http://x","extension":' * depth
        + b"[]"
        + b"}]" * depth
        + b"}"
    )
    response = client.post("/fhir/Patient", content=body, headers=FHIR_JSON)
    assert "nested too deeply" in _issue(response, 400)["diagnostics"]


def test_a_transaction_entry_nested_beyond_the_recursion_limit_is_400(client: TestClient) -> None:
    depth = 500  # about 1000 JSON levels: orjson takes it, a recursive walk would not
    resource = (
        b'{"resourceType":"Patient","extension":'
        + b'[{"url":"http://x","extension":' * depth
        + b"[]"
        + b"}]" * depth
        + b"}"
    )
    entry = b'{"request":{"method":"POST","url":"Patient"},"resource":' + resource + b"}"
    body = b'{"resourceType":"Bundle","type":"transaction","entry":[' + entry + b"]}"
    response = client.post("/fhir", content=body, headers=FHIR_JSON)
    assert "nested too deeply" in _issue(response, 400)["diagnostics"]


def test_a_json_patch_value_nested_beyond_the_recursion_limit_is_400(client: TestClient) -> None:
    _stored_patient(client)
    value = b"[" * 900 + b"]" * 900
    body = b'[{"op":"add","path":"/extension","value":' + value + b"}]"
    headers = {"content-type": "application/json-patch+json"}
    response = client.patch("/fhir/Patient/p1", content=body, headers=headers)
    assert "nested too deeply" in _issue(response, 400)["diagnostics"]


def test_a_nul_character_in_a_resource_string_is_400_naming_the_element(
    client: TestClient,
) -> None:
    response = post(client, "/fhir/Patient", patient(family="Sm\x00ith"))
    issue = _issue(response, 400)
    assert issue["expression"] == ["Patient.name[0].family"]
    assert "control characters" in issue["diagnostics"]
    assert client.get("/fhir/Patient").json()["total"] == 0


def test_a_control_character_is_refused_in_a_transaction_entry(client: TestClient) -> None:
    entry = {
        "resource": patient(gender="fe\x01male"),
        "request": {"method": "POST", "url": "Patient"},
    }
    issue = _issue(post(client, "/fhir", _bundle("transaction", entry)), 400)
    assert issue["expression"] == ["Bundle.entry[0].resource.gender"]


# --- NUL in URLs and search values (PostgreSQL cannot compare a string holding one) -----------


def test_a_nul_character_in_a_search_value_is_400(client: TestClient) -> None:
    issue = _issue(client.get("/fhir/Patient", params={"name": "a\x00b"}), 400)
    assert issue["expression"] == ["name"]


def test_a_nul_character_in_a_conditional_create_is_400(client: TestClient) -> None:
    response = post(client, "/fhir/Patient", patient(), **{"if-none-exist": "name=a%00b"})
    assert _issue(response, 400)["expression"] == ["name"]


def test_a_nul_character_in_a_resource_id_is_404(client: TestClient) -> None:
    assert _issue(client.get("/fhir/Patient/a%00b"), 404)["code"] == "not-found"
    assert _issue(client.get("/fhir/Patient/a%00b/_history/1"), 404)["code"] == "not-found"
    assert _issue(client.get("/fhir/Patient/a%00b/_history"), 404)["code"] == "not-found"
    assert client.delete("/fhir/Patient/a%00b").status_code == 204


def test_a_chart_page_for_an_id_with_a_nul_character_is_404(client: TestClient) -> None:
    _issue(client.get("/patients/a%00b"), 404)


def test_a_batch_entry_of_an_unknown_type_fails_alone_with_404(client: TestClient) -> None:
    entry = {"request": {"method": "GET", "url": "Pat\x00ient?name=x"}}
    issue = _entry_outcome(post(client, "/fhir", _bundle("batch", entry)), "404 Not Found")
    assert "Unknown resource type" in issue["diagnostics"]


def test_a_transaction_put_to_an_id_with_a_nul_character_is_400(client: TestClient) -> None:
    entry = {"resource": patient(id="a"), "request": {"method": "PUT", "url": "Patient/a\x00b"}}
    _issue(post(client, "/fhir", _bundle("transaction", entry)), 400)


# --- searches too big for one SQL statement (SQLite: expression depth 1000) ---------------------

FORM = {"content-type": "application/x-www-form-urlencoded"}


def test_a_search_with_hundreds_of_or_ed_values_is_400(client: TestClient) -> None:
    dates = ",".join(f"ge19{i % 100:02}" for i in range(600))
    response = client.post("/fhir/Patient/_search", data={"birthdate": dates}, headers=FORM)
    issue = _issue(response, 400)
    assert issue["expression"] == ["birthdate"]
    assert "At most 100 values" in issue["diagnostics"]


def test_a_reverse_chained_search_with_130_dates_is_400(client: TestClient) -> None:
    dates = ",".join(f"ge20{i % 100:02}" for i in range(130))
    body = {"_has:Observation:patient:date": dates}
    response = client.post("/fhir/Patient/_search", data=body, headers=FORM)
    assert _issue(response, 400)["expression"] == ["_has:Observation:patient:date"]


def test_a_search_with_a_thousand_criteria_is_400(client: TestClient) -> None:
    body = "&".join(f"name=n{i}" for i in range(1000))
    response = client.post("/fhir/Patient/_search", content=body.encode(), headers=FORM)
    assert "at most 100 criteria" in _issue(response, 400)["diagnostics"]


def test_a_search_with_more_than_a_thousand_values_in_all_is_400(client: TestClient) -> None:
    names = ",".join(f"n{i}" for i in range(100))
    body = "&".join([f"name={names}"] * 11)
    response = client.post("/fhir/Patient/_search", content=body.encode(), headers=FORM)
    assert "at most 1000 values" in _issue(response, 400)["diagnostics"]


def test_a_sort_with_thousands_of_keys_is_400(client: TestClient) -> None:
    response = client.get("/fhir/Patient", params={"_sort": ",".join(["_id"] * 2500)})
    assert _issue(response, 400)["expression"] == ["_sort"]


def test_searches_within_the_limits_still_work(client: TestClient) -> None:
    _stored_patient(client)
    names = ",".join(["Smith", *(f"n{i}" for i in range(99))])
    body = "&".join([f"name={names}"] * 10 + ["_sort=" + ",".join(["_id"] * 50)])
    response = client.post("/fhir/Patient/_search", content=body.encode(), headers=FORM)
    assert response.status_code == 200, response.text
    assert response.json()["total"] == 1


# --- batch and transaction entries -------------------------------------------------------------


def test_a_transaction_entry_if_match_that_is_not_a_string_is_400(client: TestClient) -> None:
    _stored_patient(client)
    request = {"method": "PUT", "url": "Patient/p1", "ifMatch": 3}
    entry = {"resource": patient(id="p1"), "request": request}
    issue = _issue(post(client, "/fhir", _bundle("transaction", entry)), 400)
    assert issue["expression"] == ["Bundle.entry[0].request.ifMatch"]


def test_a_batch_entry_if_none_exist_that_is_not_a_string_fails_alone(client: TestClient) -> None:
    entry = {
        "resource": patient(),
        "request": {"method": "POST", "url": "Patient", "ifNoneExist": True},
    }
    issue = _entry_outcome(post(client, "/fhir", _bundle("batch", entry)), "400 Bad Request")
    assert issue["expression"] == ["Bundle.entry[0].request.ifNoneExist"]


def test_a_bundle_entry_url_with_an_unterminated_ipv6_host_is_400(client: TestClient) -> None:
    entry = {"request": {"method": "GET", "url": "http://[abc"}}
    issue = _issue(post(client, "/fhir", _bundle("transaction", entry)), 400)
    assert issue["expression"] == ["Bundle.entry[0].request.url"]
    batch = _entry_outcome(post(client, "/fhir", _bundle("batch", entry)), "400 Bad Request")
    assert batch["expression"] == ["Bundle.entry[0].request.url"]


def test_a_conditional_update_entry_matching_several_resources_is_412(client: TestClient) -> None:
    _stored_patient(client, "p1")
    _stored_patient(client, "p2")
    entry = {"resource": patient(), "request": {"method": "PUT", "url": "Patient?gender=female"}}
    issue = _issue(post(client, "/fhir", _bundle("transaction", entry)), 412)
    assert "more than one Patient" in issue["diagnostics"]
    assert issue["expression"] == ["Bundle.entry[0].request.url"]
    batch = _entry_outcome(
        post(client, "/fhir", _bundle("batch", entry)), "412 Precondition Failed"
    )
    assert "more than one Patient" in batch["diagnostics"]
