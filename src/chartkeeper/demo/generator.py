"""Assembles the hospital bundle and one bundle per patient record, deterministically per seed."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import date, datetime

from .admin import add_care_team, add_coverage
from .bundle import transaction
from .chart import Chart
from .duplicates import duplicate_person, has_duplicate, patient_scope
from .fhirdata import Resource
from .history import chronic_conditions, plan_visits, small_history
from .hospital import Hospital, build_hospital
from .ids import IdMaker, make_mrn
from .medications import stop_all
from .orders import add_advance_directive, add_pending_orders
from .people import Person, make_person, patient_resource
from .visits import run_visit

DEFAULT_TODAY = date(2026, 11, 1)


def patient_record(
    chart: Chart, onsets: dict[str, date], duplicate: bool, until: date
) -> tuple[list[Resource], datetime | None]:
    """All resources of one patient record (Patient first) and the time of death, if any."""
    if duplicate:
        visits = small_history(chart.person, onsets, chart.rng, until)
    else:
        visits = plan_visits(chart.person, onsets, chart.rng, chart.today)
    died = visits[-1].end if visits and visits[-1].expired else None
    chart.resources.append(
        patient_resource(chart.person, chart.patient_id, chart.mrn, chart.hospital, died)
    )
    if visits:
        add_coverage(chart, visits[0].start.date())
    for visit in visits:
        run_visit(chart, visit, onsets)
    add_care_team(chart, died is not None)
    add_pending_orders(chart, died is not None)
    add_advance_directive(chart)
    if died:
        stop_all(chart)
    return chart.resources, died


def _chart(seed: int, hospital: Hospital, person: Person, today: date, duplicate: bool) -> Chart:
    ids = IdMaker(seed, patient_scope(person.index, duplicate))
    rng = random.Random(f"{seed}-{person.index}" + ("-b" if duplicate else ""))
    mrn = make_mrn(seed, 2 * person.index + int(duplicate))
    return Chart(seed, hospital, person, mrn, ids, rng, today, ids.next("Patient"))


def patient_bundles(seed: int, hospital: Hospital, index: int, today: date) -> Iterator[Resource]:
    """The bundle of patient ``index``, then that of their duplicate record if they have one."""
    rng = random.Random(f"{seed}-{index}")
    person = make_person(rng, index, hospital, today)
    onsets = chronic_conditions(person, rng, today)
    chart = _chart(seed, hospital, person, today, duplicate=False)
    chart.rng = rng
    resources, died = patient_record(chart, onsets, duplicate=False, until=today)
    yield transaction(resources)
    if has_duplicate(seed, index):
        twin = _chart(seed, hospital, duplicate_person(seed, person), today, duplicate=True)
        until = died.date() if died else today
        yield transaction(patient_record(twin, onsets, duplicate=True, until=until)[0])


def generate_hospital(
    patients: int = 100, seed: int = 1, today: date = DEFAULT_TODAY
) -> Iterator[Resource]:
    """Yield FHIR R4 transaction Bundles (dicts): first one with the hospital's shared resources
    (Organization, departments, Locations, Practitioners, PractitionerRoles, payors), then one
    Bundle per patient record. About 3% of people also get a second, near-duplicate record,
    yielded right after their first; see ``duplicate_pairs``."""
    hospital = build_hospital(seed)
    yield transaction(hospital.resources)
    for index in range(patients):
        yield from patient_bundles(seed, hospital, index, today)
