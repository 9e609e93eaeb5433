"""The Medicare Code Editor edits on the claim's diagnoses, by the flags in force on the date.

CMS "Definitions of Medicare Code Edits" (MCE v43): age conflict, sex conflict, manifestation
code as principal diagnosis, external causes of morbidity as principal diagnosis, unacceptable
principal diagnosis. The edits are ``codes.mce_checks.check_mce`` and ``codes.checks``; this
rule only feeds them the patient's sex and age on the first date of service.
"""

from __future__ import annotations

from collections.abc import Iterator

from chartkeeper.billing.codes.mce import PatientFacts
from chartkeeper.billing.codes.mce_checks import PRINCIPAL_EDITS, check_mce
from chartkeeper.billing.codes.model import ICD10CM, MCE
from chartkeeper.billing.scrub.context import ScrubContext, Table
from chartkeeper.billing.scrub.facts import age_on, code_of, first_day, patient_of, sex_of
from chartkeeper.billing.scrub.model import Issue, ScrubClaim
from chartkeeper.billing.scrub.rule import Rule
from chartkeeper.billing.scrub.rules.common import from_finding

RULE = Rule(
    id="mce-edits",
    title="Medicare Code Editor edits",
    severity="error",
    checks=(
        "diagnoses against the patient's sex and age, and the principal diagnosis: not a "
        "manifestation, external-cause or MCE-unacceptable code; says so when MCE is not loaded"
    ),
    source="CMS Definitions of Medicare Code Edits v43 (sex, age and principal diagnosis edits)",
    category="invalid",
)
#: The edits that apply to the principal diagnosis only.
PRINCIPAL_RULES = frozenset(rule for rule, _, _ in PRINCIPAL_EDITS.values())


def check(scrub: ScrubClaim, context: ScrubContext) -> Iterator[Issue]:
    """Manifestation as principal from the coding checks, then the MCE list edits."""
    claim = scrub.claim
    day = first_day(claim)
    if day is None or not claim.diagnoses:
        return
    codes = context.table(ICD10CM, day)
    for finding in context.diagnosis_findings(codes, claim.diagnoses):
        if finding.rule == "manifestation-as-principal":
            yield from_finding(RULE, claim, finding)
    edits = context.table(MCE, day)
    patient = patient_of(claim)
    facts = PatientFacts(sex_of(patient), age_on(patient.birth_date, day))
    inpatient = scrub.kind == "837I"  # the unacceptable-principal edit is about admissions
    if edits.version is None:
        for finding in check_mce(edits, claim.diagnoses, day, facts, inpatient=inpatient):
            yield from_finding(RULE, claim, finding)
        return
    flagged = edits.derived("flagged", _flagged)
    for position, code in enumerate(claim.diagnoses):
        if code_of(code) not in flagged:
            continue  # no flag in any period: check_mce finds nothing for it
        for finding in check_mce(edits, [code], day, facts, inpatient=inpatient):
            if position == 0 or finding.rule not in PRINCIPAL_RULES:
                yield from_finding(RULE, claim, finding)


def _flagged(edits: Table) -> frozenset[str]:
    """The codes with an MCE flag in some period."""
    return frozenset(
        code
        for code, found in edits.rows.items()
        if any(flags for _, _, flags in found.extra.get("periods", []))
    )
