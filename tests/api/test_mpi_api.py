"""The MPI through the real app and database: registration reports, $match, the review queue,
merge and unmerge (exactness, refusals, concurrency), and who may do what."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from sqlalchemy import func, select
from starlette.testclient import TestClient

from chartkeeper.app import Services
from chartkeeper.store.identity_schema import users
from chartkeeper.store.mpi_schema import mpi_merges
from chartkeeper.web.app import create_app
from tests.api.conftest import patient, post, put
from tests.api.people import observation, user

SSN = "http://hl7.org/fhir/sid/us-ssn"
MATCH_GRADE = "http://hl7.org/fhir/StructureDefinition/match-grade"


def person(
    ident: str, given: str = "William", ssn: str | None = "512-44-3091", **extra: Any
) -> dict[str, Any]:
    """A Patient with enough demographics to match on."""
    body = patient(
        family="Hargreaves",
        given=given,
        birth="1961-07-14",
        id=ident,
        gender="male",
        address=[{"line": ["12 Oak Street"], "city": "Springfield", "postalCode": "62704"}],
        telecom=[{"system": "phone", "value": "(217) 555-0142"}],
        **extra,
    )
    if ssn:
        body["identifier"] = [{"system": SSN, "value": ssn}]
    return body


def parameters(**values: Any) -> dict[str, Any]:
    items = []
    for name, value in values.items():
        name = name.replace("_", "-")
        if isinstance(value, dict) and "resourceType" in value:
            items.append({"name": name, "resource": value})
        elif isinstance(value, dict):
            items.append({"name": name, "valueReference": value})
        elif isinstance(value, bool):
            items.append({"name": name, "valueBoolean": value})
        elif isinstance(value, int):
            items.append({"name": name, "valueInteger": value})
        else:
            items.append({"name": name, "valueString": value})
    return {"resourceType": "Parameters", "parameter": items}


@pytest.fixture
def him(services: Services) -> dict[str, str]:
    return user(services, "hilda", "him_technician")


def _twins(client: TestClient) -> Any:
    """A patient and a second registration of the same man (nickname, reformatted phone)."""
    assert put(client, "/fhir/Patient/p-orig", person("p-orig")).status_code == 201
    put(client, "/fhir/Observation/o-1", observation("o-1", "p-orig"))
    second = person("p-dup", given="Bill")
    second["telecom"] = [{"system": "phone", "value": "217-555-0142"}]
    response = put(client, "/fhir/Patient/p-dup", second)
    assert response.status_code == 201
    put(client, "/fhir/Observation/o-2", observation("o-2", "p-dup"))
    return response


def test_registration_reports_the_possible_duplicate(client: TestClient) -> None:
    response = _twins(client)
    assert "Patient/p-orig" in response.headers["x-possible-duplicates"]
    stranger = patient(family="Okonkwo", given="Chidi", birth="1990-01-01", id="p-x")
    assert "x-possible-duplicates" not in put(client, "/fhir/Patient/p-x", stranger).headers


def test_match_answers_a_graded_searchset(client: TestClient) -> None:
    _twins(client)
    query = person("ignored", given="Will", ssn=None)
    del query["id"]
    response = post(client, "/fhir/Patient/$match", parameters(resource=query, count=5))
    assert response.status_code == 200, response.text
    bundle = response.json()
    assert bundle["type"] == "searchset"
    ids = [entry["resource"]["id"] for entry in bundle["entry"]]
    assert set(ids) == {"p-orig", "p-dup"}
    for entry in bundle["entry"]:
        assert entry["search"]["mode"] == "match"
        assert 0 < entry["search"]["score"] <= 1
        grade = entry["search"]["extension"][0]
        assert grade["url"] == MATCH_GRADE
        assert grade["valueCode"] in {"certain", "probable", "possible"}
    # two equally good answers: onlyCertainMatches returns none rather than guess
    certain = post(
        client, "/fhir/Patient/$match", parameters(resource=query, onlyCertainMatches=True)
    )
    assert certain.json()["total"] == 0


@pytest.mark.parametrize(
    "body",
    [
        {"resourceType": "Patient"},
        {"resourceType": "Parameters", "parameter": [{"name": "count", "valueInteger": 3}]},
        {"resourceType": "Parameters", "parameter": "nope"},
        {
            "resourceType": "Parameters",
            "parameter": [{"name": "resource", "resource": {"resourceType": "Observation"}}],
        },
    ],
)
def test_match_refuses_bad_input_with_an_outcome(client: TestClient, body: Any) -> None:
    response = post(client, "/fhir/Patient/$match", body)
    assert response.status_code == 400
    assert response.json()["resourceType"] == "OperationOutcome"


def test_match_scores_odd_patients_without_crashing(client: TestClient) -> None:
    put(client, "/fhir/Patient/p-cy", patient(family="Дмитриев", given="Дмитрий", id="p-cy"))
    odd = [
        {"resourceType": "Patient"},
        {"resourceType": "Patient", "name": [{"family": "", "given": [""]}]},
        {"resourceType": "Patient", "name": [{"family": "李", "given": ["小龙"]}]},
        {
            "resourceType": "Patient",
            "name": [{"family": "Дмитриев", "given": ["Дмитрий"]}],
            "birthDate": "1980-02-03",
            "gender": "female",
        },
        {"resourceType": "Patient", "birthDate": "2023-02-30"},
    ]
    for body in odd:
        response = post(client, "/fhir/Patient/$match", parameters(resource=body))
        assert response.status_code == 200, (body, response.text)
    cyrillic = post(client, "/fhir/Patient/$match", parameters(resource=odd[3])).json()
    assert [e["resource"]["id"] for e in cyrillic["entry"]] == ["p-cy"]


def _queued_pair(client: TestClient, him: dict[str, str]) -> dict[str, Any]:
    queue = client.get("/api/mpi/pairs", headers=him)
    assert queue.status_code == 200, queue.text
    found = [
        pair
        for pair in queue.json()["pairs"]
        if {pair["left_id"], pair["right_id"]} == {"p-orig", "p-dup"}
    ]
    assert len(found) == 1
    return found[0]


def test_the_queue_explains_and_remembers_not_the_same(
    client: TestClient, him: dict[str, str]
) -> None:
    _twins(client)
    pair = _queued_pair(client, him)
    assert pair["explanation"], "each pair carries its waterfall"
    detail = client.get(f"/api/mpi/pairs/{pair['id']}", headers=him).json()
    charts = {chart["id"]: chart for chart in detail["charts"]}
    assert charts["p-orig"]["counts"] == {"Observation": 1}
    decided = client.post(
        f"/api/mpi/pairs/{pair['id']}/decision", json={"decision": "distinct"}, headers=him
    )
    assert decided.status_code == 200, decided.text
    assert client.get("/api/mpi/pairs", headers=him).json()["total"] == 0
    # a later change to either record does not bring the pair back
    changed = person("p-dup", given="Bill")
    changed["telecom"] = [{"system": "phone", "value": "2175550142"}]
    assert put(client, "/fhir/Patient/p-dup", changed).status_code == 200
    assert client.get("/api/mpi/pairs", headers=him).json()["total"] == 0
    again = client.post(
        f"/api/mpi/pairs/{pair['id']}/decision", json={"decision": "defer"}, headers=him
    )
    assert again.status_code == 409


def _resources(client: TestClient) -> dict[str, dict[str, Any]]:
    """Every current record but Provenance, without meta (versions change, content must not)."""
    found = {}
    for kind in ("Patient", "Observation"):
        bundle = client.get(f"/fhir/{kind}", params={"_count": 100}).json()
        for entry in bundle.get("entry", []):
            body = dict(entry["resource"])
            body.pop("meta", None)
            found[f"{kind}/{body['id']}"] = body
    return found


def test_merge_repoints_everything_and_unmerge_restores_it_exactly(
    client: TestClient, services: Services, him: dict[str, str]
) -> None:
    _twins(client)
    services.security.identity.add_user(
        "bill", "patient", "correct horse battery", patient_id="p-dup"
    )
    before = _resources(client)
    pair = _queued_pair(client, him)
    merged = client.post(
        f"/api/mpi/pairs/{pair['id']}/decision",
        json={"decision": "merge", "survivor": "p-orig", "note": "same man, nickname"},
        headers=him,
    )
    assert merged.status_code == 200, merged.text
    merge = merged.json()["merge"]
    after = _resources(client)
    assert after["Observation/o-2"]["subject"] == {"reference": "Patient/p-orig"}
    assert after["Patient/p-dup"]["active"] is False
    assert {"other": {"reference": "Patient/p-orig"}, "type": "replaced-by"} in after[
        "Patient/p-dup"
    ]["link"]
    assert {"other": {"reference": "Patient/p-dup"}, "type": "replaces"} in after["Patient/p-orig"][
        "link"
    ]
    assert services.security.identity.user_actor("bill").patient_id == "p-orig"
    provenance = client.get(f"/fhir/Provenance/{merge['provenance_id']}").json()
    assert provenance["activity"]["coding"][0]["code"] == "merge"
    targets = {t["reference"].split("/_history/")[0] for t in provenance["target"]}
    assert targets == {"Observation/o-2", "Patient/p-orig", "Patient/p-dup"}
    assert len(provenance["entity"]) == 3

    listed = client.get("/api/mpi/merges", headers=him)
    assert [m["id"] for m in listed.json()] == [merge["merge_id"]]
    assert listed.json()[0]["state"] == "merged"
    undone = client.post(
        "/fhir/Patient/$unmerge",
        json=parameters(source_patient={"reference": "Patient/p-dup"}, note="wrong call"),
        headers={"content-type": "application/fhir+json", **him},
    )
    assert undone.status_code == 200, undone.text
    assert _resources(client) == before
    assert services.security.identity.user_actor("bill").patient_id == "p-dup"


def test_merges_that_must_not_happen_are_refused_whole(
    client: TestClient, services: Services, him: dict[str, str]
) -> None:
    _twins(client)
    put(client, "/fhir/Patient/p-other", person("p-other", ssn="987-65-4321"))
    fhir_him = {"content-type": "application/fhir+json", **him}

    def merge(source: str, target: str, **extra: Any) -> Any:
        body = parameters(
            source_patient={"reference": f"Patient/{source}"},
            target_patient={"reference": f"Patient/{target}"},
            **extra,
        )
        return client.post("/fhir/Patient/$merge", json=body, headers=fhir_him)

    assert merge("p-orig", "p-orig").status_code == 409
    never = parameters(source_patient={"reference": "Patient/p-orig"})
    assert client.post("/fhir/Patient/$unmerge", json=never, headers=fhir_him).status_code == 404
    assert merge("p-nobody", "p-orig").status_code == 404
    conflict = merge("p-other", "p-orig")
    assert conflict.status_code == 409
    assert "SSN" in conflict.json()["issue"][0]["diagnostics"]
    assert merge("p-other", "p-orig", override=True, note="x").status_code == 409  # not a lead
    assert merge("p-dup", "p-orig").status_code == 200
    assert merge("p-dup", "p-other").status_code == 409  # already merged
    assert merge("p-other", "p-dup").status_code == 409  # into a merged patient
    before = _resources(client)
    assert merge("p-other", "p-orig").status_code == 409
    assert _resources(client) == before


def test_an_hims_lead_may_override_an_identifier_conflict_with_a_note(
    database_url: str, tmp_path: Any, clock: Any
) -> None:
    from chartkeeper.app import build_services
    from chartkeeper.core.settings import load_settings
    from tests.api.conftest import bearer

    settings = load_settings(
        {"data_dir": str(tmp_path), "database_url": database_url, "mpi_leads": "lena"},
        environ={},
    )
    services = build_services(settings, clock=clock)
    try:
        with TestClient(create_app(services), headers=bearer(services)) as client:
            put(client, "/fhir/Patient/a", person("a"))
            put(client, "/fhir/Patient/b", person("b", ssn="987-65-4321"))
            lead = {
                "content-type": "application/fhir+json",
                **user(services, "lena", "him_technician"),
            }
            body = parameters(
                source_patient={"reference": "Patient/b"},
                target_patient={"reference": "Patient/a"},
                override=True,
            )
            assert client.post("/fhir/Patient/$merge", json=body, headers=lead).status_code == 400
            body["parameter"].append({"name": "note", "valueString": "SSN typo on intake form"})
            assert client.post("/fhir/Patient/$merge", json=body, headers=lead).status_code == 200
    finally:
        services.close()


def test_two_concurrent_merges_of_one_record_leave_one_merge(
    services: Services, client: TestClient, him: dict[str, str]
) -> None:
    _twins(client)
    put(client, "/fhir/Patient/p-third", person("p-third", given="Will"))
    actor = services.security.identity.user_actor("hilda")
    outcomes: list[str] = []

    def merge_into(target: str) -> None:
        try:
            services.mpi.merge(actor, target, "p-dup")
            outcomes.append("merged")
        except Exception as error:  # the loser: a clear conflict
            outcomes.append(type(error).__name__)

    threads = [threading.Thread(target=merge_into, args=(t,)) for t in ("p-orig", "p-third")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(outcomes) == ["ConflictError", "merged"]
    with services.engine.connect() as connection:
        standing = connection.execute(
            select(func.count()).select_from(mpi_merges).where(mpi_merges.c.state == "merged")
        ).scalar_one()
        assert standing == 1
        assert connection.execute(select(func.count()).select_from(users)).scalar_one() >= 1
    links = client.get("/fhir/Patient/p-dup").json()["link"]
    assert len([link for link in links if link["type"] == "replaced-by"]) == 1


def test_only_him_technicians_work_the_queue_and_merge(
    client: TestClient, services: Services
) -> None:
    _twins(client)
    nurse = user(services, "nina", "nurse")
    assert client.get("/api/mpi/pairs", headers=nurse).status_code == 403
    body = parameters(
        source_patient={"reference": "Patient/p-dup"},
        target_patient={"reference": "Patient/p-orig"},
    )
    refused = client.post(
        "/fhir/Patient/$merge",
        json=body,
        headers={"content-type": "application/fhir+json", **nurse},
    )
    assert refused.status_code == 403
    assert client.get("/api/mpi/pairs").status_code == 403  # a service client is not HIM


def test_match_shows_a_clinician_only_the_patients_they_may_see(
    client: TestClient, services: Services
) -> None:
    _twins(client)
    nurse = user(services, "nina", "nurse")
    query = person("q", ssn=None)
    del query["id"]
    response = client.post(
        "/fhir/Patient/$match",
        json=parameters(resource=query),
        headers={"content-type": "application/fhir+json", **nurse},
    )
    assert response.status_code == 200
    assert response.json()["total"] == 0


def test_dedupe_job_queues_pairs_with_progress(
    client: TestClient, services: Services, him: dict[str, str]
) -> None:
    _twins(client)
    started = client.post("/api/mpi/jobs", json={"kind": "dedupe"}, headers=him)
    assert started.status_code == 202
    job_id = started.json()["id"]
    for _ in range(200):
        job = client.get(f"/api/mpi/jobs/{job_id}", headers=him).json()
        if job["state"] != "running":
            break
        threading.Event().wait(0.05)
    assert job["state"] == "done", job
    assert job["percent"] == 100
    assert "queued" in job["message"]
    assert client.post("/api/mpi/jobs", json={"kind": "nope"}, headers=him).status_code == 400


def test_an_overlaid_chart_is_flagged_for_review(
    client: TestClient, services: Services, him: dict[str, str]
) -> None:
    put(client, "/fhir/Patient/p-o", person("p-o"))
    second_person = person("p-o", given="Tyler", ssn=None)
    second_person["birthDate"] = "2004-11-02"
    assert put(client, "/fhir/Patient/p-o", second_person).status_code == 200
    job = services.mpi.run_job(services.security.identity.user_actor("hilda"), "overlays")
    assert job.state == "done", job.message
    flagged = client.get("/api/mpi/overlays", headers=him).json()
    assert [flag["patient_id"] for flag in flagged] == ["p-o"]
    assert "birth date changed from 1961-07-14" in flagged[0]["reasons"][0]
