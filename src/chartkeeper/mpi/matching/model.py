"""The match model as versioned data, and scoring one pair with it (Fellegi-Sunter).

Why our own engine rather than splink: the same model must be evaluated identically online
(one ``$match`` request scoring tens of candidates in Python within milliseconds) and in batch
(millions of pairs, vectorised), with our own per-pair explanation. splink evaluates its
comparisons as SQL in DuckDB, which would mean a second implementation for the online path
and explanations that could drift from it. This model keeps splink's ideas (levels, m/u, EM,
term-frequency adjustment, the waterfall) in a form both paths share.

A pair's weight is ``log2(prior / (1 - prior)) + sum(log2(m / u))`` over the comparisons' levels
(NULL levels add 0; an exact name agreement uses ``m / f(value)``), its probability
``1 / (1 + 2 ** -weight)``.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import cached_property
from typing import Any

import numpy as np
import numpy.typing as npt

from chartkeeper.core.clock import Clock, SystemClock, format_instant
from chartkeeper.mpi.matching.comparisons import COMPARISONS, COMPARISONS_VERSION
from chartkeeper.mpi.matching.defaults import DEFAULT_M, DEFAULT_PRIOR, DEFAULT_U
from chartkeeper.mpi.matching.explanation import Contribution, Score, explain
from chartkeeper.mpi.matching.features import Features
from chartkeeper.mpi.matching.frequencies import TermFrequencies
from chartkeeper.mpi.matching.levels import NULL
from chartkeeper.mpi.matching.prepared import Records, as_prepared
from chartkeeper.mpi.matching.training import estimate_parameters

__all__ = ["Model", "Thresholds", "default_model", "explain", "score", "train"]

FORMAT = 1


@dataclass(frozen=True)
class Thresholds:
    """Match probabilities at which a pair is graded ``certain``, ``probable``, ``possible``.

    ``match`` is the default decision threshold of batch de-duplication and linkage.
    """

    certain: float = 0.999
    probable: float = 0.9
    possible: float = 0.5

    @property
    def match(self) -> float:
        return self.probable

    def grade(self, probability: float) -> str:
        """The FHIR match grade of a probability."""
        if probability >= self.certain:
            return "certain"
        if probability >= self.probable:
            return "probable"
        if probability >= self.possible:
            return "possible"
        return "certainly-not"


@dataclass(frozen=True)
class ComparisonParameters:
    """m and u of each level of one comparison (level order as in ``COMPARISONS``)."""

    name: str
    levels: tuple[str, ...]
    m: tuple[float, ...]
    u: tuple[float, ...]

    def weights(self) -> list[float]:
        return [math.log2(m / u) for m, u in zip(self.m, self.u, strict=True)]


@dataclass(frozen=True)
class Model:
    """Everything needed to score a pair; stored as JSON (``to_json``) by version."""

    comparisons: tuple[ComparisonParameters, ...]
    prior: float
    term_frequencies: Mapping[str, TermFrequencies] = field(default_factory=dict)
    thresholds: Thresholds = field(default_factory=Thresholds)
    version: str = ""
    trained_at: str = ""
    training: Mapping[str, Any] = field(default_factory=dict)
    comparisons_version: str = COMPARISONS_VERSION

    @cached_property
    def prior_weight(self) -> float:
        return math.log2(self.prior / (1.0 - self.prior))

    @cached_property
    def level_weights(self) -> list[list[float]]:
        """Weight (bits) of each level of each comparison."""
        return [p.weights() for p in self.comparisons]

    @cached_property
    def weight_matrix(self) -> npt.NDArray[np.float64]:
        """``level_weights`` padded into a matrix whose last column (NULL, -1) is 0."""
        width = max(len(w) for w in self.level_weights) + 1
        matrix = np.zeros((len(self.comparisons), width))
        for row, weights in enumerate(self.level_weights):
            matrix[row, : len(weights)] = weights
        return matrix

    def tf_weight(self, column: int, value: str) -> float:
        """The weight of an exact agreement on ``value`` (comparison ``column``)."""
        frequencies = self.term_frequencies[self.comparisons[column].name]
        return math.log2(self.comparisons[column].m[0] / frequencies.of(value))

    def to_data(self) -> dict[str, Any]:
        return {
            "format": FORMAT,
            "version": self.version,
            "trained_at": self.trained_at,
            "comparisons_version": self.comparisons_version,
            "prior": self.prior,
            "thresholds": {
                "certain": self.thresholds.certain,
                "probable": self.thresholds.probable,
                "possible": self.thresholds.possible,
            },
            "comparisons": [
                {"name": p.name, "levels": list(p.levels), "m": list(p.m), "u": list(p.u)}
                for p in self.comparisons
            ],
            "term_frequencies": {k: v.to_data() for k, v in self.term_frequencies.items()},
            "training": dict(self.training),
        }

    def to_json(self) -> str:
        return json.dumps(self.to_data(), separators=(",", ":"), ensure_ascii=False)

    @classmethod
    def from_json(cls, text: str) -> Model:
        """Read ``to_json`` output; ValueError when it does not fit these comparisons."""
        data = json.loads(text)
        if data.get("format") != FORMAT or data.get("comparisons_version") != COMPARISONS_VERSION:
            raise ValueError("the model was made for another version of the comparisons")
        parameters = tuple(
            ComparisonParameters(c["name"], tuple(c["levels"]), tuple(c["m"]), tuple(c["u"]))
            for c in data["comparisons"]
        )
        _check_fits(parameters)
        return cls(
            comparisons=parameters,
            prior=float(data["prior"]),
            term_frequencies={
                k: TermFrequencies.from_data(v) for k, v in data["term_frequencies"].items()
            },
            thresholds=Thresholds(**data["thresholds"]),
            version=str(data["version"]),
            trained_at=str(data["trained_at"]),
            training=dict(data["training"]),
        )


def _check_fits(parameters: Sequence[ComparisonParameters]) -> None:
    expected = [(c.name, tuple(level.key for level in c.levels)) for c in COMPARISONS]
    if [(p.name, p.levels) for p in parameters] != expected:
        raise ValueError("the model's comparisons and levels differ from the engine's")


def _parameters(
    m: Sequence[Sequence[float]], u: Sequence[Sequence[float]]
) -> tuple[ComparisonParameters, ...]:
    return tuple(
        ComparisonParameters(c.name, tuple(lv.key for lv in c.levels), tuple(mc), tuple(uc))
        for c, mc, uc in zip(COMPARISONS, m, u, strict=True)
    )


def _versioned(model: Model) -> Model:
    """``model`` with ``version`` set to a digest of everything else (so it names the data)."""
    data = model.to_data()
    data.pop("version")
    digest = hashlib.sha256(json.dumps(data, sort_keys=True).encode("utf-8")).hexdigest()
    return replace(model, version=f"fs{COMPARISONS_VERSION}-{digest[:16]}")


def default_model() -> Model:
    """The built-in model with hand-set m and u, used until the site trains its own."""
    return replace(
        Model(_parameters(DEFAULT_M, DEFAULT_U), DEFAULT_PRIOR, training={"source": "default"}),
        version=f"default-{COMPARISONS_VERSION}",
    )


def train(
    features: Records,
    *,
    seed: int = 0,
    sample_size: int = 50_000,
    max_iterations: int = 100,
    keep_names: int = 5000,
    thresholds: Thresholds | None = None,
    clock: Clock | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> Model:
    """Train on a site's own records: u from random pairs, m by EM, name frequencies.

    Unsupervised: no labels are read. ``seed`` fixes the random pairs, so the same records
    and seed give the same m and u.
    """
    start = default_model()
    estimates = estimate_parameters(
        as_prepared(features),
        [p.m for p in start.comparisons],
        [p.u for p in start.comparisons],
        start.prior,
        seed=seed,
        sample_size=sample_size,
        max_iterations=max_iterations,
        keep_names=keep_names,
        progress=progress,
    )
    model = Model(
        comparisons=_parameters(estimates.m, estimates.u),
        prior=estimates.prior,
        term_frequencies=estimates.term_frequencies,
        thresholds=thresholds or Thresholds(),
        trained_at=format_instant((clock or SystemClock()).now()),
        training=estimates.statistics,
    )
    return _versioned(model)


def score(model: Model, a: Features, b: Features) -> Score:
    """The match probability, weight, grade and waterfall of one pair."""
    total = model.prior_weight
    contributions = [Contribution("prior", "prior", f"prior odds {model.prior:.3g}", total)]
    weights = model.level_weights
    for column, comparison in enumerate(COMPARISONS):
        level, label = comparison.compare(a, b)
        if level == NULL:
            contributions.append(Contribution(comparison.name, "null", label, 0.0))
            continue
        adjusted = level == 0 and comparison.tf and comparison.name in model.term_frequencies
        if adjusted:
            weight = model.tf_weight(column, comparison.tf_value(a))
        else:
            weight = weights[column][level]
        total += weight
        key = model.comparisons[column].levels[level]
        contributions.append(Contribution(comparison.name, key, label, weight, adjusted))
    probability = 1.0 / (1.0 + 2.0 ** -max(min(total, 1000.0), -1000.0))
    return Score(probability, total, model.thresholds.grade(probability), tuple(contributions))
