"""What one 835 claim payment (CLP, loop 2100) posts: amounts in cents, detail, denials, status.

Pure: the poster (`posting`) adds ids and times and writes the rows. Amounts are integer cents,
as in ``store.billing_schema``; a reversal (CLP02 22) posts negative amounts whatever sign the
payer wrote them with. The detail JSON keeps what the payer said (claim adjustments, every
SVC line) and, when the billed lines are known, each line's match (`match.match_claim`).
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from chartkeeper.billing.remit.match import ClaimMatch, LineAdjustment, match_claim
from chartkeeper.billing.remit.rules import DENIED, REVERSAL, claim_status, is_denial
from chartkeeper.billing.x12.claim_model import ServiceLine
from chartkeeper.billing.x12.parse835 import Adjustment, ClaimPayment, ServicePayment


@dataclass(frozen=True)
class DenialFinding:
    """One row for the denial queue: the line (None for the claim), its main reason, total."""

    line: int | None
    group: str
    reason: str
    remarks: tuple[str, ...]
    amount_cents: int


@dataclass(frozen=True)
class ClaimPosting:
    """The values of one billing_postings row (less ids and times), its denials and status."""

    charge_cents: int
    paid_cents: int
    patient_cents: int
    adjusted_cents: int
    detail: dict[str, Any]
    denials: tuple[DenialFinding, ...]
    status: str


def cents(amount: Decimal) -> int:
    """Dollars as integer cents, rounded half up."""
    return int((amount * 100).to_integral_value(ROUND_HALF_UP))


def post_claim(payment: ClaimPayment, billed: Sequence[ServiceLine] | None) -> ClaimPosting:
    """The posting of ``payment``; ``billed`` (the claim's lines) enables line matching."""
    reversal = payment.status == REVERSAL  # takes back a whole posting: nothing to match
    matched = match_claim(payment, billed) if billed and not reversal else None
    every = [*payment.adjustments, *(a for s in payment.services for a in s.adjustments)]
    sign = -1 if reversal else 1
    detail: dict[str, Any] = {
        "claim_adjustments": [_adjustment(a) for a in payment.adjustments],
        "services": [_service(s) for s in payment.services],
        "matches": _matches(matched) if matched else None,
        "unmatched_services": list(matched.unmatched_services) if matched else [],
    }
    status = claim_status(payment.status, payment.charge, payment.paid, every)
    detail["status"] = status
    return ClaimPosting(
        sign * abs(cents(payment.charge)),
        sign * abs(cents(payment.paid)),
        sign * abs(cents(payment.patient_responsibility)),
        sign * abs(sum((cents(a.amount) for a in every), 0)),
        detail,
        tuple(_denials(payment, matched)),
        status,
    )


def _adjustment(item: Adjustment | LineAdjustment) -> dict[str, Any]:
    out: dict[str, Any] = {"group": item.group, "reason": item.reason, "amount": cents(item.amount)}
    if isinstance(item, LineAdjustment) and item.remarks:
        out["remarks"] = list(item.remarks)
    return out


def _service(service: ServicePayment) -> dict[str, Any]:
    return {
        "procedure": list(service.procedure),
        "charge": cents(service.charge),
        "paid": cents(service.paid),
        "units": str(service.units) if service.units is not None else None,
        "date": service.service_date.isoformat() if service.service_date else None,
        "adjustments": [_adjustment(a) for a in service.adjustments],
        "remarks": list(service.remarks),
    }


def _matches(matched: ClaimMatch) -> list[dict[str, Any]]:
    return [
        {
            "line": m.line,
            "kind": m.kind,
            "services": list(m.services),
            "charge": cents(m.charge),
            "paid": cents(m.paid),
            "allowed": cents(m.allowed),
            "adjustments": [_adjustment(a) for a in m.adjustments],
            "notes": list(m.notes),
        }
        for m in matched.lines
    ]


def _denials(payment: ClaimPayment, matched: ClaimMatch | None) -> Iterable[DenialFinding]:
    """Denied claim: one finding for the claim. Otherwise one per line (the billed line when
    matched, else the SVC line) and one for the claim-level CAS, each with denial amounts."""
    if payment.status == REVERSAL:
        return
    if payment.status == DENIED:
        amount = payment.charge - payment.paid - payment.patient_responsibility
        every = [*payment.adjustments, *(a for s in payment.services for a in s.adjustments)]
        remarks = tuple(dict.fromkeys(r for s in payment.services for r in s.remarks))
        yield _finding(None, every, remarks, amount, only_denials=False)
        return
    claim_level = [a for a in payment.adjustments if is_denial(a)]
    if claim_level:
        yield _finding(None, claim_level, (), None)
    if matched is not None:
        for line in matched.lines:
            denied = [a for a in line.adjustments if is_denial(a)]
            if denied:
                remarks = tuple(dict.fromkeys(r for a in denied for r in a.remarks))
                yield _finding(line.line, denied, remarks, None)
        indexes: Iterable[int] = matched.unmatched_services
    else:
        indexes = range(len(payment.services))
    for index in indexes:
        service = payment.services[index]
        found = [a for a in service.adjustments if is_denial(a)]
        if found:  # an SVC that answers no billed line is reported on the claim
            where = None if matched is not None else index
            yield _finding(where, found, service.remarks, None)


def _finding(
    line: int | None,
    adjustments: Sequence[Adjustment | LineAdjustment],
    remarks: tuple[str, ...],
    amount: Decimal | None,
    *,
    only_denials: bool = True,
) -> DenialFinding:
    """The main reason is the largest adjustment (PR excluded for a denied claim)."""
    candidates = [a for a in adjustments if a.group != "PR" or only_denials]
    main = max(candidates, key=lambda a: a.amount, default=None)
    total = amount if amount is not None else sum((a.amount for a in adjustments), Decimal(0))
    group, reason = (main.group, main.reason) if main is not None else ("CO", "")
    return DenialFinding(line, group, reason, remarks, cents(total))
