"""What clients send billing, checked: dates, ids, free text, stays to group, filing limits.

Each function answers the value or raises the 4xx that says what was wrong and where, so the
facade (`billing.service`) and the entry points never pass a bad value further down (where a
NUL would make PostgreSQL fail with a 500, or a wrong type a TypeError).
"""

from __future__ import annotations

from datetime import date
from typing import Any

from chartkeeper.billing import drg
from chartkeeper.core.errors import InvalidError, NotFoundError
from chartkeeper.core.ids import is_valid_id


def parse_day(value: Any, name: str) -> date:
    """A ``YYYY-MM-DD`` parameter, or a 400 naming it."""
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise InvalidError(f"'{name}' must be a date YYYY-MM-DD, not {value!r}", (name,)) from None


def known_id(kind: str, value: str) -> str:
    """``value`` when it can be an id of ours, else a 404 (an id never stored need not be
    looked up, and PostgreSQL refuses a NUL in a query)."""
    if not is_valid_id(value):
        raise NotFoundError(f"{kind} {value[:64]!r} is not known")
    return value


def plain_text(value: str, name: str) -> str:
    """``value`` when it has no control characters but line breaks and tabs, else a 400
    (PostgreSQL refuses a NUL in text; no note or file name needs one)."""
    if any((ord(c) < 32 and c not in "\n\r\t") or ord(c) == 127 for c in value):
        raise InvalidError(f"'{name}' may not contain control characters", (name,))
    return value


#: The oldest age the Medicare Code Editor accepts (its own invalid-age edit is above it).
MAX_AGE = 124


def drg_stay(body: Any) -> drg.InpatientStay:
    """An inpatient stay from JSON: ``dischargeDate``, ``age``, ``sex``, ``dischargeStatus``,
    ``principalDiagnosis``, ``secondaryDiagnoses`` (codes, or ``{"code", "poa"}``),
    ``procedures`` (ICD-10-PCS)."""
    if not isinstance(body, dict):
        raise InvalidError("The body must be a JSON object describing the stay", ("$",))

    def diagnosis(value: Any, where: str) -> drg.Diagnosis:
        if isinstance(value, str):
            return value
        if isinstance(value, dict) and isinstance(value.get("code"), str):
            poa = value.get("poa")
            if poa is not None and not isinstance(poa, str):
                raise InvalidError(f"{where}.poa must be a POA indicator (Y, N, U, W)", (where,))
            return (value["code"], poa) if isinstance(poa, str) else value["code"]
        raise InvalidError(f"{where} must be a code or an object with 'code'", (where,))

    age = body.get("age")
    if not isinstance(age, int) or isinstance(age, bool) or not 0 <= age <= MAX_AGE:
        raise InvalidError(f"'age' must be an integer from 0 to {MAX_AGE}", ("age",))
    sex = body.get("sex", "U")
    if sex not in ("M", "F", "U"):
        raise InvalidError("'sex' must be M, F or U", ("sex",))
    status = body.get("dischargeStatus", "01")
    if not (isinstance(status, str) and status.isascii() and status.isdigit() and len(status) == 2):
        raise InvalidError("'dischargeStatus' must be a two-digit NUBC code", ("dischargeStatus",))
    secondary = body.get("secondaryDiagnoses", [])
    procedures = body.get("procedures", [])
    if not isinstance(secondary, list) or not isinstance(procedures, list):
        raise InvalidError("'secondaryDiagnoses' and 'procedures' must be lists", ("$",))
    if not all(isinstance(p, str) for p in procedures):
        raise InvalidError("'procedures' must be ICD-10-PCS codes", ("procedures",))
    return drg.InpatientStay(
        discharge_date=parse_day(body.get("dischargeDate"), "dischargeDate"),
        age=age,
        sex=sex,
        discharge_status=status,
        principal_dx=diagnosis(body.get("principalDiagnosis"), "principalDiagnosis"),
        secondary_dx=[diagnosis(d, f"secondaryDiagnoses[{i}]") for i, d in enumerate(secondary)],
        procedures=procedures,
    )


def parse_birth(value: Any) -> date | None:
    """A Patient.birthDate (``YYYY``, ``YYYY-MM`` or ``YYYY-MM-DD``) as its earliest date."""
    text = str(value or "")
    try:
        return date.fromisoformat((text + "-01-01")[:10] if len(text) < 10 else text[:10])
    except ValueError:
        return None


def age_in_years(born: date, day: date) -> int:
    """Completed years on ``day``."""
    return day.year - born.year - ((day.month, day.day) < (born.month, born.day))


def parse_filing_limits(text: str) -> dict[str, int]:
    """``PAYERID=DAYS,PAYERID=DAYS`` (the ``billing_timely_filing`` setting) as a dict."""
    limits: dict[str, int] = {}
    for part in (p.strip() for p in text.split(",")):
        if not part:
            continue
        payer, _, days = part.partition("=")
        if not payer.strip() or not (days.strip().isascii() and days.strip().isdigit()):
            raise InvalidError(f"billing_timely_filing: expected PAYERID=DAYS, not {part!r}")
        limits[payer.strip()] = int(days)
    return limits
