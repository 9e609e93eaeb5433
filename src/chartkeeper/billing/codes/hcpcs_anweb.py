"""HCPCS Level II from the official CMS fixed-width alpha-numeric file (``*_ANWEB_*.txt``).

Record layout: ``HCPC2025_recordlayout.txt`` in the CMS quarterly release
(https://www.cms.gov/medicare/coding-billing/healthcare-common-procedure-system/quarterly-update).
320-character records; record id ``3``/``7`` starts a code/modifier and ``4``/``8`` continues its
long description. Positions below are 0-based slices of the 1-based layout.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from datetime import date
from typing import Any

from chartkeeper.billing.codes.model import CodeEntry
from chartkeeper.core.errors import InvalidError

FIRST_LINES = {"3": "code", "7": "modifier"}
CONTINUATIONS = {"4", "8"}


def _date(text: str) -> str | None:
    text = text.strip()
    if len(text) != 8 or not text.isdigit():
        return None
    return date(int(text[:4]), int(text[4:6]), int(text[6:])).isoformat()


def _fields(line: str) -> dict[str, Any]:
    fields: dict[str, Any] = {
        "shortDescription": line[91:119].strip(),
        "coverage": line[229:230].strip(),
        "betos": line[256:259].strip(),
        "typeOfService": [c for c in line[260:265] if c.strip()],
        "added": _date(line[268:276]),
        "actionEffective": _date(line[276:284]),
        "terminated": _date(line[284:292]),
        "action": line[292:293].strip(),
    }
    return {key: value for key, value in fields.items() if value}


def parse_anweb(lines: Iterable[str]) -> Iterator[CodeEntry]:
    """The codes and modifiers of an ANWEB file, descriptions joined across lines."""
    code: str | None = None
    parts: list[str] = []
    extra: dict[str, Any] = {}
    for number, raw in enumerate(lines, start=1):
        line = raw.rstrip("\r\n")
        if not line.strip():
            continue
        if len(line) < 293 or line[10] not in FIRST_LINES.keys() | CONTINUATIONS:
            raise InvalidError(f"Line {number} is not an HCPCS ANWEB record", (f"line {number}",))
        if line[10] in CONTINUATIONS:
            parts.append(line[11:91].strip())
            continue
        if code is not None:
            yield CodeEntry(code, " ".join(parts), True, extra)
        code = line[:5].strip()
        parts = [line[11:91].strip()]
        extra = {"record": FIRST_LINES[line[10]], **_fields(line)}
    if code is not None:
        yield CodeEntry(code, " ".join(parts), True, extra)
