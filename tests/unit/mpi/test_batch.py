"""Batch scoring gives exactly what one-pair scoring gives; dedupe, clusters and link."""

from __future__ import annotations

import random
from dataclasses import replace

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chartkeeper.mpi.matching import (
    Features,
    Model,
    PersonRecord,
    clusters,
    dedupe,
    default_model,
    extract,
    link,
    score,
    score_pairs,
    train,
)
from chartkeeper.mpi.matching.comparisons import compare
from chartkeeper.mpi.matching.prepared import combine, prepare
from tests.unit.mpi.people import population, same_person

KEY = b"batch-test-key-0123456789abcdefg"

TRICKY = [
    PersonRecord("t0", ("Bill",), "Smith-Jones", "1980-03-04", "male", (("ssn", "234-56-7891"),)),
    PersonRecord(
        "t1", ("William", "Henry"), "Smith", "1980-04-03", "male", (("ssn", "234-56-7819"),)
    ),
    PersonRecord("t2", ("Henry",), "Jones", "1980-03", "", (("ssn", "234-56-7890"),)),
    PersonRecord("t3", ("Smith",), "Bill", "1980-03-05", "", (("dl", "S1234567"),)),
    PersonRecord("t4", ("Peggy",), "van der Berg", "1908-03-04", "female", (("dl", "S1234576"),)),
    PersonRecord("t5", ("Maggie",), "Berg", "1980", "female", email="peg@example.org"),
    PersonRecord("t6", ("Margaret",), "Vanderberg", "2023-02-30", email="peg@example.com"),
    PersonRecord("t7", ("Дмитрий",), "李", "1980-13-45", phone="555-123-4567"),
    PersonRecord("t8", ("Dmitri",), "Li", "1980-11-04", phone="555-123-4576"),
    PersonRecord("t9", (), "", "", address_lines=("12 Main St", "Apt 4"), postal_code="02139"),
    PersonRecord("t10", ("Jon",), "Smyth", "1980-03-14", address_lines=("12 Main Street",)),
    PersonRecord("t11", ("John",), "Smith", "1981-03-04", city="Salem", postal_code="02193"),
]


def _features(records: list[PersonRecord]) -> list[Features]:
    return [extract(r, KEY) for r in records]


def _assert_batch_equals_single(model: Model, records: list[Features], pairs: np.ndarray) -> None:
    probabilities, levels = score_pairs(model, records, pairs)
    for k, (i, j) in enumerate(pairs.tolist()):
        single = [level for level, _ in compare(records[i], records[j])]
        assert levels[k].tolist() == single, (records[i], records[j])
        assert probabilities[k] == pytest.approx(score(model, records[i], records[j]).probability)


def test_batch_levels_and_probabilities_equal_single_pair_scoring() -> None:
    records = _features(population(150, 60) + TRICKY)
    everything = np.array([(i, j) for i in range(len(records)) for j in range(len(records))])
    rng = np.random.default_rng(1)
    pairs = everything[rng.choice(len(everything), 3000, replace=False)]
    tricky = len(records) - len(TRICKY)
    pairs = np.concatenate(
        [pairs, [(i, j) for i in range(tricky, len(records)) for j in range(tricky, len(records))]]
    )
    model = train(records, seed=1)
    _assert_batch_equals_single(model, records, pairs)
    _assert_batch_equals_single(default_model(), records, pairs)


NAME = st.sampled_from(["ann", "anne", "bill", "william", "smith", "smyth", "li", "", "o'neil"])
DATE = st.sampled_from(["1980-03-04", "1980-04-03", "1980-03-05", "1908-03-04", "1980", ""])


@settings(max_examples=60, deadline=None)
@given(
    st.lists(
        st.tuples(NAME, NAME, DATE, st.sampled_from(["234567891", "234567819", "", "99"])),
        min_size=2,
        max_size=8,
    )
)
def test_batch_equals_single_on_generated_records(rows: list[tuple[str, str, str, str]]) -> None:
    records = _features(
        [
            PersonRecord(str(n), (g,), f, d, identifiers=(("ssn", s),), postal_code=s[:5])
            for n, (g, f, d, s) in enumerate(rows)
        ]
    )
    pairs = np.array([(i, j) for i in range(len(records)) for j in range(len(records))])
    _assert_batch_equals_single(default_model(), records, pairs)


def test_combined_prepared_records_score_like_features_built_together() -> None:
    records = _features(population(60, 20) + TRICKY)
    first, second = records[:40], records[40:]
    combined = combine(prepare(first), prepare(second))
    pairs = np.array([(i, j) for i in range(0, len(records), 3) for j in range(len(records))])
    model = default_model()
    assert np.array_equal(
        score_pairs(model, combined, pairs)[1], score_pairs(model, records, pairs)[1]
    )
    assert combined.keys == prepare(records).keys


def test_dedupe_finds_the_duplicates_and_reports_progress() -> None:
    people = population(300, 90, seed=11)
    records = _features(people)
    model = train(records, seed=0)
    seen: list[tuple[int, int]] = []
    found = dedupe(records, model, progress=lambda done, total: seen.append((done, total)))
    assert seen and seen[-1][0] == seen[-1][1]
    true_pairs = sum(same_person(people[i], people[j]) for i, j, _ in found)
    assert true_pairs >= 85 and len(found) - true_pairs <= 2
    assert all(i < j and p >= model.thresholds.match for i, j, p in found)


def test_clusters_are_connected_components() -> None:
    groups = clusters(7, [(0, 3, 0.99), (3, 5, 0.95), (1, 2, 0.97), (5, 0, 0.9)])
    assert groups == [[0, 3, 5], [1, 2]]
    assert clusters(3, []) == []


def test_link_is_one_to_one_unless_asked_otherwise() -> None:
    rng = random.Random(5)
    people = population(200, 0, seed=5)
    left = _features(people)
    twins = [replace(p, id=f"{p.id}-dup1") for p in people[:50]]
    right = _features([*twins, replace(twins[0], id="p0-dup2", phone="")])
    model = default_model()
    linked = link(left, right, model)
    assert len(linked) == 50
    assert len({i for i, _, _ in linked}) == 50 and len({j for _, j, _ in linked}) == 50
    assert all(same_person(people[i], ([*twins, twins[0]])[j]) for i, j, _ in linked)
    many = link(left, right, model, one_to_one=False)
    assert len(many) == 51
    assert rng is not None


ODD = st.one_of(
    st.text(max_size=12),
    st.sampled_from(["", "Дмитрий", "李", "محمد", "🙂", "2023-02-30", "1980-13-45", "0000", "-"]),
)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(ODD, ODD, ODD, ODD, ODD), min_size=2, max_size=6))
def test_odd_input_scores_the_same_in_batch_and_never_raises(
    rows: list[tuple[str, str, str, str, str]],
) -> None:
    records = _features(
        [
            PersonRecord(
                str(n),
                (g,),
                f,
                d,
                identifiers=(("ssn", s), ("passport", s)),
                phone=s,
                email=f"{g}@{f}",
                address_lines=(a, g),
                city=a,
                postal_code=s,
            )
            for n, (g, f, d, s, a) in enumerate(rows)
        ]
    )
    pairs = np.array([(i, j) for i in range(len(records)) for j in range(len(records))])
    _assert_batch_equals_single(default_model(), records, pairs)
    assert all(0 <= i < j < len(records) for i, j, _ in dedupe(records, default_model(), 0.0))
