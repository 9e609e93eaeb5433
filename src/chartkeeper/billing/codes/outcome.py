"""Coding-check findings as a FHIR OperationOutcome about an Encounter's diagnoses."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from chartkeeper.billing.codes.checks import Finding
from chartkeeper.billing.codes.model import normalise

#: The rule ids of the coding checks (codes.checks, codes.mce_checks) in OperationOutcomes.
CODING_CHECK_SYSTEM = "https://chartkeeper.dev/fhir/CodeSystem/coding-check"


def coding_outcome(
    encounter: dict[str, Any],
    conditions: Sequence[dict[str, Any]],
    diagnoses: Sequence[str],
    findings: Sequence[Finding],
) -> dict[str, Any]:
    """Coding findings as an OperationOutcome: rule id, the diagnosis it is about, the fix.

    ``conditions`` are the encounter's Conditions by rank and ``diagnoses`` their ICD-10-CM
    codes ("" when a Condition has none); each issue points at its ``Encounter.diagnosis[i]``.
    """
    position = {
        str((entry.get("condition") or {}).get("reference", "")): index
        for index, entry in enumerate(encounter.get("diagnosis") or [])
    }
    places = [
        f"Encounter.diagnosis[{position[_reference(c)]}]"
        if _reference(c) in position
        else "Encounter.diagnosis"
        for c in conditions
    ]
    where: dict[str, str] = {}
    for code, place in zip(diagnoses, places, strict=True):
        if code:
            where.setdefault(normalise(code), place)
    issues = [
        {
            "severity": "error" if f.severity == "error" else "warning",
            "code": "invalid" if f.severity == "error" else "business-rule",
            "details": {
                "coding": [{"system": CODING_CHECK_SYSTEM, "code": f.rule}],
                "text": f.message,
            },
            "diagnostics": f.hint,
            "expression": [where.get(normalise(f.code), "Encounter.diagnosis")],
        }
        for f in findings
    ]
    issues += [
        {
            "severity": "warning",
            "code": "incomplete",
            "details": {"text": "This diagnosis has no ICD-10-CM code: it cannot be billed"},
            "diagnostics": "Code the condition in ICD-10-CM",
            "expression": [place],
        }
        for code, place in zip(diagnoses, places, strict=True)
        if not code
    ]
    if not issues:
        issues = [
            {"severity": "information", "code": "informational", "diagnostics": "No problems found"}
        ]
    return {"resourceType": "OperationOutcome", "issue": issues}


def _reference(condition: dict[str, Any]) -> str:
    return f"Condition/{condition.get('id')}"
