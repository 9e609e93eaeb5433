"""A simulated payer: adjudicate billed claims into 835 claim payments (demo and benchmark).

Not a pricing engine: an allowed amount of a fixed share of the charge, a deductible on the
first line, coinsurance on the rest, and a CO-50 (not medically necessary) denial, so that
posting sees the ordinary outcomes: paid, partial (a line denied) and denied.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from decimal import ROUND_HALF_UP, Decimal

from chartkeeper.billing.x12.claim_model import ServiceLine
from chartkeeper.billing.x12.parse835 import Adjustment, ClaimPayment, Remittance, ServicePayment
from chartkeeper.core.errors import InvalidError

OUTCOMES = ("paid", "partial", "denied")
#: Share of the charge the simulated payer allows.
ALLOWED_SHARE = Decimal("0.80")
DEDUCTIBLE = Decimal("10.00")
COINSURANCE = Decimal("0.20")
_CENT = Decimal("0.01")


def adjudicate(
    control_number: str, lines: Sequence[ServiceLine], outcome: str, payer_claim_id: str
) -> ClaimPayment:
    """The payer's answer to one claim: ``outcome`` is paid, partial (last line denied CO-50)
    or denied (CLP02 4, every line CO-50)."""
    if outcome not in OUTCOMES:
        raise InvalidError(f"outcome must be one of {OUTCOMES}")
    services = tuple(
        _deny(line) if _is_denied(outcome, index, len(lines)) else _pay(line, index == 0)
        for index, line in enumerate(lines)
    )
    charge = sum((line.charge for line in lines), Decimal(0))
    paid = sum((s.paid for s in services), Decimal(0))
    patient = sum(
        (a.amount for s in services for a in s.adjustments if a.group == "PR"), Decimal(0)
    )
    status = "4" if outcome == "denied" else "1"
    return ClaimPayment(
        control_number, status, charge, paid, patient, "12", payer_claim_id, services=services
    )


def remittance(
    payments: Sequence[ClaimPayment],
    trace_number: str,
    payment_date: date,
    payer: tuple[str, str] = ("SIMULATED HEALTH PLAN", "SIMPAYER01"),
    payee: tuple[str, str] = ("SIMULATED CLINIC", "1234567893"),
) -> Remittance:
    """One check (CHK) paying ``payments``; payer and payee are (name, id)."""
    amount = sum((p.paid for p in payments), Decimal(0))
    return Remittance(
        "C" if amount else "I",
        amount,
        "CHK" if amount else "NON",
        payment_date,
        trace_number,
        payer[0],
        payer[1],
        payee[0],
        payee[1],
        claims=tuple(payments),
    )


def _is_denied(outcome: str, index: int, count: int) -> bool:
    return outcome == "denied" or (outcome == "partial" and index == count - 1 and count > 1)


def _procedure(line: ServiceLine) -> tuple[str, ...]:
    """SVC01: the HCPCS code, or for a line billed by revenue code alone (room and board) the
    NUBC revenue code (qualifier NU)."""
    if not line.procedure_code:
        return ("NU", line.revenue_code)
    return ("HC", line.procedure_code, *line.modifiers)


def _pay(line: ServiceLine, first: bool) -> ServicePayment:
    allowed = (line.charge * ALLOWED_SHARE).quantize(_CENT, ROUND_HALF_UP)
    deductible = min(DEDUCTIBLE, allowed) if first else Decimal(0)
    coinsurance = ((allowed - deductible) * COINSURANCE).quantize(_CENT, ROUND_HALF_UP)
    adjustments = [Adjustment("CO", "45", line.charge - allowed)]
    if deductible:
        adjustments.append(Adjustment("PR", "1", deductible))
    if coinsurance:
        adjustments.append(Adjustment("PR", "2", coinsurance))
    paid = allowed - deductible - coinsurance
    return ServicePayment(
        _procedure(line),
        line.charge,
        paid,
        units=line.units,
        service_date=line.service_date,
        adjustments=tuple(a for a in adjustments if a.amount),
    )


def _deny(line: ServiceLine) -> ServicePayment:
    return ServicePayment(
        _procedure(line),
        line.charge,
        Decimal(0),
        units=line.units,
        service_date=line.service_date,
        adjustments=(Adjustment("CO", "50", line.charge),),
        remarks=("N115",),
    )
