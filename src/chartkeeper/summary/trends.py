"""Latest results per code, with their trend and abnormal flag.

Each Observation with a value is a point of the series of its code; a panel without a value of
its own (blood pressure, LOINC 85354-9) gives one point per component, so systolic and
diastolic pressure trend separately while both still link to the panel.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from chartkeeper.summary.chart_elements import (
    Json,
    any_codes,
    author_of,
    code_of,
    concept_text,
    date_of,
    dicts,
    instant,
    quantity_text,
)

#: How many values a trend looks back over (the latest included).
TREND_WINDOW = 5
#: A line that moves less than this share of the values' mean over the window is steady.
STEADY_SHARE = 0.05

#: http://hl7.org/fhir/R4/v3/ObservationInterpretation/cs.html: the codes that mean abnormal.
INTERPRETATIONS = {
    "H": "High",
    "HU": "High",
    "HH": "Critical high",
    "L": "Low",
    "LU": "Low",
    "LL": "Critical low",
    "A": "Abnormal",
    "AA": "Critical abnormal",
}
#: Statuses whose values never count (http://hl7.org/fhir/R4/valueset-observation-status.html).
UNUSABLE_STATUSES = {"entered-in-error", "cancelled", "registered"}


@dataclass(frozen=True)
class Point:
    """One earlier value of a series, linked to its Observation."""

    date: str
    value: str
    reference: str


@dataclass(frozen=True)
class Result:
    """The latest value of one code, its flag, and where it has been heading."""

    reference: str
    code: str
    title: str
    value: str
    date: str
    author: str
    flag: str = ""
    flag_label: str = ""
    #: ``up``, ``down`` or ``steady`` over the last values; empty with fewer than two numbers
    trend: str = ""
    previous: list[Point] = field(default_factory=list)


@dataclass(frozen=True)
class _Sample:
    """One value of a series before it is summarised."""

    key: str
    title: str
    element: Json  # the Observation, or one of its components
    resource: Json
    date: str


def interpretation_flag(element: Json) -> str:
    """The abnormal interpretation code of an Observation or component, if any."""
    found = any_codes(element.get("interpretation"))
    for code in ("HH", "LL", "AA", "H", "L", "HU", "LU", "A"):
        if code in found:
            return code
    return ""


def range_flag(element: Json) -> str:
    """``H`` or ``L`` when a quantity lies outside its first usable reference range."""
    quantity = element.get("valueQuantity")
    value = quantity.get("value") if isinstance(quantity, dict) else None
    if not isinstance(value, int | float) or isinstance(value, bool):
        return ""
    for reference_range in dicts(element.get("referenceRange")):
        low, high = _bound(reference_range, "low"), _bound(reference_range, "high")
        if low is None and high is None:
            continue
        if low is not None and value < low:
            return "L"
        if high is not None and value > high:
            return "H"
        return ""
    return ""


def _bound(reference_range: Any, side: str) -> float | None:
    bound = reference_range.get(side) if isinstance(reference_range, dict) else None
    value = bound.get("value") if isinstance(bound, dict) else None
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def abnormal_flag(element: Json) -> str:
    """The interpretation's abnormal code, else the verdict of the reference range."""
    return interpretation_flag(element) or range_flag(element)


def direction(values: list[float]) -> str:
    """``up``, ``down`` or ``steady``: the sign of the least-squares line through ``values``
    (oldest first), steady when the line moves less than STEADY_SHARE of their mean."""
    if len(values) < 2:
        return ""
    count = len(values)
    mean_x, mean_y = (count - 1) / 2, sum(values) / count
    spread = sum((x - mean_x) ** 2 for x in range(count))
    slope = sum((x - mean_x) * (y - mean_y) for x, y in enumerate(values)) / spread
    movement = slope * (count - 1)
    if abs(movement) <= STEADY_SHARE * abs(mean_y):
        return "steady"
    return "up" if movement > 0 else "down"


def _number(element: Json) -> float | None:
    quantity = element.get("valueQuantity")
    value = quantity.get("value") if isinstance(quantity, dict) else None
    return float(value) if isinstance(value, int | float) and not isinstance(value, bool) else None


def _key(concept: Any) -> str:
    """The series a code belongs to: its LOINC code when it has one, else any code, else text."""
    codings = dicts(concept.get("coding")) if isinstance(concept, dict) else []
    loinc = [c.get("code") for c in codings if c.get("system") == "http://loinc.org"]
    others = [f"{c.get('system', '')}|{c.get('code')}" for c in codings if c.get("code")]
    return str((loinc or others or [concept_text(concept)])[0])


def _samples(resource: Json) -> list[_Sample]:
    date = date_of(resource)
    if quantity_text(resource) or not resource.get("component"):
        code = resource.get("code")
        return [_Sample(_key(code), concept_text(code), resource, resource, date)]
    return [
        _Sample(_key(c.get("code")), concept_text(c.get("code")), c, resource, date)
        for c in dicts(resource.get("component"))
        if isinstance(c, dict) and quantity_text(c)
    ]


def latest_results(observations: list[Json], names: dict[str, str]) -> list[Result]:
    """One Result per code: the newest value with its flag and trend, newest first."""
    series: dict[str, list[_Sample]] = {}
    for resource in observations:
        if code_of(resource, "status") in UNUSABLE_STATUSES:
            continue
        for sample in _samples(resource):
            if sample.key:
                series.setdefault(sample.key, []).append(sample)
    results = [_summarise(samples, names) for samples in series.values()]
    results.sort(key=lambda r: r.title)
    results.sort(key=lambda r: instant(r.date), reverse=True)  # stable: same day → by title
    return results


def _summarise(samples: list[_Sample], names: dict[str, str]) -> Result:
    samples.sort(key=lambda s: instant(s.date), reverse=True)
    latest, earlier = samples[0], samples[1:TREND_WINDOW]
    numbers = [n for s in reversed(samples[:TREND_WINDOW]) if (n := _number(s.element)) is not None]
    flag = abnormal_flag(latest.element)
    reference = f"{latest.resource.get('resourceType')}/{latest.resource.get('id')}"
    return Result(
        reference=reference,
        code=latest.key,
        title=latest.title or latest.key,
        value=quantity_text(latest.element),
        date=latest.date,
        author=author_of(latest.resource, names),
        flag=flag,
        flag_label=INTERPRETATIONS.get(flag, ""),
        trend=direction(numbers),
        previous=[
            Point(s.date, quantity_text(s.element), f"Observation/{s.resource.get('id')}")
            for s in earlier
        ],
    )
