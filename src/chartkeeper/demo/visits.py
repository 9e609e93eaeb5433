"""Runs one visit: picks the clinician, then records problems, vitals, labs, orders and notes."""

from __future__ import annotations

from datetime import date

from .catalog import CONDITIONS
from .chart import Chart, Problem, Visit, VisitFacts
from .clinical import give_vaccines, record_allergies, record_procedure
from .conditions import record_diagnosis, record_problem
from .encounters import encounter_fields
from .hospital import Clinician
from .labs import order_panel
from .medications import start_chronic_meds, start_visit_meds
from .notes import write_notes
from .observations import record_code_status, visit_vitals

FOLLOWUPS = {"chronic_followup", "peds_followup", "cardiology_clinic", "bh_visit", "pt_visit"}


def _attending(chart: Chart, visit: Visit) -> Clinician:
    dept = visit.scenario.department
    pcp = chart.person.pcp
    if pcp.department == dept and chart.rng.random() < 0.8:
        return pcp
    return chart.rng.choice(chart.hospital.staff(dept))


def _list_known_problems(chart: Chart, onsets: dict[str, date], facts: VisitFacts) -> None:
    """Chronic conditions that began by this visit go on the problem list, with their meds."""
    for key, onset in onsets.items():
        if key not in chart.problems and onset <= facts.when:
            problem = record_problem(chart, key, onset, facts)
            established = (facts.when - onset).days > 60
            start_chronic_meds(chart, problem, facts, established)


def _reason(chart: Chart, facts: VisitFacts) -> Problem | None:
    s = facts.visit.scenario
    if s.key in FOLLOWUPS:
        matching = [chart.problems[k] for k in s.requires if k in chart.problems]
        return chart.rng.choice(matching) if matching else None
    if s.reason is None:
        return None
    if CONDITIONS[s.reason].chronic:
        return chart.problems.get(s.reason) or record_problem(chart, s.reason, facts.when, facts)
    return record_diagnosis(chart, s.reason, facts)


def _panels(chart: Chart, facts: VisitFacts) -> list[str]:
    s = facts.visit.scenario
    panels = list(s.labs)
    if s.key == "wellness" and chart.rng.random() < 0.4:
        panels = []
    if s.key in FOLLOWUPS:
        for problem in chart.active_problems(facts.when):
            if s.key == "chronic_followup" or problem.cond.key in s.requires:
                panels += [p for p in problem.cond.labs if chart.rng.random() < 0.5]
    return list(dict.fromkeys(panels))


def _disposition(chart: Chart, facts: VisitFacts) -> str:
    s, age, roll = facts.visit.scenario, chart.person.age_on(facts.when), chart.rng.random()
    if facts.visit.expired:
        return "exp"
    if s.key == "imp_hip_fx" or (s.klass == "IMP" and age >= 80 and roll < 0.3):
        return "snf"
    if s.key == "imp_stroke" and roll < 0.5:
        return "rehab"
    return "aadvice" if s.klass != "AMB" and roll > 0.98 else "home"


def run_visit(chart: Chart, visit: Visit, onsets: dict[str, date]) -> VisitFacts:
    """Generate every resource of one visit, Encounter first."""
    encounter = chart.open("Encounter")
    facts = VisitFacts(visit, encounter["id"], _attending(chart, visit))
    _list_known_problems(chart, onsets, facts)
    if not chart.allergies_asked:
        record_allergies(chart, facts)
    facts.reason = _reason(chart, facts)
    for key in visit.scenario.adds:
        if key not in chart.problems:
            start_chronic_meds(chart, record_problem(chart, key, facts.when, facts), facts)
    visit_vitals(chart, facts)
    for panel in _panels(chart, facts):
        order_panel(chart, facts, panel)
    start_visit_meds(chart, facts)
    for key in visit.scenario.procedures:
        record_procedure(chart, facts, key)
    if visit.scenario.klass == "AMB":
        give_vaccines(chart, facts)
    if visit.scenario.klass == "IMP":
        record_code_status(chart, facts)
    facts.disposition = _disposition(chart, facts)
    encounter.update(encounter_fields(chart, facts))
    write_notes(chart, facts)
    return facts
