"""NCCI procedure-to-procedure edits: a column 2 code is not paid with its column 1 code on
the same date of service, unless the edit allows a bypass modifier and the claim carries one.

NCCI Policy Manual for Medicare Services, ch. I §E (modifiers and modifier indicators);
Medicare Claims Processing Manual ch. 23 §20.9. The practitioner table applies to 837P claims,
the outpatient hospital table to 837I.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from typing import Any

from chartkeeper.billing.codes.model import PTP_OUTPATIENT, PTP_PRACTITIONER
from chartkeeper.billing.scrub.context import ScrubContext
from chartkeeper.billing.scrub.facts import code_of, service_day
from chartkeeper.billing.scrub.model import Issue, ScrubClaim
from chartkeeper.billing.scrub.rule import Rule
from chartkeeper.billing.x12.claim_model import ServiceLine

RULE = Rule(
    id="ncci-ptp",
    title="NCCI procedure-to-procedure edits",
    severity="error",
    checks=(
        "two lines on the same date whose codes are an active PTP edit (effective <= date <= "
        "deletion): indicator 0 always, indicator 1 unless a bypass modifier is on either line"
    ),
    source="NCCI Policy Manual for Medicare Services ch. I §E; Claims Processing Manual ch. 23",
    category="business-rule",
)
#: NCCI-associated modifiers that bypass an indicator-1 edit (NCCI Policy Manual ch. I §E).
BYPASS = frozenset(
    {"59", "XE", "XS", "XP", "XU", "E1", "E2", "E3", "E4", "FA", "TA", "LT", "RT"}
    | {f"F{n}" for n in range(1, 10)}
    | {f"T{n}" for n in range(1, 10)}
    | {"LC", "LD", "LM", "RC", "RI", "24", "25", "57", "58", "78", "79", "91"}
)
TABLES = {"837P": PTP_PRACTITIONER, "837I": PTP_OUTPATIENT}


def active(periods: list[dict[str, Any]], day: str) -> dict[str, Any] | None:
    """The period of the edit in force on ``day`` (ISO), or None."""
    for period in periods:
        end = period["to"]
        if period["from"] <= day and (end is None or day <= end):
            return period
    return None


def _bypassed(*lines: ServiceLine) -> bool:
    return any(m.strip().upper() in BYPASS for line in lines for m in line.modifiers)


def _issue(index: int, pair: tuple[str, str], period: dict[str, Any]) -> Issue:
    first, second = pair
    where = f"line[{index}].procedure_code"
    if period["modifier"] == "0":
        message = f"{second} is not payable with {first} on the same day (NCCI PTP edit)"
        hint = "No modifier bypasses this edit: remove the line if it is part of the other"
    else:
        message = f"{second} is not payable with {first} on the same day without a modifier"
        hint = (
            "If the service was distinct (other site, session or encounter), add 59 or XE/XS/XP/XU"
        )
    return RULE.issue(where, f"{message} ({period['rationale']})", hint, second)


def check(scrub: ScrubClaim, context: ScrubContext) -> Iterator[Issue]:
    """Every ordered pair of lines on one date against the table in force on that date."""
    claim = scrub.claim
    if len(claim.lines) < 2:
        return
    by_day: dict[date, list[int]] = {}
    for index, line in enumerate(claim.lines):
        day = service_day(claim, line)
        if day is not None:
            by_day.setdefault(day, []).append(index)
    kind = TABLES[scrub.kind]
    for day, indexes in by_day.items():
        if len(indexes) < 2:
            continue
        rows = context.table(kind, day).rows
        if not rows:
            continue
        text = day.isoformat()
        codes = {i: code_of(claim.lines[i].procedure_code) for i in indexes}
        for i in indexes:
            for j in indexes:
                first, second = codes[i], codes[j]
                found = rows.get(f"{first}|{second}") if first != second else None
                if found is None:
                    continue
                period = active(found.extra["periods"], text)
                if period is None or period["modifier"] == "9":
                    continue
                if period["modifier"] == "1" and _bypassed(claim.lines[i], claim.lines[j]):
                    continue
                yield _issue(j, (first, second), period)
