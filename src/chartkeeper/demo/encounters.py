"""Encounter resources: class, type, period, participants, locations, diagnoses, hospitalization."""

from __future__ import annotations

from datetime import timedelta

from .catalog_misc import ENCOUNTER_TYPES
from .chart import Chart, VisitFacts
from .fhirdata import (
    ACT_CODE,
    PARTICIPATION,
    SNOMED,
    UCUM,
    Resource,
    coding,
    concept,
    dt,
    hl7_concept,
    ref,
)

CLASS_DISPLAY = {"AMB": "ambulatory", "EMER": "emergency", "IMP": "inpatient encounter"}
ADMIT_SOURCES = {
    "emd": "From accident/emergency department",
    "outp": "From outpatient department",
    "psych": "From psychiatric hospital",
    "gp": "General Practitioner referral",
}
DISCHARGE = {
    "home": "Home",
    "snf": "Skilled nursing facility",
    "rehab": "Rehabilitation",
    "exp": "Expired",
    "aadvice": "Left against advice",
    "psy": "Psychiatric hospital",
}


def _period(facts: VisitFacts) -> dict[str, str]:
    period = {"start": dt(facts.visit.start)}
    if facts.visit.end:
        period["end"] = dt(facts.visit.end)
    return period


def _participants(chart: Chart, facts: VisitFacts) -> list[Resource]:
    out = [
        {
            "type": [concept(PARTICIPATION, "ATND", "attender")],
            "period": _period(facts),
            "individual": ref("Practitioner", facts.clinician.id, facts.clinician.display),
        }
    ]
    s = facts.visit.scenario
    if s.klass == "IMP" and s.admit_source == "emd":
        ed_doc = chart.hospital.staff("emergency")[facts.visit.start.day % 3]
        out.append(
            {
                "type": [concept(PARTICIPATION, "ADM", "admitter")],
                "individual": ref("Practitioner", ed_doc.id, ed_doc.display),
            }
        )
    return out


def _locations(chart: Chart, facts: VisitFacts) -> list[Resource]:
    s, v, locs = facts.visit.scenario, facts.visit, chart.hospital.locations
    status = "completed" if v.end else "active"
    if s.klass != "IMP" or s.admit_source != "emd":
        return [
            {
                "location": ref("Location", locs[s.location]),
                "status": status,
                "period": _period(facts),
            }
        ]
    upstairs = min(v.start + timedelta(hours=3), max(v.start, chart.now - timedelta(minutes=30)))
    ward_period = {"start": dt(upstairs)} | ({"end": dt(v.end)} if v.end else {})
    return [
        {
            "location": ref("Location", locs["ed"]),
            "status": "completed",
            "period": {"start": dt(v.start), "end": dt(upstairs)},
        },
        {"location": ref("Location", locs[s.location]), "status": status, "period": ward_period},
    ]


def _diagnoses(chart: Chart, facts: VisitFacts) -> list[Resource]:
    klass = facts.visit.scenario.klass
    out = []
    if facts.reason:
        use = (
            ("DD", "Discharge diagnosis")
            if klass == "IMP" and facts.visit.end
            else (("AD", "Admission diagnosis") if klass == "IMP" else ("billing", "Billing"))
        )
        out.append(
            {
                "condition": ref("Condition", facts.reason.id),
                "use": hl7_concept("diagnosis-role", *use),
                "rank": 1,
            }
        )
    others = [p for p in chart.active_problems(facts.when) if p is not facts.reason]
    for rank, problem in enumerate(others[:5], start=2):
        out.append(
            {
                "condition": ref("Condition", problem.id),
                "use": hl7_concept("diagnosis-role", "CM", "Comorbidity diagnosis"),
                "rank": rank,
            }
        )
    return out


def _hospitalization(facts: VisitFacts) -> Resource:
    s = facts.visit.scenario
    out: Resource = {}
    if s.klass == "IMP":
        out["admitSource"] = hl7_concept(
            "admit-source", s.admit_source, ADMIT_SOURCES[s.admit_source]
        )
    if facts.visit.end:
        out["dischargeDisposition"] = hl7_concept(
            "discharge-disposition", facts.disposition, DISCHARGE[facts.disposition]
        )
    return out


def encounter_fields(chart: Chart, facts: VisitFacts) -> Resource:
    """Everything of the Encounter except its id, once the visit's content is known."""
    s, v = facts.visit.scenario, facts.visit
    out: Resource = {
        "status": "finished" if v.end else "in-progress",
        "class": coding(ACT_CODE, s.klass, CLASS_DISPLAY[s.klass]),
        "type": [concept(SNOMED, *ENCOUNTER_TYPES[s.enc_type])],
        "subject": chart.subject,
        "participant": _participants(chart, facts),
        "period": _period(facts),
    }
    if facts.reason:
        c = facts.reason.cond
        out["reasonCode"] = [concept(SNOMED, c.snomed, c.snomed_display, c.abbrev)]
        out["reasonReference"] = [ref("Condition", facts.reason.id)]
    diagnoses = _diagnoses(chart, facts)
    if diagnoses:
        out["diagnosis"] = diagnoses
    if s.klass == "IMP" and v.end:
        days = max((v.end.date() - v.start.date()).days, 1)
        out["length"] = {"value": days, "unit": "days", "system": UCUM, "code": "d"}
    hospitalization = _hospitalization(facts) if s.klass != "AMB" else {}
    if hospitalization:
        out["hospitalization"] = hospitalization
    out["location"] = _locations(chart, facts)
    out["serviceProvider"] = ref("Organization", chart.hospital.departments[s.department])
    return out
