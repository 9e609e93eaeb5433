"""Records prepared once for batch work: their blocking keys, and their columns when needed.

Training and then linking or de-duplicating the same records need the same keys and columns;
preparing them once (and combining two prepared sources for a linkage) saves doing it twice.
Every batch function also accepts plain ``Features`` and prepares them itself.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from functools import cached_property

from chartkeeper.mpi.matching.blocking import blocking_keys, candidate_pairs
from chartkeeper.mpi.matching.features import Features
from chartkeeper.mpi.matching.table import FeatureTable, IntArray, build_table


@dataclass(frozen=True, eq=False)
class PreparedRecords:
    """Records with their blocking keys (same order); the column table is built on first use."""

    features: Sequence[Features]
    keys: list[list[str]]
    #: The last ``combine(self, other)``, kept so a linkage reuses its training's table.
    combined: list[tuple[PreparedRecords, PreparedRecords]] = field(
        default_factory=list, repr=False
    )

    def __len__(self) -> int:
        return len(self.features)

    @cached_property
    def table(self) -> FeatureTable:
        """The records in columns (built once)."""
        return build_table(self.features)

    @cached_property
    def pairs(self) -> IntArray:
        """Every pair of these records that shares a blocking key (worked out once)."""
        return candidate_pairs(self.keys)

    def pairs_across(self, split: int) -> IntArray:
        """The ``pairs`` that join a record before ``split`` to one from ``split`` on."""
        pairs = self.pairs
        return pairs[(pairs[:, 0] < split) & (pairs[:, 1] >= split)]


Records = Sequence[Features] | PreparedRecords


def prepare(features: Sequence[Features]) -> PreparedRecords:
    """Work out the blocking keys of ``features``."""
    return PreparedRecords(features, [blocking_keys(f) for f in features])


def as_prepared(records: Records) -> PreparedRecords:
    """``records`` prepared (unchanged when they already are)."""
    return records if isinstance(records, PreparedRecords) else prepare(records)


def combine(first: PreparedRecords, second: PreparedRecords) -> PreparedRecords:
    """The records of ``first`` followed by those of ``second`` (the same object when the
    same two were combined last time, so its table is built once)."""
    for other, both in first.combined:
        if other is second:
            return both
    both = PreparedRecords([*first.features, *second.features], first.keys + second.keys)
    first.combined[:] = [(second, both)]
    return both
