"""Medical necessity: a service a coverage policy limits must point at a diagnosis it covers.

Social Security Act §1862(a)(1)(A) (reasonable and necessary); Medicare Program Integrity
Manual ch. 13 (Local Coverage Determinations, their "ICD-10 codes that support medical
necessity"). Policies are the ``policy`` table; without one loaded the rule says nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

from chartkeeper.billing.codes.model import POLICY
from chartkeeper.billing.codes.policy import high_bound, low_bound
from chartkeeper.billing.scrub.context import ScrubContext, Table
from chartkeeper.billing.scrub.facts import code_of, service_day
from chartkeeper.billing.scrub.model import Issue, ScrubClaim
from chartkeeper.billing.scrub.rule import Rule
from chartkeeper.billing.x12.claim_model import Claim, ServiceLine

RULE = Rule(
    id="medical-necessity",
    title="Diagnoses support the service (coverage policy)",
    severity="error",
    checks=(
        "when a loaded coverage policy lists the line's procedure code, one of the diagnoses "
        "the line points to is in a covered range"
    ),
    source="SSA §1862(a)(1)(A); Medicare Program Integrity Manual ch. 13 (LCDs)",
    category="business-rule",
)
Policy = tuple[str, str, list[tuple[str, str]], str]


def _padded(table: Table) -> dict[str, list[Policy]]:
    """Per procedure code: (id, title, padded ranges, ranges as written) of each policy."""
    built: dict[str, list[Policy]] = {}
    for code, found in table.rows.items():
        built[code] = [
            (
                p["id"],
                p["title"],
                [(low_bound(lo), high_bound(hi)) for lo, hi in p["ranges"]],
                ", ".join(lo if lo == hi else f"{lo}-{hi}" for lo, hi in p["ranges"][:6]),
            )
            for p in found.extra["policies"]
        ]
    return built


def _pointed(claim: Claim, line: ServiceLine) -> list[str]:
    count = len(claim.diagnoses)
    return [
        code_of(claim.diagnoses[p - 1]).ljust(7, "0")
        for p in line.diagnosis_pointers
        if 1 <= p <= count
    ]


def _line(
    index: int, claim: Claim, line: ServiceLine, day: date, context: ScrubContext
) -> Iterator[Issue]:
    table = context.table(POLICY, day)
    if table.version is None:
        return
    code = code_of(line.procedure_code)
    policies = table.derived("padded", _padded).get(code)
    if not policies:
        return
    pointed = _pointed(claim, line)
    for policy_id, title, ranges, shown in policies:
        if any(lo <= dx <= hi for dx in pointed for lo, hi in ranges):
            continue
        message = (
            f"{code} is not covered for the diagnoses on this line under policy "
            f"{policy_id} ({title})"
        )
        hint = f"Point the line at a covered diagnosis the record supports ({shown}), or get an ABN"
        yield RULE.issue(f"line[{index}].diagnosis_pointers", message, hint, code)


def check(scrub: ScrubClaim, context: ScrubContext) -> Iterator[Issue]:
    """Each line against the policies in force on its date of service."""
    claim = scrub.claim
    for index, line in enumerate(claim.lines):
        day = service_day(claim, line)
        if day is not None:
            yield from _line(index, claim, line, day, context)
