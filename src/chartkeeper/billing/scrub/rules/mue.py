"""Medically Unlikely Edits: the most units of a service a patient can get on one day.

NCCI Policy Manual for Medicare Services ch. I (Medically Unlikely Edits) and the CMS MUE page
(https://www.cms.gov/medicare/coding-billing/ncci-medicare/medically-unlikely-edits): MAI 1
limits each line; MAI 2 (policy) and 3 (clinical) limit the units summed over the date of
service. A code the table does not list has no published limit.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from decimal import Decimal

from chartkeeper.billing.codes.model import MUE_OUTPATIENT, MUE_PRACTITIONER
from chartkeeper.billing.scrub.context import ScrubContext
from chartkeeper.billing.scrub.facts import code_of, service_day
from chartkeeper.billing.scrub.model import Issue, ScrubClaim
from chartkeeper.billing.scrub.rule import Rule

RULE = Rule(
    id="mue",
    title="Medically Unlikely Edits (units per day)",
    severity="error",
    checks=(
        "units of a code above its MUE value: per line (MAI 1) or summed over the date of "
        "service (MAI 2, 3); codes the table does not list have no limit"
    ),
    source="NCCI Policy Manual for Medicare Services ch. I; CMS MUE adjudication indicators",
    category="business-rule",
)
TABLES = {"837P": MUE_PRACTITIONER, "837I": MUE_OUTPATIENT}
HINT = "Check the units; bill only what the record supports (appeal if medically necessary)"


def check(scrub: ScrubClaim, context: ScrubContext) -> Iterator[Issue]:
    """Line limits as they come, then the date-of-service sums."""
    claim = scrub.claim
    kind = TABLES[scrub.kind]
    totals: dict[tuple[date, str], tuple[int, Decimal, int]] = {}
    for index, line in enumerate(claim.lines):
        day = service_day(claim, line)
        if day is None:
            continue
        code = code_of(line.procedure_code)
        found = context.table(kind, day).rows.get(code)
        if found is None:
            continue
        value, mai = found.extra["value"], found.extra["mai"]
        if mai == 1:
            if line.units > value:
                message = f"{line.units} units of {code} exceed the MUE of {value} per line"
                yield RULE.issue(f"line[{index}].units", message, HINT, code)
            continue
        first, units, _ = totals.get((day, code), (index, Decimal(0), value))
        totals[(day, code)] = (first, units + line.units, value)
    for (day, code), (first, units, value) in totals.items():
        if units > value:
            message = (
                f"{units} units of {code} on {day.isoformat()} exceed the MUE of {value} per day"
            )
            yield RULE.issue(f"line[{first}].units", message, HINT, code)
