"""Term frequencies of names, for adjusting the weight of an exact agreement on a value.

Two records agreeing on "Smith" say less than two agreeing on "Quennell". Under Fellegi-Sunter
the Bayes factor of agreeing on value ``v`` is ``m / f(v)``, ``f(v)`` the share of records
holding ``v`` (splink's term-frequency adjustment). Only the most common values are kept (the
model is stored as JSON); the rest share one frequency: their count-weighted average.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

#: Never treat a value as rarer than one in a hundred million (bounds the weight).
FLOOR = 1e-8


@dataclass(frozen=True)
class TermFrequencies:
    """Share of records holding each common value; ``default`` for every other value."""

    values: Mapping[str, float]
    default: float

    def of(self, value: str) -> float:
        """The frequency of ``value`` (never below ``FLOOR``)."""
        return max(self.values.get(value, self.default), FLOOR)

    def to_data(self) -> dict[str, Any]:
        return {"values": dict(self.values), "default": self.default}

    @classmethod
    def from_data(cls, data: Mapping[str, Any]) -> TermFrequencies:
        return cls({str(k): float(v) for k, v in data["values"].items()}, float(data["default"]))


def count_frequencies(counted: Mapping[str, int], keep: int) -> TermFrequencies:
    """Frequencies of the ``keep`` most common non-empty values, from value → record count."""
    counts = Counter({v: n for v, n in counted.items() if v and n > 0})
    total = sum(counts.values())
    if total == 0:
        return TermFrequencies({}, FLOOR)
    common = counts.most_common(keep)
    tail = [c for _, c in counts.most_common()[keep:]]
    default = sum(c * c for c in tail) / sum(tail) / total if tail else 1 / total
    return TermFrequencies({v: round(c / total, 9) for v, c in common}, default)
