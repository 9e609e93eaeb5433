"""835 remittance: payments, claims, adjustments, remarks and PLB from the TR3 examples."""

from __future__ import annotations

from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chartkeeper.billing.x12.parse835 import (
    Adjustment,
    ClaimPayment,
    ProviderAdjustment,
    ServicePayment,
    parse_835,
)
from chartkeeper.billing.x12.segments import X12Error
from tests.conftest import SHARED_DIR, require_shared

X12_DIR = SHARED_DIR / "data" / "x12"
PASS_835 = X12_DIR / "stupidedi-005010" / "X221A1 HP835 Health Care Claim Payment Advice" / "pass"

SMALL_835 = (
    "ISA*00*          *00*          *ZZ*PAYER          *ZZ*CLINIC         *261127*0930*^*00501"
    "*000000007*0*T*:~GS*HP*PAYER*CLINIC*20261127*0930*7*X*005010X221A1~"
    "ST*835*0001*005010X221A1~BPR*I*95*C*ACH*CCP*01*111*DA*222*1234567890**01*333*DA*444*20261130~"
    "TRN*1*EFT0001*1234567890~N1*PR*ACME HEALTH PLAN~N1*PE*RIVERSIDE CLINIC*XX*1234567893~"
    "LX*1~CLP*CLM0001*1*125.5*100*20*12*PAYERCLM1~NM1*QC*1*DOE*JANE~"
    "SVC*HC:G0463:25*125.5*100**1~DTM*472*20261102~CAS*CO*45*5.5~CAS*PR*1*15*1*2*5~LQ*HE*N130~"
    "PLB*1234567893*20261231*WO:REF9*5~SE*15*0001~GE*1*7~IEA*1*000000007~"
)


def test_a_remittance_reads_payment_claim_service_adjustments_remarks_and_plb() -> None:
    [remit] = parse_835(SMALL_835)
    assert (remit.handling_code, remit.amount, remit.payment_method) == ("I", Decimal(95), "ACH")
    assert (remit.payment_date, remit.trace_number) == (date(2026, 11, 30), "EFT0001")
    assert (remit.payer_name, remit.payee_name, remit.payee_id) == (
        "ACME HEALTH PLAN",
        "RIVERSIDE CLINIC",
        "1234567893",
    )
    service = ServicePayment(
        ("HC", "G0463", "25"),
        Decimal("125.5"),
        Decimal(100),
        units=Decimal(1),
        service_date=date(2026, 11, 2),
        adjustments=(
            Adjustment("CO", "45", Decimal("5.5")),
            Adjustment("PR", "1", Decimal(15), Decimal(1)),
            Adjustment("PR", "2", Decimal(5)),
        ),
        remarks=("N130",),
    )
    claim = ClaimPayment(
        "CLM0001",
        "1",
        Decimal("125.5"),
        Decimal(100),
        Decimal(20),
        "12",
        "PAYERCLM1",
        services=(service,),
    )
    assert remit.claims == (claim,)
    assert remit.provider_adjustments == (
        ProviderAdjustment("1234567893", date(2026, 12, 31), "WO", "REF9", Decimal(5)),
    )
    assert remit.is_balanced


def test_an_unbalanced_remittance_is_flagged() -> None:
    [remit] = parse_835(SMALL_835.replace("BPR*I*95*", "BPR*I*96*"))
    assert not remit.is_balanced


@pytest.mark.parametrize(
    ("text", "segment_id", "position"),
    [
        (SMALL_835.replace("SE*15*", "SE*14*"), "SE", 17),
        (
            SMALL_835.replace("LX*1~CLP*CLM0001*1*125.5*100*20*12*PAYERCLM1~", "").replace(
                "SE*15*", "SE*13*"
            ),
            "SVC",
            9,
        ),
        (SMALL_835.replace("CLP*CLM0001*1*125.5*", "CLP*CLM0001*1*1X5*"), "CLP", 9),
        (SMALL_835.replace("DTM*472*20261102", "DTM*472*20261332"), "DTM", 12),
    ],
)
def test_malformed_835_names_the_segment_and_position(
    text: str, segment_id: str, position: int
) -> None:
    with pytest.raises(X12Error) as caught:
        parse_835(text)
    assert (caught.value.segment_id, caught.value.position) == (segment_id, position)


def _examples() -> list[Path]:
    return sorted(PASS_835.glob("*.edi")) if PASS_835.exists() else []


@pytest.mark.parametrize("path", _examples(), ids=lambda p: p.name)
def test_every_tr3_example_835_parses_and_balances(path: Path) -> None:
    remits = parse_835(path.read_text())
    assert remits and all(r.claims and r.is_balanced for r in remits)


def test_the_tr3_examples_are_all_there() -> None:
    require_shared("data", "x12")
    assert len(_examples()) == 7


def test_dollars_and_data_together_carries_a_plb_interest_adjustment() -> None:
    require_shared("data", "x12")
    [remit] = parse_835((PASS_835 / "dollars-and-data-sent-together.edi").read_text())
    assert remit.amount == Decimal(150000)
    assert [c.claim_id for c in remit.claims] == ["666123", "777777"]
    assert remit.claims[0].adjustments == (Adjustment("CO", "45", Decimal("73348.57")),)
    assert remit.provider_adjustments == (
        ProviderAdjustment("6543210903", date(2002, 12, 31), "CV", "CP", Decimal("-1.27")),
    )


def test_pyx12_multiple_loops_835_keeps_remarks_per_service() -> None:
    path = require_shared("data", "x12", "pyx12", "835_mult_loops.txt")
    [remit] = parse_835(path.read_text())
    [claim] = remit.claims
    assert (claim.claim_id, claim.status, claim.charge) == ("2005555A", "4", Decimal("915.39"))
    assert [s.remarks for s in claim.services] == [("N14",)] * 3
    assert [s.adjustments[0].group for s in claim.services] == ["CO", "OA", "OA"]


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_damaged_835_either_reads_or_raises_x12_error(data: st.DataObject) -> None:
    start = data.draw(st.integers(0, len(SMALL_835) - 1))
    end = data.draw(st.integers(start, min(len(SMALL_835), start + 8)))
    junk = data.draw(st.text("*~:^ABC019\n", max_size=4))
    try:
        parse_835(SMALL_835[:start] + junk + SMALL_835[end:])
    except X12Error as error:
        assert error.position >= 1 and error.segment_id
