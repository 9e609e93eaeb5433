"""Scrubber issues as a FHIR R4 OperationOutcome, pointing at the FHIR elements to fix.

http://hl7.org/fhir/R4/operationoutcome.html: ``issue.code`` from the IssueType value set
(``invalid``, ``business-rule``, ``informational``); ``details.coding`` names the rule in
chartkeeper's scrub-rule code system; ``expression`` is the FHIRPath of the element.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from chartkeeper.billing.scrub.engine import rules
from chartkeeper.billing.scrub.model import Issue
from chartkeeper.billing.scrub.rule import Rule

SYSTEM = "https://chartkeeper.dev/fhir/CodeSystem/scrub-rule"


def _issue(issue: Issue, locations: Mapping[str, str], known: Mapping[str, Rule]) -> dict[str, Any]:
    rule = known.get(issue.rule)
    if issue.severity == "information":
        code = "informational"
    else:
        code = rule.category if rule else "invalid"
    coding: dict[str, str] = {"system": SYSTEM, "code": issue.rule}
    if rule is not None:
        coding["display"] = rule.title
    return {
        "severity": issue.severity,
        "code": code,
        "details": {"coding": [coding], "text": issue.message},
        "diagnostics": issue.hint,
        "expression": [locations.get(issue.location, issue.location)],
    }


def to_operation_outcome(issues: Sequence[Issue], locations: Mapping[str, str]) -> dict[str, Any]:
    """One OperationOutcome issue per scrubber issue; "No problems found" when there are none."""
    if not issues:
        found = [
            {
                "severity": "information",
                "code": "informational",
                "details": {"text": "No problems found"},
            }
        ]
    else:
        known = {rule.id: rule for rule in rules()}
        found = [_issue(issue, locations, known) for issue in issues]
    return {"resourceType": "OperationOutcome", "issue": found}
