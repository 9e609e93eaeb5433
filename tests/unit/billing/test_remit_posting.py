"""Posting 835s onto billing_claims, on SQLite and PostgreSQL: golden cases built with write_835."""

from __future__ import annotations

import json
from collections.abc import Iterator, Mapping, Sequence
from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, func, insert, select

from chartkeeper.billing.remit.posting import PostingReport, RemittancePoster
from chartkeeper.billing.remit.simulate import remittance
from chartkeeper.billing.x12.claim_model import ServiceLine
from chartkeeper.billing.x12.envelope import Envelope, SequentialControlNumbers
from chartkeeper.billing.x12.parse835 import (
    Adjustment,
    ClaimPayment,
    ServicePayment,
    parse_835,
)
from chartkeeper.billing.x12.segments import X12Error
from chartkeeper.billing.x12.write835 import write_835
from chartkeeper.core.clock import FixedClock
from chartkeeper.store.billing_schema import (
    billing_claims,
    billing_denials,
    billing_postings,
    billing_remittances,
)
from chartkeeper.store.engine import make_engine
from chartkeeper.store.migrate import upgrade

D = Decimal
DAY = date(2026, 3, 2)
VISIT = ServiceLine("G0463", D("150"), D("1"), DAY, ("25",))
DRUG = ServiceLine("J1885", D("40"), D("2"), DAY)
LINES = (VISIT, DRUG)
CLOCK_START = datetime(2026, 3, 10, 12, 0, tzinfo=UTC)


# -- helpers (also used by the other test_remit_* modules) --------------------------------------


def open_store(database_url: str) -> Iterator[Engine]:
    """A migrated store for the ``engine`` fixtures of the test_remit_* modules."""
    engine = make_engine(database_url)
    upgrade(engine)
    yield engine
    engine.dispose()


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    yield from open_store(database_url)


def add_claim(
    engine: Engine, control: str, patient: str = "pat-1", status: str = "released"
) -> str:
    """A billing_claims row for ``control``; its claim id is ``claim-<control>``."""
    claim_id = f"claim-{control}"
    with engine.begin() as conn:
        conn.execute(
            insert(billing_claims).values(
                claim_id=claim_id,
                control_number=control,
                patient_id=patient,
                kind="837P",
                payer_id="SIMPAYER01",
                billing_npi="1234567893",
                service_from=DAY.isoformat(),
                service_to=DAY.isoformat(),
                total_cents=19000,
                signature=f"sig-{control}",
                status=status,
                findings="[]",
                updated=0,
            )
        )
    return claim_id


def text_of(*payments: ClaimPayment, trace: str = "TRACE1") -> str:
    remit = remittance(payments, trace, date(2026, 3, 10))
    envelope = Envelope("SIMPAYER", "SIMCLINIC", datetime(2026, 3, 10, 9, 0))
    return write_835([remit], SequentialControlNumbers(), envelope)


def lines_for(known: Mapping[str, Sequence[ServiceLine]]) -> Any:
    return lambda controls: {c: known[c] for c in controls if c in known}


def poster(engine: Engine) -> RemittancePoster:
    return RemittancePoster(engine, FixedClock(CLOCK_START))


def rows(engine: Engine, table: Any, **where: Any) -> list[dict[str, Any]]:
    with engine.connect() as conn:
        query = select(table)
        for column, value in where.items():
            query = query.where(table.c[column] == value)
        return [dict(r) for r in conn.execute(query).mappings()]


def count(engine: Engine, table: Any) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(table)).scalar_one())


def claim_status(engine: Engine, claim_id: str) -> str:
    return str(rows(engine, billing_claims, claim_id=claim_id)[0]["status"])


def svc(
    line: ServiceLine, paid: str, *adjustments: Adjustment, remarks: tuple[str, ...] = ()
) -> ServicePayment:
    return ServicePayment(
        ("HC", line.procedure_code, *line.modifiers),
        line.charge,
        D(paid),
        units=line.units,
        service_date=line.service_date,
        adjustments=adjustments,
        remarks=remarks,
    )


def co(reason: str, amount: str) -> Adjustment:
    return Adjustment("CO", reason, D(amount))


def pr(reason: str, amount: str) -> Adjustment:
    return Adjustment("PR", reason, D(amount))


def full_payment(control: str = "PCN1") -> ClaimPayment:
    services = (svc(VISIT, "120", co("45", "30")), svc(DRUG, "32", co("45", "8")))
    return ClaimPayment(control, "1", D("190"), D("152"), D("0"), "12", "P-1", services=services)


def post(engine: Engine, text: str, **kwargs: Any) -> PostingReport:
    return poster(engine).post(text, "test.835", claim_lines=lines_for({"PCN1": LINES}), **kwargs)


# -- golden cases ------------------------------------------------------------------------------


def test_a_full_payment_marks_the_claim_paid_with_exact_line_matches(engine: Engine) -> None:
    claim_id = add_claim(engine, "PCN1")
    report = post(engine, text_of(full_payment()))
    assert (report.remittances_posted, report.claims_matched, report.claims_unmatched) == (1, 1, 0)
    assert report.paid_cents == 15200 and report.paid_total == D("152")
    assert report.denials_created == 0
    assert claim_status(engine, claim_id) == "paid"
    [posting] = rows(engine, billing_postings)
    assert (posting["claim_id"], posting["patient_id"]) == (claim_id, "pat-1")
    assert (posting["charge_cents"], posting["paid_cents"], posting["adjusted_cents"]) == (
        19000,
        15200,
        3800,
    )
    matches = json.loads(posting["detail"])["matches"]
    assert [(m["line"], m["kind"], m["paid"], m["allowed"]) for m in matches] == [
        (0, "exact", 12000, 12000),
        (1, "exact", 3200, 3200),
    ]
    [remit] = rows(engine, billing_remittances)
    assert (remit["trace_number"], remit["payment_cents"], remit["claim_count"]) == (
        "TRACE1",
        15200,
        1,
    )
    assert remit["unmatched"] == 0 and remit["payment_date"] == "2026-03-10"


def test_deductible_and_coinsurance_go_to_the_patient_and_the_claim_is_paid(
    engine: Engine,
) -> None:
    claim_id = add_claim(engine, "PCN1")
    visit = svc(VISIT, "70", co("45", "30"), pr("1", "20"), pr("2", "30"), remarks=("N130",))
    drug = svc(DRUG, "32", co("45", "8"))
    payment = ClaimPayment(
        "PCN1", "1", D("190"), D("102"), D("50"), "12", "P-1", services=(visit, drug)
    )
    report = post(engine, text_of(payment))
    assert report.denials_created == 0
    assert claim_status(engine, claim_id) == "paid"
    [posting] = rows(engine, billing_postings)
    assert (posting["paid_cents"], posting["patient_cents"]) == (10200, 5000)
    first = json.loads(posting["detail"])["matches"][0]
    assert (first["paid"], first["allowed"]) == (7000, 12000)
    assert first["adjustments"] == [
        {"group": "CO", "reason": "45", "amount": 3000, "remarks": ["N130"]},
        {"group": "PR", "reason": "1", "amount": 2000, "remarks": ["N130"]},
        {"group": "PR", "reason": "2", "amount": 3000, "remarks": ["N130"]},
    ]


def test_a_denied_claim_opens_one_denial_with_its_reason(engine: Engine) -> None:
    claim_id = add_claim(engine, "PCN1")
    services = (
        svc(VISIT, "0", co("50", "150"), remarks=("N115",)),
        svc(DRUG, "0", co("50", "40"), remarks=("N115",)),
    )
    payment = ClaimPayment("PCN1", "4", D("190"), D("0"), D("0"), "12", "P-1", services=services)
    report = post(engine, text_of(payment))
    assert report.denials_created == 1
    assert claim_status(engine, claim_id) == "denied"
    [denial] = rows(engine, billing_denials)
    assert (denial["claim_id"], denial["line"], denial["group_code"], denial["reason_code"]) == (
        claim_id,
        None,
        "CO",
        "50",
    )
    assert denial["amount_cents"] == 19000 and json.loads(denial["remarks"]) == ["N115"]
    assert denial["state"] == "open"


def test_a_line_denied_on_a_paid_claim_makes_it_partial_with_a_line_denial(engine: Engine) -> None:
    claim_id = add_claim(engine, "PCN1")
    services = (svc(VISIT, "120", co("45", "30")), svc(DRUG, "0", co("50", "40")))
    payment = ClaimPayment("PCN1", "1", D("190"), D("120"), D("0"), "12", "P-1", services=services)
    post(engine, text_of(payment))
    assert claim_status(engine, claim_id) == "partial"
    [denial] = rows(engine, billing_denials)
    assert (denial["line"], denial["reason_code"], denial["amount_cents"]) == (1, "50", 4000)


def test_a_reversal_takes_back_the_payment_and_a_correction_posts_normally(
    engine: Engine,
) -> None:
    claim_id = add_claim(engine, "PCN1")
    post(engine, text_of(full_payment()))
    [original] = rows(engine, billing_postings)
    reversal = ClaimPayment(
        "PCN1", "22", D("-190"), D("-152"), D("0"), "12", "P-1", adjustments=(co("45", "-38"),)
    )
    report = post(engine, text_of(reversal, trace="TRACE2"))
    assert claim_status(engine, claim_id) == "released"
    [outcome] = report.outcomes
    assert outcome.reverses == original["posting_id"] and outcome.status == "released"
    taken = rows(engine, billing_postings, status_code="22")[0]
    assert (taken["reverses"], taken["paid_cents"], taken["charge_cents"]) == (
        original["posting_id"],
        -15200,
        -19000,
    )
    assert report.denials_created == 0
    corrected = ClaimPayment(
        "PCN1",
        "1",
        D("190"),
        D("160"),
        D("0"),
        "12",
        "P-1b",
        services=(svc(VISIT, "128", co("45", "22")), svc(DRUG, "32", co("45", "8"))),
    )
    post(engine, text_of(corrected, trace="TRACE3"))
    assert claim_status(engine, claim_id) == "paid"
    paid = sum(p["paid_cents"] for p in rows(engine, billing_postings, claim_id=claim_id))
    assert paid == 16000


def test_a_reversal_and_its_correction_in_one_file_leave_the_corrected_status(
    engine: Engine,
) -> None:
    claim_id = add_claim(engine, "PCN1")
    post(engine, text_of(full_payment()))
    reversal = ClaimPayment("PCN1", "22", D("-190"), D("-152"), D("0"), "12", "P-1")
    denied = ClaimPayment(
        "PCN1", "4", D("190"), D("0"), D("0"), "12", "P-2", adjustments=(co("16", "190"),)
    )
    report = post(engine, text_of(reversal, denied, trace="TRACE2"))
    assert [o.status for o in report.outcomes] == ["released", "denied"]
    assert claim_status(engine, claim_id) == "denied"


def test_a_reversal_resolves_the_denials_of_the_posting_it_takes_back(engine: Engine) -> None:
    add_claim(engine, "PCN1")
    services = (svc(VISIT, "120", co("45", "30")), svc(DRUG, "0", co("50", "40")))
    post(
        engine,
        text_of(
            ClaimPayment("PCN1", "1", D("190"), D("120"), D("0"), "12", "P-1", services=services)
        ),
    )
    reversal = ClaimPayment("PCN1", "22", D("-190"), D("-120"), D("0"), "12", "P-1")
    post(engine, text_of(reversal, trace="TRACE2"))
    [denial] = rows(engine, billing_denials)
    assert (denial["state"], denial["note"], denial["updated_by"]) == (
        "resolved",
        "reversed by the payer",
        "remittance",
    )


def test_a_modifier_the_payer_dropped_still_matches_the_line(engine: Engine) -> None:
    add_claim(engine, "PCN1")
    dropped = ServicePayment(
        ("HC", "G0463"),
        D("150"),
        D("120"),
        units=D("1"),
        service_date=DAY,
        adjustments=(co("45", "30"),),
    )
    payment = ClaimPayment(
        "PCN1",
        "1",
        D("190"),
        D("152"),
        D("0"),
        "12",
        "P-1",
        services=(dropped, svc(DRUG, "32", co("45", "8"))),
    )
    post(engine, text_of(payment))
    matches = json.loads(rows(engine, billing_postings)[0]["detail"])["matches"]
    assert (matches[0]["kind"], matches[0]["services"], matches[0]["notes"]) == (
        "modifier_changed",
        [0],
        ["modifier dropped: 25"],
    )


def test_a_line_paid_as_two_service_lines_is_one_split_match(engine: Engine) -> None:
    add_claim(engine, "PCN1")
    half = ServiceLine("J1885", D("20"), D("1"), DAY)
    services = (
        svc(VISIT, "120", co("45", "30")),
        svc(half, "16", co("45", "4")),
        svc(half, "10", co("45", "4"), co("59", "6")),
    )
    payment = ClaimPayment("PCN1", "1", D("190"), D("146"), D("0"), "12", "P-1", services=services)
    report = post(engine, text_of(payment))
    matches = json.loads(rows(engine, billing_postings)[0]["detail"])["matches"]
    assert (matches[1]["kind"], matches[1]["services"], matches[1]["paid"]) == (
        "split",
        [1, 2],
        2600,
    )
    assert report.outcomes[0].status == "paid"


def test_a_bundled_line_has_no_service_line_and_the_co97_is_a_denial(engine: Engine) -> None:
    claim_id = add_claim(engine, "PCN1")
    payment = ClaimPayment(
        "PCN1",
        "1",
        D("190"),
        D("120"),
        D("0"),
        "12",
        "P-1",
        adjustments=(co("97", "40"),),
        services=(svc(VISIT, "120", co("45", "30")),),
    )
    post(engine, text_of(payment))
    matches = json.loads(rows(engine, billing_postings)[0]["detail"])["matches"]
    assert (matches[1]["kind"], matches[1]["services"], matches[1]["paid"]) == ("bundled", [], 0)
    assert matches[1]["notes"] == ["no service line; covered by CO-97 on the claim"]
    [denial] = rows(engine, billing_denials)
    assert (denial["line"], denial["reason_code"], denial["amount_cents"]) == (None, "97", 4000)
    assert claim_status(engine, claim_id) == "partial"


def test_a_claim_not_on_the_worklist_is_posted_unmatched(engine: Engine) -> None:
    add_claim(engine, "PCN1")
    report = post(engine, text_of(full_payment(), full_payment("NOSUCH")))
    assert (report.claims_matched, report.claims_unmatched) == (1, 1)
    assert [o.claim_id is None for o in report.outcomes] == [False, True]
    assert report.summary_lines()[5:] == [
        ("Paid", "$304.00"),
        ("Denials opened", "0"),
        ("PCN1", "CLP02 1: paid, $152.00 paid, 0 denial(s)"),
        ("NOSUCH", "CLP02 1: not on the worklist, $152.00 paid, 0 denial(s)"),
    ]
    found = report.as_json()
    assert (found["claimsMatched"], found["claimsUnmatched"], found["paidCents"]) == (1, 1, 30400)
    assert [o["claimId"] for o in found["outcomes"]] == ["claim-PCN1", None]
    [remit] = poster(engine).recent()
    assert (remit.trace_number, remit.payment_cents, remit.claim_count, remit.unmatched) == (
        "TRACE1",
        30400,
        2,
        1,
    )
    unmatched = rows(engine, billing_postings, patient_control="NOSUCH")[0]
    assert unmatched["claim_id"] is None and unmatched["patient_id"] is None
    assert rows(engine, billing_remittances)[0]["unmatched"] == 1


def test_a_payment_for_a_claim_never_sent_is_posted_unmatched(engine: Engine) -> None:
    """A held or clean claim has not left: a payer cannot be answering it (a reused control
    number, a file for another provider); the claim keeps its status."""
    add_claim(engine, "PCN1", status="held")
    report = post(engine, text_of(full_payment()))
    assert (report.claims_matched, report.claims_unmatched) == (0, 1)
    assert rows(engine, billing_claims, claim_id="claim-PCN1")[0]["status"] == "held"
    assert rows(engine, billing_postings, patient_control="PCN1")[0]["claim_id"] is None


def test_without_the_billed_lines_a_claim_posts_at_claim_level(engine: Engine) -> None:
    add_claim(engine, "PCN1")
    services = (svc(VISIT, "120", co("45", "30")), svc(DRUG, "0", co("50", "40")))
    payment = ClaimPayment("PCN1", "1", D("190"), D("120"), D("0"), "12", "P-1", services=services)
    poster(engine).post(text_of(payment), "test.835")
    detail = json.loads(rows(engine, billing_postings)[0]["detail"])
    assert detail["matches"] is None and len(detail["services"]) == 2
    assert [(d["line"], d["reason_code"]) for d in rows(engine, billing_denials)] == [(1, "50")]


def test_posting_the_same_file_twice_changes_nothing(engine: Engine) -> None:
    claim_id = add_claim(engine, "PCN1")
    text = text_of(full_payment())
    post(engine, text)
    again = post(engine, text)
    assert (again.remittances_posted, again.remittances_skipped) == (0, 1)
    assert again.skipped_traces == ("TRACE1",) and again.outcomes == ()
    assert again.summary_lines()[-1] == ("Skipped traces", "TRACE1") and not again.posted
    assert (count(engine, billing_remittances), count(engine, billing_postings)) == (1, 1)
    assert claim_status(engine, claim_id) == "paid"


def test_on_posted_gets_the_patients_and_its_failure_rolls_everything_back(
    engine: Engine,
) -> None:
    claim_id = add_claim(engine, "PCN1", patient="pat-9")
    seen: list[Sequence[str]] = []

    def failing(ids: Sequence[str]) -> None:
        seen.append(ids)
        raise RuntimeError("audit unavailable")

    with pytest.raises(RuntimeError, match="audit unavailable"):
        post(engine, text_of(full_payment()), on_posted=failing)
    assert seen == [["pat-9"]]
    assert (count(engine, billing_remittances), count(engine, billing_postings)) == (0, 0)
    assert claim_status(engine, claim_id) == "released"
    post(engine, text_of(full_payment()), on_posted=seen.append)
    assert seen[-1] == ["pat-9"] and claim_status(engine, claim_id) == "paid"


def test_the_audit_factory_runs_on_the_posting_connection(engine: Engine) -> None:
    add_claim(engine, "PCN1")
    calls: list[tuple[Any, Sequence[str]]] = []
    post(engine, text_of(full_payment()), audit=lambda conn: lambda ids: calls.append((conn, ids)))
    [(conn, ids)] = calls
    assert ids == ["pat-1"] and conn.closed


def _without(text: str, segment: str) -> str:
    """``text`` less its first ``segment`` segment, SE01 recounted."""
    parts = text.split("~")
    parts.remove(next(p for p in parts if p.startswith(segment + "*")))
    se = next(i for i, p in enumerate(parts) if p.startswith("SE*"))
    st = next(i for i, p in enumerate(parts) if p.startswith("ST*"))
    fields = parts[se].split("*")
    parts[se] = "*".join(["SE", str(se - st + 1), fields[2]])
    return "~".join(parts)


@pytest.mark.parametrize(
    ("spoil", "segment", "position", "message"),
    [
        (lambda t: t.replace("SE*", "SE*9", 1), "SE", 29, "SE01"),
        (lambda t: _without(t, "BPR"), "TRN", 4, "segment before the required BPR"),
        (lambda t: t.replace("ST*835*", "ST*837*"), "ST", 3, "not an 835"),
        (
            lambda t: t.replace("SVC*HC:J1885*40*32**2~", "SVC*HC:J1885*4O*32**2~"),
            "SVC",
            18,
            "not a number",
        ),
    ],
)
def test_a_malformed_835_names_the_segment_and_posts_nothing(
    engine: Engine, spoil: Any, segment: str, position: int, message: str
) -> None:
    add_claim(engine, "PCN1")
    good = text_of(full_payment(), full_payment("PCN2"))
    with pytest.raises(X12Error, match=message) as raised:
        post(engine, spoil(good))
    assert (raised.value.segment_id, raised.value.position) == (segment, position)
    assert (count(engine, billing_remittances), count(engine, billing_postings)) == (0, 0)


def test_every_shared_835_that_parses_posts_unmatched(engine: Engine, require_shared: Any) -> None:
    root: Path = require_shared("data", "x12")
    files = sorted(p for p in root.rglob("*") if p.is_file() and "835" in p.read_text("latin-1"))
    posted = 0
    for path in files:
        text = path.read_text("latin-1")
        try:
            expected = parse_835(text)
        except X12Error:
            continue
        before = count(engine, billing_postings)
        report = poster(engine).post(text, path.name)
        assert report.claims_matched == 0
        assert report.remittances_posted + report.remittances_skipped == len(expected)
        if not report.remittances_skipped:
            assert report.claims_unmatched == sum(len(r.claims) for r in expected)
        assert count(engine, billing_postings) - before == report.claims_unmatched
        posted += report.remittances_posted
    assert posted >= 5
    assert count(engine, billing_remittances) == posted


def test_two_posters_racing_on_one_file_post_it_once(engine: Engine) -> None:
    import threading

    claim_id = add_claim(engine, "PCN1")
    text = text_of(full_payment())
    start = threading.Barrier(2)
    reports: list[PostingReport] = []

    def run() -> None:
        start.wait()
        reports.append(post(engine, text))

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted((r.remittances_posted, r.remittances_skipped) for r in reports) == [
        (0, 1),
        (1, 0),
    ]
    assert (count(engine, billing_remittances), count(engine, billing_postings)) == (1, 1)
    assert claim_status(engine, claim_id) == "paid"
