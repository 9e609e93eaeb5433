"""Batch matching: score many pairs at once, de-duplicate one source, link two sources.

The same model and comparisons as ``score`` (one pair), evaluated column-wise: levels with
numpy and ``rapidfuzz.process.cpdist``, weights by table look-up. Pairs are scored a chunk at a
time, so memory stays bounded and ``progress(done, total)`` can be reported.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence

import numpy as np
import numpy.typing as npt

from chartkeeper.mpi.matching.comparisons import COMPARISONS, GammaArray, gamma
from chartkeeper.mpi.matching.features import Features
from chartkeeper.mpi.matching.model import Model
from chartkeeper.mpi.matching.prepared import PreparedRecords, Records, as_prepared, combine
from chartkeeper.mpi.matching.table import FeatureTable, IntArray, build_table
from chartkeeper.mpi.matching.training import CHUNK

FloatArray = npt.NDArray[np.float64]
Progress = Callable[[int, int], None]
Match = tuple[int, int, float]


def _tf_corrections(model: Model, table: FeatureTable) -> list[tuple[int, str, FloatArray]]:
    """Per tf comparison: (column, field, weight change of an exact agreement per value code)."""
    corrections = []
    for column, comparison in enumerate(COMPARISONS):
        if not comparison.tf or comparison.name not in model.term_frequencies:
            continue
        field = comparison.tf_field
        vocabulary = table.text[field].vocabulary
        base = model.level_weights[column][0]
        change = np.array([model.tf_weight(column, v) - base for v in vocabulary])
        corrections.append((column, field, change))
    return corrections


def weights_of(
    model: Model,
    table: FeatureTable,
    pairs: IntArray,
    levels: GammaArray,
    corrections: Sequence[tuple[int, str, FloatArray]],
) -> FloatArray:
    """Total weight (bits, prior included) of each pair from its levels."""
    matrix = model.weight_matrix
    total = np.full(levels.shape[0], model.prior_weight)
    for column in range(levels.shape[1]):
        total += matrix[column, levels[:, column]]
    for column, field, change in corrections:
        exact = levels[:, column] == 0
        total[exact] += change[table.text[field].codes[pairs[exact, 0]]]
    return total


def probabilities_of(weights: FloatArray) -> FloatArray:
    """Match probability from the weight: 1 / (1 + 2^-weight)."""
    return np.asarray(1.0 / (1.0 + np.exp2(-np.clip(weights, -1000, 1000))), dtype=np.float64)


def _chunks(
    model: Model, table: FeatureTable, pairs: IntArray, progress: Progress | None
) -> Iterable[tuple[IntArray, FloatArray, GammaArray]]:
    corrections = _tf_corrections(model, table)
    for start in range(0, pairs.shape[0], CHUNK):
        chunk = pairs[start : start + CHUNK]
        levels = gamma(table, chunk[:, 0], chunk[:, 1])
        yield chunk, probabilities_of(weights_of(model, table, chunk, levels, corrections)), levels
        if progress is not None:
            progress(start + chunk.shape[0], pairs.shape[0])


def score_pairs(
    model: Model,
    features: Sequence[Features] | FeatureTable | PreparedRecords,
    pairs: IntArray,
    progress: Progress | None = None,
) -> tuple[FloatArray, GammaArray]:
    """Match probability and levels (one column per comparison) of each pair of rows."""
    if isinstance(features, PreparedRecords):
        table = features.table
    else:
        table = features if isinstance(features, FeatureTable) else build_table(features)
    probabilities: list[FloatArray] = [np.zeros(0)]
    levels: list[GammaArray] = [np.zeros((0, len(COMPARISONS)), dtype=np.int8)]
    for _, chunk_probabilities, chunk_levels in _chunks(model, table, pairs, progress):
        probabilities.append(chunk_probabilities)
        levels.append(chunk_levels)
    return np.concatenate(probabilities), np.concatenate(levels)


def _above(
    model: Model, table: FeatureTable, pairs: IntArray, threshold: float, progress: Progress | None
) -> list[Match]:
    found: list[Match] = []
    for chunk, probabilities, _ in _chunks(model, table, pairs, progress):
        keep = np.flatnonzero(probabilities >= threshold)
        found += zip(
            chunk[keep, 0].tolist(),
            chunk[keep, 1].tolist(),
            probabilities[keep].tolist(),
            strict=True,
        )
    return found


def dedupe(
    features: Records,
    model: Model,
    threshold: float | None = None,
    *,
    progress: Progress | None = None,
) -> list[Match]:
    """Pairs ``(i, j, probability)``, ``i < j``, of one source at or above ``threshold``
    (default: the model's match threshold)."""
    records = as_prepared(features)
    pairs = records.pairs
    limit = model.thresholds.match if threshold is None else threshold
    return _above(model, records.table, pairs, limit, progress)


def clusters(size: int, matches: Iterable[tuple[int, int, float]]) -> list[list[int]]:
    """The groups of records joined by ``matches`` (connected components, union-find), each
    sorted, of two records or more, ordered by their first record."""
    parent = list(range(size))

    def root(x: int) -> int:
        while parent[x] != x:
            parent[x] = parent[parent[x]]
            x = parent[x]
        return x

    for i, j, _ in matches:
        a, b = root(i), root(j)
        if a != b:
            parent[max(a, b)] = min(a, b)
    groups: dict[int, list[int]] = {}
    for record in range(size):
        groups.setdefault(root(record), []).append(record)
    return sorted((g for g in groups.values() if len(g) > 1), key=lambda g: g[0])


def assign_one_to_one(matches: Sequence[Match]) -> list[Match]:
    """Keep each record in at most one pair, the most probable first (greedy assignment)."""
    used_left: set[int] = set()
    used_right: set[int] = set()
    kept: list[Match] = []
    for i, j, p in sorted(matches, key=lambda m: (-m[2], m[0], m[1])):
        if i not in used_left and j not in used_right:
            used_left.add(i)
            used_right.add(j)
            kept.append((i, j, p))
    return kept


def link(
    left: Records,
    right: Records,
    model: Model,
    threshold: float | None = None,
    one_to_one: bool = True,
    *,
    progress: Progress | None = None,
) -> list[Match]:
    """Pairs ``(i, j, probability)`` of a left and a right record at or above ``threshold``.

    With ``one_to_one`` (right when each source is itself free of duplicates) a record
    is linked at most once, to its most probable partner.
    """
    first, second = as_prepared(left), as_prepared(right)
    both = combine(first, second)
    pairs = both.pairs_across(len(first))
    limit = model.thresholds.match if threshold is None else threshold
    found = _above(model, both.table, pairs, limit, progress)
    found = [(i, j - len(first), p) for i, j, p in found]
    return assign_one_to_one(found) if one_to_one else found
