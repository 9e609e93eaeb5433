"""Chart search through the real API (docs/chart-search.md): variants both ways, ranking,
snippets, the same matches as ``_content``/``_text``, access control and audit."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from starlette.testclient import TestClient

from chartkeeper.app import Services
from chartkeeper.privacy.actor import Actor
from chartkeeper.summary.chart_search import default_variants
from tests.api.conftest import bearer, put
from tests.api.people import build_hospital, user

SNOMED = "http://snomed.info/sct"
PROGRESS = "Progress note"
RESTRICTED = {"system": "http://terminology.hl7.org/CodeSystem/v3-Confidentiality", "code": "R"}
NOTE = (
    "PROGRESS NOTE\nS: pt is a 67 y/o M w/ h/o MI in 2019 and HTN, seen for follow-up. "
    "Denies chest pain, SOB. Walks daily.\nA/P: 1. CAD s/p MI: stable, cont aspirin. "
    "<script>alert(1)</script>"
)


def condition(ident: str, subject: str, display: str, **extra: Any) -> dict[str, Any]:
    return {
        "resourceType": "Condition",
        "id": ident,
        "subject": {"reference": f"Patient/{subject}"},
        "code": {"coding": [{"system": SNOMED, "code": "22298006", "display": display}]},
        "onsetDateTime": "2019-03-02",
        **extra,
    }


def note(ident: str, subject: str, body: str) -> dict[str, Any]:
    return {
        "resourceType": "DocumentReference",
        "id": ident,
        "status": "current",
        "type": {
            "coding": [{"system": "http://loinc.org", "code": "11506-3", "display": PROGRESS}]
        },
        "subject": {"reference": f"Patient/{subject}"},
        "date": "2024-05-06T10:00:00Z",
        "content": [
            {
                "attachment": {
                    "contentType": "text/plain",
                    "data": base64.b64encode(body.encode()).decode(),
                }
            }
        ],
    }


def narrated(ident: str, subject: str, words: str) -> dict[str, Any]:
    """An Observation whose only words are in its narrative (found by ``_text``)."""
    return {
        "resourceType": "Observation",
        "id": ident,
        "status": "final",
        "text": {"status": "generated", "div": f'<div xmlns="http://www.w3.org/1999/xhtml">{words}</div>'},
        "code": {"coding": [{"system": "http://loinc.org", "code": "10839-9"}]},
        "subject": {"reference": f"Patient/{subject}"},
        "effectiveDateTime": "2024-05-06",
    }  # fmt: skip


@pytest.fixture
def charts(client: TestClient) -> TestClient:
    """Patients pa (treated by Practitioner doc) and pb, with overlapping words."""
    build_hospital(client)
    records = [
        condition("c-mi", "pa", "Myocardial infarction"),
        note("n-1", "pa", NOTE),
        narrated("o-trop", "pa", "Troponin rising, likely myocardial infarction"),
        condition("c-htn", "pa", "Essential hypertension"),
        condition("c-secret", "pa", "Zebrafish allergy", meta={"security": [RESTRICTED]}),
        condition("c-pb", "pb", "Myocardial infarction"),
        note("n-pb", "pb", "Chest pain, troponin negative. Zebrafish allergy."),
    ]
    for record in records:
        response = put(client, f"/fhir/{record['resourceType']}/{record['id']}", record)
        assert response.status_code in (200, 201), response.text
    return client


def found(client: TestClient, patient: str, q: str, headers: dict[str, str] | None = None) -> Any:
    response = client.get(
        f"/api/patients/{patient}/search", params={"q": q, "limit": "100"}, headers=headers
    )
    assert response.status_code == 200, response.text
    return response.json()


def references(body: Any) -> set[str]:
    return {hit["reference"] for hit in body["results"]}


def marked(hit: Any) -> list[str]:
    snippet = hit["snippet"]
    return [snippet["text"][a:b] for a, b in snippet["highlights"]]


def test_an_abbreviation_finds_its_long_form_and_the_reverse(charts: TestClient) -> None:
    assert "myocardial infarction" in default_variants()("mi")
    by_abbreviation = found(charts, "pa", "MI")
    by_long_form = found(charts, "pa", "myocardial infarction")
    expected = {"Condition/c-mi", "DocumentReference/n-1", "Observation/o-trop"}
    assert references(by_abbreviation) == references(by_long_form) == expected
    assert by_abbreviation["terms"] == [{"typed": "MI", "variants": ["myocardial infarction"]}]
    hits = {hit["reference"]: hit for hit in by_abbreviation["results"]}
    assert marked(hits["Condition/c-mi"]) == ["Myocardial infarction"]
    assert marked(hits["DocumentReference/n-1"]) == ["MI", "MI"]
    assert marked(hits["Observation/o-trop"]) == ["myocardial infarction"]


def test_hits_are_ranked_and_carry_title_date_and_type(charts: TestClient) -> None:
    body = found(charts, "pa", "MI")
    scores = [hit["score"] for hit in body["results"]]
    assert scores == sorted(scores, reverse=True) and all(s > 0 for s in scores)
    assert body["total"] == 3
    hits = {hit["reference"]: hit for hit in body["results"]}
    assert hits["Condition/c-mi"]["title"] == "Myocardial infarction"
    assert hits["Condition/c-mi"]["date"] == "2019-03-02"
    assert hits["DocumentReference/n-1"]["type"] == "DocumentReference"
    assert hits["DocumentReference/n-1"]["title"] == "Progress note"
    limited = found(charts, "pa", "MI")
    one = charts.get("/api/patients/pa/search", params={"q": "MI", "limit": "1"}).json()
    assert one["total"] == 3 and [h["reference"] for h in one["results"]] == [
        limited["results"][0]["reference"]
    ]


def test_every_term_must_match_and_the_last_word_is_a_prefix(charts: TestClient) -> None:
    assert references(found(charts, "pa", "MI aspirin")) == {"DocumentReference/n-1"}
    assert references(found(charts, "pa", "aspir")) == {"DocumentReference/n-1"}
    assert references(found(charts, "pa", "hypertens")) == {"Condition/c-htn"}
    assert references(found(charts, "pa", "hypertension")) == {
        "Condition/c-htn",
        "DocumentReference/n-1",  # "HTN" in the note
    }


def test_a_slashed_abbreviation_is_found_on_both_stores(charts: TestClient) -> None:
    # PostgreSQL's parser keeps "h/o" as one token, FTS5 splits it: both forms are asked for
    assert "h/o" in default_variants()("history of")
    body = found(charts, "pa", "history of")
    assert references(body) == {"DocumentReference/n-1"}
    assert marked(body["results"][0]) == ["h/o"]


def test_only_the_patients_own_records_are_searched(charts: TestClient) -> None:
    assert references(found(charts, "pb", "MI")) == {"Condition/c-pb"}
    assert "DocumentReference/n-pb" not in references(found(charts, "pa", "troponin"))


@pytest.mark.parametrize("word", ["troponin", "chest", "denies", "final", "aspir", "progress"])
def test_a_plain_word_finds_what_content_and_text_find(
    services: Services, charts: TestClient, word: str
) -> None:
    assert default_variants()(word) == frozenset()  # a word without variants
    headers = user(services, "drdoc", "physician", practitioner_id="doc")

    def fhir(kind: str, parameter: str) -> set[str]:
        owner = {"_id": "pa"} if kind == "Patient" else {"patient": "pa"}
        params = {parameter: word, "_count": "100", **owner}
        body = charts.get(f"/fhir/{kind}", params=params, headers=headers).json()
        return {f"{kind}/{e['resource']['id']}" for e in body.get("entry", [])}

    kinds = ("Patient", "Condition", "Observation", "DocumentReference", "CareTeam")
    expected = {ref for kind in kinds for p in ("_content", "_text") for ref in fhir(kind, p)}
    assert expected, "the word should be somewhere in the chart"
    assert references(found(charts, "pa", word, headers)) == expected


def test_labelled_records_the_caller_may_not_see_are_never_found(
    services: Services, charts: TestClient
) -> None:
    headers = user(services, "drdoc", "physician", practitioner_id="doc")
    assert references(found(charts, "pa", "zebrafish")) == {"Condition/c-secret"}
    hidden = found(charts, "pa", "zebrafish", headers)
    assert hidden["results"] == [] and hidden["total"] == 0
    assert found(charts, "pa", "allergy", headers)["total"] == 0


def test_a_patient_the_caller_may_not_see_looks_missing(
    services: Services, charts: TestClient
) -> None:
    headers = user(services, "drdoc", "physician", practitioner_id="doc")
    hidden = charts.get("/api/patients/pb/search", params={"q": "MI"}, headers=headers)
    missing = charts.get("/api/patients/nobody/search", params={"q": "MI"}, headers=headers)
    assert hidden.status_code == missing.status_code == 404
    assert hidden.json()["issue"][0]["code"] == missing.json()["issue"][0]["code"] == "not-found"
    alice = user(services, "alice", "patient", patient_id="pa")
    refused = charts.get("/api/patients/pb/search", params={"q": "MI"}, headers=alice)
    assert refused.status_code == 404
    assert references(found(charts, "pa", "MI", alice)) == {
        "Condition/c-mi", "DocumentReference/n-1", "Observation/o-trop",
    }  # fmt: skip


@pytest.mark.parametrize("query", ["MI", "zzznothing"])
def test_a_search_is_audited_naming_the_patient(
    services: Services, charts: TestClient, query: str
) -> None:
    """Even a search that finds nothing is the patient's: "who looked at my chart" lists it."""
    headers = user(services, "drdoc", "physician", practitioner_id="doc")
    found(charts, "pa", query, headers)
    services.ledger.buffered().flush()
    auditor = user(services, "audrey", "auditor")
    bundle = charts.get("/fhir/AuditEvent", params={"patient": "Patient/pa"}, headers=auditor)
    events = [e["resource"] for e in bundle.json()["entry"]]
    searches = [
        e for e in events
        if e["agent"][0]["who"]["identifier"]["value"] == "drdoc" and e["action"] == "E"
    ]  # fmt: skip
    assert len(searches) == 1
    event = searches[0]
    assert event["outcome"] == "0" and event["subtype"][0]["code"] == "search-type"
    entities = {e.get("role", {}).get("code"): e for e in event["entity"]}
    assert entities["1"]["what"]["reference"] == "Patient/pa"
    queries = [e["query"] for e in event["entity"] if "query" in e]
    assert [base64.b64decode(q).decode() for q in queries] == ["chart-search"]
    assert services.ledger.verify().ok


def test_a_token_without_the_search_permission_is_refused(
    services: Services, charts: TestClient
) -> None:
    actor = services.security.identity.user_actor(
        user(services, "alice2", "patient", patient_id="pa") and "alice2"
    )
    read_only = bearer(services, Actor(**{**actor.__dict__, "scopes": frozenset({"patient/*.r"})}))
    response = charts.get("/api/patients/pa/search", params={"q": "MI"}, headers=read_only)
    assert response.status_code == 403


def test_anonymous_callers_are_refused(anonymous: TestClient, charts: TestClient) -> None:
    response = anonymous.get("/api/patients/pa/search", params={"q": "MI"})
    assert response.status_code == 401


@pytest.mark.parametrize(
    "q",
    ['"', '""', "*", "MI*", "NEAR(chest pain)", "chest NEAR pain", "' OR 1=1 --", "\\", ":",
     "content:chest", "^chest", "-chest", "chest AND", "(", ")", "{", "a'b", "\x00", "²",
     "ß", "\U0001d510\U0001d526", "_", "__init__", "x" * 5000, "MI " * 100,
     '"myocardial infarction'],
)  # fmt: skip
def test_no_query_is_an_error(charts: TestClient, q: str) -> None:
    response = charts.get("/api/patients/pa/search", params={"q": q})
    assert response.status_code == 200, response.text
    assert isinstance(response.json()["results"], list)


@pytest.mark.parametrize("limit", ["0", "-1", "101", "abc", "1e3", "²", ""])
def test_a_bad_limit_is_a_400(charts: TestClient, limit: str) -> None:
    response = charts.get("/api/patients/pa/search", params={"q": "MI", "limit": limit})
    assert response.status_code == 400
    assert response.json()["issue"][0]["code"] == "invalid"


def test_q_is_required(charts: TestClient) -> None:
    assert charts.get("/api/patients/pa/search").status_code == 400
    assert found(charts, "pa", "")["results"] == []


def test_the_page_marks_the_matches_in_escaped_text(charts: TestClient) -> None:
    page = charts.get("/patients/pa/search", params={"q": "MI aspirin"})
    assert page.status_code == 200
    html = page.text
    assert "<mark>MI</mark>" in html and "<mark>aspirin</mark>" in html
    escaped = charts.get("/patients/pa/search", params={"q": "aspirin"}).text
    assert "<script>" not in escaped
    assert "<mark>aspirin</mark>. &lt;script&gt;alert(1)&lt;/script&gt;" in escaped
    assert "Also searched" in html and "myocardial infarction" in html
    assert 'href="/fhir/DocumentReference/n-1"' in html
    empty = charts.get("/patients/pa/search")
    assert empty.status_code == 200 and "<mark>" not in empty.text
    assert charts.get("/patients/nobody/search", params={"q": "MI"}).status_code == 404
