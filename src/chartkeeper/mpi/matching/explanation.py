"""A match score and its explanation: each field's agreement level and weight (the waterfall).

The weight of a pair is the prior log-odds plus one log2 Bayes factor per comparison, so the
explanation is exact: its weights add up to the score's weight, and a reviewer can see which
fields pushed the pair towards or away from being the same person, and by how much.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

#: FHIR ``match-grade`` codes (http://hl7.org/fhir/R4/extension-match-grade.html).
GRADES = ("certain", "probable", "possible", "certainly-not")


@dataclass(frozen=True, slots=True)
class Contribution:
    """One step of the waterfall: a field, its agreement level, and the weight it adds (bits).

    ``level`` is the stable key (``exact``, ``jw0.92``, ``null``, ``prior``); ``label`` says
    what was seen (``nickname (bill ~ william: william)``). ``tf_adjusted`` marks a weight set
    by how common the agreeing value is rather than by the level's average.
    """

    field: str
    level: str
    label: str
    weight: float
    tf_adjusted: bool = False


@dataclass(frozen=True, slots=True)
class Score:
    """How likely two records are the same person, and why."""

    probability: float
    weight: float
    grade: str
    contributions: tuple[Contribution, ...]


def explain(score: Score) -> list[dict[str, Any]]:
    """The waterfall as JSON-ready rows, in comparison order, the prior first."""
    return [
        {
            "field": c.field,
            "level": c.level,
            "label": c.label,
            "weight": c.weight,
            "tf_adjusted": c.tf_adjusted,
        }
        for c in score.contributions
    ]
