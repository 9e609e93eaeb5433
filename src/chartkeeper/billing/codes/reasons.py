"""Claim adjustment reason codes (CARC) and remittance advice remark codes (RARC).

X12 maintains both lists (https://x12.org/codes/claim-adjustment-reason-codes and
https://x12.org/codes/remittance-advice-remark-codes) and holds the copyright on their text,
so chartkeeper ships neither: a site loads the list it licensed, exported as CSV or TSV.

Accepted layout: a header row, then one row per code. Tab-separated when the header has a
tab, else CSV (quoted fields allowed). Columns are found by header name, in any order and
case, spaces and underscores ignored:

- ``code`` (required): a CARC (``45``, ``A1``, ``P12``) or a RARC (``M15``, ``MA01``, ``N130``);
- ``description``;
- ``start`` / ``start date``;
- ``last modified`` / ``modified``;
- ``stop`` / ``stop date`` / ``deactivation date`` / ``end date``.

Dates are ``YYYY-MM-DD`` or ``MM/DD/YYYY``, empty when none. Each entry keeps its dates in
``extra`` (``start``, ``stop``, ``lastModified``), so a code stopped before a remittance's
date can be told apart from one in force. A file name with a date (``carc-2026-03.csv``,
``rarc_20260301.tsv``) gives the version (``2026-03``) and its start date.
"""

from __future__ import annotations

import csv
import re
from collections.abc import Iterable, Iterator
from datetime import datetime

from chartkeeper.billing.codes.model import CodeEntry
from chartkeeper.core.errors import InvalidError

#: CARC: digits, optionally after one of the letters X12 uses (A, B, D, P, W, Y).
CARC_PATTERN = re.compile(r"[ABDPWY]?\d{1,3}")
#: RARC: M, MA or N followed by digits.
RARC_PATTERN = re.compile(r"(M|MA|N)\d{1,3}")

_COLUMNS = {
    "code": "code",
    "description": "description",
    "start": "start",
    "startdate": "start",
    "lastmodified": "modified",
    "modified": "modified",
    "stop": "stop",
    "stopdate": "stop",
    "deactivationdate": "stop",
    "enddate": "stop",
}
_VERSION = re.compile(r"(20\d\d)[-_]?(0[1-9]|1[0-2])(?:[-_]?(0[1-9]|[12]\d|3[01]))?(?!\d)")


def parse_carc(lines: Iterable[str]) -> Iterator[CodeEntry]:
    """The CARC entries of one file in the accepted layout."""
    return _parse(lines, CARC_PATTERN, "CARC")


def parse_rarc(lines: Iterable[str]) -> Iterator[CodeEntry]:
    """The RARC entries of one file in the accepted layout."""
    return _parse(lines, RARC_PATTERN, "RARC")


def version_of_file(name: str) -> tuple[str, str] | None:
    """Version and start date from a dated file name: ``carc_2026-03.csv`` → 2026-03."""
    found = _VERSION.search(name)
    if found is None:
        return None
    year, month, day = found.group(1), found.group(2), found.group(3) or "01"
    return f"{year}-{month}", f"{year}-{month}-{day}"


def _parse(lines: Iterable[str], pattern: re.Pattern[str], kind: str) -> Iterator[CodeEntry]:
    rows = iter(lines)
    header = next(rows, "").lstrip("\ufeff")
    delimiter = "\t" if "\t" in header else ","
    columns = _header(next(csv.reader([header], delimiter=delimiter), []))
    seen: set[str] = set()
    for number, fields in enumerate(csv.reader(rows, delimiter=delimiter), start=2):
        if not any(field.strip() for field in fields):
            continue
        values = {name: fields[i].strip() for i, name in columns.items() if i < len(fields)}
        code = values.get("code", "").upper()
        if not pattern.fullmatch(code):
            raise InvalidError(f"Line {number}: '{code}' is not a {kind} code", (f"line {number}",))
        if code in seen:
            raise InvalidError(f"Line {number}: {kind} {code} is listed twice", (f"line {number}",))
        seen.add(code)
        extra = {
            "start": _date(values.get("start", ""), number),
            "stop": _date(values.get("stop", ""), number),
            "lastModified": _date(values.get("modified", ""), number),
        }
        yield CodeEntry(code, values.get("description", ""), True, extra)


def _header(names: list[str]) -> dict[int, str]:
    """Column index → field, from the header names; the code column is required."""
    found: dict[int, str] = {}
    for index, name in enumerate(names):
        key = re.sub(r"[\s_]+", "", name.strip().lower())
        if key in _COLUMNS and _COLUMNS[key] not in found.values():
            found[index] = _COLUMNS[key]
    if "code" not in found.values():
        raise InvalidError("Line 1: the header names no 'code' column", ("line 1",))
    return found


def _date(text: str, number: int) -> str | None:
    if not text:
        return None
    for layout in ("%Y-%m-%d", "%m/%d/%Y"):
        try:
            return datetime.strptime(text, layout).date().isoformat()
        except ValueError:
            continue
    raise InvalidError(f"Line {number}: '{text}' is not a date", (f"line {number}",))
