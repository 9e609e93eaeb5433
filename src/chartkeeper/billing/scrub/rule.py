"""What every scrubber rule declares about itself, so the docs and OperationOutcomes agree."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from chartkeeper.billing.scrub.model import Issue, ScrubClaim, Severity

if TYPE_CHECKING:
    from chartkeeper.billing.scrub.context import ScrubContext

#: OperationOutcome ``issue.code`` of a rule's errors and warnings (information is always
#: ``informational``): ``invalid`` for wrong codes and fields, ``business-rule`` for payer edits.
Category = Literal["invalid", "business-rule"]
Check = Callable[[ScrubClaim, "ScrubContext"], Iterator[Issue]]


@dataclass(frozen=True, slots=True)
class Rule:
    """A rule's stable id, title, default severity, what it checks and the text it follows."""

    id: str
    title: str
    severity: Severity
    checks: str
    source: str
    category: Category

    def issue(
        self,
        location: str,
        message: str,
        hint: str,
        code: str = "",
        severity: Severity | None = None,
    ) -> Issue:
        """An issue of this rule (at its default severity unless told otherwise)."""
        return Issue(self.id, severity or self.severity, location, message, hint, code)
