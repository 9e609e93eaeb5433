"""Matching the payer's SVC lines to the billed lines, and the denial and status rules."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chartkeeper.billing.remit.match import code_of, match_claim
from chartkeeper.billing.remit.rules import claim_status, is_denial
from chartkeeper.billing.remit.simulate import adjudicate
from chartkeeper.billing.x12.claim_model import ServiceLine
from chartkeeper.billing.x12.parse835 import Adjustment, ClaimPayment, ServicePayment
from chartkeeper.core.errors import InvalidError

D = Decimal
DAY = date(2026, 3, 2)
NEXT = date(2026, 3, 3)


def line(
    code: str, charge: str, units: str = "1", day: date | None = DAY, *mods: str
) -> ServiceLine:
    return ServiceLine(code, D(charge), D(units), day, tuple(mods))


def svc(
    code: str,
    charge: str,
    paid: str,
    *mods: str,
    units: str | None = "1",
    day: date | None = DAY,
    adjustments: tuple[Adjustment, ...] = (),
) -> ServicePayment:
    return ServicePayment(
        ("HC", code, *mods),
        D(charge),
        D(paid),
        units=D(units) if units else None,
        service_date=day,
        adjustments=adjustments,
    )


def claim(*services: ServicePayment, adjustments: tuple[Adjustment, ...] = ()) -> ClaimPayment:
    charge = sum((s.charge for s in services), D(0))
    paid = sum((s.paid for s in services), D(0))
    return ClaimPayment("PCN", "1", charge, paid, D(0), "12", "P", adjustments, services)


def kinds(payment: ClaimPayment, billed: list[ServiceLine]) -> list[tuple[str, tuple[int, ...]]]:
    return [(m.kind, m.services) for m in match_claim(payment, billed).lines]


def test_identical_lines_each_take_their_own_service_line_in_order() -> None:
    billed = [line("J1885", "20"), line("J1885", "20"), line("G0463", "150")]
    payment = claim(svc("G0463", "150", "120"), svc("J1885", "20", "16"), svc("J1885", "20", "0"))
    assert kinds(payment, billed) == [("exact", (1,)), ("exact", (2,)), ("exact", (0,))]


def test_the_service_date_tells_apart_the_same_code_on_two_days() -> None:
    billed = [line("G0463", "150", day=DAY), line("G0463", "150", "1", NEXT)]
    payment = claim(svc("G0463", "150", "100", day=NEXT), svc("G0463", "150", "90", day=DAY))
    assert kinds(payment, billed) == [("exact", (1,)), ("exact", (0,))]


def test_a_service_line_without_a_date_matches_on_the_claim_dates() -> None:
    billed = [line("G0463", "150")]
    assert kinds(claim(svc("G0463", "150", "100", day=None)), billed) == [("exact", (0,))]


def test_modifiers_dropped_added_or_changed_are_noted() -> None:
    billed = [
        line("G0463", "150", "1", DAY, "25"),
        line("J1885", "40"),
        line("A0428", "300", "1", DAY, "RH"),
    ]
    payment = claim(
        svc("G0463", "150", "1"), svc("J1885", "40", "1", "JW"), svc("A0428", "300", "1", "HR")
    )
    notes = [m.notes for m in match_claim(payment, billed).lines]
    assert notes == [
        ("modifier dropped: 25",),
        ("modifier added: JW",),
        ("modifier changed: RH to HR",),
    ]


def test_a_split_needs_the_charges_and_units_to_add_up() -> None:
    billed = [line("J1885", "80", "4")]
    split = claim(svc("J1885", "40", "30", units="2"), svc("J1885", "40", "20", units="2"))
    [found] = match_claim(split, billed).lines
    assert (found.kind, found.services, found.paid, found.notes) == (
        "split",
        (0, 1),
        D("50"),
        ("paid as 2 service lines",),
    )
    wrong_units = claim(svc("J1885", "40", "30", units="1"), svc("J1885", "40", "20", units="1"))
    not_split = match_claim(wrong_units, billed)  # units disagree: no split, a repriced line
    assert [(m.kind, m.services) for m in not_split.lines] == [("charge_changed", (0,))]
    assert not_split.unmatched_services == (1,)


def test_a_recoded_line_matches_on_charge_and_a_repriced_one_on_code() -> None:
    billed = [line("G0463", "150"), line("J1885", "40")]
    payment = claim(svc("G0466", "150", "100"), svc("J1885", "35", "30"))
    found = match_claim(payment, billed).lines
    assert [(m.kind, m.notes) for m in found] == [
        ("code_changed", ("code changed: G0463 to G0466",)),
        ("charge_changed", ("charge differs from the billed line",)),
    ]


def test_a_line_with_no_service_line_is_bundled_and_names_what_covers_it() -> None:
    billed = [line("G0463", "150"), line("J1885", "40")]
    on_line = claim(svc("G0463", "190", "120", adjustments=(Adjustment("CO", "97", D("40")),)))
    assert match_claim(on_line, billed).lines[1].notes == (
        "no service line; covered by CAS 97 on service line 1",
    )
    absent = claim(svc("G0463", "150", "120"))
    assert match_claim(absent, billed).lines[1].notes == ("no service line reported by the payer",)


def test_allowed_is_paid_plus_patient_responsibility_and_remarks_follow_the_line() -> None:
    adjustments = (Adjustment("CO", "45", D("30")), Adjustment("PR", "2", D("24")))
    service = ServicePayment(
        ("HC", "G0463"), D("150"), D("96"), adjustments=adjustments, remarks=("N130",)
    )
    [found] = match_claim(claim(service), [line("G0463", "150", day=None)]).lines
    assert (found.paid, found.allowed) == (D("96"), D("120"))
    assert [a.remarks for a in found.adjustments] == [("N130",), ("N130",)]


def test_an_institutional_revenue_code_line_matches_on_its_revenue_code() -> None:
    billed = [ServiceLine("", D("500"), D("1"), DAY, revenue_code="0450")]
    service = ServicePayment(
        ("NU", "0450"), D("500"), D("400"), revenue_code="0450", service_date=DAY
    )
    assert code_of(service) == ("", ())
    assert kinds(claim(service), billed) == [("exact", (0,))]


@pytest.mark.parametrize(
    ("group", "reason", "amount", "denial"),
    [
        ("CO", "45", "30", False),
        ("CO", "253", "2", False),
        ("PR", "1", "20", False),
        ("PR", "96", "20", False),
        ("CO", "50", "40", True),
        ("PI", "16", "40", True),
        ("OA", "18", "40", True),
        ("CO", "97", "40", True),
        ("CO", "50", "-40", False),
        ("CR", "50", "40", False),
    ],
)
def test_the_denial_rule(group: str, reason: str, amount: str, denial: bool) -> None:
    assert is_denial(Adjustment(group, reason, D(amount))) is denial


@pytest.mark.parametrize(
    ("code", "paid", "adjustments", "status"),
    [
        ("1", "120", [("CO", "45", "30")], "paid"),
        ("1", "0", [("CO", "45", "30"), ("PR", "1", "120")], "paid"),
        ("1", "100", [("CO", "45", "30"), ("PR", "2", "20")], "paid"),
        ("1", "100", [("CO", "45", "20")], "partial"),
        ("1", "60", [("CO", "45", "30"), ("CO", "50", "60")], "partial"),
        ("1", "0", [("CO", "50", "150")], "denied"),
        ("4", "0", [("CO", "45", "150")], "denied"),
        ("22", "-120", [("CO", "45", "-30")], "released"),
    ],
)
def test_the_claim_status_rule(
    code: str, paid: str, adjustments: list[tuple[str, str, str]], status: str
) -> None:
    found = [Adjustment(g, r, D(a)) for g, r, a in adjustments]
    assert claim_status(code, D("150"), D(paid), found) == status


def test_the_simulated_payer_balances_every_outcome() -> None:
    billed = [line("G0463", "150"), line("J1885", "42.50", "2")]
    for outcome, expected in (("paid", "paid"), ("partial", "partial"), ("denied", "denied")):
        payment = adjudicate("PCN", billed, outcome, "P1")
        adjusted = sum((a.amount for s in payment.services for a in s.adjustments), D(0))
        assert payment.charge - payment.paid == adjusted
        every = [a for s in payment.services for a in s.adjustments]
        assert claim_status(payment.status, payment.charge, payment.paid, every) == expected
    with pytest.raises(InvalidError):
        adjudicate("PCN", billed, "lost", "P1")


# -- property: every billed line gets one answer, every SVC answers at most one line ------------


codes = st.sampled_from(["G0463", "J1885", "A0428"])
charges = st.sampled_from(["20", "40", "150"])
days = st.sampled_from([DAY, NEXT, None])
billed_lines = st.builds(
    lambda c, ch, u, d, m: ServiceLine(c, D(ch), D(u), d, m),
    codes,
    charges,
    st.sampled_from(["1", "2"]),
    days,
    st.sampled_from([(), ("25",), ("59",)]),
)
service_lines = st.builds(
    lambda c, ch, u, d, m: svc(c, ch, "0", *m, units=u, day=d),
    codes,
    charges,
    st.sampled_from(["1", "2", None]),
    days,
    st.sampled_from([(), ("25",), ("59",)]),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(billed_lines, max_size=6), st.lists(service_lines, max_size=6))
def test_every_billed_line_gets_one_answer_and_no_service_line_is_used_twice(
    billed: list[ServiceLine], services: list[ServicePayment]
) -> None:
    found = match_claim(claim(*services), billed)
    assert [m.line for m in found.lines] == list(range(len(billed)))
    used = [i for m in found.lines for i in m.services] + list(found.unmatched_services)
    assert sorted(used) == list(range(len(services)))
    for m in found.lines:
        assert (m.kind == "bundled") == (m.services == ())
        if m.kind == "split":
            assert sum(services[i].charge for i in m.services) == billed[m.line].charge
