"""Charge and date sanity: amounts, units and dates a payer rejects on sight.

TR3 005010X222A1 loop 2400 SV102/SV104 and 005010X223A2 SV203/SV205 (charge and units are
positive amounts); dates of service neither in the future nor before birth; the statement
period runs forwards (loop 2300 DTP*434). The claim total (CLM02) is the sum of the lines by
construction, so only the lines are checked.
"""

from __future__ import annotations

from collections.abc import Iterator
from decimal import Decimal

from chartkeeper.billing.scrub.context import ScrubContext
from chartkeeper.billing.scrub.facts import patient_of, service_day
from chartkeeper.billing.scrub.model import Issue, ScrubClaim
from chartkeeper.billing.scrub.rule import Rule
from chartkeeper.billing.x12.claim_model import ServiceLine

RULE = Rule(
    id="charges",
    title="Charges, units and dates",
    severity="error",
    checks=(
        "line charge and units above zero; charge per unit not above the ceiling (warning); "
        "no date of service after the claim date or before birth; statement from <= to"
    ),
    source="TR3 005010X222A1 SV1, 005010X223A2 SV2, loop 2300 DTP*434",
    category="invalid",
)


#: What an 837 amount and quantity can carry: SV102/SV203 R 1/18, SV104/SV205 R 1/15 (the
#: decimal point not counted); charges in whole cents.
MAX_CHARGE = Decimal("99999999.99")
MAX_UNITS = Decimal("9999999")
CENT = Decimal("0.01")


def _amounts(index: int, line: ServiceLine, context: ScrubContext) -> Iterator[Issue]:
    if line.charge != line.charge.quantize(CENT) or line.charge > MAX_CHARGE:
        message = f"The line charge {line.charge} is not an amount in dollars and cents"
        yield RULE.issue(f"line[{index}].charge", message, "Enter the charge, e.g. 125.50")
        return
    if line.units > MAX_UNITS or line.units != line.units.quantize(Decimal("0.001")):
        message = f"The line units {line.units} are not a count an 837 can carry"
        yield RULE.issue(f"line[{index}].units", message, "Enter the units of service given")
        return
    if line.charge <= 0:
        message = f"The line charge {line.charge} is not above zero"
        yield RULE.issue(f"line[{index}].charge", message, "Enter the charge from the price list")
    if line.units <= 0:
        message = f"The line units {line.units} are not above zero"
        yield RULE.issue(f"line[{index}].units", message, "Enter the units of service given")
    elif line.charge / line.units > context.charge_ceiling:
        message = (
            f"The charge per unit {line.charge / line.units:.2f} is above "
            f"{context.charge_ceiling}: likely a typing error"
        )
        hint = "Check the charge and the units"
        yield RULE.issue(f"line[{index}].charge", message, hint, severity="warning")


def check(scrub: ScrubClaim, context: ScrubContext) -> Iterator[Issue]:
    """Each line's amounts and date, then the statement period."""
    claim = scrub.claim
    birth = patient_of(claim).birth_date
    for index, line in enumerate(claim.lines):
        yield from _amounts(index, line, context)
        day = service_day(claim, line)
        if day is None:
            continue
        if day > scrub.created:
            message = f"The date of service {day.isoformat()} is after the claim date"
            hint = "Bill services only once they are given"
            yield RULE.issue(f"line[{index}].service_date", message, hint)
        if birth is not None and day < birth:
            message = f"The date of service {day.isoformat()} is before the patient's birth"
            hint = "Check the date of service and the birth date"
            yield RULE.issue(f"line[{index}].service_date", message, hint)
    start, end = claim.statement_from, claim.statement_to
    if start is not None and end is not None and start > end:
        message = f"The statement period starts ({start}) after it ends ({end})"
        yield RULE.issue("claim.statement_from", message, "Swap or correct the statement dates")
