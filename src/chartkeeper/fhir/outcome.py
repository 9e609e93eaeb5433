"""OperationOutcome resources from errors and issues (http://hl7.org/fhir/R4/operationoutcome.html)."""

from __future__ import annotations

from typing import Any

from chartkeeper.core.errors import ChartkeeperError, Issue


def issue_dict(issue: Issue, default_code: str) -> dict[str, Any]:
    """One ``OperationOutcome.issue``."""
    result: dict[str, Any] = {
        "severity": issue.severity,
        "code": issue.code or default_code,
        "diagnostics": issue.diagnostics,
    }
    if issue.expression:
        result["expression"] = list(issue.expression)
    return result


def from_error(error: ChartkeeperError) -> dict[str, Any]:
    """The OperationOutcome describing ``error``."""
    return {
        "resourceType": "OperationOutcome",
        "issue": [issue_dict(i, error.issue_code) for i in error.all_issues()],
    }


def information(message: str) -> dict[str, Any]:
    """An informational OperationOutcome (e.g. for ``Prefer: return=OperationOutcome``)."""
    return {
        "resourceType": "OperationOutcome",
        "issue": [{"severity": "information", "code": "informational", "diagnostics": message}],
    }
