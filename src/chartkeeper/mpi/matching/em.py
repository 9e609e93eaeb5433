"""Expectation-maximisation of a two-class Fellegi-Sunter mixture over comparison vectors.

Unsupervised: no pair is labelled. The candidate pairs are a mixture of matches (share ``pi``,
level probabilities ``m``) and non-matches (``u``), each comparison independent of the others
given the class; EM finds the m, u and pi that make the observed level patterns most likely.
Identical patterns are counted once with a weight, so an iteration costs one pass over the
distinct patterns (a few thousand), not over the pairs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from chartkeeper.mpi.matching.comparisons import GammaArray

FloatArray = npt.NDArray[np.float64]
#: Added to every level count in the M step, so no probability becomes exactly 0 or 1.
PSEUDO_COUNT = 1e-3


@dataclass(frozen=True)
class EmResult:
    """Estimated m and u per comparison (one array per comparison), pi, and how it went."""

    m: list[FloatArray]
    u: list[FloatArray]
    pi: float
    iterations: int
    converged: bool


def distinct_patterns(gamma: GammaArray) -> tuple[GammaArray, FloatArray]:
    """The distinct rows of ``gamma`` and how often each occurs.

    Each row is read as one integer (levels + 1 as digits in base ``max + 2``) when that fits
    in 63 bits, which is much faster than ``np.unique(axis=0)``.
    """
    if gamma.shape[0] == 0:
        return gamma, np.zeros(0)
    base = int(gamma.max()) + 2
    if base ** gamma.shape[1] >= 2**63:
        patterns, counts = np.unique(gamma, axis=0, return_counts=True)
        return patterns, counts.astype(np.float64)
    digits = base ** np.arange(gamma.shape[1], dtype=np.int64)
    codes = (gamma.astype(np.int64) + 1) @ digits
    _, first, counts = np.unique(codes, return_index=True, return_counts=True)
    return gamma[first], counts.astype(np.float64)


def _log_likelihood(patterns: GammaArray, probabilities: Sequence[FloatArray]) -> FloatArray:
    """Sum over comparisons of log P(level); a NULL level (-1) adds 0."""
    total = np.zeros(patterns.shape[0])
    for column, values in enumerate(probabilities):
        table = np.append(np.log(values), 0.0)  # index -1 (NULL) reads the trailing 0
        total += table[patterns[:, column]]
    return total


def _level_shares(
    patterns: GammaArray, weights: FloatArray, levels: int, column: int
) -> FloatArray:
    observed = patterns[:, column]
    present = observed >= 0
    counts = np.bincount(observed[present], weights=weights[present], minlength=levels)
    smoothed = counts + PSEUDO_COUNT
    return np.asarray(smoothed / smoothed.sum(), dtype=np.float64)


def match_probabilities(
    patterns: GammaArray, m: Sequence[FloatArray], u: Sequence[FloatArray], pi: float
) -> FloatArray:
    """P(match | pattern) under the current parameters (the E step)."""
    log_odds = np.log(pi) - np.log1p(-pi)
    log_odds = log_odds + _log_likelihood(patterns, m) - _log_likelihood(patterns, u)
    return np.asarray(1.0 / (1.0 + np.exp(-np.clip(log_odds, -700, 700))), dtype=np.float64)


def estimate(
    patterns: GammaArray,
    counts: FloatArray,
    m: Sequence[FloatArray],
    u: Sequence[FloatArray],
    pi: float,
    *,
    max_iterations: int = 100,
    tolerance: float = 1e-5,
) -> EmResult:
    """Run EM from the starting ``m``, ``u`` and ``pi`` until the parameters stop moving."""
    m_now, u_now = (
        [np.array(v, dtype=np.float64) for v in m],
        [np.array(v, dtype=np.float64) for v in u],
    )
    total = float(counts.sum())
    for iteration in range(1, max_iterations + 1):
        p = match_probabilities(patterns, m_now, u_now, pi)
        matched, unmatched = counts * p, counts * (1.0 - p)
        pi = float(np.clip(matched.sum() / total, 1e-9, 1 - 1e-9))
        m_next = [_level_shares(patterns, matched, len(v), c) for c, v in enumerate(m_now)]
        u_next = [_level_shares(patterns, unmatched, len(v), c) for c, v in enumerate(u_now)]
        change = max(
            float(np.abs(np.concatenate(m_next) - np.concatenate(m_now)).max()),
            float(np.abs(np.concatenate(u_next) - np.concatenate(u_now)).max()),
        )
        m_now, u_now = m_next, u_next
        if change < tolerance:
            return EmResult(m_now, u_now, pi, iteration, True)
    return EmResult(m_now, u_now, pi, max_iterations, False)
