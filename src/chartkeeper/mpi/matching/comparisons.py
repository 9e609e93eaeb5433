"""The comparisons of the model, each field's agreement levels, and the gamma matrix of pairs.

``COMPARISONS`` is versioned by ``COMPARISONS_VERSION``: a model's m/u are only meaningful for
the comparison configuration they were estimated on, so a model records the version and is
refused by a different one.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from chartkeeper.mpi.matching.features import Features
from chartkeeper.mpi.matching.identifiers import COMPARED_KINDS, is_near
from chartkeeper.mpi.matching.levels import (
    NULL,
    Comparison,
    LevelArray,
    LevelAssigner,
    PairBatch,
    jaro_winkler,
    jaro_winkler_pairs,
    jw_levels,
    levels_of,
    one_edit_pairs,
    similarity_label,
)
from chartkeeper.mpi.matching.levels import is_one_edit as is_one_text_edit
from chartkeeper.mpi.matching.name_comparisons import FamilyNameComparison, GivenNameComparison
from chartkeeper.mpi.matching.table import BoolArray, FeatureTable, IntArray

COMPARISONS_VERSION = "1"
GammaArray = npt.NDArray[np.int8]


class TextComparison(Comparison):
    """A text field: exact, optionally one edit apart, Jaro-Winkler levels, different."""

    def __init__(
        self, name: str, field: str, *, one_edit: bool = False, similarity: Sequence[float] = ()
    ) -> None:
        self.name, self.field = name, field
        self.one_edit, self.similarity = one_edit, tuple(similarity)
        edit = (("one_edit", "one character apart"),) if one_edit else ()
        self.levels = levels_of(
            ("exact", "same"),
            *edit,
            *((lv.key, lv.description) for lv in jw_levels(self.similarity)),
            ("different", "different"),
        )

    def exact_values(self, table: FeatureTable) -> IntArray:
        return table.text[self.field].codes

    def compare(self, a: Features, b: Features) -> tuple[int, str]:
        x, y = getattr(a, self.field), getattr(b, self.field)
        if not x or not y:
            return NULL, "missing"
        if x == y:
            return 0, "exact"
        level = 1
        if self.one_edit:
            if is_one_text_edit(x, y):
                return level, "one character apart"
            level += 1
        if self.similarity:
            score = jaro_winkler(x, y)
            for threshold in self.similarity:
                if score >= threshold:
                    return level, similarity_label(score)
                level += 1
        return level, "different"

    def compare_pairs(self, pairs: PairBatch) -> LevelArray:
        table, left, right = pairs.table, pairs.left, pairs.right
        column = table.text[self.field]
        cl, cr = column.codes[left], column.codes[right]
        levels = LevelAssigner((cl == 0) | (cr == 0), len(self.levels))
        levels.assign(0, lambda p: cl[p] == cr[p])
        if self.one_edit:
            levels.assign(
                1, lambda p: one_edit_pairs(column.values[left[p]], column.values[right[p]])
            )
        levels.assign_thresholds(
            1 + self.one_edit,
            self.similarity,
            lambda p: jaro_winkler_pairs(
                column.values[left[p]], column.values[right[p]], min(self.similarity, default=0)
            ),
        )
        return levels.levels


class EmailComparison(Comparison):
    """E-mail: exact, the same mailbox name at another domain, different."""

    name = "email"
    levels = levels_of(
        ("exact", "same"), ("local_part", "same name before the @"), ("different", "different")
    )

    def exact_values(self, table: FeatureTable) -> IntArray:
        return table.text["email"].codes

    def compare(self, a: Features, b: Features) -> tuple[int, str]:
        x, y = a.email, b.email
        if not x or not y:
            return NULL, "missing"
        if x == y:
            return 0, "exact"
        if x.partition("@")[0] == y.partition("@")[0]:
            return 1, "same name before the @"
        return 2, "different"

    def compare_pairs(self, pairs: PairBatch) -> LevelArray:
        table, left, right = pairs.table, pairs.left, pairs.right
        column = table.text["email"]
        cl, cr = column.codes[left], column.codes[right]
        levels = LevelAssigner((cl == 0) | (cr == 0), len(self.levels))
        levels.assign(0, lambda p: cl[p] == cr[p])
        values = column.values
        levels.assign(
            1,
            lambda p: np.array(
                [
                    values[x].partition("@")[0] == values[y].partition("@")[0]
                    for x, y in zip(left[p], right[p], strict=True)
                ],
                dtype=bool,
            ),
        )
        return levels.levels


def same_length_one_edit(x: npt.NDArray[np.uint8], y: npt.NDArray[np.uint8]) -> BoolArray:
    """Rows of equal length one substitution or one adjacent transposition apart: for strings
    of the same length exactly the optimal-string-alignment distance 1 of ``is_one_edit``."""
    differs = x != y
    count = differs.sum(axis=1)
    swapped = differs[:, :-1] & differs[:, 1:] & (x[:, :-1] == y[:, 1:]) & (x[:, 1:] == y[:, :-1])
    return np.asarray((count == 1) | ((count == 2) & swapped.any(axis=1)), dtype=bool)


class BirthDateComparison(Comparison):
    """Birth date: exact, day and month transposed, one digit off, two of the three parts the
    same, a partial date that agrees as far as it goes, different."""

    name = "birth_date"
    levels = levels_of(
        ("exact", "same date"),
        ("transposed", "day and month transposed"),
        ("one_edit", "one digit off (a typo)"),
        ("two_parts", "two of year, month and day the same"),
        ("partial", "a partial date that agrees as far as it goes"),
        ("different", "different"),
    )

    @staticmethod
    def _parts(text: str) -> tuple[int, int, int]:
        cut = [int(text[s:e]) if len(text) >= e else -1 for s, e in ((0, 4), (4, 6), (6, 8))]
        return cut[0], cut[1], cut[2]

    def exact_values(self, table: FeatureTable) -> IntArray:
        return table.text["birth_date"].codes

    def compare(self, a: Features, b: Features) -> tuple[int, str]:
        x, y = a.birth_date, b.birth_date
        if not x or not y:
            return NULL, "missing"
        if x == y:
            return 0, "exact"
        (ya, ma, da), (yb, mb, db) = self._parts(x), self._parts(y)
        if len(x) == 8 and len(y) == 8:
            if ya == yb and ma == db and da == mb:
                return 1, "day and month transposed"
            if is_one_text_edit(x, y):
                return 2, "one digit off"
            if (ya == yb) + (ma == mb) + (da == db) >= 2:
                return 3, "two of year, month and day the same"
            return 5, "different"
        if all(p == q for p, q in ((ya, yb), (ma, mb), (da, db)) if p >= 0 and q >= 0):
            return 4, "partial date, agrees as far as it goes"
        return 5, "different"

    def compare_pairs(self, pairs: PairBatch) -> LevelArray:
        table, left, right = pairs.table, pairs.left, pairs.right
        column = table.text["birth_date"]
        cl, cr = column.codes[left], column.codes[right]
        pl, pr = table.date_parts[left], table.date_parts[right]
        full = (pl[:, 2] >= 0) & (pr[:, 2] >= 0)
        same = pl == pr
        known = (pl >= 0) & (pr >= 0)
        levels = LevelAssigner((cl == 0) | (cr == 0), len(self.levels))
        levels.assign(0, lambda p: cl[p] == cr[p])
        levels.assign(
            1, lambda p: full[p] & same[p, 0] & (pl[p, 1] == pr[p, 2]) & (pl[p, 2] == pr[p, 1])
        )
        digits = table.date_digits
        levels.assign(
            2, lambda p: full[p] & same_length_one_edit(digits[left[p]], digits[right[p]])
        )
        levels.assign(3, lambda p: full[p] & (same[p].sum(axis=1) >= 2))
        levels.assign(4, lambda p: ~full[p] & (same[p] | ~known[p]).all(axis=1))
        return levels.levels


class IdentifierComparison(Comparison):
    """One identifier kind, from keyed hashes: exact, a typo or swap apart, different."""

    def __init__(self, kind: str) -> None:
        self.kind = kind
        self.name = kind
        self.levels = levels_of(
            ("exact", "same"),
            ("near", "the same but for one or two neighbouring characters (typo or swap)"),
            ("different", "different"),
        )

    def exact_values(self, table: FeatureTable) -> IntArray:
        return table.identifiers[self.kind].exact

    def compare(self, a: Features, b: Features) -> tuple[int, str]:
        x, y = a.identifier(self.kind), b.identifier(self.kind)
        if x is None or y is None:
            return NULL, "missing"
        if x.exact == y.exact:
            return 0, "exact"
        if is_near(x, y):
            return 1, "one typo or swapped pair (compared as hashes)"
        return 2, "different"

    def compare_pairs(self, pairs: PairBatch) -> LevelArray:
        table, left, right = pairs.table, pairs.left, pairs.right
        column = table.identifiers[self.kind]
        el, er = column.exact[left], column.exact[right]
        levels = LevelAssigner((el == 0) | (er == 0), len(self.levels))
        levels.assign(0, lambda p: el[p] == er[p])
        variants = column.variants
        levels.assign(
            1,
            lambda p: ((variants[left[p]] == variants[right[p]]) & (variants[left[p]] != 0)).any(
                axis=1
            ),
        )
        return levels.levels


COMPARISONS: tuple[Comparison, ...] = (
    GivenNameComparison(),
    FamilyNameComparison(),
    BirthDateComparison(),
    *(IdentifierComparison(kind) for kind in COMPARED_KINDS),
    TextComparison("sex", "sex"),
    TextComparison("phone", "phone", one_edit=True),
    EmailComparison(),
    TextComparison("address_number", "address_number", one_edit=True),
    TextComparison("street", "street", similarity=(0.9, 0.8)),
    TextComparison("address_other", "address_other", similarity=(0.9, 0.8)),
    TextComparison("city", "city", similarity=(0.9, 0.8)),
    TextComparison("state", "state"),
    TextComparison("postal_code", "postal_code", one_edit=True),
)


def compare(a: Features, b: Features) -> list[tuple[int, str]]:
    """(level, label) of every comparison for one pair."""
    return [comparison.compare(a, b) for comparison in COMPARISONS]


def gamma(table: FeatureTable, left: IntArray, right: IntArray) -> GammaArray:
    """The level of every comparison for many pairs: one row per pair, NULL = -1."""
    pairs = PairBatch(table, left, right)
    out = np.empty((len(pairs), len(COMPARISONS)), dtype=np.int8)
    for column, comparison in enumerate(COMPARISONS):
        out[:, column] = comparison.compare_pairs(pairs)
    return out
