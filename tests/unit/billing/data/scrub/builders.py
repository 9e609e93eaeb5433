"""Claims and a loaded registry for the scrubber tests (synthetic; HCPCS Level II codes only)."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from chartkeeper.billing.codes.loaders import open_code_file
from chartkeeper.billing.codes.registry import CodeRegistry
from chartkeeper.billing.scrub.model import ScrubClaim
from chartkeeper.billing.x12.claim_model import (
    Address,
    Claim,
    Payer,
    Person,
    Provider,
    ServiceLine,
    Subscriber,
)

HERE = Path(__file__).resolve().parent
DATA = HERE.parent
PTP = HERE / "ccipra-v322r0-f1.TXT"
MUE = HERE / "MCR_MUE_PractitionerServices_Eff_07-01-2026.csv"
POLICY = HERE / "policy_scrub_2026-01-01.csv"
HCPCS = HERE / "HCPC2026_JAN_ANWEB_scrub.txt"
FILES = {
    "icd10cm": DATA / "icd10cm-tabular-mini-2026.xml",
    "hcpcs": HCPCS,
    "mce": DATA / "mce_v43_1_mini_dx_master.tsv",
    "ptp-prac": PTP,
    "mue-prac": MUE,
    "policy": POLICY,
}
DOS = date(2026, 7, 15)
CREATED = date(2026, 8, 1)
ADDRESS = Address("12 ELM STREET", "SPRINGFIELD", "IL", "627011234")
BILLING = Provider(
    "RIVERSIDE CLINIC", "1234567893", is_organization=True, tin="123456789", address=ADDRESS
)
RENDERING = Provider("QUINN", "1245319599", first_name="HARPER")
PERSON = Person("DOE", "JANE", date(1960, 5, 1), "F", ADDRESS, "M00000001")
PAYER = Payer("ACME HEALTH PLAN", "ACME1")


def load(registry: CodeRegistry, kinds: tuple[str, ...] = tuple(FILES)) -> None:
    """Load the fixture tables, each as the version its file name implies."""
    for kind in kinds:
        found = open_code_file(kind, FILES[kind])
        assert found.version is not None and found.effective_from is not None
        start = date.fromisoformat(found.effective_from)
        registry.load(kind, found.entries, found.version, (start, None), found.source)


def line(code: str = "G0008", **changes: Any) -> ServiceLine:
    """A one-unit line on ``DOS`` pointing at the first diagnosis."""
    base = ServiceLine(code, Decimal("25.00"), Decimal(1), DOS, (), (1,))
    return replace(base, **changes)


def claim(
    *lines: ServiceLine,
    kind: str = "837P",
    created: date = CREATED,
    billing: Provider = BILLING,
    patient_key: str = "patient-1",
    **changes: Any,
) -> ScrubClaim:
    """A clean claim (E11.9, one G0008 line) with ``changes`` to the 837 claim."""
    base = Claim(
        "C1",
        Subscriber(PERSON, PAYER),
        ("E11.9",),
        lines or (line(),),
        rendering=RENDERING,
    )
    return ScrubClaim(replace(base, **changes), kind, billing, patient_key, created)  # type: ignore[arg-type]


def institutional(*lines: ServiceLine, **changes: Any) -> ScrubClaim:
    """A clean 837I claim: statement dates, attending provider, revenue codes."""
    with_revenue = tuple(replace(x, revenue_code=x.revenue_code or "0510") for x in lines)
    fields: dict[str, Any] = {
        "statement_from": DOS,
        "statement_to": DOS,
        "attending": RENDERING,
        "facility_code": "13",
    }
    fields.update(changes)
    return claim(*(with_revenue or (line(revenue_code="0510"),)), kind="837I", **fields)
