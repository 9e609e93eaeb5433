"""Billing through the real app and database: Claim/$scrub and $x12, the worklist, release,
835 posting, denials, statements, coding help, who may do what, and never a 500.

One demo hospital per backend (30 patients, billed by the demo: held claims, released and paid
claims, a CO-50 denial); tests that need a new claim bill one of the encounters the demo left
unbilled, so they do not depend on each other's order.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from decimal import Decimal
from itertools import product
from typing import Any

import pytest
from sqlalchemy import text
from starlette.testclient import TestClient

from chartkeeper.app import Services, build_services
from chartkeeper.billing.claims.lines import service_lines
from chartkeeper.billing.remit import simulate
from chartkeeper.billing.x12.envelope import Envelope, SequentialControlNumbers
from chartkeeper.billing.x12.parse837 import parse_837
from chartkeeper.billing.x12.scrub import scrub as x12_scrub
from chartkeeper.billing.x12.write835 import write_835
from chartkeeper.cli.demo_billing import bill_demo
from chartkeeper.cli.demo_loader import load_demo
from chartkeeper.core.clock import FixedClock
from chartkeeper.core.settings import load_settings
from chartkeeper.web.app import create_app
from tests.api.conftest import bearer
from tests.api.people import user

SCRUB_RULE = "https://chartkeeper.dev/fhir/CodeSystem/scrub-rule"
X12 = {"content-type": "application/edi-x12"}
FHIR_JSON = {"content-type": "application/fhir+json"}
#: The demo hospital's "today" is 2026-11-01; bill the day after.
NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


@dataclass
class Hospital:
    """The billed demo hospital of one backend, and tokens of one user per role."""

    services: Services
    client: TestClient
    admin: dict[str, str]
    biller: dict[str, str]
    coder: dict[str, str]
    physician: dict[str, str]
    unbilled: list[str] = field(default_factory=list)

    def billed_claim(self) -> str:
        """A new clean claim for an encounter nobody billed yet (as the coder)."""
        encounter = self.unbilled.pop()
        captured = self.client.post(
            f"/api/billing/encounters/{encounter}/charges", headers=self.coder
        )
        assert captured.status_code == 201, captured.text
        built = self.client.post(f"/api/billing/encounters/{encounter}/claim", headers=self.coder)
        assert built.status_code == 201, built.text
        assert built.json()["status"] == "clean", built.text
        return str(built.json()["claim"]).removeprefix("Claim/")

    def released_claim(self) -> tuple[str, dict[str, Any]]:
        """A new claim released alone in its own batch; its id and the batch."""
        claim_id = self.billed_claim()
        sent = self.client.post(
            "/api/billing/release", json={"claims": [claim_id]}, headers=self.biller
        )
        assert sent.status_code == 201, sent.text
        return claim_id, sent.json()


def _unbilled_encounters(client: TestClient, admin: dict[str, str]) -> list[str]:
    """Finished encounters of 2026 before the demo's billing window."""
    params = {
        "status": "finished",
        "date": ["ge2026-01-01", "lt2026-07-04"],
        "_sort": "date",
        "_count": "100",
    }
    found = client.get("/fhir/Encounter", params=params, headers=admin)
    assert found.status_code == 200, found.text
    return [entry["resource"]["id"] for entry in found.json().get("entry", [])]


@pytest.fixture(scope="module")
def hospital(
    module_database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Hospital]:
    settings = load_settings(
        {
            "data_dir": str(tmp_path_factory.mktemp("billing")),
            "database_url": module_database_url,
            "max_body_bytes": 200_000,
        },
        environ={},
    )
    services = build_services(settings, clock=FixedClock(NOW))
    try:
        load_demo(services, 30, 1)
        bill_demo(services, lambda _line: None)
        with TestClient(create_app(services), raise_server_exceptions=True) as client:
            admin = bearer(services)
            built = Hospital(
                services,
                client,
                admin,
                biller=user(services, "bea", "biller"),
                coder=user(services, "cody", "coder"),
                physician=user(services, "phil", "physician"),
                unbilled=_unbilled_encounters(client, admin),
            )
            yield built
    finally:
        services.close()


# -- helpers ----------------------------------------------------------------------------------


def scalar(services: Services, sql: str, **params: Any) -> Any:
    with services.engine.connect() as conn:
        return conn.execute(text(sql), params).scalar()


def rows(services: Services, sql: str, **params: Any) -> list[Any]:
    with services.engine.connect() as conn:
        return list(conn.execute(text(sql), params).all())


def is_outcome(response: Any, status: int) -> dict[str, Any]:
    """The response is ``status`` with an OperationOutcome saying why; its first issue."""
    assert response.status_code == status, (response.status_code, response.text[:500])
    body = response.json()
    assert body["resourceType"] == "OperationOutcome"
    assert body["issue"][0]["severity"] == "error"
    assert body["issue"][0]["diagnostics"]
    return dict(body["issue"][0])


def refusals(services: Services, agent: str) -> list[str]:
    """The descriptions of the refused (outcome 4) ledger entries by ``agent``."""
    services.ledger.buffered().flush()
    found = rows(
        services,
        "SELECT event FROM audit_ledger WHERE agent = :agent AND outcome = '4' ORDER BY seq",
        agent=agent,
    )
    return [str(row[0]) for row in found]


def operations(services: Services, description: str) -> list[list[str]]:
    """The patients of each ledger entry whose event description starts with ``description``."""
    services.ledger.buffered().flush()
    found = rows(services, "SELECT event, patient_ids FROM audit_ledger ORDER BY seq")
    return [
        sorted(str(ids or "").split())
        for event, ids in found
        if f'"outcomeDesc":"{description}' in str(event)
    ]


def held_claims(h: Hospital) -> list[dict[str, Any]]:
    listed = h.client.get("/api/billing/claims", params={"status": "held"}, headers=h.biller)
    assert listed.status_code == 200, listed.text
    return list(listed.json()["claims"])


def header_coded(h: Hospital) -> dict[str, Any]:
    """The demo's held claim whose principal diagnosis is the header code E11."""
    (found,) = [
        claim
        for claim in held_claims(h)
        if any(f["rule"] == "code-validity" and f["code"] == "E11" for f in claim["findings"])
    ]
    return found


def read_claim(h: Hospital, claim_id: str) -> dict[str, Any]:
    found = h.client.get(f"/fhir/Claim/{claim_id}", headers=h.admin)
    assert found.status_code == 200, found.text
    return dict(found.json())


def remittance_for(services: Services, claim_ids: list[str], outcome: str, trace: str) -> str:
    """An 835 from the simulated payer answering these released claims (as the demo's)."""
    payments = []
    for number, claim_id in enumerate(claim_ids):
        row = services.billing.worklist.get(claim_id)
        assert row is not None
        with services.fhir.repository.reading() as tx:
            stored = tx.read("Claim", claim_id)
        assert stored is not None
        lines = service_lines(stored.resource())[0]
        payments.append(
            simulate.adjudicate(row.control_number, lines, outcome, f"PCN{trace}{number}")
        )
    remittance = simulate.remittance(
        payments,
        trace,
        NOW.date(),
        payer=("DEMO PAYER", row.payer_id),
        payee=("RIVERSIDE GENERAL HOSPITAL", row.billing_npi),
    )
    envelope = Envelope(row.payer_id, services.settings.billing_submitter_id, NOW)
    return write_835([remittance], SequentialControlNumbers(), envelope)


# -- 1. scrubbing -----------------------------------------------------------------------------


def test_the_worklist_lists_held_claims_with_their_rule_ids(hospital: Hospital) -> None:
    held = held_claims(hospital)
    assert len(held) >= 3
    rules = {f["rule"] for claim in held for f in claim["findings"] if f["severity"] == "error"}
    # the demo's planted mistakes: a header code, an unknown code, a duplicate, a late claim
    assert {"code-validity", "duplicates", "timely-filing"} <= rules
    for claim in held:
        assert claim["status"] == "held"
        assert any(f["severity"] == "error" for f in claim["findings"])
        assert f"{claim['total_cents'] / 100:.2f}" == claim["total"]


def test_scrubbing_a_held_claim_answers_its_rules_as_an_outcome(hospital: Hospital) -> None:
    claim = header_coded(hospital)
    response = hospital.client.get(
        f"/fhir/Claim/{claim['claim_id']}/$scrub", headers=hospital.biller
    )
    assert response.status_code == 200, response.text
    outcome = response.json()
    assert outcome["resourceType"] == "OperationOutcome"
    errors = [i for i in outcome["issue"] if i["severity"] == "error"]
    assert errors
    coding = errors[0]["details"]["coding"][0]
    assert coding == {**coding, "system": SCRUB_RULE, "code": "code-validity"}
    assert errors[0]["expression"][0].startswith("Claim.diagnosis[")
    assert errors[0]["diagnostics"]  # the fix
    # re-scrubbing changes nothing about the claim's status
    assert hospital.services.billing.worklist.get(claim["claim_id"]).status == "held"


def test_scrubbing_a_posted_claim_stores_nothing(hospital: Hospital) -> None:
    claim = read_claim(hospital, header_coded(hospital)["claim_id"])
    fixed = copy.deepcopy(claim)
    fixed["diagnosis"][0]["diagnosisCodeableConcept"]["coding"][0]["code"] = "E11.9"
    broken = copy.deepcopy(claim)
    broken["item"][0]["diagnosisSequence"] = [9]
    counts = hospital.services.billing.worklist.counts()
    claims = scalar(hospital.services, "SELECT count(*) FROM resources WHERE res_type = 'Claim'")

    answered = hospital.client.post(
        "/fhir/Claim/$scrub", json=broken, headers={**FHIR_JSON, **hospital.biller}
    )
    assert answered.status_code == 200, answered.text
    codes = {
        i["details"]["coding"][0]["code"]
        for i in answered.json()["issue"]
        if i["severity"] == "error"
    }
    assert "diagnosis-pointers" in codes and "code-validity" in codes

    wrapped = {"resourceType": "Parameters", "parameter": [{"name": "resource", "resource": fixed}]}
    answered = hospital.client.post(
        "/fhir/Claim/$scrub", json=wrapped, headers={**FHIR_JSON, **hospital.biller}
    )
    assert answered.status_code == 200, answered.text
    codes = {
        i["details"]["coding"][0]["code"]
        for i in answered.json()["issue"]
        if i["severity"] == "error"
    }
    assert "code-validity" not in codes and "diagnosis-pointers" not in codes, answered.text

    assert hospital.services.billing.worklist.counts() == counts
    assert hospital.services.billing.worklist.get(claim["id"]).status == "held"
    assert (
        scalar(hospital.services, "SELECT count(*) FROM resources WHERE res_type = 'Claim'")
        == claims
    )


@pytest.mark.parametrize(
    "body",
    [
        {"resourceType": "Patient"},
        {
            "resourceType": "Parameters",
            "parameter": [{"name": "resource", "resource": {"resourceType": "Encounter"}}],
        },
        {"resourceType": "Parameters", "parameter": []},
        ["Claim"],
    ],
)
def test_scrub_refuses_a_body_that_is_not_a_claim(hospital: Hospital, body: Any) -> None:
    response = hospital.client.post(
        "/fhir/Claim/$scrub", json=body, headers={**FHIR_JSON, **hospital.biller}
    )
    is_outcome(response, 400)


# -- 2. $x12 ----------------------------------------------------------------------------------


def test_x12_of_a_sent_claim_is_a_valid_837(hospital: Hospital) -> None:
    paid, _ = hospital.services.billing.worklist.items("paid", 50, 0)
    twins = {
        f["message"].split()[4]
        for c in held_claims(hospital)
        for f in c["findings"]
        if f["rule"] == "duplicates"
    }
    row = next(r for r in paid if r.claim_id not in twins)
    response = hospital.client.get(f"/fhir/Claim/{row.claim_id}/$x12", headers=hospital.biller)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("application/edi-x12")
    assert x12_scrub(response.text) == []
    (batch,) = parse_837(response.text)
    (claim,) = batch.claims
    assert claim.claim_id == row.control_number
    assert int(claim.total_charge * 100) == row.total_cents


def test_x12_of_a_held_claim_names_the_problem(hospital: Hospital) -> None:
    claim_id = header_coded(hospital)["claim_id"]
    response = hospital.client.get(f"/fhir/Claim/{claim_id}/$x12", headers=hospital.biller)
    issue = is_outcome(response, 400)
    assert "code-validity" in issue["diagnostics"] and "E11" in issue["diagnostics"]
    assert issue["expression"][0].startswith("Claim.diagnosis[")


def test_x12_of_an_unknown_claim_is_404(hospital: Hospital) -> None:
    response = hospital.client.get("/fhir/Claim/no-such-claim/$x12", headers=hospital.biller)
    assert "no-such-claim" in is_outcome(response, 404)["diagnostics"]


# -- 3. release -------------------------------------------------------------------------------


def test_releasing_a_new_clean_claim_makes_a_valid_837_batch(hospital: Hospital) -> None:
    claim_id = hospital.billed_claim()
    assert hospital.services.billing.worklist.get(claim_id).status == "clean"
    sent = hospital.client.post("/api/billing/release", headers=hospital.biller)
    assert sent.status_code == 201, sent.text
    batch = sent.json()
    assert batch["claim_count"] == 1
    row = hospital.services.billing.worklist.get(claim_id)
    assert (row.status, row.batch_id) == ("released", batch["batch_id"])
    assert batch["total_cents"] == row.total_cents

    listed = hospital.client.get("/api/billing/batches", headers=hospital.biller).json()["batches"]
    assert batch["batch_id"] in [b["batch_id"] for b in listed]
    file = hospital.client.get(
        f"/api/billing/batches/{batch['batch_id']}/x12", headers=hospital.biller
    )
    assert file.status_code == 200
    assert file.headers["content-type"].startswith("application/edi-x12")
    assert x12_scrub(file.text) == []
    assert [c.claim_id for b in parse_837(file.text) for c in b.claims] == [row.control_number]

    # the release and the download are audited, naming the claim's patient
    patient = [row.patient_id]
    assert patient in operations(hospital.services, "claims released as an 837")
    assert patient in operations(hospital.services, "837 batch downloaded")
    assert patient in operations(hospital.services, "claim scrubbed: clean")

    batches = scalar(hospital.services, "SELECT count(*) FROM billing_batches")
    again = hospital.client.post("/api/billing/release", headers=hospital.biller)
    is_outcome(again, 400)
    assert scalar(hospital.services, "SELECT count(*) FROM billing_batches") == batches


def test_a_chunked_release_sends_only_the_claims_it_names(hospital: Hospital) -> None:
    wanted, other = hospital.billed_claim(), hospital.billed_claim()

    def chunks() -> Iterator[bytes]:
        yield b'{"claims": ['
        yield f'"{wanted}"]}}'.encode()

    sent = hospital.client.post(
        "/api/billing/release",
        content=chunks(),
        headers={**hospital.biller, "content-type": "application/json"},
    )
    assert sent.status_code == 201, sent.text
    assert sent.json()["claim_count"] == 1
    assert hospital.services.billing.worklist.get(wanted).status == "released"
    assert hospital.services.billing.worklist.get(other).status == "clean"
    rest = hospital.client.post(
        "/api/billing/release", json={"claims": [other]}, headers=hospital.biller
    )
    assert rest.status_code == 201, rest.text


def test_an_unknown_batch_is_404(hospital: Hospital) -> None:
    response = hospital.client.get("/api/billing/batches/nope/x12", headers=hospital.biller)
    is_outcome(response, 404)


# -- 4. remittance ----------------------------------------------------------------------------


def test_posting_an_835_pays_the_claims_once(hospital: Hospital) -> None:
    claim_id, _ = hospital.released_claim()
    row = hospital.services.billing.worklist.get(claim_id)
    file = remittance_for(hospital.services, [claim_id], "paid", "TRACEPAID01")
    postings = scalar(hospital.services, "SELECT count(*) FROM billing_postings")

    posted = hospital.client.post(
        "/api/billing/remittances", content=file, headers={**X12, **hospital.biller}
    )
    assert posted.status_code == 201, posted.text
    report = posted.json()
    assert (report["remittancesPosted"], report["claimsMatched"], report["claimsUnmatched"]) == (
        1,
        1,
        0,
    )
    paid = scalar(
        hospital.services, "SELECT paid_cents FROM billing_postings WHERE claim_id = :c", c=claim_id
    )
    assert report["paidCents"] == paid > 0
    assert report["outcomes"][0]["controlNumber"] == row.control_number
    assert hospital.services.billing.worklist.get(claim_id).status == "paid"
    assert scalar(hospital.services, "SELECT count(*) FROM billing_postings") == postings + 1

    again = hospital.client.post(
        "/api/billing/remittances", content=file, headers={**X12, **hospital.biller}
    )
    assert again.status_code == 200, again.text
    assert (again.json()["remittancesPosted"], again.json()["remittancesSkipped"]) == (0, 1)
    assert scalar(hospital.services, "SELECT count(*) FROM billing_postings") == postings + 1


def miscounted(file: str) -> tuple[str, int]:
    """The 835 with a wrong SE01 segment count, and the SE segment's 1-based position."""
    segments = file.split("~")
    at = next(i for i, s in enumerate(segments) if s.startswith("SE*"))
    count = int(segments[at].split("*")[1])
    segments[at] = segments[at].replace(f"SE*{count}*", f"SE*{count + 1}*", 1)
    return "~".join(segments), at + 1


def test_a_malformed_835_is_refused_and_posts_nothing(hospital: Hospital) -> None:
    claim_id, _ = hospital.released_claim()
    file, at = miscounted(remittance_for(hospital.services, [claim_id], "paid", "TRACEBAD01"))
    postings = scalar(hospital.services, "SELECT count(*) FROM billing_postings")

    refused = hospital.client.post(
        "/api/billing/remittances", content=file, headers={**X12, **hospital.biller}
    )
    issue = is_outcome(refused, 400)
    assert f"SE segment at position {at}" in issue["diagnostics"]
    assert issue["expression"] == [f"SE[{at}]"]
    assert scalar(hospital.services, "SELECT count(*) FROM billing_postings") == postings
    assert hospital.services.billing.worklist.get(claim_id).status == "released"


def test_a_remittance_needs_x12_text(hospital: Hospital) -> None:
    wrong = hospital.client.post("/api/billing/remittances", json={"x": 1}, headers=hospital.biller)
    assert "application/edi-x12" in is_outcome(wrong, 415)["diagnostics"]
    empty = hospital.client.post(
        "/api/billing/remittances", content=b"", headers={**X12, **hospital.biller}
    )
    assert "empty" in is_outcome(empty, 400)["diagnostics"]


# -- 5. denials -------------------------------------------------------------------------------


def _open_denial(h: Hospital) -> dict[str, Any]:
    listed = h.client.get("/api/billing/denials", headers=h.biller)
    assert listed.status_code == 200, listed.text
    found = listed.json()["denials"]
    if not found:  # an earlier test (or the other order) worked the demo's denials: make one
        claim_id, _ = h.released_claim()
        file = remittance_for(h.services, [claim_id], "denied", f"TRACEDEN{len(h.unbilled)}")
        assert (
            h.client.post(
                "/api/billing/remittances", content=file, headers={**X12, **h.biller}
            ).status_code
            == 201
        )
        found = h.client.get("/api/billing/denials", headers=h.biller).json()["denials"]
    assert all(d["state"] == "open" for d in found)
    return dict(found[0])


def test_the_denial_queue_lists_the_payers_co50s(hospital: Hospital) -> None:
    denial = _open_denial(hospital)
    assert (denial["group_code"], denial["reason_code"]) == ("CO", "50")
    assert denial["amount_cents"] > 0
    assert hospital.services.billing.worklist.get(denial["claim_id"]) is not None


def test_a_biller_appeals_a_denial_with_a_note(hospital: Hospital) -> None:
    denial = _open_denial(hospital)
    path = f"/api/billing/denials/{denial['denial_id']}"
    moved = hospital.client.post(
        path, json={"state": "appealed", "note": "Sent notes"}, headers=hospital.biller
    )
    assert moved.status_code == 200, moved.text
    assert (moved.json()["state"], moved.json()["note"], moved.json()["updated_by"]) == (
        "appealed",
        "Sent notes",
        "bea",
    )
    stored = scalar(
        hospital.services,
        "SELECT state FROM billing_denials WHERE denial_id = :d",
        d=denial["denial_id"],
    )
    assert stored == "appealed"

    bad = hospital.client.post(
        path, json={"state": "corrected", "note": "x"}, headers=hospital.biller
    )
    assert "appealed" in is_outcome(bad, 400)["diagnostics"]
    no_note = hospital.client.post(path, json={"state": "resolved"}, headers=hospital.biller)
    is_outcome(no_note, 400)
    assert (
        scalar(
            hospital.services,
            "SELECT state FROM billing_denials WHERE denial_id = :d",
            d=denial["denial_id"],
        )
        == "appealed"
    )
    unknown = hospital.client.post(
        "/api/billing/denials/nope",
        json={"state": "resolved", "note": "x"},
        headers=hospital.biller,
    )
    is_outcome(unknown, 404)


# -- 6. statements ----------------------------------------------------------------------------


def _owing_patient(h: Hospital) -> tuple[str, int]:
    """A patient with postings that leave them something to pay, and what (in cents)."""
    found = rows(
        h.services,
        "SELECT patient_id, sum(patient_cents) FROM billing_postings WHERE reverses IS NULL "
        "GROUP BY patient_id HAVING sum(patient_cents) > 0 ORDER BY patient_id",
    )
    assert found
    return str(found[0][0]), int(found[0][1])


def test_a_biller_gets_a_statement_in_each_format(hospital: Hospital) -> None:
    patient_id, owed = _owing_patient(hospital)
    path = f"/api/billing/statements/{patient_id}"
    as_json = hospital.client.get(path, params={"format": "json"}, headers=hospital.biller)
    assert as_json.status_code == 200, as_json.text
    body = as_json.json()
    assert Decimal(body["balance"]) == Decimal(owed) / 100
    pr = sum(
        Decimal(a["amount"]) for c in body["claims"] for a in c["adjustments"] if a["group"] == "PR"
    )
    assert pr == Decimal(body["balance"])

    pdf = hospital.client.get(path, params={"format": "pdf"}, headers=hospital.biller)
    assert pdf.status_code == 200 and pdf.headers["content-type"] == "application/pdf"
    assert pdf.content.startswith(b"%PDF")
    html = hospital.client.get(path, headers=hospital.biller)
    assert html.status_code == 200 and html.headers["content-type"].startswith("text/html")
    assert f"${Decimal(owed) / 100:,.2f}" in html.text
    for form in ("json", "pdf", "html"):  # each statement given out is in the ledger
        assert [patient_id] in operations(hospital.services, f"statement ({form})")

    xml = hospital.client.get(path, params={"format": "xml"}, headers=hospital.biller)
    assert "format" in is_outcome(xml, 400)["diagnostics"]


def test_a_patient_sees_their_own_statement_only(hospital: Hospital) -> None:
    patient_id, owed = _owing_patient(hospital)
    other = scalar(
        hospital.services,
        "SELECT patient_id FROM billing_claims WHERE patient_id <> :p ORDER BY patient_id",
        p=patient_id,
    )
    name = f"pat{patient_id[:8]}"
    portal = user(hospital.services, name, "patient", patient_id=patient_id)
    own = hospital.client.get(
        f"/api/billing/statements/{patient_id}", params={"format": "json"}, headers=portal
    )
    assert own.status_code == 200, own.text
    assert Decimal(own.json()["balance"]) == Decimal(owed) / 100

    family = read_claim_patient_family(hospital, other)
    for form in ("json", "html", "pdf"):
        theirs = hospital.client.get(
            f"/api/billing/statements/{other}", params={"format": form}, headers=portal
        )
        assert theirs.status_code in (403, 404), theirs.text
        assert theirs.json()["resourceType"] == "OperationOutcome"
        assert family not in theirs.text
    assert refusals(hospital.services, name)


def read_claim_patient_family(h: Hospital, patient_id: str) -> str:
    found = h.client.get(f"/fhir/Patient/{patient_id}", headers=h.admin)
    assert found.status_code == 200
    return str(found.json()["name"][0]["family"])


def test_the_front_desk_gets_no_statement(hospital: Hospital) -> None:
    """Statements list every service of every visit: claim detail the front desk's role does
    not read (privacy/rules.py), so only billers and the patient themself get them."""
    patient_id, _owed = _owing_patient(hospital)
    desk = user(hospital.services, "fran", "front_desk")
    path = f"/api/billing/statements/{patient_id}"
    refused = hospital.client.get(path, params={"format": "json"}, headers=desk)
    assert refused.status_code == 403
    assert refused.json()["resourceType"] == "OperationOutcome"


# -- 7. roles ---------------------------------------------------------------------------------


def test_a_physician_may_not_see_the_worklist(hospital: Hospital) -> None:
    before = len(refusals(hospital.services, "phil"))
    refused = hospital.client.get("/api/billing/claims", headers=hospital.physician)
    assert "biller" in is_outcome(refused, 403)["diagnostics"]
    after = refusals(hospital.services, "phil")
    assert len(after) == before + 1 and "see the claim worklist" in after[-1]


def test_billers_do_not_capture_and_coders_do_not_send(hospital: Hospital) -> None:
    encounter = hospital.unbilled[0]
    charges = scalar(
        hospital.services, "SELECT count(*) FROM resources WHERE res_type = 'ChargeItem'"
    )
    refused = hospital.client.post(
        f"/api/billing/encounters/{encounter}/charges", headers=hospital.biller
    )
    is_outcome(refused, 403)
    assert (
        scalar(hospital.services, "SELECT count(*) FROM resources WHERE res_type = 'ChargeItem'")
        == charges
    )
    assert "capture charges" in refusals(hospital.services, "bea")[-1]

    batches = scalar(hospital.services, "SELECT count(*) FROM billing_batches")
    is_outcome(hospital.client.post("/api/billing/release", headers=hospital.coder), 403)
    assert scalar(hospital.services, "SELECT count(*) FROM billing_batches") == batches
    assert "release claims" in refusals(hospital.services, "cody")[-1]
    posted = hospital.client.post(
        "/api/billing/remittances", content="ISA*", headers={**X12, **hospital.coder}
    )
    is_outcome(posted, 403)
    assert "post remittances" in refusals(hospital.services, "cody")[-1]


def test_no_token_is_401(hospital: Hospital) -> None:
    for method, path in (
        ("GET", "/api/billing/claims"),
        ("POST", "/api/billing/release"),
        ("GET", "/fhir/Claim/x/$scrub"),
    ):
        response = hospital.client.request(method, path)
        assert response.status_code == 401, path
        assert response.json()["resourceType"] == "OperationOutcome"


# -- 8. coding help ---------------------------------------------------------------------------


def test_code_suggestions_carry_their_evidence(hospital: Hospital) -> None:
    note = "pt with HTN and T2DM"
    response = hospital.client.post(
        "/api/coding/suggest", json={"text": note, "date": "2026-10-01"}, headers=hospital.coder
    )
    assert response.status_code == 200, response.text
    found = {s["code"]: s for s in response.json()["suggestions"]}
    assert "I10" in found
    diabetes = [code for code in found if code.startswith("E11")]
    assert diabetes
    assert [note[e["start"] : e["end"]] for e in found["I10"]["evidence"]] == ["HTN"]
    assert [note[e["start"] : e["end"]] for e in found[diabetes[0]]["evidence"]] == ["T2DM"]

    for count in (0, 51, "5", True):
        bad = hospital.client.post(
            "/api/coding/suggest", json={"text": note, "count": count}, headers=hospital.coder
        )
        assert "count" in is_outcome(bad, 400)["diagnostics"]


def test_suggestions_for_a_stored_condition_name_the_element_of_their_evidence(
    hospital: Hospital,
) -> None:
    condition = {
        "resourceType": "Condition",
        "subject": {"reference": f"Patient/{_any_patient(hospital)}"},
        "code": {"text": "Acute exacerbation of COPD"},
    }
    created = hospital.client.post("/fhir/Condition", json=condition, headers=hospital.coder)
    assert created.status_code == 201, created.text
    reference = f"Condition/{created.json()['id']}"
    response = hospital.client.post(
        "/api/coding/suggest",
        json={"condition": reference, "date": "2026-10-01"},
        headers=hospital.coder,
    )
    assert response.status_code == 200, response.text
    [first, *_] = response.json()["suggestions"]
    assert first["code"] == "J44.1"
    assert {e["field"] for e in first["evidence"]} == {"code.text"}
    both = hospital.client.post(
        "/api/coding/suggest", json={"condition": reference, "text": "x"}, headers=hospital.coder
    )
    assert "exactly one" in is_outcome(both, 400)["diagnostics"]
    missing = hospital.client.post(
        "/api/coding/suggest", json={"condition": "Condition/nope"}, headers=hospital.coder
    )
    assert missing.status_code == 404


def test_a_posted_claim_with_an_absolute_patient_reference_is_scrubbed_not_refused(
    hospital: Hospital,
) -> None:
    claim = {
        "resourceType": "Claim",
        "status": "active",
        "use": "claim",
        "patient": {"reference": "http://elsewhere.example/fhir/Patient/1"},
        "item": [{"sequence": 1, "productOrService": {"text": "visit"}}],
    }
    response = hospital.client.post("/fhir/Claim/$scrub", json=claim, headers=hospital.biller)
    assert response.status_code == 200, response.text
    rules = {i["details"]["coding"][0]["code"] for i in response.json()["issue"]}
    assert "required-fields" in rules


def _any_patient(hospital: Hospital) -> str:
    found = hospital.client.get("/fhir/Patient?_count=1", headers=hospital.admin)
    return str(found.json()["entry"][0]["resource"]["id"])


def test_a_heart_failure_stay_groups_to_drg_293(hospital: Hospital) -> None:
    stay = {
        "dischargeDate": "2026-05-01",
        "age": 65,
        "sex": "M",
        "dischargeStatus": "01",
        "principalDiagnosis": "I50.20",
        "secondaryDiagnoses": ["E11.65"],
        "procedures": [],
    }
    response = hospital.client.post("/api/coding/drg", json=stay, headers=hospital.coder)
    assert response.status_code == 200, response.text
    result = response.json()
    assert (result["drg"], result["mdc"], result["version"]) == (293, 5, "43.1")
    assert result["mce_edits"] == []
    with_mcc = {**stay, "secondaryDiagnoses": [{"code": "N17.0", "poa": "Y"}]}
    assert hospital.client.post("/api/coding/drg", json=with_mcc, headers=hospital.coder).json()[
        "drg"
    ] in (291, 292)

    odd_poa = {**stay, "secondaryDiagnoses": [{"code": "I10", "poa": 5}]}
    refused = hospital.client.post("/api/coding/drg", json=odd_poa, headers=hospital.coder)
    assert "poa" in is_outcome(refused, 400)["diagnostics"]
    for bad in (
        {**stay, "age": "65"},
        {**stay, "dischargeDate": "May"},
        [stay],
        {**stay, "procedures": [1]},
        {**stay, "sex": ["M"]},
        {**stay, "sex": {}},
        {**stay, "age": 2**31},
        {**stay, "age": -1},
        {**stay, "dischargeStatus": "\u0660\u0661"},  # Arabic-Indic digits
    ):
        is_outcome(hospital.client.post("/api/coding/drg", json=bad, headers=hospital.coder), 400)


# -- 9. never a 500 ---------------------------------------------------------------------------

LONG = "9" * 5000
BAD_IDS = (LONG, "..%2F..%2Fetc%2Fpasswd", "%00", "Claim%2F1", "é" * 70)
BAD_BODIES: tuple[tuple[bytes, str], ...] = (
    (b"{not json", "application/json"),
    (b"[1, 2]", "application/json"),
    (b'{"claims": 5, "state": 7, "note": [], "text": 1, "age": 1e400}', "application/json"),
    (
        b'{"claims": ["' + LONG.encode() + b'"], "state": "appealed", "note": "n"}',
        "application/json",
    ),
    (
        b'{"claims": ["\\u0000"], "state": "appealed", "note": "\\u0000"}',
        "application/json",
    ),
    (b"\xff\xfe\x00", "application/edi-x12"),
    (b"ISA*00*" + b"*" * 300 + b"~", "application/edi-x12"),
    (b"ST*835*0001~SE*2*0001~", "text/plain"),
)
POSTS = (
    "/fhir/Claim/$scrub",
    "/api/billing/encounters/{id}/charges",
    "/api/billing/encounters/{id}/claim",
    "/api/billing/release",
    "/api/billing/remittances",
    "/api/billing/denials/{id}",
    "/api/coding/suggest",
    "/api/coding/drg",
)
GETS = (
    "/fhir/Claim/{id}/$scrub",
    "/fhir/Claim/{id}/$x12",
    "/api/billing/claims/{id}",
    "/api/billing/batches/{id}/x12",
    "/api/billing/statements/{id}?format=json",
    "/api/billing/claims?status={id}&_count={id}",
    "/api/billing/denials?state={id}&_offset={id}",
)


def test_a_nul_in_a_note_or_source_is_refused_not_stored(hospital: Hospital) -> None:
    denial = _open_denial(hospital)
    path = f"/api/billing/denials/{denial['denial_id']}"
    body = {"state": denial["state"], "note": "called\u0000payer"}
    refused = hospital.client.post(path, json=body, headers=hospital.biller)
    assert "note" in is_outcome(refused, 400)["diagnostics"]
    stored = scalar(
        hospital.services,
        "SELECT note FROM billing_denials WHERE denial_id = :d",
        d=denial["denial_id"],
    )
    assert "payer" not in stored
    claim_id, _ = hospital.released_claim()
    file = remittance_for(hospital.services, [claim_id], "paid", "TRACENUL01")
    posted = hospital.client.post(
        "/api/billing/remittances",
        params={"source": "a\u0000b"},
        content=file,
        headers={**X12, **hospital.biller},
    )
    assert "source" in is_outcome(posted, 400)["diagnostics"]
    assert hospital.services.billing.worklist.get(claim_id).status == "released"


def test_bad_input_never_gets_a_500(hospital: Hospital) -> None:
    app = hospital.client.app
    with TestClient(app, raise_server_exceptions=False) as client:
        for who in (hospital.biller, hospital.coder):
            for path in GETS:
                for bad in BAD_IDS:
                    url = path.replace("{id}", bad)
                    response = client.get(url, headers=who)
                    assert 400 <= response.status_code < 500, (url[:200], response.text[:300])
                    assert response.json()["resourceType"] == "OperationOutcome", url[:200]
            for path, bad, (body, kind) in product(POSTS, BAD_IDS[1:3], BAD_BODIES):
                url = path.replace("{id}", bad)
                response = client.post(url, content=body, headers={**who, "content-type": kind})
                assert 400 <= response.status_code < 500, (url, body[:60], response.text[:300])
                assert response.json()["resourceType"] == "OperationOutcome", (url, body[:60])


def test_an_encounters_coding_check_points_at_its_diagnoses(hospital: Hospital) -> None:
    """A principal manifestation code and a header code: each finding names its rule and the
    Encounter.diagnosis it is about; a coder's check, refused to a biller."""
    patient = _any_patient(hospital)

    def condition(code: str) -> str:
        body = {
            "resourceType": "Condition",
            "subject": {"reference": f"Patient/{patient}"},
            "code": {"coding": [{"system": "http://hl7.org/fhir/sid/icd-10-cm", "code": code}]},
        }
        created = hospital.client.post("/fhir/Condition", json=body, headers=hospital.admin)
        assert created.status_code == 201, created.text
        return str(created.json()["id"])

    manifestation, header = condition("G63"), condition("E11")
    encounter = {
        "resourceType": "Encounter",
        "status": "finished",
        "class": {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB"},
        "subject": {"reference": f"Patient/{patient}"},
        "period": {"start": "2026-10-01T09:00:00Z", "end": "2026-10-01T09:30:00Z"},
        "diagnosis": [
            {"condition": {"reference": f"Condition/{header}"}, "rank": 2},
            {"condition": {"reference": f"Condition/{manifestation}"}, "rank": 1},
        ],
    }
    created = hospital.client.post("/fhir/Encounter", json=encounter, headers=hospital.admin)
    assert created.status_code == 201, created.text
    path = f"/fhir/Encounter/{created.json()['id']}/$coding-check"
    outcome = hospital.client.get(path, headers=hospital.coder)
    assert outcome.status_code == 200, outcome.text
    found = {
        (i["details"]["coding"][0]["code"], i["expression"][0])
        for i in outcome.json()["issue"]
        if i.get("details", {}).get("coding")
    }
    assert ("manifestation-as-principal", "Encounter.diagnosis[1]") in found
    assert ("header-code", "Encounter.diagnosis[0]") in found
    assert hospital.client.get(path, headers=hospital.biller).status_code == 403
    missing = hospital.client.get("/fhir/Encounter/nope/$coding-check", headers=hospital.coder)
    assert missing.status_code == 404

    # the unacceptable-principal edit is about admissions: an inpatient stay only
    organism = condition("B95.0")  # streptococcus A as the cause: never the reason for a stay
    rules = {}
    for klass in ("AMB", "IMP"):
        stay = {
            **encounter,
            "class": {**encounter["class"], "code": klass},
            "diagnosis": [{"condition": {"reference": f"Condition/{organism}"}, "rank": 1}],
        }
        made = hospital.client.post("/fhir/Encounter", json=stay, headers=hospital.admin)
        checked = hospital.client.get(
            f"/fhir/Encounter/{made.json()['id']}/$coding-check", headers=hospital.coder
        ).json()
        rules[klass] = {
            i["details"]["coding"][0]["code"] for i in checked["issue"] if "details" in i
        }
    assert "unacceptable-principal" in rules["IMP"]
    assert "unacceptable-principal" not in rules["AMB"]
