"""Condition resources: chronic problems when first known, and each visit's diagnosis."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from .catalog import CONDITIONS, ConditionDef
from .chart import Chart, Problem, VisitFacts
from .fhirdata import ICD10CM, SNOMED, Resource, coding, day, dt, hl7_concept, ref


def condition_code(c: ConditionDef) -> Resource:
    """CodeableConcept with both the ICD-10-CM and the SNOMED CT coding."""
    text = c.snomed_display.rsplit(" (", 1)[0]
    return {
        "coding": [
            coding(ICD10CM, c.icd10, c.icd10_display),
            coding(SNOMED, c.snomed, c.snomed_display),
        ],
        "text": text,
    }


def _condition(
    chart: Chart,
    c: ConditionDef,
    facts: VisitFacts,
    onset: date | datetime,
    resolved: datetime | None,
) -> Resource:
    category = (
        ("problem-list-item", "Problem List Item")
        if c.chronic
        else ("encounter-diagnosis", "Encounter Diagnosis")
    )
    in_progress = facts.visit.end is None and not c.chronic
    resource: Resource = {
        "resourceType": "Condition",
        "clinicalStatus": hl7_concept(
            "condition-clinical", *(("resolved", "Resolved") if resolved else ("active", "Active"))
        ),
        "verificationStatus": hl7_concept(
            "condition-ver-status",
            *(("provisional", "Provisional") if in_progress else ("confirmed", "Confirmed")),
        ),
        "category": [hl7_concept("condition-category", *category)],
        "code": condition_code(c),
        "subject": chart.subject,
        "encounter": ref("Encounter", facts.encounter_id),
        "onsetDateTime": dt(onset) if isinstance(onset, datetime) else day(onset),
        "recordedDate": dt(facts.visit.start),
        "recorder": ref("Practitioner", facts.clinician.id, facts.clinician.display),
    }
    if resolved:
        resource["abatementDateTime"] = dt(resolved)
    return resource


def record_problem(chart: Chart, key: str, onset: date, facts: VisitFacts) -> Problem:
    """Put a chronic condition on the problem list at this visit."""
    c = CONDITIONS[key]
    problem = Problem(c, chart.add(_condition(chart, c, facts, onset, None)), onset)
    chart.problems[key] = problem
    return problem


def record_diagnosis(chart: Chart, key: str, facts: VisitFacts) -> Problem:
    """The acute diagnosis made at this visit; resolved a few days after if that is past."""
    c = CONDITIONS[key]
    end = facts.visit.end
    resolved = None
    if end is not None and not facts.visit.expired:
        candidate = end + timedelta(days=chart.rng.randint(3, 14))
        resolved = candidate if candidate < chart.now else None
    onset = facts.visit.start - timedelta(days=chart.rng.randint(0, 4))
    problem = Problem(
        c, chart.add(_condition(chart, c, facts, onset, resolved)), facts.visit.start.date()
    )
    chart.problems[f"{key}@{facts.encounter_id}"] = problem
    return problem
