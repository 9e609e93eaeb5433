"""The building blocks of comparisons: levels, the comparison interface, batch level assignment.

Every comparison is written twice, once for one pair (online ``$match``: plain Python on two
``Features``) and once for many pairs (batch: numpy and ``rapidfuzz.process.cpdist`` over a
``FeatureTable``). Both must give the same level for the same pair; the unit tests check that on
real data. A level test in batch runs only on the pairs no earlier level has claimed.
"""

from __future__ import annotations

import math
from abc import ABC, abstractmethod
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
from rapidfuzz.distance import OSA, JaroWinkler
from rapidfuzz.process import cpdist

from chartkeeper.mpi.matching.features import Features
from chartkeeper.mpi.matching.table import BoolArray, FeatureTable, IntArray, ObjectArray

#: The level of a pair where either side lacks the field: it weighs nothing.
NULL = -1
LevelArray = npt.NDArray[np.int8]
FloatArray = npt.NDArray[np.float64]


@dataclass
class PairBatch:
    """Pairs ``(left[k], right[k])`` of the rows of ``table``, with a memo for tests that
    several comparisons share (swapped names)."""

    table: FeatureTable
    left: IntArray
    right: IntArray
    memo: dict[str, Any] = field(default_factory=dict)

    def __len__(self) -> int:
        return int(self.left.shape[0])


@dataclass(frozen=True, slots=True)
class Level:
    """One agreement level of a comparison: a stable key and what it means."""

    key: str
    description: str


class Comparison(ABC):
    """How one field (or a group of fields) of two records agrees, as ordered levels.

    Level 0 is the strongest agreement, the last level is "different". A comparison with a
    ``tf_field`` gets a term-frequency adjusted weight at level 0, looked up by that field's
    value.
    """

    name: str
    levels: tuple[Level, ...]
    tf_field: str = ""

    @property
    def tf(self) -> bool:
        """Whether an exact agreement is weighted by the frequency of the value."""
        return bool(self.tf_field)

    @abstractmethod
    def compare(self, a: Features, b: Features) -> tuple[int, str]:
        """(level, human label) for one pair; (NULL, label) when either side is missing."""

    @abstractmethod
    def compare_pairs(self, pairs: PairBatch) -> LevelArray:
        """The levels of many pairs."""

    @abstractmethod
    def exact_values(self, table: FeatureTable) -> IntArray:
        """Per record, the code whose equality is level 0 (exact); 0 where missing."""

    def tf_value(self, features: Features) -> str:
        """The value whose frequency adjusts an exact agreement (tf comparisons only)."""
        return str(getattr(features, self.tf_field)) if self.tf_field else ""


def jaro_winkler(x: str, y: str) -> float:
    """Jaro-Winkler similarity in [0, 1] (rapidfuzz, prefix weight 0.1)."""
    return float(JaroWinkler.normalized_similarity(x, y))


def jaro_winkler_pairs(x: ObjectArray, y: ObjectArray, floor: float = 0.0) -> FloatArray:
    """Element-wise Jaro-Winkler, the same numbers as ``jaro_winkler`` (float64).

    Scores below ``floor`` may come back as 0 (rapidfuzz stops early on them), so a caller
    asking "at least t?" passes a floor at or below t. rapidfuzz is given a cut-off 0.01 below
    the floor: its own early test is not exact at the boundary (with a cut-off of 0.8 it drops
    "joshua"/"john", whose similarity is 0.8), and scores it does return are the same numbers.
    """
    if len(x) == 0:
        return np.zeros(0)
    cutoff = max(floor - 0.01, 0.0) if floor else None
    scores = cpdist(
        x.tolist(),
        y.tolist(),
        scorer=JaroWinkler.normalized_similarity,
        score_cutoff=cutoff,
        dtype=np.float64,
        workers=1,
    )
    return np.asarray(scores, dtype=np.float64)


def is_one_edit(x: str, y: str) -> bool:
    """One substitution, insertion, deletion or adjacent transposition apart."""
    return int(OSA.distance(x, y, score_cutoff=1)) <= 1


def one_edit_pairs(x: ObjectArray, y: ObjectArray) -> BoolArray:
    """Element-wise ``is_one_edit``."""
    if len(x) == 0:
        return np.zeros(0, dtype=bool)
    distances = cpdist(
        x.tolist(), y.tolist(), scorer=OSA.distance, score_cutoff=1, dtype=np.int32, workers=1
    )
    return np.asarray(distances) <= 1


def similarity_label(score: float) -> str:
    """``Jaro-Winkler 0.93``, rounded down so the label never exceeds the threshold passed."""
    return f"Jaro-Winkler {math.floor(score * 100) / 100:.2f}"


class LevelAssigner:
    """Gives each pair the first level whose test it passes; tests see only undecided pairs.

    A test receives positions into the pair arrays and returns one bool per position.
    """

    def __init__(self, missing: BoolArray, levels: int) -> None:
        self.levels = np.full(missing.shape[0], levels - 1, dtype=np.int8)
        self.levels[missing] = NULL
        self.pending: IntArray = np.flatnonzero(~missing)

    def assign(self, level: int, test: Callable[[IntArray], BoolArray]) -> None:
        """Pairs still pending that pass ``test`` get ``level``."""
        if self.pending.size == 0:
            return
        hit = test(self.pending)
        self.levels[self.pending[hit]] = level
        self.pending = self.pending[~hit]

    def assign_thresholds(
        self, first: int, thresholds: Sequence[float], score: Callable[[IntArray], FloatArray]
    ) -> None:
        """Levels ``first``, ``first + 1``, ... for scores at or above each threshold in turn."""
        if self.pending.size == 0 or not thresholds:
            return
        values = score(self.pending)
        for offset, threshold in enumerate(thresholds):
            hit = values >= threshold
            self.levels[self.pending[hit]] = first + offset
            self.pending, values = self.pending[~hit], values[~hit]


def levels_of(*pairs: tuple[str, str]) -> tuple[Level, ...]:
    """Levels from (key, description) pairs."""
    return tuple(Level(key, description) for key, description in pairs)


def jw_levels(thresholds: Sequence[float]) -> tuple[Level, ...]:
    """One level per Jaro-Winkler threshold."""
    return tuple(Level(f"jw{t:.2f}", f"Jaro-Winkler ≥ {t:.2f}") for t in thresholds)
