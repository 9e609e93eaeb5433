"""The MCE edits of an encounter's diagnoses: sex and age conflicts, external-cause code and
unacceptable code as principal diagnosis ("Definitions of Medicare Code Edits", edits 2, 4, 5
and 9). The manifestation edit (6) is ``checks.manifestation-as-principal``.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date

from chartkeeper.billing.codes.checks import CodeVersion, Finding, check_diagnoses
from chartkeeper.billing.codes.mce import PatientFacts, age_conflicts, flags_on, sex_conflict
from chartkeeper.billing.codes.model import dotted, normalise

PRINCIPAL_EDITS = {
    "ecodepdx": (
        "external-cause-as-principal",
        "{code} is an external-cause code and cannot be the principal diagnosis",
        "Sequence the injury or condition first; external-cause codes are secondary",
    ),
    "unacceptable": (
        "unacceptable-principal",
        "{code} is unacceptable as principal diagnosis (MCE)",
        "Sequence the condition that occasioned the admission first",
    ),
}
#: MCE flags about the reason for an admission (UHDDS principal diagnosis): inpatient only.
INPATIENT_ONLY = frozenset({"unacceptable"})


def _patient_findings(
    code: str, flags: set[str], day: date, patient: PatientFacts
) -> list[Finding]:
    shown = dotted("icd10cm", code)
    found: list[Finding] = []
    wanted = sex_conflict(flags, patient.sex)
    if wanted:
        message = f"{shown} is for {wanted} patients; the patient is {patient.sex}"
        hint = "Check the code and the patient's administrative sex"
        found.append(Finding("sex-conflict", "error", code, message, hint))
    if patient.age is not None:
        for group, low, high in age_conflicts(flags, patient.age, day):
            message = f"{shown} is a {group} code (ages {low}-{high}); the patient is {patient.age}"
            hint = "Check the code and the patient's date of birth"
            found.append(Finding("age-conflict", "error", code, message, hint))
    return found


def check_mce(
    edits: CodeVersion,
    diagnoses: Sequence[str],
    day: date,
    patient: PatientFacts,
    *,
    inpatient: bool = True,
) -> list[Finding]:
    """MCE findings on ``diagnoses`` (principal first) for a patient on the date of service.

    ``inpatient`` False leaves out the edits about the reason for an admission (see
    ``INPATIENT_ONLY``): on an outpatient visit the first-listed code is the reason for the
    visit, where e.g. F17.210 or a status Z code is proper (ICD-10-CM Guidelines, Section IV).
    """
    if edits.version is None:
        message = "The MCE edit lists are not loaded: sex, age and principal edits not run"
        hint = "Load them: chartkeeper codes load mce FILE"
        return [Finding("mce-not-loaded", "info", "", message, hint)]
    findings: list[Finding] = []
    for position, raw in enumerate(diagnoses):
        code = normalise(raw)
        found = edits.get(code)
        flags = flags_on(found.extra, day) if found else set()
        findings += _patient_findings(code, flags, day, patient)
        principal = PRINCIPAL_EDITS.keys() if inpatient else PRINCIPAL_EDITS.keys() - INPATIENT_ONLY
        for flag in sorted(flags & principal) if position == 0 else []:
            rule, message, hint = PRINCIPAL_EDITS[flag]
            shown = dotted("icd10cm", code)
            findings.append(Finding(rule, "error", code, message.format(code=shown), hint))
    return findings


def check_encounter(
    codes: CodeVersion,
    edits: CodeVersion,
    diagnoses: Sequence[str],
    day: date,
    patient: PatientFacts,
    *,
    inpatient: bool = True,
) -> list[Finding]:
    """All coding checks: the ICD-10-CM conventions, then the MCE edits."""
    mce = check_mce(edits, diagnoses, day, patient, inpatient=inpatient)
    return check_diagnoses(codes, diagnoses) + mce
