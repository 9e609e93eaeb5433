"""Coverage policies (medical necessity): procedure codes and the diagnoses that support them.

A policy table is what a Medicare LCD (Local Coverage Determination) or NCD publishes as its
"covered ICD-10 codes" list, written as a CSV chartkeeper defines (docs/billing.md, "Claim
scrubber rules")::

    policy_id,title,procedure_code,icd10_from,icd10_to
    L99901,Synthetic syringe policy,A4206,E08,E13

one inclusive diagnosis range per row. Codes are written with or without the dot; a range
bound stands for itself and every code below it (``E13`` reaches ``E13.9``), which is how a
string compare works after padding the low bound with ``0`` and the high bound with ``Z`` to
seven characters. One entry per procedure code: ``extra["policies"]`` =
``[{"id", "title", "ranges": [[from, to], ...]}]``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from typing import Any

from chartkeeper.billing.codes.model import CodeEntry, normalise
from chartkeeper.billing.codes.records import bad_line, csv_records

HEADER = ["policy_id", "title", "procedure_code", "icd10_from", "icd10_to"]
WIDTH = 7
_PROCEDURE = re.compile(r"^[0-9A-Z]{5}$")
_DIAGNOSIS = re.compile(r"^[A-Z][0-9][0-9A-Z]{1,5}$")


def low_bound(code: str) -> str:
    """A range's low end, padded so that every code below it compares higher."""
    return code.ljust(WIDTH, "0")


def high_bound(code: str) -> str:
    """A range's high end, padded so that every code below it compares lower."""
    return code.ljust(WIDTH, "Z")


def _row(number: int, record: list[str]) -> tuple[str, str, str, list[str]]:
    fields = [f.strip() for f in record]
    if len(fields) != len(HEADER):
        raise bad_line(number, "a five-field policy row")
    policy_id, title, procedure = fields[0], fields[1], fields[2].upper()
    low, high = normalise(fields[3]), normalise(fields[4])
    valid = (
        policy_id
        and _PROCEDURE.match(procedure)
        and _DIAGNOSIS.match(low)
        and _DIAGNOSIS.match(high)
        and low_bound(low) <= high_bound(high)
    )
    if not valid:
        raise bad_line(number, "a policy row (id, title, procedure code, ICD-10-CM from <= to)")
    return policy_id, title, procedure, [low, high]


def parse(lines: Iterable[str]) -> Iterator[CodeEntry]:
    """One entry per procedure code, with every policy and diagnosis range that covers it."""
    records = csv_records(lines)
    header = next(records, (1, None))[1]
    if header is None or [h.strip().lstrip("\ufeff") for h in header] != HEADER:
        raise bad_line(1, f"the policy header '{','.join(HEADER)}'")
    found: dict[str, dict[str, dict[str, Any]]] = {}
    for number, record in records:
        if not any(f.strip() for f in record):
            continue
        policy_id, title, procedure, bounds = _row(number, record)
        policies = found.setdefault(procedure, {})
        policy = policies.setdefault(policy_id, {"id": policy_id, "title": title, "ranges": []})
        policy["ranges"].append(bounds)
    for procedure, policies in found.items():
        listed = list(policies.values())
        yield CodeEntry(procedure, listed[0]["title"], True, {"policies": listed})


def version_of_file(name: str) -> tuple[str, str] | None:
    """A file name carrying ``YYYY-MM-DD`` (``policy_L99901_2026-07-01.csv``) is that version,
    in force from that day; any other name needs ``--version`` and ``--effective-from``."""
    found = re.search(r"(\d{4})-(\d\d)-(\d\d)", name)
    if found is None:
        return None
    return found.group(0), found.group(0)
