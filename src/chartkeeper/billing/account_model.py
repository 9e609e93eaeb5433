"""A patient's billing activity in plain data: what a statement is made from.

Filled from the claim worklist and the posted remittances (`chartkeeper.billing.remit`),
read by the statements (`chartkeeper.billing.statements`). Money is `Decimal` dollars.
Adjustment groups are the X12 claim adjustment group codes: CO contractual obligation
(the patient does not owe it), PR patient responsibility, OA other, PI payer initiated,
CR correction/reversal; ``reason`` is the CARC, ``remarks`` the RARCs.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date
from decimal import Decimal


@dataclass(frozen=True, slots=True)
class ChargeLine:
    """One billed service."""

    service_date: date | None
    code: str
    description: str
    charge: Decimal
    units: Decimal = Decimal(1)


@dataclass(frozen=True, slots=True)
class Adjustment:
    """One CAS adjustment: group, CARC reason, amount, RARC remarks; ``line`` is 0-based."""

    group: str
    reason: str
    amount: Decimal
    remarks: tuple[str, ...] = ()
    line: int | None = None


@dataclass(frozen=True, slots=True)
class ClaimActivity:
    """One claim and the payer's answer to it (empty while unanswered)."""

    claim_id: str
    service_from: date
    service_to: date
    provider_name: str
    payer_name: str
    lines: tuple[ChargeLine, ...]
    status: str
    insurance_paid: Decimal = Decimal(0)
    adjustments: tuple[Adjustment, ...] = ()

    @property
    def billed(self) -> Decimal:
        """The total charge of the claim."""
        return sum((line.charge for line in self.lines), Decimal(0))

    @property
    def patient_owes(self) -> Decimal:
        """What the payer assigned to the patient (group PR)."""
        return sum((a.amount for a in self.adjustments if a.group == "PR"), Decimal(0))


@dataclass(frozen=True, slots=True)
class AccountActivity:
    """Everything a statement for one patient says, as of ``statement_date``."""

    patient_id: str
    patient_name: str
    address_lines: tuple[str, ...]
    statement_date: date
    claims: tuple[ClaimActivity, ...]
    patient_payments: Decimal = Decimal(0)

    @property
    def balance(self) -> Decimal:
        """What the patient owes now: their responsibility less what they paid."""
        owed = sum((claim.patient_owes for claim in self.claims), Decimal(0))
        return owed - self.patient_payments
