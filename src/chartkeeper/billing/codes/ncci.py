"""NCCI procedure-to-procedure edits and MUE unit limits in CMS's published layouts.

https://www.cms.gov/medicare/coding-billing/national-correct-coding-initiative-ncci-edits
(PTP: "Medicare NCCI Procedure to Procedure (PTP) Edits"; MUE: "Medically Unlikely Edits").
Layouts as read from the 2026 Q3 files (``../shared/data/billing/ncci/SOURCES.md``): the PTP
text file (tab-separated, a copyright line, a title and a header wrapped over four lines, then
seven-field rows) and the MUE CSV (a quoted multi-line notice, a quoted multi-line header, then
four-field records). Codes are stored as the registry wants them: one entry per code, every
row for it aggregated into ``extra``, because the registry keeps the first entry per code.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Any

from chartkeeper.billing.codes.model import CodeEntry
from chartkeeper.billing.codes.records import bad_line, csv_records

PTP_HEADER_LINES = 6
MODIFIER_INDICATORS = frozenset({"0", "1", "9"})
MAI_VALUES = {"1": 1, "2": 2, "3": 3}
_CODE = re.compile(r"^[0-9A-Z]{5}$")
_DAY = re.compile(r"^[0-9]{8}$")


def _iso(text: str) -> str:
    return f"{text[:4]}-{text[4:6]}-{text[6:]}"


def _ptp_header(number: int, position: int, line: str) -> None:
    """Header lines 2 and 3 identify the layout; the notice (1) and the rest are free text."""
    first = line.split("\t", 1)[0].strip()
    if position == 2 and not first.startswith("Column1/Column2"):
        raise bad_line(number, "the PTP title 'Column1/Column2 Edits'")
    if position == 3 and first != "Column 1":
        raise bad_line(number, "the PTP column header ('Column 1')")


def _ptp_row(number: int, line: str) -> tuple[str, dict[str, Any]]:
    fields = [f.strip() for f in line.split("\t")]
    if len(fields) < 7 or any(fields[7:]):
        raise bad_line(number, "a seven-field PTP edit row")
    first, second, _, start, end, modifier, rationale = fields[:7]
    valid = (
        _CODE.match(first)
        and _CODE.match(second)
        and _DAY.match(start)
        and (end == "*" or _DAY.match(end))
        and modifier in MODIFIER_INDICATORS
    )
    if not valid:
        raise bad_line(number, "a PTP edit row (codes, YYYYMMDD dates, modifier 0/1/9)")
    period = {
        "from": _iso(start),
        "to": None if end == "*" else _iso(end),
        "modifier": modifier,
        "rationale": rationale,
    }
    return f"{first}|{second}", period


def parse_ptp(lines: Iterable[str]) -> Iterator[CodeEntry]:
    """One entry per code pair ``COL1|COL2``, each row of it a period in ``extra["periods"]``.

    The files of one quarter (``-f1`` to ``-f4``) may be concatenated: a copyright line after
    the rows starts the next file's header.
    """
    pairs: dict[str, list[dict[str, Any]]] = {}
    position = 0
    for number, raw in enumerate(lines, start=1):
        line = raw.rstrip("\r\n")
        if position >= PTP_HEADER_LINES and "copyright" in line.split("\t", 1)[0].lower():
            position = 0
        if position < PTP_HEADER_LINES:
            position += 1
            _ptp_header(number, position, line)
            continue
        if not line.strip():
            continue
        pair, period = _ptp_row(number, line)
        pairs.setdefault(pair, []).append(period)
    if position < PTP_HEADER_LINES:
        raise bad_line(position + 1, "part of the PTP header (the file is too short)")
    for pair, periods in pairs.items():
        yield CodeEntry(pair, periods[0]["rationale"], True, {"periods": periods})


def _is_mue_header(record: list[str]) -> bool:
    return len(record) >= 3 and "HCPCS" in record[0] and "Adjudication" in record[2]


def _mue_row(number: int, record: list[str]) -> CodeEntry:
    fields = [f.strip() for f in record]
    if len(fields) < 4 or any(fields[4:]):
        raise bad_line(number, "a four-field MUE record")
    code, value, indicator, rationale = fields[:4]
    if (
        not _CODE.match(code)
        or not (value.isascii() and value.isdigit())
        or indicator[:1] not in MAI_VALUES
    ):
        raise bad_line(number, "an MUE record (code, integer value, MAI 1/2/3)")
    extra = {"value": int(value), "mai": MAI_VALUES[indicator[:1]], "rationale": rationale}
    return CodeEntry(code, indicator, True, extra)


def parse_mue(lines: Iterable[str]) -> Iterator[CodeEntry]:
    """One entry per code: ``extra`` = value, MAI and rationale; the notice and header skipped."""
    header_seen = False
    count = number = 0
    for number, record in csv_records(lines):
        count += 1
        if not header_seen:
            if _is_mue_header(record):
                header_seen = True
            elif count > 1:
                raise bad_line(number, "the MUE header ('HCPCS/CPT Code', ...)")
            continue
        if not any(f.strip() for f in record):
            continue
        yield _mue_row(number, record)
    if not header_seen:
        raise bad_line(number + 1, "the MUE header (the file is too short)")


def ptp_version(name: str) -> tuple[str, str] | None:
    """``ccipra-v322r0-f1.TXT`` → ("2026Q3", "2026-07-01"): v32 is 2026, 2 is quarter 3."""
    found = re.search(r"v(\d\d)(\d)r\d+", name, re.IGNORECASE)
    if found is None or int(found.group(2)) > 3:
        return None
    year, quarter = 1994 + int(found.group(1)), int(found.group(2)) + 1
    return f"{year}Q{quarter}", f"{year}-{(quarter - 1) * 3 + 1:02d}-01"


def mue_version(name: str) -> tuple[str, str] | None:
    """``MCR_MUE_..._Eff_07-01-2026.csv`` → ("2026-07-01", "2026-07-01")."""
    found = re.search(r"Eff_(\d\d)-(\d\d)-(\d{4})", name, re.IGNORECASE)
    if found is None:
        return None
    day = f"{found.group(3)}-{found.group(1)}-{found.group(2)}"
    return day, day
