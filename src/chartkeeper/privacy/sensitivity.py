"""Security labels that make a record sensitive, so the decision can ask for an explicit grant.

Codes come from HL7 Terminology (THO): the v3-Confidentiality code system
(http://terminology.hl7.org/CodeSystem/v3-Confidentiality) and the
``_ActInformationSensitivityPolicy`` concepts of v3-ActCode
(http://terminology.hl7.org/ValueSet/v3-ActInformationSensitivityPolicy). They are read from
``meta.security`` (http://hl7.org/fhir/R4/security-labels.html).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from types import MappingProxyType
from typing import Any

CONFIDENTIALITY = "http://terminology.hl7.org/CodeSystem/v3-Confidentiality"
ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"

Label = tuple[str, str]

#: Confidentiality codes that restrict: R (restricted) and V (very restricted).
RESTRICTED = (CONFIDENTIALITY, "R")
VERY_RESTRICTED = (CONFIDENTIALITY, "V")

#: v3-ActCode ``_ActInformationSensitivityPolicy`` codes (THO v3-ActInformationSensitivityPolicy).
SENSITIVITY_CODES: Mapping[str, str] = MappingProxyType(
    {
        "ETH": "substance abuse information sensitivity",
        "GDIS": "genetic disease information sensitivity",
        "HIV": "HIV/AIDS information sensitivity",
        "MST": "military sexual trauma information sensitivity",
        "SCA": "sickle cell anemia information sensitivity",
        "SDV": "sexual assault, abuse, or domestic violence information sensitivity",
        "SEX": "sexuality and reproductive health information sensitivity",
        "SPI": "specially protected information sensitivity",
        "BH": "behavioral health information sensitivity",
        "COGN": "cognitive disability information sensitivity",
        "DVD": "developmental disability information sensitivity",
        "EMOTDIS": "emotional disturbance information sensitivity",
        "MH": "mental health information sensitivity",
        "PSY": "psychiatry disorder information sensitivity",
        "PSYTHPN": "psychotherapy note information sensitivity",
        "SUD": "substance use disorder information sensitivity",
        "ETHUD": "alcohol use disorder information sensitivity",
        "OPIOIDUD": "opioid use disorder information sensitivity",
        "STD": "sexually transmitted disease information sensitivity",
        "TBOO": "taboo",
        "VIO": "violence information sensitivity",
        "SICKLE": "sickle cell trait information sensitivity",
    }
)

#: Labels of substance use disorder records protected by 42 CFR Part 2.
PART2_CODES = frozenset({"ETH", "SUD", "ETHUD", "OPIOIDUD"})
#: The psychotherapy note label (45 CFR 164.501, 164.508(a)(2)).
PSYCHOTHERAPY_NOTE: Label = (ACT_CODE, "PSYTHPN")

#: LOINC has no document type whose meaning is HIPAA's "psychotherapy notes" (164.501), so a
#: note may instead carry this local type; ``labels_to_add`` turns it into the PSYTHPN label.
LOCAL_DOCUMENT_TYPE_SYSTEM = "https://chartkeeper.example.org/fhir/CodeSystem/document-type"
LOCAL_PSYCHOTHERAPY_TYPE: Label = (LOCAL_DOCUMENT_TYPE_SYSTEM, "psychotherapy-note")
_NOTE_TYPES = frozenset({"DocumentReference", "Composition"})

#: v3-ActCode RefrainPolicy NOPAT, "no disclosure to patient, family or caregivers without
#: attending provider's authorization": a result held for clinician review. Only the patient
#: is refused (clinicians see it); a clinician releases it by removing the label.
NO_PATIENT_DISCLOSURE: Label = (ACT_CODE, "NOPAT")
NOPAT_DISPLAY = (
    "no disclosure to patient, family or caregivers without attending provider's authorization"
)
#: Statuses of a result not yet final, which ``labels_to_add`` holds back from the patient.
_UNRELEASED: Mapping[str, tuple[str, frozenset[str]]] = MappingProxyType(
    {
        "Observation": ("status", frozenset({"registered", "preliminary"})),
        "DiagnosticReport": ("status", frozenset({"registered", "partial", "preliminary"})),
        "DocumentReference": ("docStatus", frozenset({"preliminary"})),
    }
)

#: Every label that needs an explicit grant.
SENSITIVE_LABELS: frozenset[Label] = frozenset(
    {RESTRICTED, VERY_RESTRICTED} | {(ACT_CODE, code) for code in SENSITIVITY_CODES}
)


def security_labels(resource: Mapping[str, Any] | None) -> frozenset[Label]:
    """The (system, code) pairs of ``meta.security``; malformed entries are ignored."""
    if not isinstance(resource, dict):
        return frozenset()
    meta = resource.get("meta")
    codings = meta.get("security") if isinstance(meta, dict) else None
    return frozenset(_pairs(codings))


def _pairs(codings: object) -> Iterable[Label]:
    if not isinstance(codings, list):
        return
    for coding in codings:
        if isinstance(coding, dict):
            system, code = coding.get("system"), coding.get("code")
            if isinstance(system, str) and isinstance(code, str):
                yield (system, code)


def sensitive_labels(resource: Mapping[str, Any] | None) -> frozenset[Label]:
    """The labels of ``resource`` that need a grant (psychotherapy notes included)."""
    found = security_labels(resource) & SENSITIVE_LABELS
    if is_local_psychotherapy_note(resource):
        found |= {PSYCHOTHERAPY_NOTE}
    return found


def is_local_psychotherapy_note(resource: Mapping[str, Any] | None) -> bool:
    """True for a DocumentReference/Composition typed with the local psychotherapy-note code."""
    if not isinstance(resource, dict) or resource.get("resourceType") not in _NOTE_TYPES:
        return False
    note_type = resource.get("type")
    codings = note_type.get("coding") if isinstance(note_type, dict) else None
    return LOCAL_PSYCHOTHERAPY_TYPE in set(_pairs(codings))


def labels_to_add(resource: Mapping[str, Any]) -> list[dict[str, str]]:
    """``meta.security`` codings a write should add so search can see what the decision sees.

    Search filters on labels only (the ``_security`` index), so a psychotherapy note typed
    with the local code must also carry PSYTHPN before it is stored, and a result that is not
    final yet carries NOPAT (held for clinician review) until a clinician releases it.
    """
    present = security_labels(resource)
    added = []
    if is_local_psychotherapy_note(resource) and PSYCHOTHERAPY_NOTE not in present:
        added.append(
            {"system": ACT_CODE, "code": "PSYTHPN", "display": SENSITIVITY_CODES["PSYTHPN"]}
        )
    if is_unreleased(resource) and NO_PATIENT_DISCLOSURE not in present:
        added.append({"system": ACT_CODE, "code": "NOPAT", "display": NOPAT_DISPLAY})
    return added


def is_unreleased(resource: Mapping[str, Any]) -> bool:
    """True for a result or note whose status says it is not final yet."""
    rule = _UNRELEASED.get(str(resource.get("resourceType")))
    return rule is not None and resource.get(rule[0]) in rule[1]


def is_held_from_patient(resource: Mapping[str, Any] | None) -> bool:
    """True when the record carries NOPAT: the patient may not see it yet."""
    return NO_PATIENT_DISCLOSURE in security_labels(resource)


def hidden_labels(grants: frozenset[str]) -> frozenset[Label]:
    """The sensitive labels an actor holding ``grants`` may not see by default."""
    return frozenset(label for label in SENSITIVE_LABELS if grant_code(label) not in grants)


def grant_code(label: Label) -> str:
    """The code a grant names for ``label`` (grants name codes: "R", "HIV", "ETH"...)."""
    return label[1]


def label_name(label: Label) -> str:
    """A short human name for a label, for reasons: ``HIV (v3-ActCode)``."""
    system = label[0].rsplit("/", 1)[-1]
    return f"{label[1]} ({system})"
