"""Lab Observations whose values track the patient's conditions, grouped in DiagnosticReports."""

from __future__ import annotations

from datetime import datetime, timedelta

from .catalog_obs import LABS, PANELS, LabDef, PanelDef
from .chart import Chart, VisitFacts
from .fhirdata import INTERPRETATION, LOINC, OBS_CATEGORY, Resource, concept, dt, quantity, ref

INTERPRETATIONS = {"H": "High", "L": "Low", "N": "Normal"}
_FEMALE_SHIFT = {"hgb": -1.3, "hct": -3.5, "creatinine": -0.15}


def lab_value(chart: Chart, lab: LabDef, facts: VisitFacts, keys: list[str]) -> float:
    """A result for ``lab``; the first of ``keys`` (conditions) that shifts this test sets it."""
    mean, sd = next((lab.effects[k] for k in keys if k in lab.effects), (lab.mean, lab.sd))
    if chart.person.gender == "female":
        mean += _FEMALE_SHIFT.get(lab.key, 0.0)
    floor = max(10.0**-lab.decimals, lab.low * 0.4 if lab.low else mean * 0.2)
    value = min(max(chart.rng.gauss(mean, sd), floor, mean - 2.5 * sd), mean + 3 * sd)
    return round(value, lab.decimals) if lab.decimals else float(round(value))


def _flag(lab: LabDef, value: float) -> str:
    return "H" if value > lab.high else "L" if value < lab.low else "N"


def _lab_obs(
    chart: Chart,
    facts: VisitFacts,
    lab: LabDef,
    value: float,
    times: tuple[datetime, datetime],
    status: str,
) -> Resource:
    flag = _flag(lab, value)
    lab_org = ref("Organization", chart.hospital.departments["laboratory"])
    return {
        "resourceType": "Observation",
        "status": status,
        "category": [concept(OBS_CATEGORY, "laboratory", "Laboratory")],
        "code": concept(LOINC, lab.loinc, lab.display),
        "subject": chart.subject,
        "encounter": ref("Encounter", facts.encounter_id),
        "effectiveDateTime": dt(times[0]),
        "issued": dt(times[1]),
        "performer": [lab_org],
        "valueQuantity": quantity(value, lab.unit, lab.ucum),
        "interpretation": [concept(INTERPRETATION, flag, INTERPRETATIONS[flag])],
        "referenceRange": [
            {
                "low": quantity(lab.low, lab.unit, lab.ucum),
                "high": quantity(lab.high, lab.unit, lab.ucum),
            }
        ],
    }


def _times(chart: Chart, facts: VisitFacts) -> tuple[datetime, datetime]:
    rng, start = chart.rng, facts.visit.start
    drawn = start + timedelta(
        minutes=rng.randint(10, 20) if facts.visit.scenario.klass == "AMB" else rng.randint(20, 90)
    )
    drawn = min(drawn, chart.now - timedelta(minutes=20))
    resulted = drawn + timedelta(minutes=rng.randint(45, 300))
    return drawn, min(resulted, chart.now - timedelta(minutes=5))


def _status(chart: Chart, drawn: datetime) -> str:
    """Recent results are often still preliminary; now and then an old one was never finalized."""
    recent = chart.now - drawn < timedelta(days=2)
    return "preliminary" if chart.rng.random() < (0.5 if recent else 0.01) else "final"


def _report(
    chart: Chart,
    facts: VisitFacts,
    panel: PanelDef,
    results: list[str],
    times: tuple[datetime, datetime],
    status: str,
) -> Resource:
    return {
        "resourceType": "DiagnosticReport",
        "status": status,
        "category": [concept("http://terminology.hl7.org/CodeSystem/v2-0074", "LAB", "Laboratory")],
        "code": concept(LOINC, panel.loinc or "", panel.display),
        "subject": chart.subject,
        "encounter": ref("Encounter", facts.encounter_id),
        "effectiveDateTime": dt(times[0]),
        "issued": dt(times[1]),
        "performer": [ref("Organization", chart.hospital.departments["laboratory"])],
        "result": [ref("Observation", rid) for rid in results],
    }


def order_panel(chart: Chart, facts: VisitFacts, key: str) -> None:
    """Draw one panel; a multi-test panel also gets its DiagnosticReport."""
    panel = PANELS[key]
    times = _times(chart, facts)
    status = _status(chart, times[0])
    # the visit's diagnosis first, then chronic problems
    keys = [facts.visit.scenario.reason or ""]
    keys += [p.cond.key for p in chart.active_problems(facts.when)]
    ids = []
    for lab_key in panel.labs:
        lab = LABS[lab_key]
        value = lab_value(chart, lab, facts, keys)
        facts.labs[lab_key] = value
        ids.append(chart.add(_lab_obs(chart, facts, lab, value, times, status)))
    if panel.loinc:
        chart.add(_report(chart, facts, panel, ids, times, status))


def flag_text(key: str, value: float) -> str:
    """``Cr 2.1 (H)`` as written in a note."""
    lab = LABS[key]
    flag = _flag(lab, value)
    shown = f"{value:.{lab.decimals}f}"
    if key == "troponin" and value <= 0.01:
        return f"{lab.short} <0.01"
    return f"{lab.short} {shown}" + (f" ({flag})" if flag != "N" else "")
