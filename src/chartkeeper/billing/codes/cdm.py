"""The charge description master (CDM): services, the codes they are billed with, and prices.

A CSV with a header row, one row per billable line a service produces (docs/billing-charges.md):
``charge_code,description,service_system,service_code,hcpcs,modifiers,units,revenue_code,amount``.
``service_system``/``service_code`` name what was done (an Encounter class, an Encounter.type or
a Procedure.code); ``hcpcs`` is the HCPCS Level II code billed (CPT is AMA-licensed and never
ships), blank only for institutional lines that carry a NUBC ``revenue_code`` (room and board);
``modifiers`` are space-separated; ``units`` a positive whole number; ``amount`` the price of
one unit in dollars. Loaded as code set kind ``cdm``: the entry code is the charge code.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Iterator
from decimal import Decimal, InvalidOperation
from typing import Any

from chartkeeper.billing.codes.model import CodeEntry
from chartkeeper.core.errors import InvalidError

COLUMNS = (
    "charge_code",
    "description",
    "service_system",
    "service_code",
    "hcpcs",
    "modifiers",
    "units",
    "revenue_code",
    "amount",
)
CHARGE_CODE = re.compile(r"^[A-Z0-9][A-Z0-9._-]{0,15}$")
HCPCS_LEVEL_II = re.compile(r"^[A-Z][0-9]{4}$")
MODIFIER = re.compile(r"^[A-Z0-9]{2}$")
REVENUE = re.compile(r"^[0-9]{4}$")
#: at most four modifiers fit on a claim line (SV1-01-3..6, SV2-02-3..6)
MAX_MODIFIERS = 4


def _bad(number: int, column: str, why: str) -> InvalidError:
    return InvalidError(f"Line {number}, field {column}: {why}", (f"line {number}", column))


def _charge_code(number: int, value: str) -> str:
    code = value.strip().upper()
    if not CHARGE_CODE.match(code):
        raise _bad(number, "charge_code", f"'{value}' is not 1-16 letters, digits, '.', '-', '_'")
    return code


def _hcpcs(number: int, value: str) -> str:
    code = value.strip().upper()
    if code and not HCPCS_LEVEL_II.match(code):
        raise _bad(number, "hcpcs", f"'{value}' is not an HCPCS Level II code (letter + 4 digits)")
    return code


def _modifiers(number: int, value: str) -> list[str]:
    found = value.upper().split()
    if len(found) > MAX_MODIFIERS:
        raise _bad(number, "modifiers", f"at most {MAX_MODIFIERS} modifiers, not {len(found)}")
    for modifier in found:
        if not MODIFIER.match(modifier):
            raise _bad(number, "modifiers", f"'{modifier}' is not a 2-character modifier")
    return found


def _units(number: int, value: str) -> int:
    text = value.strip()
    if not text.isdigit() or int(text) < 1:
        raise _bad(number, "units", f"'{value}' is not a positive whole number")
    return int(text)


def _amount(number: int, value: str) -> str:
    try:
        amount = Decimal(value.strip().lstrip("$"))
    except InvalidOperation:
        raise _bad(number, "amount", f"'{value}' is not an amount in dollars") from None
    if not amount.is_finite() or amount < 0 or amount != amount.quantize(Decimal("0.01")):
        raise _bad(number, "amount", f"'{value}' is not a non-negative amount in whole cents")
    return str(amount.quantize(Decimal("0.01")))


def _required(number: int, row: dict[str, str], column: str) -> str:
    value = (row.get(column) or "").strip()
    if not value:
        raise _bad(number, column, "is empty")
    return value


def _entry(number: int, row: dict[str, str]) -> CodeEntry:
    code = _charge_code(number, _required(number, row, "charge_code"))
    hcpcs = _hcpcs(number, row.get("hcpcs") or "")
    revenue = (row.get("revenue_code") or "").strip()
    if revenue and not REVENUE.match(revenue):
        raise _bad(number, "revenue_code", f"'{revenue}' is not a 4-digit NUBC revenue code")
    if not hcpcs and not revenue:
        raise _bad(number, "hcpcs", "is empty; only a line with a revenue_code may omit it")
    extra: dict[str, Any] = {
        "service_system": _required(number, row, "service_system"),
        "service_code": _required(number, row, "service_code"),
        "hcpcs": hcpcs,
        "modifiers": _modifiers(number, row.get("modifiers") or ""),
        "units": _units(number, row.get("units") or ""),
        "revenue_code": revenue,
        "amount": _amount(number, _required(number, row, "amount")),
    }
    return CodeEntry(code, _required(number, row, "description"), True, extra)


def parse(lines: Iterable[str]) -> Iterator[CodeEntry]:
    """The rows of a CDM file; a bad row is refused with its line number and field."""
    reader = csv.reader(line.rstrip("\r\n") for line in lines)
    header = next(reader, None)
    if header is None or tuple(h.strip().lower() for h in header) != COLUMNS:
        raise InvalidError(
            f"Line 1 must be the CDM header: {','.join(COLUMNS)}", ("line 1", "header")
        )
    seen: set[str] = set()
    for values in reader:
        number = reader.line_num
        if not any(v.strip() for v in values):
            continue
        if len(values) != len(COLUMNS):
            raise _bad(number, "row", f"has {len(values)} fields, expected {len(COLUMNS)}")
        entry = _entry(number, dict(zip(COLUMNS, values, strict=True)))
        if entry.code in seen:
            raise _bad(number, "charge_code", f"'{entry.code}' appears twice")
        seen.add(entry.code)
        yield entry


def version_of_file(name: str) -> tuple[str, str] | None:
    """``cdm-2026-01.csv``: version 2026-01 in force from 2026-01-01 (others need options)."""
    found = re.search(r"cdm[-_](20\d\d)[-_](0[1-9]|1[0-2])", name, re.IGNORECASE)
    if found is None:
        return None
    year, month = found.group(1), found.group(2)
    return f"{year}-{month}", f"{year}-{month}-01"
