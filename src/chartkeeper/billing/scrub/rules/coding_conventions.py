"""ICD-10-CM conventions between the claim's diagnoses: Excludes1 pairs, etiology before
manifestation.

ICD-10-CM Official Guidelines I.A.12.a (Excludes1: the two conditions are never coded
together) and I.A.13 (etiology/manifestation: "code first" the underlying condition). The
checks are ``codes.checks.check_diagnoses``, shared with ``chartkeeper codes check``.
"""

from __future__ import annotations

from collections.abc import Iterator

from chartkeeper.billing.codes.model import ICD10CM
from chartkeeper.billing.scrub.context import ScrubContext
from chartkeeper.billing.scrub.facts import first_day
from chartkeeper.billing.scrub.model import Issue, ScrubClaim
from chartkeeper.billing.scrub.rule import Rule
from chartkeeper.billing.scrub.rules.common import from_finding

RULE = Rule(
    id="coding-conventions",
    title="ICD-10-CM conventions between diagnoses",
    severity="error",
    checks=(
        "no two diagnoses in an Excludes1 relation; a manifestation code has its etiology "
        "coded before it"
    ),
    source="ICD-10-CM Official Guidelines I.A.12.a (Excludes1), I.A.13 (etiology/manifestation)",
    category="invalid",
)
FINDINGS = frozenset({"excludes1-conflict", "manifestation-without-etiology"})


def check(scrub: ScrubClaim, context: ScrubContext) -> Iterator[Issue]:
    """The convention findings of the coding checks on the first date of service."""
    claim = scrub.claim
    day = first_day(claim)
    if day is None or not claim.diagnoses:
        return
    for finding in context.diagnosis_findings(context.table(ICD10CM, day), claim.diagnoses):
        if finding.rule in FINDINGS:
            yield from_finding(RULE, claim, finding)
