"""Dollars and dates as a patient reads them on a statement."""

from __future__ import annotations

from datetime import date
from decimal import ROUND_HALF_UP, Decimal

_CENT = Decimal("0.01")


def money(amount: Decimal) -> str:
    """ "$1,234.50"; a negative amount reads "-$10.00"."""
    cents = amount.quantize(_CENT, rounding=ROUND_HALF_UP)
    sign = "-" if cents < 0 else ""
    return f"{sign}${abs(cents):,.2f}"


def long_date(day: date) -> str:
    """ "March 4, 2026": the US way, spelled out so it cannot be misread."""
    return f"{day:%B} {day.day}, {day.year}"


def date_span(start: date, end: date) -> str:
    """One date, or "March 2 to March 4, 2026" for a stay over several days."""
    if start == end:
        return long_date(start)
    if start.year == end.year:
        return f"{start:%B} {start.day} to {long_date(end)}"
    return f"{long_date(start)} to {long_date(end)}"
