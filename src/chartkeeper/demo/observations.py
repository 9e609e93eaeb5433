"""Vital-sign Observations following age, body size and conditions; code status."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from .catalog_obs import BP_PANEL, CODE_STATUS, DIASTOLIC, DNR, FULL_CODE, SYSTOLIC, VITALS
from .chart import Chart, VisitFacts
from .fhirdata import (
    LOINC,
    OBS_CATEGORY,
    SNOMED,
    Resource,
    coding,
    concept,
    dt,
    quantity,
    ref,
)

FEBRILE = {
    "pneumonia",
    "sepsis",
    "influenza",
    "covid",
    "cellulitis",
    "bronchiolitis",
    "otitis",
    "strep",
    "appendicitis",
    "sinusitis",
}
RESPIRATORY = {
    "pneumonia",
    "copd_exac",
    "asthma_exac",
    "chf",
    "pe",
    "bronchiolitis",
    "sepsis",
    "covid",
}


def _height(chart: Chart, when: date) -> float:
    years = (when - chart.person.birth).days / 365.25
    adult = chart.person.height_cm
    if years >= 18:
        return adult
    if years < 1:
        return 50 + 25 * years
    if years < 12:
        return 75 + 6.2 * (years - 1)
    return 143 + (adult - 143) * (years - 12) / 6


def _reason_keys(chart: Chart, facts: VisitFacts) -> set[str]:
    keys = {p.cond.key for p in chart.active_problems(facts.when)}
    if facts.visit.scenario.reason:
        keys.add(facts.visit.scenario.reason)
    return keys


def _heart(chart: Chart, age: int, keys: set[str]) -> float:
    base = 130 if age < 1 else 110 if age < 6 else 90 if age < 13 else 74
    base += 22 if keys & {"sepsis", "pe"} else 0
    base += 18 if "afib" in keys else 0
    base += 10 if keys & FEBRILE else 0
    return round(chart.rng.gauss(base, 8))


def _pressure(chart: Chart, age: int, keys: set[str]) -> tuple[float, float]:
    systolic = 95 + age if age < 18 else 108 + 0.35 * age
    systolic += 20 if "htn" in keys else 0
    systolic += 6 if "ckd" in keys else 0
    systolic -= 25 if "sepsis" in keys else 0
    systolic = round(chart.rng.gauss(systolic, 9))
    return systolic, round(systolic * 0.62 + chart.rng.gauss(0, 5))


def vital_values(chart: Chart, facts: VisitFacts, when: date) -> dict[str, float]:
    """Plausible vital signs for this patient on ``when``."""
    rng, age, keys = chart.rng, chart.person.age_on(when), _reason_keys(chart, facts)
    systolic, diastolic = _pressure(chart, age, keys)
    height = _height(chart, when)
    bmi = (
        chart.person.bmi
        if age >= 18
        else min(max(15.5 + 0.15 * age + (chart.person.bmi - 27) * 0.3, 13), 30)
    )
    weight = bmi * (height / 100) ** 2 * rng.gauss(1.0, 0.015)
    resp = 35 if age < 1 else 26 if age < 6 else 20 if age < 13 else 16
    spo2 = 98.0 - (5 if "copd" in keys else 0) - (6 if keys & RESPIRATORY else 0)
    return {
        "systolic": systolic,
        "diastolic": diastolic,
        "hr": _heart(chart, age, keys),
        "temp": round(rng.gauss(38.5 if keys & FEBRILE else 36.8, 0.3), 1),
        "rr": round(rng.gauss(resp + (7 if keys & RESPIRATORY else 0), 2)),
        "spo2": min(100, round(rng.gauss(spo2, 1.2))),
        "weight": round(weight, 1),
        "height": round(height, 1),
        "bmi": round(weight / (height / 100) ** 2, 1),
    }


def _vital(chart: Chart, facts: VisitFacts, code: tuple[str, str], when: datetime) -> Resource:
    return {
        "resourceType": "Observation",
        "status": "final",
        "category": [concept(OBS_CATEGORY, "vital-signs", "Vital Signs")],
        "code": concept(LOINC, *code, text=code[1]),
        "subject": chart.subject,
        "encounter": ref("Encounter", facts.encounter_id),
        "effectiveDateTime": dt(when),
        "issued": dt(when + timedelta(minutes=2)),
    }


def _bp(chart: Chart, facts: VisitFacts, values: dict[str, float], when: datetime) -> Resource:
    panel = _vital(chart, facts, BP_PANEL, when)
    panel["component"] = [
        {
            "code": concept(LOINC, *SYSTOLIC),
            "valueQuantity": quantity(values["systolic"], "mmHg", "mm[Hg]"),
        },
        {
            "code": concept(LOINC, *DIASTOLIC),
            "valueQuantity": quantity(values["diastolic"], "mmHg", "mm[Hg]"),
        },
    ]
    return panel


def _which(chart: Chart, facts: VisitFacts) -> list[str]:
    s, rng = facts.visit.scenario, chart.rng
    if s.klass != "AMB":
        return ["hr", "temp", "rr", "spo2"] + (["weight"] if rng.random() < 0.6 else [])
    keys = ["hr", "weight"]
    keys += [k for k, p in (("temp", 0.3), ("spo2", 0.2), ("rr", 0.1)) if rng.random() < p]
    if s.enc_type == "checkup" or chart.person.age_on(facts.when) < 18:
        keys += ["height", "bmi"]
    return keys


def record_vitals(chart: Chart, facts: VisitFacts, when: datetime, keys: list[str]) -> None:
    """A blood-pressure panel plus the listed vitals, taken at ``when``."""
    values = vital_values(chart, facts, when.date())
    facts.vitals.update(values)
    chart.add(_bp(chart, facts, values, when))
    for key in keys:
        v = VITALS[key]
        obs = _vital(chart, facts, (v.loinc, v.display), when)
        obs["valueQuantity"] = quantity(values[key], v.unit, v.ucum)
        chart.add(obs)


def visit_vitals(chart: Chart, facts: VisitFacts) -> None:
    """Triage or rooming vitals, and for a finished stay a last set before discharge."""
    start = facts.visit.start + timedelta(minutes=chart.rng.randint(3, 15))
    record_vitals(chart, facts, start, _which(chart, facts))
    end = facts.visit.end
    if facts.visit.scenario.klass == "IMP" and end is not None:
        first = dict(facts.vitals)
        record_vitals(chart, facts, end - timedelta(hours=3), ["hr", "temp"])
        facts.vitals.update({f"adm_{k}": v for k, v in first.items()})


def record_code_status(chart: Chart, facts: VisitFacts) -> None:
    """The CPR order written at admission (see catalog_obs.CODE_STATUS for the coding choice)."""
    age = chart.person.age_on(facts.when)
    chance = 0.8 if facts.visit.expired else 0.4 if age >= 80 else 0.15 if age >= 65 else 0.02
    chart.dnr = chart.dnr or chart.rng.random() < chance
    (loinc_code, loinc_display), (sct_code, sct_display), text = DNR if chart.dnr else FULL_CODE
    chart.add(
        {
            "resourceType": "Observation",
            "status": "final",
            "code": concept(LOINC, *CODE_STATUS),
            "subject": chart.subject,
            "encounter": ref("Encounter", facts.encounter_id),
            "effectiveDateTime": dt(facts.visit.start + timedelta(minutes=45)),
            "performer": [ref("Practitioner", facts.clinician.id, facts.clinician.display)],
            "valueCodeableConcept": {
                "coding": [
                    coding(LOINC, loinc_code, loinc_display),
                    coding(SNOMED, sct_code, sct_display),
                ],
                "text": text,
            },
        }
    )
