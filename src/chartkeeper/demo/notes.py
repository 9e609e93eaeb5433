"""Clinical notes as DocumentReferences: ED notes, H&Ps, progress notes and discharge summaries."""

from __future__ import annotations

import base64
from datetime import datetime, timedelta

from .catalog_misc import NOTE_TYPES, PROCEDURES
from .chart import Chart, VisitFacts
from .clinicnotes import clinic_note
from .fhirdata import LOINC, Resource, concept, dt, ref
from .hospital import Clinician
from .medications import short_sig, single_dose
from .notephrase_types import Phrases
from .notephrases import PHRASES
from .notetext import (
    allergy_line,
    denies_line,
    exam_block,
    fhx_line,
    fill,
    header,
    intro,
    labs_line,
    meds_line,
    psh,
    shx_line,
    signature,
    us_date,
    vitals_line,
)

NOTE_CATEGORY = "http://hl7.org/fhir/us/core/CodeSystem/us-core-documentreference-category"
DISPOSITIONS = {
    "home": "home",
    "snf": "SNF for rehab",
    "rehab": "acute rehab",
    "exp": "expired",
    "psy": "inpatient psych",
}


def _history(chart: Chart, facts: VisitFacts, ph: Phrases) -> str:
    rng = chart.rng
    positives = ", ".join(
        fill(h, chart, facts, ph) for h in rng.sample(ph.hpi, min(3, len(ph.hpi)))
    )
    return (
        f"CC: {fill(ph.complaint, chart, facts, ph)}\n"
        f"HPI: {intro(chart, facts)} who p/w {fill(ph.complaint, chart, facts, ph)}. "
        f"{positives}. {denies_line(rng, ph.denies)}\n"
        f"PMH: {', '.join(p.cond.abbrev for p in chart.active_problems(facts.when)) or 'none'}"
        f"\nPSH: {psh(chart, facts.when)}\n"
        f"Meds: {meds_line(chart, facts)}\nAllergies: {allergy_line(chart)}\n"
        f"FHx: {fhx_line(chart)}\nSHx: {shx_line(chart, facts.when)}\n"
    )


def _orders(facts: VisitFacts) -> list[str]:
    meds = [f"start {short_sig(m)}" for m in facts.started]
    meds += [f"given {single_dose(m)}" for m in facts.given]
    procs = [PROCEDURES[k][2] for k in facts.procedures if k != "physical_therapy"]
    return list(dict.fromkeys(meds + procs))


def _plan(chart: Chart, facts: VisitFacts, ph: Phrases) -> str:
    items = [fill(p, chart, facts, ph) for p in ph.plan]
    written = " ".join(items).lower()
    items += [o for o in _orders(facts) if o.lower() not in written]
    return "\n".join(f"- {item}" for item in items)


def ed_note(chart: Chart, facts: VisitFacts) -> str:
    """Emergency department note."""
    ph = PHRASES[facts.visit.scenario.key]
    dispo = "admit" if facts.disposition == "admit" else "d/c home w/ return precautions"
    course = fill(ph.course, chart, facts, ph) if ph.course else "Sx improved w/ tx in ED."
    return (
        header(chart, "EMERGENCY DEPARTMENT NOTE", facts)
        + _history(chart, facts, ph)
        + f"ROS: otherwise neg x10\nPE:\nVS: {vitals_line(facts)}\n"
        + exam_block(chart, facts, ph)
        + "\n"
        + (f"Labs: {labs_line(facts)}\n" if facts.labs else "")
        + f"MDM/A&P: {fill(ph.assessment, chart, facts, ph)}\n{_plan(chart, facts, ph)}\n"
        + f"ED course: {course}\nDispo: {dispo}. f/u w/ PCP {chart.person.pcp.short}."
    )


def history_and_physical(chart: Chart, facts: VisitFacts) -> str:
    """Admission H&P."""
    ph = PHRASES[facts.visit.scenario.key]
    prefix = "adm_" if "adm_systolic" in facts.vitals else ""
    chronic = [p.cond.abbrev for p in chart.active_problems(facts.when)][:4]
    home = "cont home meds" if chart.meds else "no home meds"
    return (
        header(chart, "HISTORY AND PHYSICAL", facts)
        + _history(chart, facts, ph)
        + f"ROS: as per HPI, otherwise neg\nPE:\nVS: {vitals_line(facts, prefix)}\n"
        + exam_block(chart, facts, ph)
        + "\n"
        + (f"Labs: {labs_line(facts)}\n" if facts.labs else "")
        + f"A/P: {facts.clinician.patient_word} is a {chart.person.age_text(facts.when)} "
        + f"admitted w/ {fill(ph.assessment, chart, facts, ph)}.\n{_plan(chart, facts, ph)}\n"
        + "".join(f"- {c}: stable, {home}\n" for c in chronic)
        + f"FEN: {'NPO' if facts.procedures else 'regular diet'}. "
        + "DVT ppx. Code status: "
        + ("DNR" if chart.dnr else "Full code")
        + "."
    )


def progress_note(chart: Chart, facts: VisitFacts, hospital_day: int) -> str:
    """Daily inpatient progress note."""
    ph = PHRASES[facts.visit.scenario.key]
    who = facts.clinician.patient_word
    feeling = chart.rng.choice(
        ("feels better", "reports improvement", "c/o fatigue", "slept poorly, otherwise ok")
    )
    pt_line = chart.rng.choice(
        (
            "PT/OT eval today.",
            "PT recommends home w/ home PT.",
            "Working w/ PT, ambulating in hallway.",
            "Tolerating diet.",
        )
    )
    return (
        header(chart, f"PROGRESS NOTE - HD#{hospital_day}", facts)
        + f"S: NAEON. {who} {feeling}. {denies_line(chart.rng, ph.denies)}\n"
        + f"O: VS: {vitals_line(facts)}\n"
        + exam_block(chart, facts, ph)
        + "\n"
        + f"A/P: {fill(ph.assessment, chart, facts, ph)} - improving.\n"
        + f"- cont current mgmt. {pt_line}\n- Dispo: anticipate d/c in 1-2d."
    )


def _death_course(chart: Chart, facts: VisitFacts, course: str) -> str:
    end = facts.visit.end or facts.visit.start
    return (
        f"{course.split('.')[0]}. Clinical course complicated by progressive multiorgan failure. "
        "Goals of care discussed w/ family; transitioned to comfort care. "
        f"{facts.clinician.patient_word} expired on {us_date(end)} at {end:%H:%M}. "
        "Family at bedside."
    )


def discharge_summary(chart: Chart, facts: VisitFacts) -> str:
    """Discharge summary (for a death in hospital: the death summary)."""
    ph = PHRASES[facts.visit.scenario.key]
    end = facts.visit.end or facts.visit.start
    died = facts.visit.expired
    course = fill(ph.course, chart, facts, ph)
    dx = facts.reason.cond.abbrev if facts.reason else "see H&P"
    meds = "; ".join(short_sig(m.med) for m in chart.meds.values()) or "none"
    procs = ", ".join(PROCEDURES[k][2] for k in facts.procedures) or "none"
    code_status = "DNR, comfort care" if died else "DNR" if chart.dnr else "Full code"
    ending = (
        ""
        if died
        else f"\nD/C meds: {meds}\nDispo: {DISPOSITIONS.get(facts.disposition, 'home')}\n"
        f"F/u: PCP {chart.person.pcp.short} in 1 wk. Labs pending: none."
    )
    return (
        header(chart, "DISCHARGE SUMMARY", facts)
        + f"Admit date: {us_date(facts.visit.start)}   "
        + f"{'Date of death' if died else 'D/C date'}: {us_date(end)}\n"
        + f"Attending: {facts.clinician.display}\n"
        + f"Admitting dx: {fill(ph.assessment, chart, facts, ph)}\nDischarge dx: {dx}\n"
        + f"Hospital course: {_death_course(chart, facts, course) if died else course}\n"
        + f"Procedures: {procs}\nCode status: {code_status}"
        + ending
    )


def _document(
    chart: Chart, facts: VisitFacts, kind: str, text: str, when: datetime, author: Clinician
) -> None:
    """Keep one note; recent notes are often still unsigned (docStatus preliminary)."""
    when = min(when, chart.now - timedelta(minutes=1))
    recent = chart.now - when < timedelta(days=14)
    signed = chart.rng.random() >= (0.5 if recent else 0.04)
    body = text + signature(facts, when + timedelta(minutes=chart.rng.randint(5, 600)), signed)
    code, display = NOTE_TYPES[kind]
    end = facts.visit.end
    period = {"start": dt(facts.visit.start)} | ({"end": dt(end)} if end else {})
    resource: Resource = {
        "resourceType": "DocumentReference",
        "status": "current",
        "docStatus": "final" if signed else "preliminary",
        "type": concept(LOINC, code, display),
        "category": [concept(NOTE_CATEGORY, "clinical-note", "Clinical Note")],
        "subject": chart.subject,
        "date": dt(when),
        "author": [ref("Practitioner", author.id, author.display)],
        "custodian": ref("Organization", chart.hospital.org_id),
        "description": display,
        "content": [
            {
                "attachment": {
                    "contentType": "text/plain",
                    "language": "en-US",
                    "data": base64.b64encode(body.encode()).decode("ascii"),
                    "title": f"{display} {us_date(facts.visit.start)}",
                    "creation": dt(when),
                }
            }
        ],
        "context": {"encounter": [ref("Encounter", facts.encounter_id)], "period": period},
    }
    if signed:
        resource["authenticator"] = ref("Practitioner", author.id, author.display)
    chart.add(resource)


def _inpatient_notes(chart: Chart, facts: VisitFacts) -> None:
    start, end, rng = facts.visit.start, facts.visit.end, chart.rng
    _document(
        chart,
        facts,
        "hp",
        history_and_physical(chart, facts),
        start + timedelta(hours=rng.randint(2, 5)),
        facts.clinician,
    )
    last = end or chart.now
    if (last - start).days >= 2:
        _document(
            chart,
            facts,
            "progress",
            progress_note(chart, facts, 2),
            start + timedelta(days=1, hours=rng.randint(1, 6)),
            facts.clinician,
        )
    if end is None:
        return
    missing = 0.5 if chart.now - end < timedelta(days=7) else 0.14
    if rng.random() >= missing:
        _document(
            chart,
            facts,
            "discharge",
            discharge_summary(chart, facts),
            end + timedelta(hours=rng.randint(1, 40)),
            facts.clinician,
        )


def write_notes(chart: Chart, facts: VisitFacts) -> None:
    """The notes a visit produces."""
    klass, start, rng = facts.visit.scenario.klass, facts.visit.start, chart.rng
    end = facts.visit.end or start
    if klass == "EMER":
        _document(chart, facts, "ed", ed_note(chart, facts), end, facts.clinician)
    elif klass == "IMP":
        _inpatient_notes(chart, facts)
    else:
        text, author = clinic_note(chart, facts)
        _document(chart, facts, "progress", text, end + timedelta(hours=rng.randint(0, 50)), author)
