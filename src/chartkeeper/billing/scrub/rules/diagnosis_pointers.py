"""Diagnosis pointers: each line points at diagnoses the claim carries, within the 837P limits.

TR3 005010X222A1 loop 2400 SV107 (composite diagnosis code pointer: up to four pointers, each
1-12) and loop 2300 HI (at most 12 diagnoses on a professional claim; CMS-1500 item 21).
"""

from __future__ import annotations

from collections.abc import Iterator

from chartkeeper.billing.scrub.context import ScrubContext
from chartkeeper.billing.scrub.model import Issue, ScrubClaim
from chartkeeper.billing.scrub.rule import Rule

RULE = Rule(
    id="diagnosis-pointers",
    title="Diagnosis pointers",
    severity="error",
    checks=(
        "each pointer refers to a diagnosis of the claim; 837P: every line has 1 to 4 "
        "pointers, the claim at most 12 diagnoses"
    ),
    source="TR3 005010X222A1 loop 2300 HI, loop 2400 SV107; CMS-1500 items 21 and 24E",
    category="invalid",
)
MAX_POINTERS = 4
MAX_DIAGNOSES = 12


def check(scrub: ScrubClaim, context: ScrubContext) -> Iterator[Issue]:
    """Pointers line by line, then the number of diagnoses."""
    claim = scrub.claim
    count = len(claim.diagnoses)
    professional = scrub.kind == "837P"
    for index, line in enumerate(claim.lines):
        where = f"line[{index}].diagnosis_pointers"
        pointers = line.diagnosis_pointers
        for pointer in pointers:
            if not 1 <= pointer <= count:
                message = (
                    f"Diagnosis pointer {pointer} refers to no diagnosis (the claim has {count})"
                )
                yield RULE.issue(where, message, "Point at one of the claim's diagnoses")
        if professional and not pointers:
            message = "The line points at no diagnosis"
            yield RULE.issue(where, message, "Point the line at the diagnosis it treats")
        if professional and len(pointers) > MAX_POINTERS:
            message = (
                f"The line has {len(pointers)} diagnosis pointers; a professional claim allows 4"
            )
            yield RULE.issue(where, message, "Keep the four diagnoses most relevant to the line")
    if professional and count > MAX_DIAGNOSES:
        message = f"The claim has {count} diagnoses; a professional claim allows 12"
        hint = "Split the claim, or keep the 12 diagnoses the lines need"
        yield RULE.issue(f"diagnosis[{MAX_DIAGNOSES}]", message, hint)
