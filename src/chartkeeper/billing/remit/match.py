"""Match the service lines a payer reports (835 SVC, loop 2110) to the lines that were billed.

Payers answer line by line, but not always line for line: they drop or change modifiers,
recode a procedure, split one billed line into several (units paid at different rates) and
bundle a line into another (TR3 005010X221A1 section 1.10.2.6). The passes below go from the
most to the least certain; each pairs what is still unpaired:

1. ``exact``: code, modifiers, service date and charge all agree.
2. ``split``: several SVCs with the line's code and date whose charges (and units, when both
   sides give them) add up to the line.
3. ``modifier_changed``: code, date and charge agree, the modifiers do not
   (note "modifier dropped" / "modifier added" / "modifier changed").
4. ``charge_changed``: code and date agree, the charge does not.
5. ``code_changed``: date and charge agree, the code does not (the 835 parser does not expose
   SVC06, the original code, so the charge and the order of the lines decide).
6. ``bundled``: a billed line no SVC answers; the note says whether a CAS reason 97 (paid as
   part of another service) on the claim covers it.

A service date missing on either side agrees with any date (claim-level dates).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal

from chartkeeper.billing.x12.claim_model import ServiceLine
from chartkeeper.billing.x12.parse835 import Adjustment, ClaimPayment, ServicePayment

#: CARC 97: "the benefit for this service is included in the payment for another service"
BUNDLED_REASON = "97"


@dataclass(frozen=True)
class LineAdjustment:
    """One adjustment of a billed line, with the RARC remarks of the SVC it came from."""

    group: str
    reason: str
    amount: Decimal
    remarks: tuple[str, ...] = ()


@dataclass(frozen=True)
class LineMatch:
    """The payer's answer to one billed line: which SVCs (0-based), paid, allowed, how found."""

    line: int
    kind: str
    services: tuple[int, ...]
    charge: Decimal
    paid: Decimal
    allowed: Decimal
    adjustments: tuple[LineAdjustment, ...] = ()
    notes: tuple[str, ...] = ()


@dataclass(frozen=True)
class ClaimMatch:
    """Every billed line's match, and the SVCs that answered no billed line."""

    lines: tuple[LineMatch, ...]
    unmatched_services: tuple[int, ...] = ()


@dataclass
class _State:
    billed: Sequence[ServiceLine]
    services: Sequence[ServicePayment]
    found: dict[int, tuple[str, tuple[int, ...], tuple[str, ...]]] = field(default_factory=dict)
    used: set[int] = field(default_factory=set)

    def open_lines(self) -> list[int]:
        return [i for i in range(len(self.billed)) if i not in self.found]

    def open_services(self) -> list[int]:
        return [i for i in range(len(self.services)) if i not in self.used]

    def take(self, line: int, kind: str, services: tuple[int, ...], *notes: str) -> None:
        self.found[line] = (kind, services, notes)
        self.used.update(services)


def code_of(service: ServicePayment) -> tuple[str, tuple[str, ...]]:
    """SVC01 as (procedure code, modifiers); an NU qualifier carries a revenue code only."""
    parts = service.procedure
    if len(parts) < 2 or parts[0] == "NU":
        return "", ()
    return parts[1], tuple(m for m in parts[2:6] if m)


def match_claim(payment: ClaimPayment, billed: Sequence[ServiceLine]) -> ClaimMatch:
    """Pair the SVC lines of ``payment`` with ``billed``, the lines of the claim as sent."""
    state = _State(billed, payment.services)
    for rule in _RULES:
        for line in state.open_lines():
            rule(state, line)
    covered = _bundling_note(payment)
    for line in state.open_lines():
        state.take(line, "bundled", (), covered)
    lines = tuple(_line_match(state, i) for i in range(len(billed)))
    return ClaimMatch(lines, tuple(state.open_services()))


def _same_date(a: date | None, b: date | None) -> bool:
    return a is None or b is None or a == b


def _key(line: ServiceLine) -> str:
    return line.procedure_code or line.revenue_code


def _service_key(service: ServicePayment) -> str:
    code, _ = code_of(service)
    return (
        code or service.revenue_code or (service.procedure[1] if len(service.procedure) > 1 else "")
    )


def _candidates(state: _State, line: int, test: Callable[[ServicePayment], bool]) -> list[int]:
    billed = state.billed[line]
    return [
        i
        for i in state.open_services()
        if _same_date(billed.service_date, state.services[i].service_date)
        and test(state.services[i])
    ]


def _exact(state: _State, line: int) -> None:
    billed = state.billed[line]
    found = _candidates(
        state,
        line,
        lambda s: (
            _service_key(s) == _key(billed)
            and code_of(s)[1] == billed.modifiers
            and s.charge == billed.charge
        ),
    )
    if found:
        state.take(line, "exact", (found[0],))


def _split(state: _State, line: int) -> None:
    billed = state.billed[line]
    found = _candidates(state, line, lambda s: _service_key(s) == _key(billed))
    if len(found) < 2:
        return
    charge = sum((state.services[i].charge for i in found), Decimal(0))
    units = [state.services[i].units for i in found]
    units_agree = None in units or sum(u for u in units if u is not None) == billed.units
    if charge == billed.charge and units_agree:
        state.take(line, "split", tuple(found), f"paid as {len(found)} service lines")


def _modifier(state: _State, line: int) -> None:
    billed = state.billed[line]
    found = _candidates(
        state, line, lambda s: _service_key(s) == _key(billed) and s.charge == billed.charge
    )
    if found:
        paid = code_of(state.services[found[0]])[1]
        state.take(line, "modifier_changed", (found[0],), _modifier_note(billed.modifiers, paid))


def _modifier_note(billed: tuple[str, ...], paid: tuple[str, ...]) -> str:
    if set(paid) < set(billed):
        return "modifier dropped: " + ",".join(m for m in billed if m not in paid)
    if set(billed) < set(paid):
        return "modifier added: " + ",".join(m for m in paid if m not in billed)
    return f"modifier changed: {','.join(billed) or '-'} to {','.join(paid) or '-'}"


def _charge(state: _State, line: int) -> None:
    billed = state.billed[line]
    found = _candidates(state, line, lambda s: _service_key(s) == _key(billed))
    if found:
        state.take(line, "charge_changed", (found[0],), "charge differs from the billed line")


def _code(state: _State, line: int) -> None:
    billed = state.billed[line]
    found = _candidates(state, line, lambda s: s.charge == billed.charge)
    if found:
        code = _service_key(state.services[found[0]])
        state.take(line, "code_changed", (found[0],), f"code changed: {_key(billed)} to {code}")


_RULES: tuple[Callable[[_State, int], None], ...] = (_exact, _split, _modifier, _charge, _code)


def _bundling_note(payment: ClaimPayment) -> str:
    for adjustment in payment.adjustments:
        if adjustment.reason == BUNDLED_REASON:
            return f"no service line; covered by {adjustment.group}-97 on the claim"
    for index, service in enumerate(payment.services):
        if any(a.reason == BUNDLED_REASON for a in service.adjustments):
            return f"no service line; covered by CAS 97 on service line {index + 1}"
    return "no service line reported by the payer"


def _line_match(state: _State, line: int) -> LineMatch:
    kind, indexes, notes = state.found[line]
    adjustments = tuple(
        _line_adjustment(a, state.services[i].remarks)
        for i in indexes
        for a in state.services[i].adjustments
    )
    paid = sum((state.services[i].paid for i in indexes), Decimal(0))
    patient = sum((a.amount for a in adjustments if a.group == "PR"), Decimal(0))
    return LineMatch(
        line,
        kind,
        indexes,
        state.billed[line].charge,
        paid,
        paid + patient,
        adjustments,
        notes,
    )


def _line_adjustment(adjustment: Adjustment, remarks: tuple[str, ...]) -> LineAdjustment:
    return LineAdjustment(adjustment.group, adjustment.reason, adjustment.amount, remarks)
