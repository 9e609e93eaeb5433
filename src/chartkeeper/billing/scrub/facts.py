"""Facts about a claim that several rules derive the same way: dates, the patient, age, sex."""

from __future__ import annotations

from datetime import date
from functools import lru_cache

from chartkeeper.billing.codes.model import normalise
from chartkeeper.billing.x12.claim_model import Claim, Person, ServiceLine

SEXES = {"M": "male", "F": "female"}


@lru_cache(maxsize=1 << 16)
def code_of(raw: str) -> str:
    """``model.normalise``, remembered: the same few thousand codes recur on every claim."""
    return normalise(raw)


def service_day(claim: Claim, line: ServiceLine) -> date | None:
    """The line's date of service, or the statement start when the line has none (837I)."""
    return line.service_date or claim.statement_from


def first_day(claim: Claim) -> date | None:
    """The earliest date of service: the date the diagnoses' code set version is chosen by."""
    days = [d for d in (service_day(claim, line) for line in claim.lines) if d is not None]
    return min(days) if days else claim.statement_from


def last_day(claim: Claim) -> date | None:
    """The latest date of service: the date timely filing counts from."""
    days = [d for d in (service_day(claim, line) for line in claim.lines) if d is not None]
    if claim.statement_to is not None:
        days.append(claim.statement_to)
    return max(days) if days else None


def patient_of(claim: Claim) -> Person:
    """The patient: the dependant when there is one, otherwise the subscriber."""
    return claim.patient or claim.subscriber.person


def age_on(birth: date | None, day: date) -> int | None:
    """Age in whole years on ``day``."""
    if birth is None:
        return None
    return day.year - birth.year - ((day.month, day.day) < (birth.month, birth.day))


def sex_of(person: Person) -> str | None:
    """The MCE's words for the X12 gender code (DMG03): ``male``, ``female`` or unknown."""
    return SEXES.get(person.gender.strip().upper())


def location_sort_key(location: str) -> tuple[str | int, ...]:
    """Sort ``line[10]`` after ``line[2]``: numbers in brackets compare as numbers."""
    parts: list[str | int] = []
    for piece in location.replace("]", "[").split("["):
        parts.append(int(piece) if piece.isdigit() else -1)
        parts.append("" if piece.isdigit() else piece)
    return tuple(parts)
