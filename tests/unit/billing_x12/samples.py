"""Synthetic claim batches shared by the X12 tests and the benchmark."""

from __future__ import annotations

from dataclasses import replace
from datetime import date, datetime
from decimal import Decimal

from chartkeeper.billing.x12.claim_model import (
    Address,
    Claim,
    ClaimBatch,
    ClaimKind,
    Contact,
    Payer,
    Person,
    Provider,
    ServiceLine,
    Subscriber,
)
from chartkeeper.billing.x12.envelope import Envelope

HOME = Address("12 ELM STREET", "SPRINGFIELD", "IL", "627011234")
BILLING = Provider(
    "RIVERSIDE CLINIC",
    "1234567893",
    is_organization=True,
    taxonomy="207Q00000X",
    tin="123456789",
    address=Address("400 RIVER ROAD", "SPRINGFIELD", "IL", "627041111", line2="SUITE 2"),
)
RENDERING = Provider("QUINN", "1245319599", first_name="HARPER", taxonomy="207Q00000X")
REFERRING = Provider("MORGAN", "1679576722", first_name="ALEX")
SUBSCRIBER = Subscriber(
    Person("DOE", "JANE", date(1980, 4, 12), "F", HOME, member_id="XYZ123456", middle_name="Q"),
    Payer("ACME HEALTH PLAN", "ACME1"),
    group_number="GRP100",
)
CHILD = Person("DOE", "SAM", date(2015, 6, 1), "M", HOME)
ENVELOPE = Envelope("SUBMITTER01", "RECEIVER01", datetime(2026, 11, 27, 9, 30))


def line(code: str = "G0463", charge: str = "125.50", **kw: object) -> ServiceLine:
    """A service line on 2026-11-02."""
    return ServiceLine(code, Decimal(charge), Decimal(1), date(2026, 11, 2), **kw)  # type: ignore[arg-type]


def claim(claim_id: str = "CLM0001", **kw: object) -> Claim:
    """A one-line office visit of the subscriber."""
    fields: dict[str, object] = {
        "subscriber": SUBSCRIBER,
        "diagnoses": ("E11.9",),
        "lines": (line(),),
        "rendering": RENDERING,
    }
    fields.update(kw)
    return Claim(claim_id, **fields)  # type: ignore[arg-type]


def batch(*claims: Claim, kind: ClaimKind = "837P") -> ClaimBatch:
    """A batch from the clinic to the clearing house."""
    return ClaimBatch(
        kind,
        Contact("RIVERSIDE BILLING", "SUB01", contact_name="PAT BILLER", phone="2175550100"),
        Contact("CLEARING HOUSE", "REC01"),
        BILLING,
        claims or (claim(),),
        created=date(2026, 11, 27),
    )


def institutional_claim(claim_id: str = "INST0001") -> Claim:
    """An outpatient hospital claim with revenue codes and an attending provider."""
    lines = (
        line("85025", "13.39", revenue_code="0305"),
        line("93005", "76.54", revenue_code="0730", modifiers=("26",)),
    )
    return replace(
        claim(claim_id, lines=lines, diagnoses=("I10", "R07.9")),
        facility_code="13",
        attending=RENDERING,
        rendering=None,
    )
