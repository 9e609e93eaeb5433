"""Small helpers the rules share: where a diagnosis is, how coding findings become issues."""

from __future__ import annotations

from chartkeeper.billing.codes.checks import Finding
from chartkeeper.billing.scrub.facts import code_of
from chartkeeper.billing.scrub.model import Issue, Severity
from chartkeeper.billing.scrub.rule import Rule
from chartkeeper.billing.x12.claim_model import Claim

SEVERITIES: dict[str, Severity] = {
    "error": "error",
    "warning": "warning",
    "info": "information",
    "information": "information",
}


def is_cpt(code: str) -> bool:
    """CPT (HCPCS Level I) codes start with four digits: 99213, 0001U, 1234F, 0075T."""
    return len(code) == 5 and code[:4].isdigit()


def diagnosis_location(claim: Claim, code: str) -> str:
    """``diagnosis[i]`` of the first diagnosis that is ``code`` (stored form), else ``claim``."""
    for index, raw in enumerate(claim.diagnoses):
        if code_of(raw) == code:
            return f"diagnosis[{index}]"
    return "claim"


def from_finding(rule: Rule, claim: Claim, finding: Finding) -> Issue:
    """A coding check's finding as an issue of ``rule``, located at its diagnosis."""
    return Issue(
        rule.id,
        SEVERITIES.get(finding.severity, rule.severity),
        diagnosis_location(claim, finding.code) if finding.code else "claim",
        finding.message,
        finding.hint,
        finding.code,
    )
