"""A fast screen in front of ``codes.checks.check_diagnoses`` for lists of diagnoses.

``check_diagnoses`` compares every pair of an encounter's codes through the Excludes1 notes of
each code's ancestors, parsing the notes each time: right, but slow for thousands of claims a
second. Two exact shortcuts keep its answers and drop the repeated work:

* Most claims hold no Excludes1 pair and no manifestation code; then the findings of the list
  are exactly the findings of each code on its own (unknown, header, 7th character...), which
  are remembered per code. The screen reads the same notes the same way
  (``notes.references``, parsed once per note) and is conservative: any pair it cannot rule
  out, and any manifestation code, sends the whole list to ``check_diagnoses``.
* When the list goes to ``check_diagnoses``, it reads the codes through a view that leaves out
  the Excludes1 notes naming none of the list's codes (they cannot produce a finding).
"""

from __future__ import annotations

import bisect
from collections.abc import Sequence
from dataclasses import replace

from chartkeeper.billing.codes.checks import MANIFESTATION, CodeVersion, Finding, check_diagnoses
from chartkeeper.billing.codes.model import normalise
from chartkeeper.billing.codes.notes import CodeRange, references
from chartkeeper.billing.codes.registry import StoredCode

MAX_DEPTH = 12
WIDTH = 7
#: Per code: the padded (low, high) bounds of the Excludes1 ranges of it and its ancestors,
#: and whether it is a manifestation code.
Notes = tuple[tuple[tuple[str, str], ...], bool]
NO_NOTES: Notes = ((), False)


def _bounds(found: CodeRange) -> tuple[str, str]:
    """Padded so that a string compare covers at least what ``CodeRange.covers`` does."""
    return found.low.ljust(WIDTH, "0"), found.high.ljust(WIDTH, "Z")


class DiagnosisScreen:
    """Coding findings of diagnosis lists over one version, with per-code memory."""

    def __init__(self, codes: CodeVersion) -> None:
        self.codes = codes
        self._notes: dict[str, Notes] = {}
        self._parsed: dict[str, list[CodeRange]] = {}
        self._single: dict[str, list[Finding]] = {}

    def parsed(self, note: str) -> list[CodeRange]:
        """``notes.references`` of one note, parsed once."""
        found = self._parsed.get(note)
        if found is None:
            found = references([note])
            self._parsed[note] = found
        return found

    def notes(self, code: str) -> Notes:
        """The Excludes1 bounds above ``code`` and whether it is a manifestation code."""
        found = self._notes.get(code)
        if found is None:
            found = self._read_notes(code)
            self._notes[code] = found
        return found

    def _read_notes(self, code: str) -> Notes:
        current = self.codes.get(code)
        if current is None:
            return NO_NOTES
        bounds: list[tuple[str, str]] = []
        manifestation = False
        for _ in range(MAX_DEPTH):
            for note in current.extra.get("excludes1", []):
                bounds += [_bounds(r) for r in self.parsed(note)]
            manifestation = manifestation or MANIFESTATION in current.display.lower()
            parent = current.extra.get("parent")
            above = self.codes.get(parent) if parent else None
            if above is None:
                break
            current = above
        return tuple(bounds), manifestation

    def may_interact(self, codes: Sequence[str]) -> bool:
        """False only when no code is a manifestation and no Excludes1 note names another."""
        if len(codes) < 2:
            return any(self.notes(code)[1] for code in codes)
        padded = sorted(code.ljust(WIDTH, "0") for code in codes)
        count = len(padded)
        for code in codes:
            bounds, manifestation = self.notes(code)
            if manifestation:
                return True
            own = code.ljust(WIDTH, "0")
            for low, high in bounds:
                at = bisect.bisect_left(padded, low)
                while at < count and padded[at] <= high:
                    if padded[at] != own:
                        return True
                    at += 1
        return False

    def findings(self, diagnoses: Sequence[str]) -> list[Finding]:
        """What ``check_diagnoses(codes, diagnoses)`` finds."""
        if self.codes.version is None:
            return check_diagnoses(self.codes, diagnoses)
        codes = [normalise(d) for d in diagnoses]
        if self.may_interact(codes):
            return check_diagnoses(_ListView(self, codes), diagnoses)
        found: list[Finding] = []
        for raw in diagnoses:
            single = self._single.get(raw)
            if single is None:
                single = check_diagnoses(self.codes, [raw])
                self._single[raw] = single
            found += single
        return found


class _ListView:
    """The version as one diagnosis list needs it: Excludes1 notes naming none of its codes
    left out, everything else as stored (a ``checks.CodeVersion``)."""

    def __init__(self, screen: DiagnosisScreen, codes: list[str]) -> None:
        self.screen = screen
        self.base = screen.codes
        self.version = screen.codes.version
        self.listed = codes

    def _relevant(self, note: str) -> bool:
        return any(r.covers(c) for r in self.screen.parsed(note) for c in self.listed)

    def get(self, code: str) -> StoredCode | None:
        found = self.base.get(code)
        notes = found.extra.get("excludes1") if found else None
        if found is None or not notes:
            return found
        kept = [note for note in notes if self._relevant(note)]
        return (
            found
            if len(kept) == len(notes)
            else replace(found, extra={**found.extra, "excludes1": kept})
        )

    def other_versions(self, code: str) -> list[str]:
        return self.base.other_versions(code)

    def children(self, code: str, limit: int) -> list[str]:
        return self.base.children(code, limit)
