"""The MPI workbench pages through the real app and database: the review queue, one pair side by
side, merge and unmerge from the forms, refusals shown on the page, jobs with progress, overlays,
and who may use them."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from html import unescape
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from chartkeeper.app import Services, build_services
from chartkeeper.core.clock import FixedClock
from chartkeeper.core.settings import load_settings
from chartkeeper.fhir.dates import to_micros
from chartkeeper.mpi import pairs
from tests.api.conftest import patient, put
from tests.api.people import PASSWORD, observation, user

SSN = "http://hl7.org/fhir/sid/us-ssn"
HTML = {"accept": "text/html"}
QUEUE = "/workbench/mpi"
LEAD = "lena"


@pytest.fixture
def services(database_url: str, tmp_path: Path, clock: FixedClock) -> Iterator[Services]:
    """As the shared fixture, with one HIM lead (who may override identifier conflicts)."""
    settings = load_settings(
        {"data_dir": str(tmp_path), "database_url": database_url, "mpi_leads": LEAD},
        environ={},
    )
    built = build_services(settings, clock=clock)
    yield built
    built.close()


def person(ident: str, given: str = "William", ssn: str = "219-09-9999") -> dict[str, Any]:
    """A Patient with enough demographics to match on, and an SSN."""
    return patient(
        family="Hargreaves",
        given=given,
        birth="1961-07-14",
        id=ident,
        gender="male",
        address=[{"line": ["12 Oak Street"], "city": "Springfield", "postalCode": "62704"}],
        telecom=[{"system": "phone", "value": "(217) 555-0142"}],
        identifier=[{"system": SSN, "value": ssn}],
    )


def plant_twins(client: TestClient) -> None:
    """A patient and a second registration of the same man (nickname, reformatted phone)."""
    assert put(client, "/fhir/Patient/p-orig", person("p-orig")).status_code == 201
    put(client, "/fhir/Observation/o-1", observation("o-1", "p-orig"))
    second = person("p-dup", given="Bill")
    second["telecom"] = [{"system": "phone", "value": "217-555-0142"}]
    assert put(client, "/fhir/Patient/p-dup", second).status_code == 201
    put(client, "/fhir/Observation/o-2", observation("o-2", "p-dup"))


def queue_pair(services: Services, a: str, b: str) -> str:
    """Queue a pair directly (one the matcher would not propose, e.g. with differing SSNs)."""
    with services.engine.begin() as connection:
        pair = pairs.propose(
            connection,
            a,
            b,
            probability=0.95,
            weight=4.2,
            grade="probable",
            explanation=[
                {"field": "family_name", "level": "exact", "label": "exact", "weight": 4.2}
            ],
            source="registration",
            model_version="test",
            now=to_micros(services.clock.now()),
        )
    assert pair is not None
    return pair.id


def sign_in(browser: TestClient, name: str) -> str:
    """Sign in through the form; the CSRF token of the new session's forms."""
    page = browser.get("/signin").text
    token = re.search(r'name="csrf" value="([^"]+)"', page)
    assert token
    form = {"name": name, "password": PASSWORD, "csrf": token.group(1), "next": "/patients"}
    assert browser.post("/signin", data=form, follow_redirects=False).status_code == 303
    csrf = re.search(r'name="csrf" value="([^"]+)"', browser.get("/patients", headers=HTML).text)
    assert csrf
    browser.headers.update(HTML)
    return csrf.group(1)


@pytest.fixture
def him(services: Services, anonymous: TestClient) -> tuple[TestClient, str]:
    """A browser signed in as an HIM technician, and its CSRF token."""
    user(services, "hilda", "him_technician")
    return anonymous, sign_in(anonymous, "hilda")


def pair_ids(page: str) -> list[str]:
    """The pairs a queue page links to, in order."""
    return re.findall(r'href="/workbench/mpi/pairs/([^"]+)"', page)


def test_a_nurse_gets_a_403_page_and_no_link(services: Services, anonymous: TestClient) -> None:
    user(services, "nina", "nurse")
    sign_in(anonymous, "nina")
    assert 'href="/workbench/mpi"' not in anonymous.get("/patients").text
    for path in (QUEUE, f"{QUEUE}/merges", f"{QUEUE}/overlays", f"{QUEUE}/pairs/x"):
        refused = anonymous.get(path)
        assert refused.status_code == 403, path
        assert refused.headers["content-type"].startswith("text/html")
        assert "Only HIM technicians may" in refused.text


def test_an_anonymous_visitor_is_sent_to_sign_in(anonymous: TestClient) -> None:
    response = anonymous.get(QUEUE, headers=HTML, follow_redirects=False)
    assert (response.status_code, response.headers["location"]) == (
        303,
        "/signin?next=/workbench/mpi",
    )


def test_the_queue_shows_a_planted_duplicate_pair(
    client: TestClient, him: tuple[TestClient, str]
) -> None:
    browser, _ = him
    plant_twins(client)
    page = browser.get(QUEUE)
    assert page.status_code == 200
    assert 'href="/workbench/mpi">Duplicates</a>' in page.text  # in the navigation
    assert 'Open and deferred <span class="count">(1)</span>' in page.text
    assert "Hargreaves, William" in page.text and "Hargreaves, Bill" in page.text
    assert "Content-Security-Policy" in {k.title() for k in page.headers}
    (pair_id,) = pair_ids(page.text)

    detail = browser.get(f"{QUEUE}/pairs/{pair_id}")
    assert detail.status_code == 200
    text = detail.text
    assert "•••-••-9999" in text and "219-09-9999" not in text  # SSN masked but the last 4
    assert "Observation: 1" in text
    assert "Given name" in text and "nickname" in text  # the waterfall, field by field
    assert 'class="bar"' in text and "bits for the same person" in text
    assert 'name="override"' not in text  # no identifier conflict here
    assert 'value="merge"' in text and 'value="distinct"' in text and 'value="defer"' in text


def test_not_the_same_person_leaves_the_queue_for_good(
    client: TestClient, him: tuple[TestClient, str]
) -> None:
    browser, csrf = him
    plant_twins(client)
    (pair_id,) = pair_ids(browser.get(QUEUE).text)
    form = {"csrf": csrf, "decision": "distinct", "note": "father and son"}
    decided = browser.post(f"{QUEUE}/pairs/{pair_id}", data=form, follow_redirects=False)
    assert (decided.status_code, decided.headers["location"]) == (303, f"{QUEUE}?done=distinct")
    queue = browser.get(decided.headers["location"]).text
    assert pair_ids(queue) == []
    assert "this pair will not be proposed again" in queue
    assert "No pairs are waiting for review" in queue
    assert pair_ids(browser.get(QUEUE, params={"status": "distinct"}).text) == [pair_id]

    again = browser.post(f"{QUEUE}/pairs/{pair_id}", data={**form, "decision": "defer"})
    assert again.status_code == 409
    assert "has already been decided (distinct)" in again.text
    assert "father and son" in again.text  # what was decided, and why


def test_merge_from_the_form_then_unmerge_from_the_merges_page(
    client: TestClient, him: tuple[TestClient, str]
) -> None:
    browser, csrf = him
    plant_twins(client)
    (pair_id,) = pair_ids(browser.get(QUEUE).text)
    form = {"csrf": csrf, "decision": "merge", "survivor": "p-orig", "note": "same man"}
    merged = browser.post(f"{QUEUE}/pairs/{pair_id}", data=form)
    assert merged.status_code == 200
    assert "The duplicate's records now belong to the surviving chart" in unescape(merged.text)
    moved = client.get("/fhir/Observation/o-2").json()
    assert moved["subject"] == {"reference": "Patient/p-orig"}

    merges = browser.get(f"{QUEUE}/merges").text
    unmerge = re.search(r'action="(/workbench/mpi/merges/[^"]+/unmerge)"', merges)
    assert unmerge and "same man" in merges
    undone = browser.post(unmerge.group(1), data={"csrf": csrf, "note": "wrong call"})
    assert undone.status_code == 200
    assert "both charts are back exactly as they were" in undone.text
    assert "nothing to undo" in undone.text
    assert client.get("/fhir/Observation/o-2").json()["subject"] == {"reference": "Patient/p-dup"}
    assert client.get("/fhir/Patient/p-dup").json().get("active") is not False

    twice = browser.post(unmerge.group(1), data={"csrf": csrf, "note": "again"})
    assert twice.status_code == 409
    assert "has already been undone" in twice.text


def test_an_identifier_conflict_is_refused_on_the_page_unless_a_lead_overrides(
    services: Services, client: TestClient, him: tuple[TestClient, str]
) -> None:
    browser, csrf = him
    put(client, "/fhir/Patient/a", person("a"))
    put(client, "/fhir/Patient/b", person("b", ssn="219-09-8888"))
    pair_id = queue_pair(services, "a", "b")
    page = browser.get(f"{QUEUE}/pairs/{pair_id}").text
    assert "the SSN numbers differ" in page
    assert 'name="override"' not in page and "Only an HIM lead may override" in page
    form = {"csrf": csrf, "decision": "merge", "survivor": "a", "note": "looks alike"}
    refused = browser.post(f"{QUEUE}/pairs/{pair_id}", data=form)
    assert refused.status_code == 409
    assert "Refused: the SSN numbers differ" in refused.text
    assert "looks alike" in refused.text  # the note is kept for another try

    user(services, LEAD, "him_technician")
    browser.cookies.clear()
    lead_csrf = sign_in(browser, LEAD)
    assert 'name="override"' in browser.get(f"{QUEUE}/pairs/{pair_id}").text
    bare = {"csrf": lead_csrf, "decision": "merge", "survivor": "a", "override": "yes"}
    no_note = browser.post(f"{QUEUE}/pairs/{pair_id}", data=bare)
    assert no_note.status_code == 400
    assert "An override needs a note" in no_note.text
    noted = {**bare, "note": "SSN typo on the intake form, checked with the patient"}
    done = browser.post(f"{QUEUE}/pairs/{pair_id}", data=noted, follow_redirects=False)
    assert (done.status_code, done.headers["location"]) == (303, f"{QUEUE}?done=merged")
    assert "identifier conflict overridden" in browser.get(f"{QUEUE}/merges").text


def test_forms_without_the_right_csrf_token_are_refused(
    client: TestClient, him: tuple[TestClient, str]
) -> None:
    browser, _ = him
    plant_twins(client)
    (pair_id,) = pair_ids(browser.get(QUEUE).text)
    forged = {"csrf": "forged", "decision": "distinct"}
    refused = browser.post(f"{QUEUE}/pairs/{pair_id}", data=forged)
    assert refused.status_code == 403
    assert "This form has expired" in refused.text
    assert browser.post(f"{QUEUE}/jobs", data={"kind": "dedupe"}).status_code == 403
    assert pair_ids(browser.get(QUEUE).text) == [pair_id]  # nothing was decided


def _finished(browser: TestClient, job_id: str) -> dict[str, Any]:
    deadline = time.monotonic() + 30
    while True:
        job: dict[str, Any] = browser.get(f"{QUEUE}/jobs/{job_id}").json()
        if job["state"] != "running" or time.monotonic() > deadline:
            return job
        time.sleep(0.05)


def test_find_duplicates_runs_as_a_job_with_progress(
    client: TestClient, him: tuple[TestClient, str]
) -> None:
    browser, csrf = him
    plant_twins(client)
    started = browser.post(f"{QUEUE}/jobs", data={"csrf": csrf, "kind": "dedupe"})
    assert started.status_code == 200
    job_id = re.search(r'data-job-url="/workbench/mpi/jobs/([^"]+)"', started.text)
    assert job_id and "<progress" in started.text
    job = _finished(browser, job_id.group(1))
    assert (job["state"], job["percent"], job["kind"]) == ("done", 100, "dedupe")
    assert "queued" in job["message"]
    page = browser.get(QUEUE, params={"job": job_id.group(1)}).text
    assert 'value="100"' in page and 'data-state="done"' in page
    assert 'http-equiv="refresh"' not in page  # the no-JS refresh stops once it is done
    # the twins are a certain match: linked on its own, out of the queue, and still mergeable
    assert pair_ids(page) == []
    (linked,) = pair_ids(browser.get(QUEUE, params={"status": "linked"}).text)
    detail = browser.get(f"{QUEUE}/pairs/{linked}").text
    assert "linked these records on its own" in detail and 'value="merge"' in detail
    unknown = browser.post(f"{QUEUE}/jobs", data={"csrf": csrf, "kind": "reindex-everything"})
    assert unknown.status_code == 400
    assert "There is no job 'reindex-everything' to start here" in unescape(unknown.text)


def test_overlays_are_scanned_and_dismissed_from_the_page(
    client: TestClient, him: tuple[TestClient, str]
) -> None:
    browser, csrf = him
    put(client, "/fhir/Patient/p-o", person("p-o"))
    put(client, "/fhir/Patient/p-o", {**person("p-o"), "birthDate": "1994-03-02"})
    started = browser.post(f"{QUEUE}/jobs", data={"csrf": csrf, "kind": "overlays"})
    job_id = re.search(r'data-job-url="/workbench/mpi/jobs/([^"]+)"', started.text)
    assert job_id and _finished(browser, job_id.group(1))["state"] == "done"
    page = browser.get(f"{QUEUE}/overlays").text
    assert "birth date changed from 1961-07-14" in page
    flag = re.search(r'action="(/workbench/mpi/overlays/[^"]+)"', page)
    assert flag
    form = {"csrf": csrf, "decision": "dismiss", "note": "typo fixed at intake"}
    dismissed = browser.post(flag.group(1), data=form)
    assert dismissed.status_code == 200 and "the chart holds one person" in dismissed.text
    assert "No chart is flagged" in dismissed.text
    assert "typo fixed at intake" in browser.get(f"{QUEUE}/overlays?status=dismissed").text
    again = browser.post(flag.group(1), data=form)
    assert again.status_code == 404 and "No open overlay flag" in again.text
