"""Search over every parameter type, modifiers, chaining, _has, includes, sorting and paging."""

from __future__ import annotations

from typing import Any

import pytest
from starlette.testclient import TestClient

from chartkeeper.core.clock import FixedClock
from tests.api.conftest import patient, put


def _ids(client: TestClient, path: str, **params: str) -> list[str]:
    response = client.get(path, params=params)
    assert response.status_code == 200, response.text
    return sorted(
        e["resource"]["id"]
        for e in response.json().get("entry", [])
        if e["search"]["mode"] == "match"
    )


def _observation(
    ident: str, subject: str, code: str, value: float, when: str, unit: str = "mg/dL"
) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "id": ident,
        "status": "final",
        "code": {
            "coding": [{"system": "http://loinc.org", "code": code, "display": f"Test {code}"}],
            "text": f"Test {code}",
        },
        "subject": {"reference": subject},
        "effectiveDateTime": when,
        "valueQuantity": {
            "value": value,
            "unit": unit,
            "system": "http://unitsofmeasure.org",
            "code": unit,
        },
    }


@pytest.fixture
def chart(client: TestClient, clock: FixedClock) -> TestClient:
    people = [
        patient(
            id="p1",
            family="Müller",
            given="Zoë",
            birth="1980-02-03",
            identifier=[
                {
                    "system": "urn:mrn",
                    "value": "100",
                    "type": {
                        "coding": [
                            {
                                "system": "http://terminology.hl7.org/CodeSystem/v2-0203",
                                "code": "MR",
                            }
                        ]
                    },
                }
            ],
            telecom=[{"system": "phone", "value": "555-0101"}],
            address=[{"city": "Springfield", "postalCode": "01234"}],
        ),
        patient(id="p2", family="Mueller", given="Adam", birth="1980-07-15"),
        patient(
            id="p3",
            family="Smith-Jones",
            given="Anna",
            birth="1975",
            deceasedDateTime="2020-05-01",
            gender="male",
        ),
    ]
    for person in people:
        clock.advance(minutes=1)
        put(client, f"/fhir/Patient/{person['id']}", person)
    observations = [
        _observation("o1", "Patient/p1", "2345-7", 95, "2024-03-01T08:00:00Z"),
        _observation("o2", "Patient/p1", "2345-7", 180, "2024-06-01T08:00:00Z"),
        _observation("o3", "Patient/p2", "4548-4", 7.1, "2023-01-10", unit="%"),
    ]
    for observation in observations:
        clock.advance(minutes=1)
        put(client, f"/fhir/Observation/{observation['id']}", observation)
    return client


def test_string_search_is_case_and_accent_insensitive_starts_with(chart: TestClient) -> None:
    assert _ids(chart, "/fhir/Patient", family="muller") == ["p1"]
    assert _ids(chart, "/fhir/Patient", name="MU") == ["p1", "p2"]
    assert _ids(chart, "/fhir/Patient", name="zoe") == ["p1"]


def test_string_exact_and_contains(chart: TestClient) -> None:
    assert _ids(chart, "/fhir/Patient", **{"family:exact": "Müller"}) == ["p1"]
    assert _ids(chart, "/fhir/Patient", **{"family:exact": "müller"}) == []
    assert _ids(chart, "/fhir/Patient", **{"family:contains": "jones"}) == ["p3"]


def test_address_and_phone(chart: TestClient) -> None:
    assert _ids(chart, "/fhir/Patient", **{"address-city": "spring"}) == ["p1"]
    assert _ids(chart, "/fhir/Patient", phone="555-0101") == ["p1"]


def test_token_forms(chart: TestClient) -> None:
    assert _ids(chart, "/fhir/Patient", identifier="urn:mrn|100") == ["p1"]
    assert _ids(chart, "/fhir/Patient", identifier="100") == ["p1"]
    assert _ids(chart, "/fhir/Patient", identifier="urn:mrn|") == ["p1"]
    assert _ids(chart, "/fhir/Patient", identifier="|100") == []
    assert _ids(chart, "/fhir/Patient", gender="male") == ["p3"]
    assert _ids(chart, "/fhir/Patient", **{"gender:not": "male"}) == ["p1", "p2"]
    assert _ids(chart, "/fhir/Observation", **{"code:text": "test 4548"}) == ["o3"]


def test_identifier_of_type(chart: TestClient) -> None:
    value = "http://terminology.hl7.org/CodeSystem/v2-0203|MR|100"
    assert _ids(chart, "/fhir/Patient", **{"identifier:of-type": value}) == ["p1"]


def test_or_and_and(chart: TestClient) -> None:
    assert _ids(chart, "/fhir/Patient", family="smith,mueller") == ["p2", "p3"]
    response = chart.get("/fhir/Patient?name=mu&name=adam")
    assert [e["resource"]["id"] for e in response.json()["entry"]] == ["p2"]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("1980", ["p1", "p2"]),
        ("1980-02", ["p1"]),
        ("eq1980-02-03", ["p1"]),
        ("ne1980", ["p3"]),
        ("gt1980-02-03", ["p2"]),
        ("ge1980-02-03", ["p1", "p2"]),
        ("lt1980-02-03", ["p3"]),
        ("le1980-02", ["p1", "p3"]),
        ("sa1979", ["p1", "p2"]),
        ("eb1980", ["p3"]),
        ("ap1980-02-03", ["p1"]),
    ],
)
def test_date_prefixes_follow_precision(chart: TestClient, query: str, expected: list[str]) -> None:
    assert _ids(chart, "/fhir/Patient", birthdate=query) == expected


def test_date_time_search_on_observations(chart: TestClient) -> None:
    assert _ids(chart, "/fhir/Observation", date="2024") == ["o1", "o2"]
    assert _ids(chart, "/fhir/Observation", date="ge2024-05-01") == ["o2"]
    assert _ids(chart, "/fhir/Observation", date="2024-03-01T08:00:00Z") == ["o1"]


def test_quantity_search(chart: TestClient) -> None:
    assert _ids(chart, "/fhir/Observation", **{"value-quantity": "gt100"}) == ["o2"]
    assert _ids(
        chart, "/fhir/Observation", **{"value-quantity": "95|http://unitsofmeasure.org|mg/dL"}
    ) == ["o1"]
    assert _ids(chart, "/fhir/Observation", **{"value-quantity": "le10||%"}) == ["o3"]


def test_composite_code_value_quantity(chart: TestClient) -> None:
    query = {"code-value-quantity": "http://loinc.org|2345-7$gt100"}
    assert _ids(chart, "/fhir/Observation", **query) == ["o2"]


def test_reference_forms(chart: TestClient) -> None:
    assert _ids(chart, "/fhir/Observation", subject="Patient/p1") == ["o1", "o2"]
    assert _ids(chart, "/fhir/Observation", patient="p2") == ["o3"]
    assert _ids(chart, "/fhir/Observation", **{"subject:Patient": "p1"}) == ["o1", "o2"]
    absolute = "http://127.0.0.1:8000/fhir/Patient/p2"
    assert _ids(chart, "/fhir/Observation", subject=absolute) == ["o3"]


@pytest.mark.parametrize(
    ("params", "expected"),
    [
        ({"patient": "p1", "code": "2345-7"}, ["o1", "o2"]),
        ({"patient": "p1", "code": "4548-4"}, []),
        ({"patient": "p1,p2", "code": "http://loinc.org|4548-4"}, ["o3"]),
        ({"subject": "Patient/p1", "date": "ge2024-05-01"}, ["o2"]),
        ({"patient": "p1", "value-quantity": "gt100"}, ["o2"]),
        ({"patient": "p1", "code:not": "2345-7"}, []),
        ({"patient": "p2", "code:text": "test 4548"}, ["o3"]),
        ({"_id": "o1,o3", "code": "2345-7"}, ["o1"]),
        ({"patient": "p1", "code": "2345-7", "date": "lt2024-04"}, ["o1"]),
    ],
)
def test_criteria_alongside_a_record_reference_are_probed_per_candidate(
    chart: TestClient, params: dict[str, str], expected: list[str]
) -> None:
    """A reference to a record drives the query; the other criteria become EXISTS probes of
    each candidate (store.search_sql): the matches are the same as with IN lists."""
    assert _ids(chart, "/fhir/Observation", **params) == expected


def test_chained_search(chart: TestClient) -> None:
    assert _ids(chart, "/fhir/Observation", **{"subject:Patient.name": "zoe"}) == ["o1", "o2"]
    assert _ids(chart, "/fhir/Observation", **{"patient.birthdate": "1980-07"}) == ["o3"]


def test_reverse_chained_has(chart: TestClient) -> None:
    query = {"_has:Observation:patient:code": "4548-4"}
    assert _ids(chart, "/fhir/Patient", **query) == ["p2"]


def test_missing_modifier(chart: TestClient) -> None:
    assert _ids(chart, "/fhir/Patient", **{"death-date:missing": "false"}) == ["p3"]
    assert _ids(chart, "/fhir/Patient", **{"death-date:missing": "true"}) == ["p1", "p2"]


def test_id_and_last_updated(chart: TestClient) -> None:
    assert _ids(chart, "/fhir/Patient", _id="p1,p3") == ["p1", "p3"]
    assert _ids(chart, "/fhir/Patient", _lastUpdated="ge2026-01-15T09:32:00Z") == ["p2", "p3"]


def test_full_text_content(chart: TestClient) -> None:
    assert _ids(chart, "/fhir/Patient", _content="springfield") == ["p1"]


def test_full_text_narrative(client: TestClient) -> None:
    body = patient(
        id="n1",
        text={
            "status": "generated",
            "div": '<div xmlns="http://www.w3.org/1999/xhtml">Allergic to <b>penicillin</b></div>',
        },
    )
    put(client, "/fhir/Patient/n1", body)
    put(client, "/fhir/Patient/n2", patient(id="n2"))
    assert _ids(client, "/fhir/Patient", _text="penicillin") == ["n1"]
    assert _ids(client, "/fhir/Patient", _text="penic") == ["n1"]


def test_sort_by_several_keys(chart: TestClient) -> None:
    response = chart.get("/fhir/Patient", params={"_sort": "-birthdate,family"})
    assert [e["resource"]["id"] for e in response.json()["entry"]] == ["p2", "p1", "p3"]
    response = chart.get("/fhir/Patient", params={"_sort": "family"})
    assert [e["resource"]["id"] for e in response.json()["entry"]] == ["p2", "p1", "p3"]


def test_paging_links_walk_every_match_once(chart: TestClient) -> None:
    seen: list[str] = []
    url: str | None = "/fhir/Patient?_count=2&_sort=_id"
    while url:
        page = chart.get(url.replace("http://127.0.0.1:8000", "")).json()
        assert page["total"] == 3
        seen += [e["resource"]["id"] for e in page.get("entry", [])]
        url = next((link["url"] for link in page["link"] if link["relation"] == "next"), None)
    assert seen == ["p1", "p2", "p3"]


def test_include_and_revinclude(chart: TestClient) -> None:
    response = chart.get(
        "/fhir/Observation", params={"_id": "o3", "_include": "Observation:subject"}
    )
    modes = sorted((e["search"]["mode"], e["resource"]["id"]) for e in response.json()["entry"])
    assert modes == [("include", "p2"), ("match", "o3")]
    response = chart.get(
        "/fhir/Patient", params={"_id": "p1", "_revinclude": "Observation:subject"}
    )
    modes = sorted((e["search"]["mode"], e["resource"]["id"]) for e in response.json()["entry"])
    assert modes == [("include", "o1"), ("include", "o2"), ("match", "p1")]


def test_summary_count_and_elements(chart: TestClient) -> None:
    counted = chart.get("/fhir/Patient", params={"_summary": "count"}).json()
    assert counted["total"] == 3 and "entry" not in counted
    trimmed = chart.get("/fhir/Patient", params={"_id": "p1", "_elements": "birthDate"}).json()
    resource = trimmed["entry"][0]["resource"]
    assert set(resource) == {"resourceType", "id", "meta", "birthDate"}
    assert resource["meta"]["tag"][-1]["code"] == "SUBSETTED"


def test_total_none_omits_the_total(chart: TestClient) -> None:
    assert "total" not in chart.get("/fhir/Patient", params={"_total": "none"}).json()


def test_post_search_takes_form_parameters(chart: TestClient) -> None:
    response = chart.post("/fhir/Patient/_search", data={"family": "smith"})
    assert [e["resource"]["id"] for e in response.json()["entry"]] == ["p3"]


def test_deleted_resources_are_not_found(chart: TestClient) -> None:
    chart.delete("/fhir/Observation/o1")
    assert _ids(chart, "/fhir/Observation", subject="Patient/p1") == ["o2"]


def test_everything_returns_the_patient_compartment(chart: TestClient) -> None:
    response = chart.get("/fhir/Patient/p1/$everything")
    assert response.status_code == 200
    ids = sorted(e["resource"]["id"] for e in response.json()["entry"])
    assert ids == ["o1", "o2", "p1"]
    only = chart.get("/fhir/Patient/p1/$everything", params={"_type": "Observation"}).json()
    assert sorted(e["resource"]["id"] for e in only["entry"]) == ["o1", "o2"]


def test_system_search_by_type(chart: TestClient) -> None:
    response = chart.get("/fhir", params={"_type": "Observation", "_summary": "count"})
    assert response.json()["total"] == 3


def test_paging_stays_consistent_while_others_write(chart: TestClient) -> None:
    """Keyset paging: an insert before the cursor or a delete behind it shifts nothing."""
    first = chart.get("/fhir/Patient", params={"_count": "2", "_sort": "birthdate"}).json()
    assert [e["resource"]["id"] for e in first["entry"]] == ["p3", "p1"]
    put(chart, "/fhir/Patient/p0", patient(id="p0", birth="1970-01-01"))
    chart.delete("/fhir/Patient/p3")
    next_url = next(link["url"] for link in first["link"] if link["relation"] == "next")
    second = chart.get(next_url.replace("http://127.0.0.1:8000", "")).json()
    assert [e["resource"]["id"] for e in second["entry"]] == ["p2"]


def test_a_forged_page_cursor_is_400(chart: TestClient) -> None:
    response = chart.get("/fhir/Patient", params={"_cursor": "bm90IGEgY3Vyc29y"})
    assert response.status_code == 400
    assert response.json()["issue"][0]["expression"] == ["_cursor"]


def test_a_last_full_page_has_no_next_link(chart: TestClient) -> None:
    page = chart.get("/fhir/Patient", params={"_count": "3"}).json()
    assert len(page["entry"]) == 3
    assert [link["relation"] for link in page["link"]] == ["self", "first"]


def test_content_search_finds_words_inside_text_notes(client: TestClient) -> None:
    note = {
        "resourceType": "DocumentReference",
        "id": "note-1",
        "status": "current",
        "content": [
            {
                "attachment": {
                    "contentType": "text/plain",
                    "data": "UHQgYy9vIFNPQiB4M2QsIGRlbmllcyBDUC4=",  # "Pt c/o SOB x3d, denies CP."
                }
            }
        ],
    }
    put(client, "/fhir/DocumentReference/note-1", note)
    assert _ids(client, "/fhir/DocumentReference", _content="sob") == ["note-1"]
    assert _ids(client, "/fhir/DocumentReference", _content="headache") == []


def test_summary_true_keeps_only_summary_elements(client: TestClient) -> None:
    body = patient(
        id="s1",
        maritalStatus={"text": "Married"},
        text={"status": "generated", "div": '<div xmlns="http://www.w3.org/1999/xhtml">x</div>'},
    )
    put(client, "/fhir/Patient/s1", body)
    resource = client.get("/fhir/Patient", params={"_summary": "true"}).json()["entry"][0][
        "resource"
    ]
    assert "name" in resource and "birthDate" in resource
    assert "maritalStatus" not in resource and "text" not in resource
