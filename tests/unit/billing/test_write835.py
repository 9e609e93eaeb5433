"""The 835 writer: pyx12 finds nothing wrong, and parse_835 reads back the same remittance."""

from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chartkeeper.billing.x12.envelope import Envelope, SequentialControlNumbers
from chartkeeper.billing.x12.parse835 import (
    Adjustment,
    ClaimPayment,
    ProviderAdjustment,
    Remittance,
    ServicePayment,
    parse_835,
)
from chartkeeper.billing.x12.scrub import scrub
from chartkeeper.billing.x12.segments import X12Error, read_segments
from chartkeeper.billing.x12.write835 import PatientDetails, write_835
from chartkeeper.core.errors import InvalidError

ENVELOPE = Envelope("SIMPAYER", "SIMCLINIC", datetime(2026, 3, 10, 9, 30))
D = Decimal


def sample() -> Remittance:
    paid = ServicePayment(
        ("HC", "G0463", "25"),
        D("150"),
        D("70"),
        units=D("1"),
        service_date=date(2026, 3, 2),
        adjustments=(
            Adjustment("CO", "45", D("30")),
            Adjustment("PR", "1", D("20")),
            Adjustment("PR", "2", D("30")),
        ),
        remarks=("N130", "M15"),
    )
    drug = ServicePayment(
        ("HC", "J1885"),
        D("40.50"),
        D("32.40"),
        units=D("2"),
        service_date=date(2026, 3, 2),
        adjustments=(Adjustment("CO", "45", D("8.10"), D("1")),),
    )
    claims = (
        ClaimPayment(
            "PCN-1", "1", D("190.50"), D("102.40"), D("50"), "12", "PAY001", services=(paid, drug)
        ),
        ClaimPayment(
            "PCN-2",
            "4",
            D("80"),
            D("0"),
            D("0"),
            "MB",
            "PAY002",
            adjustments=(Adjustment("CO", "50", D("80")),),
        ),
        ClaimPayment(
            "PCN-3",
            "22",
            D("-40"),
            D("-32"),
            D("0"),
            "12",
            "PAY003",
            adjustments=(Adjustment("CO", "45", D("-8")),),
        ),
    )
    plb = (
        ProviderAdjustment("1234567893", date(2026, 12, 31), "L6", "", D("1.25")),
        ProviderAdjustment("1234567893", date(2026, 12, 31), "WO", "OVERPAY1", D("5")),
    )
    return Remittance(
        "C",
        D("64.15"),
        "ACH",
        date(2026, 3, 10),
        "TRACE0001",
        "SIMULATED HEALTH PLAN",
        "SIMPAYER01",
        "SIMULATED CLINIC",
        "1234567893",
        claims=claims,
        provider_adjustments=plb,
    )


def test_a_written_835_validates_with_no_pyx12_findings_and_reads_back_the_same() -> None:
    remittance = sample()
    patients = {"PCN-1": PatientDetails("DOE", "JANE", "MEM1", date(2026, 3, 2), date(2026, 3, 2))}
    text = write_835(
        [remittance, remittance], SequentialControlNumbers(), ENVELOPE, patients=patients
    )
    assert scrub(text) == []
    assert parse_835(text) == [remittance, remittance]
    assert remittance.is_balanced


def test_segments_are_written_in_tr3_order_with_the_loops_the_guide_names() -> None:
    text = write_835([sample()], SequentialControlNumbers(), ENVELOPE)
    _, segments = read_segments(text)
    ids = [s.id for s in segments]
    assert ids[:10] == ["ISA", "GS", "ST", "BPR", "TRN", "DTM", "N1", "N3", "N4", "PER"]
    first_claim = ids.index("CLP")
    assert ids[ids.index("N1", 7) : first_claim] == ["N1", "LX"]
    assert ids[first_claim : first_claim + 8] == [
        "CLP",
        "NM1",
        "SVC",
        "DTM",
        "CAS",
        "CAS",
        "LQ",
        "LQ",
    ]
    cas = [s for s in segments if s.id == "CAS"]
    assert cas[1].elements == ("PR", "1", "20", "", "2", "30")
    assert [s.elements for s in segments if s.id == "PLB"] == [
        ("1234567893", "20261231", "L6", "1.25", "WO:OVERPAY1", "5")
    ]
    se = next(s for s in segments if s.id == "SE")
    assert se.get(1) == str(ids.index("SE") - ids.index("ST") + 1)


def test_a_check_payment_has_no_bank_elements() -> None:
    remittance = Remittance(
        "C",
        D("10"),
        "CHK",
        date(2026, 1, 5),
        "CHK100",
        "P",
        "",
        "C",
        "1234567893",
        claims=(ClaimPayment("X1", "1", D("10"), D("10"), D("0"), "12", "R1"),),
    )
    text = write_835([remittance], SequentialControlNumbers(), ENVELOPE)
    assert "BPR*C*10*C*CHK************20260105~" in text
    assert scrub(text) == []
    assert parse_835(text) == [remittance]


def test_an_835_without_the_payee_identifier_is_refused() -> None:
    remittance = Remittance("I", D("0"), "NON", None, "T", "P", "", "C", "")
    with pytest.raises(InvalidError, match="payee"):
        write_835([remittance], SequentialControlNumbers(), ENVELOPE)


def test_control_numbers_come_from_the_caller_and_advance() -> None:
    control = SequentialControlNumbers(interchange=41, group=7, transaction=99)
    text = write_835([sample(), sample()], control, ENVELOPE)
    _, segments = read_segments(text)
    assert segments[0].get(13) == "000000042"
    assert [s.get(2) for s in segments if s.id == "ST"] == ["0100", "0101"]
    assert segments[1].get(6) == "8"


# -- property: anything the model can say round-trips ------------------------------------------

money = st.decimals(min_value=-9999, max_value=99999, places=2, allow_nan=False)
reason = st.sampled_from(["45", "1", "2", "3", "50", "97", "253", "A2", "B7"])
group = st.sampled_from(["CO", "PR", "OA", "PI", "CR"])


@st.composite
def adjustments(draw: st.DrawFn) -> tuple[Adjustment, ...]:
    items = draw(st.lists(st.tuples(group, reason, money), max_size=8))
    by_group: dict[str, list[Adjustment]] = {}
    for g, r, amount in items:  # the writer emits one CAS per group: list them grouped
        by_group.setdefault(g, []).append(Adjustment(g, r, amount))
    return tuple(a for found in by_group.values() for a in found)


services = st.builds(
    ServicePayment,
    procedure=st.tuples(st.just("HC"), st.sampled_from(["G0463", "J1885", "A0428", "E0114"])),
    charge=money,
    paid=money,
    revenue_code=st.sampled_from(["", "0450", "0636"]),
    units=st.one_of(st.none(), st.integers(1, 20).map(Decimal)),
    service_date=st.one_of(st.none(), st.dates(date(2020, 1, 1), date(2030, 12, 31))),
    adjustments=adjustments(),
    remarks=st.lists(st.sampled_from(["N130", "M15", "MA01", "N115"]), max_size=3).map(tuple),
)
claims = st.builds(
    ClaimPayment,
    claim_id=st.from_regex(r"[A-Z0-9]{1,20}", fullmatch=True),
    status=st.sampled_from(["1", "2", "3", "4", "19", "22"]),
    charge=money,
    paid=money,
    patient_responsibility=money,
    filing_indicator=st.sampled_from(["12", "MB", "MC", "12"]),
    payer_claim_id=st.from_regex(r"[A-Z0-9]{1,30}", fullmatch=True),
    adjustments=adjustments(),
    services=st.lists(services, max_size=4).map(tuple),
)


@settings(max_examples=60, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(st.lists(claims, max_size=5), money, st.sampled_from(["CHK", "ACH", "NON"]))
def test_any_remittance_round_trips(
    found: list[ClaimPayment], amount: Decimal, method: str
) -> None:
    remittance = Remittance(
        "C",
        amount,
        method,
        date(2026, 2, 1),
        "TRACE",
        "PAYER",
        "PID",
        "CLINIC",
        "1234567893",
        claims=tuple(found),
    )
    text = write_835([remittance], SequentialControlNumbers(), ENVELOPE)
    assert parse_835(text) == [remittance]


def test_every_shared_835_rewritten_validates_and_reads_back_the_same(require_shared: Any) -> None:
    root: Path = require_shared("data", "x12")
    rewritten = 0
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        text = path.read_text("latin-1")
        try:
            found = parse_835(text)
        except X12Error:
            continue  # prose, an 837, or another transaction set
        again = write_835(found, SequentialControlNumbers(), ENVELOPE)
        assert scrub(again) == [], path.name
        assert parse_835(again) == found, path.name
        rewritten += 1
    assert rewritten >= 8
