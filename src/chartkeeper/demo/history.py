"""Plans a patient's life at the hospital: chronic conditions with onsets, then dated visits."""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta

from .catalog import CHRONIC, ConditionDef
from .chart import Visit
from .fhirdata import at
from .people import Person
from .scenarios import BY_CLASS, Scenario, eligible

FATAL = (
    "imp_sepsis",
    "imp_chf",
    "imp_pneumonia",
    "imp_stroke",
    "imp_mi",
    "imp_copd",
    "imp_covid",
    "imp_hip_fx",
)


def _age_factor(age: int) -> float:
    return 0.3 if age < 40 else 1.0 if age < 65 else 1.8


def _chance(c: ConditionDef, person: Person, age: int) -> float:
    if c.key == "tobacco":
        return 1.0 if person.smoker == "current" else 0.0
    if c.key == "etoh":
        return 0.5 if person.drinks == "heavy" else 0.0
    if c.key == "obesity":
        return 1.0 if person.bmi >= 30 and age >= c.min_age else 0.0
    if not c.min_age <= age <= c.max_age or person.gender[0] not in c.sexes:
        return 0.0
    return c.prevalence * (_age_factor(age) if c.age_related else 1.0)


def chronic_conditions(person: Person, rng: random.Random, today: date) -> dict[str, date]:
    """Chronic condition key -> onset date, for conditions the person has by ``today``."""
    age = person.age_on(today)
    out: dict[str, date] = {}
    for c in CHRONIC:
        if rng.random() >= _chance(c, person, age):
            continue
        earliest = max(
            person.birth + timedelta(days=365 * c.min_age + 30), today - timedelta(days=365 * 25)
        )
        out[c.key] = earliest + timedelta(days=rng.randint(0, max((today - earliest).days, 0)))
    return out


def _pick(
    rng: random.Random, klass: str, age: int, problems: set[str], when: date
) -> Scenario | None:
    options = [s for s in BY_CLASS[klass] if eligible(s, age, problems, when)]
    if not options:
        return None
    weights = [s.weight * (3 if s.requires else 1) for s in options]
    return rng.choices(options, weights=weights)[0]


def _stay(rng: random.Random, s: Scenario, when: date) -> tuple[datetime, datetime]:
    if s.klass == "AMB":
        start = at(when, rng.randint(8, 16), rng.choice((0, 15, 30, 45)))
        return start, start + timedelta(minutes=rng.choice((20, 30, 40)))
    start = at(when, rng.randint(0, 23), rng.randint(0, 59))
    if s.klass == "EMER":
        return start, start + timedelta(minutes=rng.randint(120, 420))
    end_day = when + timedelta(days=rng.randint(*s.los))
    end = at(end_day, rng.randint(10, 16), rng.randint(0, 59))
    return start, max(end, start + timedelta(hours=20))


def _rates(age: int, chronic: int) -> dict[str, float]:
    """Visits per year by class."""
    return {
        "AMB": 0.8 if age < 18 else 0.3 + 0.22 * min(chronic, 4),
        "EMER": 0.08 + 0.03 * chronic,
        "IMP": 0.02 + 0.025 * chronic + (0.04 if age >= 70 else 0.0),
    }


def _visit_at(
    rng: random.Random, person: Person, onsets: dict[str, date], klass: str, when: date
) -> Visit | None:
    problems = {k for k, d in onsets.items() if d <= when}
    scenario = _pick(rng, klass, person.age_on(when), problems, when)
    if scenario is None:
        return None
    start, end = _stay(rng, scenario, when)
    return Visit(scenario, start, end)


def _random_visits(
    rng: random.Random, person: Person, onsets: dict[str, date], first: date, last: date
) -> list[Visit]:
    span = max((last - first).days, 1)
    rates = _rates(person.age_on(last), len(onsets))
    visits: list[Visit] = []
    for klass, rate in rates.items():
        for _ in range(int(rate * span / 365 + rng.random())):
            when = first + timedelta(days=rng.randint(0, span))
            visit = _visit_at(rng, person, onsets, klass, when)
            if visit:
                visits.append(visit)
    return visits


def _last_stay(
    rng: random.Random,
    person: Person,
    onsets: dict[str, date],
    first: date,
    today: date,
    expired: bool,
) -> Visit | None:
    """A fatal admission in the last two years, or an admission still in progress today."""
    if expired:
        when = max(first, today - timedelta(days=700)) + timedelta(days=rng.randint(0, 600))
        when = min(when, today - timedelta(days=2))
    else:
        when = today - timedelta(days=rng.randint(0, 3))
    problems = {k for k, d in onsets.items() if d <= when}
    options = [
        s
        for s in BY_CLASS["IMP"]
        if eligible(s, person.age_on(when), problems, when) and (not expired or s.key in FATAL)
    ]
    if not options:
        return None
    s = rng.choice(options)
    start, end = _stay(rng, s, when)
    overrun = end - at(today, 11)
    if expired and overrun > timedelta(0):  # died before today, not in the future
        start, end = start - overrun - timedelta(days=1), end - overrun - timedelta(days=1)
    if not expired:
        return Visit(s, min(start, at(today, 11)), None)
    return Visit(s, start, end, expired=True)


def _without_overlaps(visits: list[Visit]) -> list[Visit]:
    kept: list[Visit] = []
    busy_until: datetime | None = None
    for v in sorted(visits, key=lambda v: v.start):
        if busy_until and v.start < busy_until:
            continue
        kept.append(v)
        busy_until = v.end or v.start + timedelta(days=365 * 50)
    return kept


def _not_after(visit: Visit, now: datetime) -> Visit:
    """A stay that would end after ``now`` is still in progress."""
    if visit.end is None or visit.end <= now:
        return visit
    return Visit(visit.scenario, visit.start, None)


def plan_visits(
    person: Person, onsets: dict[str, date], rng: random.Random, today: date
) -> list[Visit]:
    """The visits of one patient record, oldest first, over 1-10 years ending ``today``."""
    years = rng.randint(1, 10)
    first = max(today - timedelta(days=365 * years), person.birth + timedelta(days=1))
    last = today - timedelta(days=1)
    visits = _random_visits(rng, person, onsets, first, last)
    while not visits:  # everyone on file has been seen at least once
        when = first + timedelta(days=rng.randint(0, max((last - first).days, 0)))
        visits = [v for v in [_visit_at(rng, person, onsets, "AMB", when)] if v]
    visits = [_not_after(v, at(today, 11)) for v in visits]
    final = None
    if person.mortal or rng.random() < 0.03:
        final = _last_stay(rng, person, onsets, first, today, expired=person.mortal)
    if final:
        cutoff = final.start
        visits = [v for v in visits if (v.end or v.start) < cutoff] + [final]
    return _without_overlaps(visits)


def small_history(
    person: Person, onsets: dict[str, date], rng: random.Random, today: date
) -> list[Visit]:
    """One or two outpatient or ED visits: the little a duplicate registration accumulates."""
    visits = []
    for _ in range(rng.randint(1, 2)):
        when = today - timedelta(days=rng.randint(2, 900))
        visit = _visit_at(rng, person, onsets, rng.choice(("AMB", "AMB", "EMER")), when)
        if visit:
            visits.append(_not_after(visit, at(today, 11)))
    return _without_overlaps(visits)
