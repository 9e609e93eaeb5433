"""Duplicate claims and lines: the same services for the same patient billed twice.

Medicare Claims Processing Manual ch. 1 §120 (duplicate claims are denied, CARC 18); the key is
``scrub.signature.claim_signature``, shared with the claim worklist.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

from chartkeeper.billing.scrub.context import ScrubContext
from chartkeeper.billing.scrub.facts import code_of, service_day
from chartkeeper.billing.scrub.model import Issue, ScrubClaim
from chartkeeper.billing.scrub.rule import Rule
from chartkeeper.billing.scrub.signature import claim_signature

RULE = Rule(
    id="duplicates",
    title="Duplicate claims and lines",
    severity="error",
    checks=(
        "another claim with the same patient, billing provider and services on the same dates "
        "(error); two lines of the claim with the same date, code and modifiers (warning)"
    ),
    source="Medicare Claims Processing Manual ch. 1 §120 (CARC 18, exact duplicate)",
    category="business-rule",
)


def _lines(scrub: ScrubClaim) -> Iterator[Issue]:
    claim = scrub.claim
    seen: dict[tuple[date | None, str, tuple[str, ...]], int] = {}
    for index, line in enumerate(claim.lines):
        modifiers = tuple(sorted(m.strip().upper() for m in line.modifiers))
        key = (service_day(claim, line), code_of(line.procedure_code), modifiers)
        first = seen.setdefault(key, index)
        if first != index:
            message = f"Line {index + 1} repeats line {first + 1} (same date, code and modifiers)"
            hint = "Bill the units on one line, or add the modifier that tells them apart"
            yield RULE.issue(f"line[{index}]", message, hint, key[1], severity="warning")


def check(scrub: ScrubClaim, context: ScrubContext) -> Iterator[Issue]:
    """The claim against the index of earlier claims, then its own lines."""
    if context.duplicates is not None:
        other = context.duplicates.find(claim_signature(scrub), scrub.claim.claim_id)
        if other is not None:
            message = f"The claim duplicates claim {other} (same patient, services and dates)"
            hint = "Do not resend: correct the other claim (frequency 7) or void it (8)"
            yield RULE.issue("claim", message, hint)
    yield from _lines(scrub)
