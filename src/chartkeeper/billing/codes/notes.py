"""Code references inside ICD-10-CM instructional notes: "(E10.-)", "(R73.01-R73.09)", "(A00-B99)".

https://www.cms.gov/medicare/coding-billing/icd-10-codes, ICD-10-CM Official Guidelines,
Section I.A.12 (Excludes notes) and I.A.13 (etiology/manifestation convention). A reference
names a code and everything below it (``E10.-``), or an inclusive range of them.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

CODE = r"[A-Z]\d[0-9A-Z](?:\.[0-9A-Z]{1,4})?"
REFERENCE = re.compile(rf"({CODE})(?:\.?-(?![A-Z]\d))?(?:\s?-\s?({CODE})(?:\.?-)?)?")
PARENTHESES = re.compile(r"\(([^()]*)\)")


@dataclass(frozen=True, slots=True)
class CodeRange:
    """Codes from ``low`` to ``high`` (each standing for itself and all codes below it)."""

    low: str
    high: str

    def covers(self, code: str) -> bool:
        """True when ``code`` (stored form) falls in the range."""
        return code[: len(self.low)] >= self.low and code[: len(self.high)] <= self.high


def references(notes: Iterable[str]) -> list[CodeRange]:
    """The code ranges the notes refer to in parentheses."""
    found: list[CodeRange] = []
    for note in notes:
        for group in PARENTHESES.findall(note):
            if " with " in group:  # "(E08-E13 with .42)": a qualified reference; not a range
                continue
            for match in REFERENCE.finditer(group):
                low = match.group(1).replace(".", "")
                high = (match.group(2) or match.group(1)).replace(".", "")
                found.append(CodeRange(low, high))
    return found
