"""Given and family name comparisons: nicknames, middle names, multi-part and swapped names.

A pair whose given and family names are swapped (each matching the other's other name) is
counted once, at the given name's "swapped" level; its family comparison is then NULL, so the
same evidence is not added twice.
"""

from __future__ import annotations

import numpy as np

from chartkeeper.mpi.matching.features import Features
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
    similarity_label,
)
from chartkeeper.mpi.matching.names import nickname_link
from chartkeeper.mpi.matching.table import BoolArray, FeatureTable, IntArray

NAME_THRESHOLDS = (0.92, 0.8)
#: Both crossed names must be at least this similar for a pair to count as swapped.
SWAP_THRESHOLD = 0.92


def is_swapped(a: Features, b: Features) -> bool:
    """Whether a's given name is b's family name and the other way round (typos allowed)."""
    if not (a.given and a.family and b.given and b.family):
        return False
    if a.given == b.given or a.family == b.family:
        return False
    return (
        jaro_winkler(a.given, b.family) >= SWAP_THRESHOLD
        and jaro_winkler(a.family, b.given) >= SWAP_THRESHOLD
    )


def _swapped_all(table: FeatureTable, left: IntArray, right: IntArray) -> BoolArray:
    given, family = table.text["given"], table.text["family"]
    gl, gr = given.codes[left], given.codes[right]
    fl, fr = family.codes[left], family.codes[right]
    found = np.zeros(left.shape[0], dtype=bool)
    candidates = np.flatnonzero((gl > 0) & (gr > 0) & (fl > 0) & (fr > 0) & (gl != gr) & (fl != fr))
    if candidates.size == 0:
        return found
    cl, cr = left[candidates], right[candidates]
    first = (
        jaro_winkler_pairs(given.values[cl], family.values[cr], SWAP_THRESHOLD) >= SWAP_THRESHOLD
    )
    second = jaro_winkler_pairs(family.values[cl[first]], given.values[cr[first]], SWAP_THRESHOLD)
    crossed = candidates[first]
    found[crossed[second >= SWAP_THRESHOLD]] = True
    return found


def swapped_pairs(pairs: PairBatch, positions: IntArray) -> BoolArray:
    """Element-wise ``is_swapped`` at ``positions`` (worked out once per batch, then shared)."""
    if "swapped" not in pairs.memo:
        pairs.memo["swapped"] = _swapped_all(pairs.table, pairs.left, pairs.right)
    swapped: BoolArray = pairs.memo["swapped"][positions]
    return swapped


class GivenNameComparison(Comparison):
    """First given name: exact, swapped with the family name, nickname, middle name, close
    spelling, same sound."""

    name = "given_name"
    tf_field = "given"
    levels = levels_of(
        ("exact", "same first given name"),
        ("swapped", "given and family names swapped"),
        ("nickname", "nickname of the same name (Bill, William)"),
        ("middle", "first given name is the other's middle name"),
        *((lv.key, lv.description) for lv in jw_levels(NAME_THRESHOLDS)),
        ("phonetic", "sounds alike (Metaphone)"),
        ("different", "different"),
    )

    def exact_values(self, table: FeatureTable) -> IntArray:
        return table.text["given"].codes

    def compare(self, a: Features, b: Features) -> tuple[int, str]:
        x, y = a.given, b.given
        if not x or not y:
            return NULL, "missing"
        if x == y:
            return 0, f"exact ({x})"
        if is_swapped(a, b):
            return 1, f"swapped ({x} {a.family} / {b.given} {b.family})"
        link = nickname_link(x, y)
        if link:
            return 2, f"nickname ({x} ~ {y})" if link in (x, y) else f"nickname ({x} ~ {y}: {link})"
        if x in b.given_all or y in a.given_all:
            return 3, f"middle name ({x} / {y})"
        score = jaro_winkler(x, y)
        for offset, threshold in enumerate(NAME_THRESHOLDS):
            if score >= threshold:
                return 4 + offset, similarity_label(score)
        if a.given_phonetic and a.given_phonetic == b.given_phonetic:
            return 6, f"sounds alike ({a.given_phonetic})"
        return 7, "different"

    def compare_pairs(self, pairs: PairBatch) -> LevelArray:
        table, left, right = pairs.table, pairs.left, pairs.right
        column = table.text["given"]
        cl, cr = column.codes[left], column.codes[right]
        levels = LevelAssigner((cl == 0) | (cr == 0), len(self.levels))
        levels.assign(0, lambda p: cl[p] == cr[p])
        levels.assign(1, lambda p: swapped_pairs(pairs, p))
        levels.assign(2, lambda p: self._nicknames(table, left[p], right[p]))
        levels.assign(3, lambda p: self._middle(table, left[p], right[p]))
        levels.assign_thresholds(
            4,
            NAME_THRESHOLDS,
            lambda p: jaro_winkler_pairs(
                column.values[left[p]], column.values[right[p]], NAME_THRESHOLDS[-1]
            ),
        )
        sounds = table.text["given_phonetic"].codes
        levels.assign(6, lambda p: (sounds[left[p]] > 0) & (sounds[left[p]] == sounds[right[p]]))
        return levels.levels

    @staticmethod
    def _nicknames(table: FeatureTable, left: IntArray, right: IntArray) -> BoolArray:
        codes, bits = table.text["given"].codes, table.nickname_bits
        found = np.zeros(left.shape[0], dtype=bool)
        both = np.flatnonzero(table.has_nickname[codes[left]] & table.has_nickname[codes[right]])
        shared = bits[codes[left[both]]] & bits[codes[right[both]]]
        found[both] = shared.any(axis=1)
        return found

    @staticmethod
    def _middle(table: FeatureTable, left: IntArray, right: IntArray) -> BoolArray:
        found = np.zeros(left.shape[0], dtype=bool)
        values, others = table.text["given"].values, table.given_all
        for k in np.flatnonzero(table.has_given_all[left] | table.has_given_all[right]):
            x, y = left[k], right[k]
            found[k] = values[x] in others[y] or values[y] in others[x]
        return found


class FamilyNameComparison(Comparison):
    """Family name: exact, a shared part of a multi-part name, close spelling, same sound."""

    name = "family_name"
    tf_field = "family"
    levels = levels_of(
        ("exact", "same family name"),
        ("part", "shares a part of a hyphenated or multi-part name"),
        *((lv.key, lv.description) for lv in jw_levels(NAME_THRESHOLDS)),
        ("phonetic", "sounds alike (Metaphone)"),
        ("different", "different"),
    )

    def exact_values(self, table: FeatureTable) -> IntArray:
        return table.text["family"].codes

    def compare(self, a: Features, b: Features) -> tuple[int, str]:
        x, y = a.family, b.family
        if not x or not y:
            return NULL, "missing"
        if x == y:
            return 0, f"exact ({x})"
        if is_swapped(a, b):
            return NULL, "swapped with the given name (counted there)"
        shared = (set(a.family_parts) | {x}) & (set(b.family_parts) | {y})
        if shared:
            return 1, f"shared part ({min(shared)})"
        score = jaro_winkler(x, y)
        for offset, threshold in enumerate(NAME_THRESHOLDS):
            if score >= threshold:
                return 2 + offset, similarity_label(score)
        if a.family_phonetic and a.family_phonetic == b.family_phonetic:
            return 4, f"sounds alike ({a.family_phonetic})"
        return 5, "different"

    def compare_pairs(self, pairs: PairBatch) -> LevelArray:
        table, left, right = pairs.table, pairs.left, pairs.right
        column = table.text["family"]
        cl, cr = column.codes[left], column.codes[right]
        levels = LevelAssigner((cl == 0) | (cr == 0), len(self.levels))
        levels.assign(0, lambda p: cl[p] == cr[p])
        levels.assign(NULL, lambda p: swapped_pairs(pairs, p))
        levels.assign(1, lambda p: self._parts(table, left[p], right[p]))
        levels.assign_thresholds(
            2,
            NAME_THRESHOLDS,
            lambda p: jaro_winkler_pairs(
                column.values[left[p]], column.values[right[p]], NAME_THRESHOLDS[-1]
            ),
        )
        sounds = table.text["family_phonetic"].codes
        levels.assign(4, lambda p: (sounds[left[p]] > 0) & (sounds[left[p]] == sounds[right[p]]))
        return levels.levels

    @staticmethod
    def _parts(table: FeatureTable, left: IntArray, right: IntArray) -> BoolArray:
        found = np.zeros(left.shape[0], dtype=bool)
        values, parts = table.text["family"].values, table.family_parts
        for k in np.flatnonzero(table.has_family_parts[left] | table.has_family_parts[right]):
            x, y = left[k], right[k]
            found[k] = bool((parts[x] | {values[x]}) & (parts[y] | {values[y]}))
        return found
