"""MedicationRequest resources with free-text sig and structured dosage."""

from __future__ import annotations

from datetime import datetime, timedelta

from .catalog_meds import MEDS, ROUTES, MedDef
from .chart import ActiveMed, Chart, Problem, VisitFacts
from .fhirdata import RXNORM, SNOMED, UCUM, Resource, concept, dt, hl7_concept, quantity, ref


def short_sig(med: MedDef) -> str:
    """``lisinopril 10 mg PO daily``: the name plus the sig without a leading one-unit count."""
    sig = med.sig
    for prefix in ("1 tab ", "1 cap ", "1 spray "):
        sig = sig.removeprefix(prefix)
    return f"{med.name} {sig}"


def single_dose(med: MedDef) -> str:
    """``ondansetron 4 mg IV x1``: one dose as given, from the sig up to its route."""
    words = short_sig(med).split()
    route = ROUTES[med.route][2]
    cut = next((i for i, w in enumerate(words) if w in (route, "NEB")), len(words) - 1)
    return " ".join(words[: cut + 1]) + " x1"


def dosage(med: MedDef) -> Resource:
    """Dosage with the prescriber's text and its structured timing, route and dose."""
    repeat: Resource = {
        "frequency": med.frequency,
        "period": med.period,
        "periodUnit": med.period_unit,
    }
    if med.course_days:
        repeat["boundsDuration"] = {
            "value": med.course_days,
            "unit": "days",
            "system": UCUM,
            "code": "d",
        }
    code, display, _ = ROUTES[med.route]
    out: Resource = {
        "text": med.sig,
        "timing": {"repeat": repeat},
        "route": concept(SNOMED, code, display),
    }
    if med.prn:
        out["asNeededCodeableConcept"] = {"text": med.prn}
    if med.dose is not None:
        out["doseAndRate"] = [
            {
                "type": hl7_concept("dose-rate-type", "ordered", "Ordered"),
                "doseQuantity": quantity(med.dose, med.dose_unit, med.dose_ucum),
            }
        ]
    return out


def _request(
    chart: Chart,
    med: MedDef,
    facts: VisitFacts,
    category: str,
    status: str,
    reason: Problem | None,
    authored: datetime | None = None,
) -> Resource:
    when = authored or facts.visit.start + timedelta(minutes=chart.rng.randint(5, 60))
    resource: Resource = {
        "resourceType": "MedicationRequest",
        "status": status,
        "intent": "order",
        "category": [hl7_concept("medicationrequest-category", category, category.capitalize())],
        "medicationCodeableConcept": concept(RXNORM, med.rxnorm, med.display, med.name),
        "subject": chart.subject,
        "encounter": ref("Encounter", facts.encounter_id),
        "authoredOn": dt(when),
        "requester": ref("Practitioner", facts.clinician.id, facts.clinician.display),
        "dosageInstruction": [dosage(med)],
    }
    if reason:
        resource["reasonReference"] = [ref("Condition", reason.id)]
    if category == "community" and med.course_days is None:
        resource["dispenseRequest"] = {
            "numberOfRepeatsAllowed": 5,
            "expectedSupplyDuration": {"value": 30, "unit": "days", "system": UCUM, "code": "d"},
        }
    chart.add(resource)
    return resource


def _course_status(chart: Chart, med: MedDef, facts: VisitFacts) -> str:
    end = facts.visit.end
    if end is None:
        return "active"
    if facts.visit.expired:
        return "stopped"
    finish: datetime = end + timedelta(days=med.course_days or 0)
    return "completed" if finish < chart.now else "active"


def ed_given(med: MedDef) -> bool:
    """Doses given in the ED itself rather than prescribed for home."""
    return med.route in ("IV", "IM") or med.key == "albuterol_neb" or med.course_days is None


def _continue_at_home(
    chart: Chart,
    med: MedDef,
    facts: VisitFacts,
    authored: datetime | None = None,
    reason: Problem | None = None,
    new: bool = True,
) -> None:
    """A maintenance prescription, unless the patient already has one for this drug."""
    if med.key in chart.meds:
        return
    when = authored or facts.visit.start + timedelta(minutes=chart.rng.randint(5, 60))
    resource = _request(chart, med, facts, "community", "active", reason or facts.reason, when)
    chart.meds[med.key] = ActiveMed(med, resource, when)
    if new:
        facts.started.append(med)


def start_chronic_meds(
    chart: Chart, problem: Problem, facts: VisitFacts, established: bool = False
) -> None:
    """Home medications for a newly listed chronic problem (one, sometimes two).

    For a problem diagnosed long before this visit the drugs are the patient's existing home
    medications, reconciled and re-ordered here, so notes list them as home meds."""
    for key in problem.cond.meds[: 2 if chart.rng.random() < 0.35 else 1]:
        _continue_at_home(chart, MEDS[key], facts, reason=problem, new=not established)


def start_visit_meds(chart: Chart, facts: VisitFacts) -> None:
    """The scenario's orders: inpatient/ED doses, acute courses, new maintenance drugs."""
    s = facts.visit.scenario
    for key in s.meds:
        med = MEDS[key]
        if s.klass == "IMP":
            status = _course_status(chart, med, facts)
            _request(chart, med, facts, "inpatient", status, facts.reason)
            facts.started.append(med)
            if med.course_days is None and facts.visit.end and not facts.visit.expired:
                _continue_at_home(chart, med, facts, facts.visit.end, new=False)
        elif s.klass == "EMER" and ed_given(med):
            _request(chart, med, facts, "outpatient", "completed", facts.reason)
            facts.given.append(med)
        elif med.course_days is None:
            _continue_at_home(chart, med, facts)
        else:
            _request(
                chart, med, facts, "community", _course_status(chart, med, facts), facts.reason
            )
            facts.started.append(med)


def start_named_med(chart: Chart, facts: VisitFacts, key: str) -> None:
    """Prescribe one home medication by key unless the patient already takes it."""
    _continue_at_home(chart, MEDS[key], facts)


def stop_all(chart: Chart) -> None:
    """A deceased patient's remaining orders are stopped."""
    for resource in chart.resources:
        if resource["resourceType"] == "MedicationRequest" and resource["status"] == "active":
            resource["status"] = "stopped"
