"""The CMS Medicare Code Editor (MCE) diagnosis edit lists, and the edits that read them.

https://www.cms.gov/medicare/payment/prospective-payment-systems/acute-inpatient-pps/ms-drg-classifications-and-software
("Definitions of Medicare Code Edits"). The edit list is loaded as code set kind ``mce`` from
the diagnosis master as TSV (``code``, ``start_date``, ``end_date``, ``flags``; one row per
period in which a code's flags held). An edit applies when the flag holds on the date of
service: CMS ended the sex-conflict flags on 2024-09-30, so the sex edit is silent after it.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from typing import Any

from chartkeeper.billing.codes.model import CodeEntry
from chartkeeper.core.errors import InvalidError

#: Edit 4 (age conflict): the age groups, in years, with the dates they held.
AGE_GROUPS: dict[str, list[tuple[int, int, str, str | None]]] = {
    "newborn": [(0, 0, "1984-03-01", None)],
    "pediatric": [(0, 17, "1984-03-01", None)],
    "maternity": [(12, 55, "1984-03-01", "2019-09-30"), (9, 64, "2019-10-01", None)],
    "adult": [(15, 124, "1984-03-01", None)],
}
SEXES = {"female", "male"}


def _iso(text: str) -> str | None:
    text = text.strip()
    return f"{text[:4]}-{text[4:6]}-{text[6:]}" if text else None


def parse_master(lines: Iterable[str]) -> Iterator[CodeEntry]:
    """One entry per code, its flag periods in ``extra["periods"]``: [start, end, flags]."""
    periods: dict[str, list[list[Any]]] = {}
    for number, raw in enumerate(lines, start=1):
        fields = raw.rstrip("\r\n").split("\t")
        if number == 1 and fields[0] == "code":
            continue
        if len(fields) != 4 or not fields[0] or _iso(fields[1]) is None:
            raise InvalidError(f"Line {number} is not an MCE master row", (f"line {number}",))
        flags = fields[3].split()
        periods.setdefault(fields[0], []).append([_iso(fields[1]), _iso(fields[2]), flags])
    for code, found in periods.items():
        yield CodeEntry(code, "", True, {"periods": found})


def flags_on(extra: dict[str, Any], day: date) -> set[str]:
    """The code's MCE flags in force on ``day``."""
    text = day.isoformat()
    for start, end, flags in extra.get("periods", []):
        if start <= text and (end is None or text <= end):
            return set(flags)
    return set()


@dataclass(frozen=True, slots=True)
class PatientFacts:
    """What the sex and age edits need: administrative sex and age in years on the date."""

    sex: str | None
    age: int | None


def age_conflicts(flags: set[str], age: int, day: date) -> list[tuple[str, int, int]]:
    """The age groups in ``flags`` whose range on ``day`` excludes ``age``."""
    text = day.isoformat()
    found = []
    for group in sorted(flags & AGE_GROUPS.keys()):
        for low, high, start, end in AGE_GROUPS[group]:
            held = start <= text and (end is None or text <= end)
            if held and not low <= age <= high:
                found.append((group, low, high))
    return found


def sex_conflict(flags: set[str], sex: str | None) -> str | None:
    """The sex the code is for, when the patient's is the other one."""
    wanted = flags & SEXES
    if sex in SEXES and wanted and sex not in wanted:
        return next(iter(wanted))
    return None
