"""Outpatient notes: sick visits, check-ups, chronic follow-ups, specialty and therapy visits."""

from __future__ import annotations

from collections.abc import Callable

from .catalog_misc import PROCEDURES, VACCINES
from .chart import Chart, Problem, VisitFacts
from .hospital import Clinician
from .labs import flag_text
from .medications import short_sig
from .notephrases import PHRASES, PROBLEM_STATUS
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
    vitals_line,
)

GUIDANCE = (
    "car seat, safe sleep, back to sleep",
    "water safety, healthy snacks, dental visits",
    "screen time, helmet use, reading daily",
    "safe driving, vaping/EtOH, sleep hygiene",
)
KEY_LABS = {
    "htn": ("creatinine", "potassium"),
    "dm2": ("a1c",),
    "dm1": ("a1c",),
    "hld": ("ldl",),
    "cad": ("ldl",),
    "hypothyroid": ("tsh",),
    "chf": ("bnp",),
    "ckd": ("creatinine",),
    "anemia": ("hgb",),
    "afib": ("inr",),
}


def _problem_line(chart: Chart, facts: VisitFacts, problem: Problem) -> str:
    c = problem.cond
    status = fill(chart.rng.choice(PROBLEM_STATUS.get(c.key, ("stable",))), chart, facts)
    labs = [flag_text(k, facts.labs[k]) for k in KEY_LABS.get(c.key, ()) if k in facts.labs]
    meds = [
        short_sig(chart.meds[k].med)
        for k in c.meds
        if k in chart.meds and chart.meds[k].med not in facts.started
    ]
    plan = (
        f"cont {', '.join(meds)}"
        if meds
        else chart.rng.choice(("no meds at this time", "lifestyle mods", "monitor"))
    )
    return f"{c.abbrev}: {status}" + (f", {', '.join(labs)}" if labs else "") + f". {plan}"


def _problem_plan(chart: Chart, facts: VisitFacts, problems: list[Problem]) -> str:
    lines = [f"{n}. {_problem_line(chart, facts, p)}" for n, p in enumerate(problems, 1)]
    lines += [f"- start {short_sig(m)}" for m in facts.started]
    return "\n".join(lines)


def _soap_top(
    chart: Chart, facts: VisitFacts, reason: str, negatives: tuple[str, ...], history: str = ""
) -> str:
    return (
        f"S: {intro(chart, facts)} here for {reason}. "
        f"{denies_line(chart.rng, negatives)}\n"
        f"Meds: {meds_line(chart, facts)}\nAllergies: {allergy_line(chart)}\n{history}"
        f"O: VS: {vitals_line(facts)}\n"
    )


def _sick(chart: Chart, facts: VisitFacts) -> str:
    ph = PHRASES[facts.visit.scenario.key]
    positives = ". ".join(fill(h, chart, facts, ph) for h in ph.hpi[:3])
    orders = [f"start {short_sig(m)}" for m in facts.started]
    orders += [PROCEDURES[k][2] for k in facts.procedures]
    plan = [fill(p, chart, facts, ph) for p in ph.plan] + orders
    return (
        f"S: {intro(chart, facts)} c/o {fill(ph.complaint, chart, facts, ph)}. {positives}. "
        f"{denies_line(chart.rng, ph.denies)}\nMeds: {meds_line(chart, facts)}\n"
        f"Allergies: {allergy_line(chart)}\nO: VS: {vitals_line(facts)}\n"
        f"{exam_block(chart, facts, ph)}\n"
        f"A/P: {fill(ph.assessment, chart, facts, ph)}\n"
        + "\n".join(f"- {p}" for p in plan)
        + "\nRTC prn."
    )


def _screening(chart: Chart, facts: VisitFacts) -> list[str]:
    age, female = chart.person.age_on(facts.when), chart.person.gender == "female"
    out = []
    if 45 <= age <= 75:
        out.append(
            chart.rng.choice(
                (
                    "colonoscopy UTD",
                    "colonoscopy due - referral placed",
                    "pt declines colonoscopy, FIT kit given",
                )
            )
        )
    if female and 40 <= age <= 74:
        out.append("screening mammo ordered")
    if chart.person.smoker == "current":
        out.append("counseled on smoking cessation")
    return out


def _vaccine_line(facts: VisitFacts) -> str:
    given = [VACCINES[k][1] for k in facts.vaccines]
    return f"Vaccines given today: {'; '.join(given)}" if given else "Vaccines UTD"


def _wellness(chart: Chart, facts: VisitFacts) -> str:
    problems = chart.active_problems(facts.when)
    lines = [
        _vaccine_line(facts),
        *_screening(chart, facts),
        "lipid panel today",
        "diet/exercise counseling",
    ]
    return (
        _soap_top(
            chart,
            facts,
            "annual physical",
            ("CP", "SOB", "wt loss", "changes in bowel habits"),
            f"PSH: {psh(chart, facts.when)}\nFHx: {fhx_line(chart)}\n"
            f"SHx: {shx_line(chart, facts.when)}\nROS: neg x12\n",
        )
        + exam_block(chart, facts, None)
        + "\nA/P: Health maintenance.\n"
        + "\n".join(f"- {line}" for line in lines)
        + ("\n" + _problem_plan(chart, facts, problems) if problems else "")
        + "\nRTC 1 yr."
    )


def _well_child(chart: Chart, facts: VisitFacts) -> str:
    v, age = facts.vitals, chart.person.age_text(facts.when)
    years = chart.person.age_on(facts.when)
    guidance = GUIDANCE[0 if years < 2 else 1 if years < 6 else 2 if years < 13 else 3]
    kid = "boy" if chart.person.gender == "male" else "girl"
    return (
        f"S: {age} here for WCC w/ {chart.rng.choice(('mom', 'dad', 'grandmother'))}. "
        "Eating well, meeting milestones. No concerns. No fevers, no sick contacts.\n"
        f"Allergies: {allergy_line(chart)}\n"
        f"O: Wt {v['weight']:.1f} kg, Ht {v['height']:.1f} cm, BMI {v['bmi']:.1f}. "
        f"HR {v['hr']:.0f}\n"
        + exam_block(chart, facts, None)
        + f"\nA/P: Healthy {' '.join(age.split()[:2])} {kid}. Growth and development appropriate."
        f"\n- {_vaccine_line(facts)}\n- Anticipatory guidance: {guidance}\n- RTC next WCC"
    )


def _followup(chart: Chart, facts: VisitFacts) -> str:
    problems = chart.active_problems(facts.when)
    names = ", ".join(p.cond.abbrev for p in problems)
    return (
        _soap_top(
            chart,
            facts,
            f"f/u of {names}. Reports adherence w/ meds",
            ("CP", "SOB", "HA", "polyuria", "LE swelling"),
        )
        + (f"Labs: {labs_line(facts)}\n" if facts.labs else "")
        + exam_block(chart, facts, None)
        + "\nA/P:\n"
        + _problem_plan(chart, facts, problems)
        + "\nRTC 3 mo, sooner prn."
    )


def _cardiology(chart: Chart, facts: VisitFacts) -> str:
    cardiac = [p for p in chart.active_problems(facts.when) if p.cond.key in ("chf", "afib", "cad")]
    rhythm = "AFib w/ controlled VR" if any(p.cond.key == "afib" for p in cardiac) else "NSR"
    return (
        header(chart, "CARDIOLOGY CLINIC NOTE", facts)
        + _soap_top(chart, facts, "cardiology f/u", ("CP", "palpitations", "syncope", "PND"))
        + exam_block(chart, facts, None)
        + f"\nEKG today: {rhythm}, no acute ST changes\n"
        + "A/P:\n"
        + _problem_plan(chart, facts, cardiac)
        + "\nf/u 6 mo w/ TTE."
    )


def _behavioral(chart: Chart, facts: VisitFacts) -> str:
    rng = chart.rng
    bh = [
        p
        for p in chart.active_problems(facts.when)
        if p.cond.key in ("depression", "anxiety", "ptsd", "bipolar", "adhd")
    ]
    return (
        header(chart, "BEHAVIORAL HEALTH NOTE", facts)
        + f"S: {intro(chart, facts)} seen for f/u of "
        + f"{', '.join(p.cond.abbrev for p in bh)}. Reports mood is "
        + f'"{rng.choice(("ok", "better", "up and down", "not great"))}". '
        + f"Sleep {rng.choice(('fair', 'poor', 'ok'))}, appetite nl. "
        + f"PHQ-9: {rng.randint(3, 18)}. GAD-7: {rng.randint(2, 15)}. "
        + "Denies SI/HI, AVH.\n"
        + f"Meds: {meds_line(chart, facts)}\n"
        + "MSE: casually dressed, good eye contact, speech nl rate/volume, "
        + "thought process linear, insight/judgment fair.\n"
        + "A/P:\n"
        + _problem_plan(chart, facts, bh)
        + "\n- CBT session today, 45 min\n- safety plan reviewed\nRTC 4 wks."
    )


def _therapy(chart: Chart, facts: VisitFacts) -> tuple[str, Clinician]:
    therapist = chart.hospital.staff("rehabilitation")[0]
    rng = chart.rng
    dx = facts.reason.cond.abbrev if facts.reason else "deconditioning"
    return (
        header(chart, "PHYSICAL THERAPY DAILY NOTE", facts)
        + f"Referring dx: {dx}. PT visit #{rng.randint(2, 12)}.\n"
        + f"S: pt reports pain {rng.randint(2, 7)}/10, "
        + f"{rng.choice(('improving', 'unchanged', 'worse after yard work'))}. "
        + "Doing HEP most days.\n"
        + "O: AROM improved. Strength 4/5. Gait w/o AD, mild antalgic pattern.\n"
        + "Tx: therex, manual therapy, gait training, HEP updated.\n"
        + "A: pt progressing toward PT goals; tolerated tx well.\n"
        + "P: cont PT 2x/wk x4 wks. f/u w/ PCP prn.",
        therapist,
    )


WRITERS: dict[str, Callable[[Chart, VisitFacts], str]] = {
    "wellness": _wellness,
    "well_child": _well_child,
    "chronic_followup": _followup,
    "peds_followup": _followup,
    "cardiology_clinic": _cardiology,
    "bh_visit": _behavioral,
}


def clinic_note(chart: Chart, facts: VisitFacts) -> tuple[str, Clinician]:
    """Text and author of the note for an ambulatory visit."""
    key = facts.visit.scenario.key
    if key == "pt_visit":
        return _therapy(chart, facts)
    body = WRITERS.get(key, _sick)(chart, facts)
    if not body.startswith(("CARDIOLOGY", "BEHAVIORAL")):
        body = header(chart, "PROGRESS NOTE", facts) + body
    return body, facts.clinician
