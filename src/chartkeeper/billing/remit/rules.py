"""Which adjustments are denials, and what status a claim payment leaves the claim in.

Group codes and CARCs are the X12 code lists (CAS01, CAS02). The denial rule, documented in
docs/billing-remittance.md:

- a claim with CLP02 = 4 ("denied") is a denial of the whole claim;
- otherwise an adjustment is a denial when its group is CO, PI or OA, its amount is positive,
  and its CARC is not an ordinary write-off (`WRITE_OFF_REASONS`: the contractual reductions
  a biller expects on every claim, such as CO-45 over the fee schedule or CO-253
  sequestration). Patient responsibility (PR) is never a denial: the patient owes it, and the
  statement shows it; CR corrections are never denials either.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal
from typing import Protocol

#: CLP02 claim status codes this module acts on.
DENIED = "4"
REVERSAL = "22"

#: CARCs that are ordinary contractual write-offs, not denials, whatever their group:
#: 45 charge exceeds the fee schedule, 253 sequestration, A2 contractual adjustment,
#: 131 claim-specific negotiated discount, 59 multiple/concurrent procedure rules,
#: 23 impact of prior payers' adjudication (COB), 24 covered by capitation,
#: 144 incentive adjustment, 44 prompt-pay discount, 42 fee schedule (deactivated form of 45).
WRITE_OFF_REASONS = frozenset({"45", "253", "A2", "131", "59", "23", "24", "144", "44", "42"})
DENIAL_GROUPS = frozenset({"CO", "PI", "OA"})


class HasAdjustment(Protocol):
    """Anything with a group, a CARC and an amount (parse835 and match adjustments)."""

    @property
    def group(self) -> str: ...

    @property
    def reason(self) -> str: ...

    @property
    def amount(self) -> Decimal: ...


def is_denial(adjustment: HasAdjustment) -> bool:
    """True for a CO/PI/OA adjustment that is not an ordinary write-off."""
    return (
        adjustment.group in DENIAL_GROUPS
        and adjustment.amount > 0
        and adjustment.reason not in WRITE_OFF_REASONS
    )


def denied_amount(adjustments: Iterable[HasAdjustment]) -> Decimal:
    """The total of the denial adjustments."""
    return sum((a.amount for a in adjustments if is_denial(a)), Decimal(0))


def claim_status(
    status_code: str,
    charge: Decimal,
    paid: Decimal,
    adjustments: Iterable[HasAdjustment],
) -> str:
    """The billing_claims status a claim payment leaves: released (reversed, awaiting the
    corrected payment), denied, paid or partial.

    paid: the payment, write-offs and patient responsibility account for the whole charge,
    with no denial. denied: CLP02 = 4, or nothing paid and nothing owed by the patient.
    partial: anything else (some lines denied, or the amounts do not balance).
    """
    if status_code == REVERSAL:
        return "released"
    if status_code == DENIED:
        return "denied"
    items = list(adjustments)
    patient = sum((a.amount for a in items if a.group == "PR"), Decimal(0))
    if paid <= 0 and patient <= 0:
        return "denied"
    write_off = sum((a.amount for a in items if a.group != "PR" and not is_denial(a)), Decimal(0))
    if denied_amount(items) == 0 and paid + patient + write_off == charge:
        return "paid"
    return "partial"
