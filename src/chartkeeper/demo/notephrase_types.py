"""The Phrases record: what a clinician writes about one kind of visit."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Phrases:
    """What a clinician writes about one kind of visit.

    Placeholders: ``{dur}`` symptom duration, ``{side}`` L/R; the course may use lab shorthand
    filled in by the note writer (``{Cr}``, ``{trop}``, ``{lactate}``).
    """

    complaint: str
    hpi: tuple[str, ...]
    denies: tuple[str, ...]
    exam: dict[str, str]
    assessment: str
    plan: tuple[str, ...]
    course: str = ""
    hours: bool = False  # duration counted in hours rather than days
    dur: tuple[int, int] = (1, 5)
