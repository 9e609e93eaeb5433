"""The scrubber: every rule over a claim, issues sorted with the errors first.

Pure over its context: the same claim against the same tables gives the same issues, so a
claim can be scrubbed again after any edit (the worklist does, on every save).
"""

from __future__ import annotations

from collections.abc import Iterable
from types import ModuleType

from chartkeeper.billing.scrub.context import ScrubContext
from chartkeeper.billing.scrub.facts import location_sort_key
from chartkeeper.billing.scrub.model import Issue, ScrubClaim
from chartkeeper.billing.scrub.rule import Check, Rule
from chartkeeper.billing.scrub.rules import (
    charges,
    code_validity,
    coding_conventions,
    diagnosis_pointers,
    duplicates,
    mce_edits,
    medical_necessity,
    mue,
    ncci_ptp,
    required_fields,
    timely_filing,
)

#: The rules in the order they run and are documented.
RULES: tuple[ModuleType, ...] = (
    required_fields,
    diagnosis_pointers,
    code_validity,
    mce_edits,
    coding_conventions,
    ncci_ptp,
    mue,
    medical_necessity,
    charges,
    timely_filing,
    duplicates,
)
SEVERITY_ORDER = {"error": 0, "warning": 1, "information": 2}


def rules() -> list[Rule]:
    """The metadata of every rule, in order."""
    return [module.RULE for module in RULES]


def _sort_key(issue: Issue) -> tuple[int, tuple[str | int, ...], str]:
    return SEVERITY_ORDER[issue.severity], location_sort_key(issue.location), issue.rule


def is_clean(issues: Iterable[Issue]) -> bool:
    """True when no issue is an error (warnings and information let a claim go)."""
    return all(issue.severity != "error" for issue in issues)


class Scrubber:
    """Runs the rules over claims with one context (its tables stay in memory between calls)."""

    def __init__(self, context: ScrubContext) -> None:
        self.context = context
        self._checks: list[Check] = [module.check for module in RULES]

    def scrub(self, claim: ScrubClaim) -> list[Issue]:
        """Every issue of every rule, errors first, then by location."""
        context = self.context
        context.refresh_if_stale()
        issues: list[Issue] = []
        for check in self._checks:
            issues.extend(check(claim, context))
        if len(issues) > 1:
            issues.sort(key=_sort_key)
        return issues

    def scrub_many(self, claims: Iterable[ScrubClaim]) -> list[list[Issue]]:
        """``scrub`` of each claim, in order."""
        return [self.scrub(claim) for claim in claims]
