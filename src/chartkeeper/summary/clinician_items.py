"""The clinical lists of the clinician summary: problems, medications, allergies, encounters,
procedures and immunizations, each item linked to its source resource, author and date."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from chartkeeper.summary.chart_elements import (
    Json,
    any_codes,
    author_of,
    code_of,
    codes,
    concept_text,
    date_of,
    dicts,
    instant,
    local_reference,
    references,
)

#: http://hl7.org/fhir/R4/valueset-condition-clinical.html: the statuses of a live problem.
ACTIVE_PROBLEM = {"active", "recurrence", "relapse"}
#: Verification statuses that take a record off the summary.
DISPROVED = {"entered-in-error", "refuted"}
ACTIVE_MEDICATION = {"MedicationRequest": {"active", "on-hold"}, "MedicationStatement": {"active"}}
RECENT_ENCOUNTERS = 10
CRITICALITY_ORDER = {"high": 0, "unable-to-assess": 1, "low": 2}


@dataclass(frozen=True)
class Entry:
    """One item of the summary, linked to its source resource, with its author and date."""

    reference: str
    title: str
    date: str
    author: str
    status: str = ""
    detail: str = ""


@dataclass(frozen=True)
class Problem:
    """An active problem: since when, and when a clinician last dealt with it (and where)."""

    reference: str
    title: str
    date: str
    author: str
    status: str
    onset: str
    last_addressed: str
    last_addressed_by: str


@dataclass(frozen=True)
class Medication:
    """An active medication order or statement and how it is taken."""

    reference: str
    title: str
    date: str
    author: str
    status: str
    dosage: str


@dataclass(frozen=True)
class Allergy:
    """An allergy or intolerance, its criticality and the reactions seen."""

    reference: str
    title: str
    date: str
    author: str
    status: str
    criticality: str
    reactions: list[str] = field(default_factory=list)


def reference_of(resource: Json) -> str:
    """``Type/id`` of a resource."""
    return f"{resource.get('resourceType')}/{resource.get('id')}"


def newest_first(items: list[Any]) -> list[Any]:
    """Items sorted by their ``date``, newest first (undated last)."""
    return sorted(items, key=lambda item: instant(item.date), reverse=True)


def is_disproved(resource: Json) -> bool:
    """Entered in error or refuted: not part of the patient's story."""
    return bool(codes(resource.get("verificationStatus")) & DISPROVED) or (
        code_of(resource, "status") == "entered-in-error"
    )


def _addressing_references(resource: Json) -> set[str]:
    """The Conditions a resource deals with: its reasons, and an Encounter's diagnoses."""
    found = references(resource.get("reasonReference"))
    if resource.get("resourceType") == "Encounter":
        found |= {local_reference(d.get("condition")) for d in dicts(resource.get("diagnosis"))}
    return {ref for ref in found if ref.startswith("Condition/")}


def last_addressed(resources: list[Json]) -> dict[str, tuple[str, str]]:
    """``Condition/id`` → (date, reference) of the newest resource that dealt with it: an
    Encounter naming it as diagnosis or reason, or anything giving it as ``reasonReference``."""
    latest: dict[str, tuple[str, str]] = {}
    for resource in resources:
        if resource.get("resourceType") == "Condition" or is_disproved(resource):
            continue
        date = date_of(resource)
        if not date:
            continue
        for condition in _addressing_references(resource):
            known = latest.get(condition)
            if known is None or instant(date) > instant(known[0]):
                latest[condition] = (date, reference_of(resource))
    return latest


def _onset(condition: Json) -> str:
    if isinstance(condition.get("onsetDateTime"), str):
        return str(condition["onsetDateTime"])
    period = condition.get("onsetPeriod")
    if isinstance(period, dict) and isinstance(period.get("start"), str):
        return str(period["start"])
    age = condition.get("onsetAge")
    if isinstance(age, dict) and "value" in age:
        return f"age {age['value']} {age.get('unit', '')}".strip()
    return str(condition.get("onsetString") or "")


def active_problems(
    conditions: list[Json], addressed: dict[str, tuple[str, str]], names: dict[str, str]
) -> list[Problem]:
    """Active, recurring or relapsed Conditions, the most recently addressed first."""
    problems = []
    for condition in conditions:
        status = codes(condition.get("clinicalStatus"))
        if not status & ACTIVE_PROBLEM or is_disproved(condition):
            continue
        reference = reference_of(condition)
        recorded = date_of(condition)
        when, where = addressed.get(reference, (recorded, reference))
        problems.append(
            Problem(
                reference=reference,
                title=concept_text(condition.get("code")),
                date=recorded,
                author=author_of(condition, names),
                status=concept_text(condition.get("clinicalStatus")),
                onset=_onset(condition),
                last_addressed=when,
                last_addressed_by=where,
            )
        )
    problems.sort(key=lambda p: (instant(p.last_addressed), instant(p.date)), reverse=True)
    return problems


def _medication_name(resource: Json) -> str:
    if resource.get("medicationCodeableConcept"):
        return concept_text(resource["medicationCodeableConcept"])
    reference = resource.get("medicationReference")
    if isinstance(reference, dict):
        return str(reference.get("display") or local_reference(reference))
    return ""


def _dosage(resource: Json) -> str:
    dosages = dicts(resource.get("dosageInstruction") or resource.get("dosage"))
    texts = [str(d["text"]) for d in dosages if d.get("text")]
    return "; ".join(texts)


def active_medications(resources: list[Json], names: dict[str, str]) -> list[Medication]:
    """Active or held MedicationRequests and active MedicationStatements, newest first."""
    found = [
        Medication(
            reference=reference_of(resource),
            title=_medication_name(resource),
            date=date_of(resource),
            author=author_of(resource, names),
            status=code_of(resource, "status"),
            dosage=_dosage(resource),
        )
        for resource in resources
        if code_of(resource, "status")
        in ACTIVE_MEDICATION.get(str(resource.get("resourceType")), ())
    ]
    return newest_first(found)


def _reactions(allergy: Json) -> list[str]:
    found = []
    for reaction in dicts(allergy.get("reaction")):
        shown = ", ".join(concept_text(m) for m in dicts(reaction.get("manifestation")))
        severity = code_of(reaction, "severity")
        found.append(f"{shown} ({severity})" if severity and shown else shown)
    return [text for text in found if text]


def allergies(resources: list[Json], names: dict[str, str]) -> list[Allergy]:
    """Allergies and intolerances not resolved or disproved: high criticality first, then
    the newest."""
    found = [
        Allergy(
            reference=reference_of(resource),
            title=concept_text(resource.get("code")),
            date=date_of(resource),
            author=author_of(resource, names),
            status=concept_text(resource.get("clinicalStatus")),
            criticality=code_of(resource, "criticality"),
            reactions=_reactions(resource),
        )
        for resource in resources
        if not is_disproved(resource)
        and not codes(resource.get("clinicalStatus")) & {"inactive", "resolved"}
    ]
    found = newest_first(found)
    found.sort(key=lambda a: CRITICALITY_ORDER.get(a.criticality, 1))
    return found


def _encounter_title(encounter: Json) -> str:
    types = ", ".join(t for t in (concept_text(c) for c in dicts(encounter.get("type"))) if t)
    klass = encounter.get("class") if isinstance(encounter.get("class"), dict) else {}
    return types or concept_text(klass)


def entries(resources: list[Json], names: dict[str, str]) -> list[Entry]:
    """Encounters, procedures or immunizations as summary entries, newest first."""
    found = []
    for resource in resources:
        if is_disproved(resource):
            continue
        kind = resource.get("resourceType")
        if kind == "Encounter":
            title, detail = _encounter_title(resource), _reasons(resource)
        elif kind == "Immunization":
            title, detail = concept_text(resource.get("vaccineCode")), ""
        else:
            title, detail = concept_text(resource.get("code")), _reasons(resource)
        found.append(
            Entry(
                reference=reference_of(resource),
                title=title,
                date=date_of(resource),
                author=author_of(resource, names),
                status=code_of(resource, "status"),
                detail=detail,
            )
        )
    return newest_first(found)


def _reasons(resource: Json) -> str:
    texts = [concept_text(c) for c in dicts(resource.get("reasonCode"))]
    return ", ".join(t for t in texts if t)


def has_code(resource: Json, element: str, wanted: set[str]) -> bool:
    """Whether a CodeableConcept (or list of them) of ``resource`` carries a wanted code."""
    return bool(any_codes(resource.get(element)) & wanted)
