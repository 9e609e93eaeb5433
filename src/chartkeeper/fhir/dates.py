"""FHIR date, dateTime and instant values as inclusive ranges of epoch microseconds (UTC).

A value covers the whole span its precision implies: ``2020`` covers the year, ``2020-03-04``
the day (http://hl7.org/fhir/R4/search.html#date). Values without a zone are taken as UTC.
"""

from __future__ import annotations

import calendar
import re
from datetime import UTC, datetime, timedelta

from chartkeeper.core.errors import InvalidError

_PATTERN = re.compile(
    r"^(?P<year>[0-9]{4})(?:-(?P<month>[0-9]{2})(?:-(?P<day>[0-9]{2})"
    r"(?:T(?P<hour>[0-9]{2}):(?P<minute>[0-9]{2})(?::(?P<second>[0-9]{2})(?:\.(?P<fraction>[0-9]{1,9}))?)?"
    r"(?P<zone>Z|[+-][0-9]{2}:[0-9]{2})?)?)?)?$"
)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
DAY_MICROS = 86_400_000_000


def to_micros(moment: datetime) -> int:
    """Epoch microseconds of an aware datetime."""
    delta = moment - _EPOCH
    return (delta.days * 86_400 + delta.seconds) * 1_000_000 + delta.microseconds


def from_micros(value: int) -> datetime:
    """The aware UTC datetime of epoch microseconds."""
    return _EPOCH + timedelta(microseconds=value)


def _zone(text: str | None) -> timedelta:
    if not text or text == "Z":
        return timedelta(0)
    sign = -1 if text[0] == "-" else 1
    hours, minutes = int(text[1:3]), int(text[4:6])
    return sign * timedelta(hours=hours, minutes=minutes)


def parse_date_range(text: str) -> tuple[int, int]:
    """The inclusive [low, high] range in epoch microseconds of a FHIR date/dateTime/instant.

    Raises ``InvalidError`` when ``text`` is not a valid FHIR date.
    """
    match = _PATTERN.match(text.strip()) if isinstance(text, str) else None
    if not match:
        raise InvalidError(
            f"'{text}' is not a valid date (expected YYYY, YYYY-MM, YYYY-MM-DD "
            "or YYYY-MM-DDThh:mm:ss[.fff](Z|+hh:mm))"
        )
    parts = match.groupdict()
    try:
        return _range(parts)
    except (ValueError, OverflowError):
        raise InvalidError(f"'{text}' is not a valid date") from None


def _range(parts: dict[str, str | None]) -> tuple[int, int]:
    year = int(parts["year"] or 0)
    if year < 1:
        raise ValueError("year")
    if parts["month"] is None:
        start = datetime(year, 1, 1, tzinfo=UTC)
        end = datetime(year, 12, 31, tzinfo=UTC)
        return to_micros(start), to_micros(end) + DAY_MICROS - 1
    month = int(parts["month"])
    if parts["day"] is None:
        start = datetime(year, month, 1, tzinfo=UTC)
        days = calendar.monthrange(year, month)[1]
        return to_micros(start), to_micros(start) + days * DAY_MICROS - 1
    day = int(parts["day"])
    if parts["hour"] is None:
        start = datetime(year, month, day, tzinfo=UTC)
        return to_micros(start), to_micros(start) + DAY_MICROS - 1
    local = datetime(year, month, day, int(parts["hour"]), int(parts["minute"] or 0), tzinfo=UTC)
    if int(parts["hour"]) > 23:
        raise ValueError("hour")
    offset = _zone(parts["zone"])
    if parts["second"] is None:
        start = local - offset
        return to_micros(start), to_micros(start + timedelta(minutes=1)) - 1
    second = int(parts["second"])
    if second > 59:
        raise ValueError("second")
    start = local + timedelta(seconds=second) - offset
    fraction = parts["fraction"]
    if fraction is None:
        return to_micros(start), to_micros(start + timedelta(seconds=1)) - 1
    digits = len(fraction)
    unit = 10 ** max(0, 6 - digits)
    micros = int(fraction[:6].ljust(6, "0"))
    low = to_micros(start) + micros
    return low, low + max(unit, 1) - 1
