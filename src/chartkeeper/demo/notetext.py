"""Building blocks of note text: history lines, vitals, labs, exam, all in clinical shorthand."""

from __future__ import annotations

import random
from datetime import date, datetime

from .catalog_misc import REACTIONS
from .catalog_obs import PANELS
from .chart import Chart, VisitFacts
from .hospital import HOSPITAL_NAME
from .labs import flag_text
from .medications import short_sig
from .notephrase_types import Phrases
from .notephrases import CHRONIC_EXAM, NORMAL_EXAM

PANEL_SHORT = {"bmp": "BMP", "cbc": "CBC", "lipid": "lipid panel"}


class _Blanks(dict[str, str]):
    """format_map mapping that leaves unknown placeholders readable."""

    def __missing__(self, key: str) -> str:
        return "pending"


def us_date(value: date | datetime) -> str:
    """``3/5/2024``."""
    return f"{value.month}/{value.day}/{value.year}"


def us_time(value: datetime) -> str:
    """``3/5/2024 14:07``."""
    return f"{us_date(value)} {value:%H:%M}"


def fill(text: str, chart: Chart, facts: VisitFacts, phrases: Phrases | None = None) -> str:
    """Replace placeholders with this visit's duration, side, vitals and lab values."""
    if "{" not in text:
        return text
    values = _Blanks(side=("R", "L")[facts.visit.start.day % 2])
    if phrases and facts.duration is None:
        amount = chart.rng.randint(*phrases.dur)
        facts.duration = f"{amount}h" if phrases.hours else f"{amount}d"
    values["dur"] = facts.duration or "several days"
    if "systolic" in facts.vitals:
        values["bp"] = f"{facts.vitals['systolic']:.0f}/{facts.vitals['diastolic']:.0f}"
        values["bmi"] = f"{facts.vitals['bmi']:.1f}"
    for key, short in (("troponin", "trop"), ("lactate", "lactate"), ("creatinine", "Cr")):
        if key in facts.labs:
            values[short] = flag_text(key, facts.labs[key]).split(" ", 1)[1]
    return text.format_map(values)


def header(chart: Chart, title: str, facts: VisitFacts) -> str:
    """Title, facility and patient identification lines."""
    p = chart.person
    return (
        f"{title}\n{HOSPITAL_NAME}\n"
        f"Patient: {p.family}, {p.given}   MRN: {chart.mrn}   DOB: {us_date(p.birth)}\n"
        f"Date of service: {us_date(facts.visit.start)}\n"
    )


def intro(chart: Chart, facts: VisitFacts) -> str:
    """``Pt is a 67 y/o M w/ PMH HTN, DM2``."""
    who = facts.clinician.patient_word
    history = pmh(chart, facts)
    lead = ("w/ PMH", "w/ h/o", "w/ hx of", "w/ PMHx")[int(facts.clinician.npi[-2]) % 4]
    hx = f" {lead} {history}" if history != "none" else " w/ no significant PMH"
    age = chart.person.age_text(facts.when)
    article = "an" if age.split()[0] in ("8", "11", "18") or age.startswith("8") else "a"
    return f"{who} is {article} {age}{hx}"


def pmh(chart: Chart, facts: VisitFacts) -> str:
    """Problem list abbreviations, or ``none``."""
    names = [
        p.cond.abbrev
        for p in chart.active_problems(facts.when)
        if p.cond.key not in ("tobacco", "etoh")
    ]
    return ", ".join(names) if names else "none"


def psh(chart: Chart, when: date) -> str:
    """``s/p lap chole (2019)`` items, or ``none``."""
    done = [f"s/p {name} ({d.year})" for name, d in chart.surgeries if d < when]
    return ", ".join(done) if done else "none"


def meds_line(chart: Chart, facts: VisitFacts) -> str:
    """Home medications with sigs."""
    home = [short_sig(m.med) for m in chart.meds.values() if m.med not in facts.started]
    return "; ".join(home) if home else "none"


def allergy_line(chart: Chart) -> str:
    """``NKDA``, ``PCN (hives), sulfa (rash)`` or that nobody asked."""
    if not chart.allergies_recorded:
        return "not documented"
    if not chart.allergies:
        return chart.no_allergy_text
    return ", ".join(f"{a.short} ({REACTIONS[r][2]})" for a, r in chart.allergies)


def fhx_line(chart: Chart) -> str:
    """Family history sentence."""
    fhx = chart.person.family_history
    return ". ".join(fhx) if fhx else "FHx noncontributory"


def shx_line(chart: Chart, when: date) -> str:
    """Tobacco, alcohol and drug use."""
    p, rng = chart.person, chart.rng
    if p.age_on(when) < 16:
        return "Lives w/ parents. No smoke exposure at home"
    tobacco = {
        "never": "Never smoker",
        "former": f"Former smoker, quit {when.year - rng.randint(2, 20)}",
        "current": f"Smokes {rng.choice(('1/2', '1', '1.5'))} ppd",
    }[p.smoker]
    drinks = {"none": "Denies EtOH", "social": "Occasional EtOH", "heavy": "Drinks 4-6 beers/day"}[
        p.drinks
    ]
    return f"{tobacco}. {drinks}. Denies illicit drug use"


def vitals_line(facts: VisitFacts, prefix: str = "") -> str:
    """``BP 152/94, HR 88, T 37.2, RR 16, SpO2 97% RA``."""
    v = facts.vitals
    parts = [
        f"BP {v[prefix + 'systolic']:.0f}/{v[prefix + 'diastolic']:.0f}",
        f"HR {v[prefix + 'hr']:.0f}",
        f"T {v[prefix + 'temp']:.1f}",
        f"RR {v[prefix + 'rr']:.0f}",
        f"SpO2 {v[prefix + 'spo2']:.0f}% RA",
    ]
    if facts.visit.scenario.klass == "AMB":
        parts.append(f"Wt {v[prefix + 'weight']:.1f} kg")
    return ", ".join(parts)


def labs_line(facts: VisitFacts) -> str:
    """Results drawn at this visit, abnormal ones flagged."""
    if not facts.labs:
        return ""
    parts: list[str] = []
    shown: set[str] = set()
    for key, name in PANEL_SHORT.items():
        members = PANELS[key].labs
        if all(k in facts.labs and flag_text(k, facts.labs[k]).count("(") == 0 for k in members):
            parts.append(f"{name} WNL")
            shown.update(members)
    parts += [flag_text(k, v) for k, v in facts.labs.items() if k not in shown]
    return ", ".join(parts)


def denies_line(rng: random.Random, items: tuple[str, ...]) -> str:
    """A negation sentence, worded one of a few ways."""
    chosen = list(items[: max(2, len(items) - rng.randint(0, 1))])
    style = rng.randrange(3)
    if style == 0:
        return f"Denies {', '.join(chosen)}."
    if style == 1:
        return f"No {', no '.join(chosen)}."
    return f"Denies {chosen[0]}. No {', '.join(chosen[1:])}."


def exam_block(chart: Chart, facts: VisitFacts, phrases: Phrases | None) -> str:
    """System-by-system exam: the scenario's findings, normal phrases elsewhere."""
    findings = dict(phrases.exam) if phrases else {}
    for problem in chart.active_problems(facts.when):
        system, text = CHRONIC_EXAM.get(problem.cond.key, ("", ""))
        if system:
            findings.setdefault(system, text)
    lines = []
    for system, normals in NORMAL_EXAM.items():
        text = findings.pop(system, "") or chart.rng.choice(normals)
        lines.append(f"{system}: {fill(text, chart, facts, phrases)}")
    lines += [f"{system}: {fill(text, chart, facts, phrases)}" for system, text in findings.items()]
    return "\n".join(lines)


def signature(facts: VisitFacts, when: datetime, signed: bool) -> str:
    """Electronic signature line, absent while the note is unsigned."""
    if not signed:
        return ""
    return f"\n\nElectronically signed by {facts.clinician.display} on {us_time(when)}"
