"""Estimating a model from a site's own records, without any labelled pair.

1. u (how often non-matches agree at each level) from uniformly random record pairs, nearly
   all of which are different people (exact agreement: from value frequencies, all pairs);
2. m (how often matches agree) and the share of matches among the blocked candidate pairs, by
   expectation-maximisation (``em``) on those pairs; the prior over all pairs follows;
3. u corrected for the few true matches among the random pairs (share lambda, known after
   step 2): u = (observed - lambda m) / (1 - lambda), floored at half a count; no level may
   weigh less than "different" (``no_worse_than_different``);
4. name frequencies for the term-frequency adjustment.

A comparison seen in too few candidate pairs (no passports at this site) keeps its starting
m and u: they are never used on this site's data, but stay sensible for a new record.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from chartkeeper.mpi.matching.comparisons import COMPARISONS, GammaArray, gamma
from chartkeeper.mpi.matching.em import EmResult, FloatArray, distinct_patterns, estimate
from chartkeeper.mpi.matching.frequencies import TermFrequencies, count_frequencies
from chartkeeper.mpi.matching.prepared import PreparedRecords
from chartkeeper.mpi.matching.table import FeatureTable, IntArray

Progress = Callable[[int, int], None]
#: A comparison needs at least this many non-NULL candidate pairs to be estimated.
MIN_OBSERVED = 50
#: Pairs scored per step of the progress callback (and per block of gamma in batch).
CHUNK = 200_000


@dataclass(frozen=True)
class Estimates:
    """What training learned: m and u per comparison level, the prior, name frequencies."""

    m: list[list[float]]
    u: list[list[float]]
    prior: float
    term_frequencies: dict[str, TermFrequencies]
    statistics: dict[str, Any] = field(default_factory=dict)


def gamma_in_chunks(
    table: FeatureTable, pairs: IntArray, progress: Progress | None = None
) -> GammaArray:
    """``gamma`` of many pairs, a chunk at a time (bounded memory; progress after each)."""
    parts = []
    for start in range(0, pairs.shape[0], CHUNK):
        chunk = pairs[start : start + CHUNK]
        parts.append(gamma(table, chunk[:, 0], chunk[:, 1]))
        if progress is not None:
            progress(start + chunk.shape[0], pairs.shape[0])
    if not parts:
        return np.zeros((0, len(COMPARISONS)), dtype=np.int8)
    return np.concatenate(parts)


def random_pairs(size: int, count: int, seed: int) -> IntArray:
    """``count`` uniformly random pairs of distinct records (all pairs when there are fewer)."""
    if size < 2:
        return np.zeros((0, 2), dtype=np.int64)
    if size * (size - 1) // 2 <= count:
        first, second = np.triu_indices(size, 1)
        return np.stack([first, second], axis=1).astype(np.int64)
    rng = np.random.default_rng(seed)
    first = rng.integers(0, size, count)
    second = rng.integers(0, size - 1, count)
    second = second + (second >= first)
    return np.stack([first, second], axis=1).astype(np.int64)


def level_shares(levels: GammaArray, sizes: Sequence[int]) -> tuple[list[FloatArray], list[int]]:
    """Per comparison: the share of each level among non-NULL pairs, and how many those were."""
    shares, observed = [], []
    for column, size in enumerate(sizes):
        present = levels[:, column][levels[:, column] >= 0]
        counts = np.bincount(present, minlength=size).astype(np.float64)
        observed.append(int(present.shape[0]))
        shares.append(counts / max(present.shape[0], 1))
    return shares, observed


def _floored(shares: FloatArray, count: int, start: FloatArray) -> FloatArray:
    """Shares floored at half a count (no level is impossible), or ``start`` if too few."""
    if count < MIN_OBSERVED:
        return start
    floored = np.maximum(shares, 0.5 / count)
    return np.asarray(floored / floored.sum(), dtype=np.float64)


def _corrected_u(
    observed: FloatArray, m: FloatArray, prior: float, count: int, start: FloatArray
) -> FloatArray:
    """u net of the true matches among random pairs, floored at half a count, summing to 1."""
    if count < MIN_OBSERVED:
        return start
    return _floored((observed - prior * m) / (1.0 - prior), count, start)


def exact_agreement(values: IntArray) -> float:
    """Among pairs of records that both have a value (0 = none), the share holding the same.

    Counted from the value frequencies over all pairs rather than sampled: an exact agreement
    between two different people is rare (a birth date: about 1 in 10,000 pairs), too rare for
    a sample of pairs to measure well.
    """
    present = values[values != 0]
    if present.shape[0] < 2:
        return float("nan")
    _, counts = np.unique(present, return_counts=True)
    size = float(present.shape[0])
    return float((counts * (counts - 1.0)).sum() / (size * (size - 1.0)))


def random_pair_u(table: FeatureTable, sample: IntArray) -> tuple[list[FloatArray], list[int]]:
    """u per comparison level among random pairs: level 0 (exact) from the value frequencies
    of the whole table, the other levels from the sample, scaled to share the remainder."""
    levels = gamma_in_chunks(table, sample)
    shares, observed = level_shares(levels, [len(c.levels) for c in COMPARISONS])
    for column, comparison in enumerate(COMPARISONS):
        exact = exact_agreement(comparison.exact_values(table))
        rest = float(shares[column][1:].sum())
        if np.isnan(exact) or rest <= 0:
            continue
        shares[column] = np.concatenate([[exact], shares[column][1:] / rest * (1.0 - exact)])
    return shares, observed


def _em(
    levels: GammaArray, m: list[FloatArray], u: list[FloatArray], max_iterations: int
) -> tuple[EmResult, list[FloatArray], int]:
    """EM on the candidate pairs; m of a comparison seen too rarely there stays at ``m``."""
    if levels.shape[0] == 0:
        return EmResult(m, u, 0.0, 0, False), m, 0
    patterns, counts = distinct_patterns(levels)
    result = estimate(patterns, counts, m, u, 0.1, max_iterations=max_iterations)
    _, seen = level_shares(levels, [len(c.levels) for c in COMPARISONS])
    fitted = [
        fit if n >= MIN_OBSERVED else start for fit, n, start in zip(result.m, seen, m, strict=True)
    ]
    return result, fitted, int(patterns.shape[0])


def no_worse_than_different(m: FloatArray, u: FloatArray) -> FloatArray:
    """m raised where a level would count against a match more than outright disagreement.

    A level the site's matches almost never show (no transposed dates in the data) gets an m
    near 0 from EM, and so a weight below "different", which no reviewer could accept: a
    transposed birth date is not stronger evidence of two people than an unrelated one. Such
    levels get the "different" level's Bayes factor instead.
    """
    floor = m[-1] / u[-1]
    raised = np.where(m / u < floor, u * floor, m)
    return np.asarray(raised / raised.sum(), dtype=np.float64)


def estimate_parameters(
    records: PreparedRecords,
    start_m: Sequence[Sequence[float]],
    start_u: Sequence[Sequence[float]],
    start_prior: float,
    *,
    seed: int = 0,
    sample_size: int = 50_000,
    max_iterations: int = 100,
    keep_names: int = 5000,
    progress: Progress | None = None,
) -> Estimates:
    """Learn m, u, the prior and name frequencies from ``records`` (see the module doc)."""
    table, size = records.table, len(records)
    sampled = random_pairs(size, sample_size, seed)
    candidates = records.pairs
    total = sampled.shape[0] + candidates.shape[0]
    u_random, u_counts = random_pair_u(table, sampled)
    if progress is not None:
        progress(sampled.shape[0], total)
    candidate_levels = gamma_in_chunks(
        table,
        candidates,
        None if progress is None else (lambda done, _: progress(sampled.shape[0] + done, total)),
    )
    m_start = [np.asarray(v, dtype=np.float64) for v in start_m]
    u_start = [np.asarray(v, dtype=np.float64) for v in start_u]
    u_sampled = [_floored(u, n, s) for u, n, s in zip(u_random, u_counts, u_start, strict=True)]
    result, m, patterns = _em(candidate_levels, m_start, u_sampled, max_iterations)
    prior = float(
        np.clip(result.pi * candidates.shape[0] / max(size * (size - 1) / 2, 1), 1e-12, 0.5)
        if result.pi > 0
        else start_prior
    )
    u = [
        _corrected_u(observed, m_c, prior, n, start)
        for observed, m_c, n, start in zip(u_random, m, u_counts, u_start, strict=True)
    ]
    m = [no_worse_than_different(m_c, u_c) for m_c, u_c in zip(m, u, strict=True)]
    statistics = {
        "records": size,
        "random_pairs": int(sampled.shape[0]),
        "candidate_pairs": int(candidates.shape[0]),
        "distinct_patterns": patterns,
        "em_iterations": result.iterations,
        "em_converged": result.converged,
        "em_match_share": round(result.pi, 6),
        "expected_matches": round(result.pi * candidates.shape[0], 1),
        "seed": seed,
    }
    return Estimates(
        m=[list(map(float, v)) for v in m],
        u=[list(map(float, v)) for v in u],
        prior=prior,
        term_frequencies=_term_frequencies(table, keep_names),
        statistics=statistics,
    )


def _term_frequencies(table: FeatureTable, keep: int) -> dict[str, TermFrequencies]:
    found = {}
    for comparison in COMPARISONS:
        if comparison.tf:
            column = table.text[comparison.tf_field]
            counts = np.bincount(column.codes, minlength=len(column.vocabulary))
            found[comparison.name] = count_frequencies(
                dict(zip(column.vocabulary[1:], counts[1:].tolist(), strict=True)), keep
            )
    return found
