"""AllergyIntolerance, Immunization and Procedure resources."""

from __future__ import annotations

from datetime import date, timedelta

from .catalog_misc import (
    ALLERGIES,
    CHILD_SCHEDULE,
    NO_KNOWN_ALLERGY,
    NO_KNOWN_DRUG_ALLERGY,
    PROCEDURES,
    REACTIONS,
    VACCINES,
    AllergyDef,
)
from .chart import Chart, VisitFacts
from .fhirdata import CVX, SNOMED, Resource, concept, dt, hl7_concept, ref
from .medications import start_named_med

SURGERIES = {"appendectomy", "lap_chole", "tka", "tha", "pci"}


def _allergy(chart: Chart, facts: VisitFacts, code: Resource) -> Resource:
    return {
        "resourceType": "AllergyIntolerance",
        "clinicalStatus": hl7_concept("allergyintolerance-clinical", "active", "Active"),
        "verificationStatus": hl7_concept(
            "allergyintolerance-verification", "confirmed", "Confirmed"
        ),
        "code": code,
        "patient": chart.subject,
        "encounter": ref("Encounter", facts.encounter_id),
        "recordedDate": dt(facts.visit.start),
        "recorder": ref("Practitioner", facts.clinician.id, facts.clinician.display),
    }


def _listed(chart: Chart, facts: VisitFacts, allergen: AllergyDef, reaction: str) -> None:
    code, display, _, severity = REACTIONS[reaction]
    resource = _allergy(
        chart, facts, concept(SNOMED, allergen.snomed, allergen.display, allergen.short)
    )
    resource["type"] = "intolerance" if reaction in ("nausea", "vomiting") else "allergy"
    resource["category"] = [allergen.category]
    resource["criticality"] = "high" if severity == "severe" else "low"
    resource["reaction"] = [
        {"manifestation": [concept(SNOMED, code, display)], "severity": severity}
    ]
    chart.add(resource)
    chart.allergies.append((allergen, reaction))


def record_allergies(chart: Chart, facts: VisitFacts) -> None:
    """At the first visit: one or two allergies, NKDA, or (for some) nothing asked."""
    chart.allergies_asked = chart.allergies_recorded = True
    roll = chart.rng.random()
    if roll < 0.12:
        chart.allergies_recorded = False
        return
    if roll < 0.62:
        nka = chart.rng.random() < 0.25  # no allergies of any kind, not only to drugs
        chart.no_allergy_text = "NKA" if nka else "NKDA"
        code = NO_KNOWN_ALLERGY if nka else NO_KNOWN_DRUG_ALLERGY
        chart.add(_allergy(chart, facts, concept(SNOMED, *code, chart.no_allergy_text)))
        return
    picks = chart.rng.choices(
        ALLERGIES, weights=[a.weight for a in ALLERGIES], k=chart.rng.choice((1, 1, 2))
    )
    for allergen in dict.fromkeys(picks):
        _listed(chart, facts, allergen, chart.rng.choice(allergen.reactions))
    if any(r == "anaphylaxis" for _, r in chart.allergies):
        start_named_med(chart, facts, "epinephrine_autoinjector")


def _immunize(chart: Chart, facts: VisitFacts, key: str) -> None:
    code, display = VACCINES[key]
    chart.add(
        {
            "resourceType": "Immunization",
            "status": "completed",
            "vaccineCode": concept(CVX, code, display),
            "patient": chart.subject,
            "encounter": ref("Encounter", facts.encounter_id),
            "occurrenceDateTime": dt(facts.visit.start + timedelta(minutes=25)),
            "primarySource": True,
            "lotNumber": f"DEMO{chart.rng.randint(1000, 9999)}",
            "performer": [{"actor": ref("Practitioner", facts.clinician.id)}],
        }
    )
    chart.vaccines[key] = facts.when
    facts.vaccines.append(key)


def _due(chart: Chart, when: date) -> list[str]:
    age = chart.person.age_on(when)
    months = (when - chart.person.birth).days // 30
    if age < 18:
        # earlier doses are assumed given before the family came to this hospital
        return [k for k, m in CHILD_SCHEDULE if 0 <= months - m < 18 and k not in chart.vaccines][
            :4
        ]
    due = []
    if "tdap" not in chart.vaccines and chart.rng.random() < 0.3:
        due.append("tdap")
    if age >= 50 and "zoster" not in chart.vaccines and chart.rng.random() < 0.4:
        due.append("zoster")
    if age >= 65 and "ppsv23" not in chart.vaccines and chart.rng.random() < 0.5:
        due.append("ppsv23")
    return due


def give_vaccines(chart: Chart, facts: VisitFacts) -> None:
    """Flu shots in season at any clinic visit; due vaccines at check-ups; COVID in 2021-22."""
    when = facts.when
    season = when.year if when.month >= 8 else when.year - 1
    last_flu = chart.vaccines.get("flu")
    flu_season = when.month in (9, 10, 11, 12, 1)
    if (
        flu_season
        and (last_flu is None or last_flu < date(season, 8, 1))
        and (chart.person.age_on(when) >= 1 and chart.rng.random() < 0.6)
    ):
        _immunize(chart, facts, "flu" if when.year >= 2014 else "flu_trivalent")
    if facts.visit.scenario.enc_type == "checkup":
        for key in _due(chart, when):
            _immunize(chart, facts, key)
    covid_era = date(2021, 1, 1) <= when <= date(2022, 12, 31)
    if (
        covid_era
        and "covid" not in chart.vaccines
        and chart.person.age_on(when) >= 12
        and (chart.rng.random() < 0.5)
    ):
        _immunize(chart, facts, "covid")


def record_procedure(chart: Chart, facts: VisitFacts, key: str) -> None:
    """A completed procedure done during the visit."""
    code, display, short = PROCEDURES[key]
    start = facts.visit.start + timedelta(
        hours=chart.rng.randint(1, 20) if facts.visit.scenario.klass == "IMP" else 0,
        minutes=chart.rng.randint(10, 50),
    )
    performer = facts.clinician
    if key == "physical_therapy":
        performer = chart.hospital.staff("rehabilitation")[0]
    resource: Resource = {
        "resourceType": "Procedure",
        "status": "completed",
        "code": concept(SNOMED, code, display, short),
        "subject": chart.subject,
        "encounter": ref("Encounter", facts.encounter_id),
        "performedDateTime": dt(min(start, chart.now - timedelta(minutes=10))),
        "performer": [{"actor": ref("Practitioner", performer.id, performer.display)}],
        "location": ref("Location", chart.hospital.locations[facts.visit.scenario.location]),
    }
    if facts.reason:
        resource["reasonReference"] = [ref("Condition", facts.reason.id)]
    chart.add(resource)
    facts.procedures.append(key)
    if key in SURGERIES:
        chart.surgeries.append((short, facts.when))
