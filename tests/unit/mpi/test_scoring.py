"""Scoring one pair: the model as JSON, the order of scores, the waterfall, and bad input."""

from __future__ import annotations

import json
import math
from dataclasses import replace
from datetime import UTC, datetime

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chartkeeper.core.clock import FixedClock
from chartkeeper.mpi.matching import (
    Features,
    Model,
    PersonRecord,
    Thresholds,
    default_model,
    explain,
    extract,
    score,
    train,
)
from chartkeeper.mpi.matching.training import no_worse_than_different
from tests.unit.mpi.people import population

KEY = b"scoring-test-key-0123456789abcde"
ADA = PersonRecord(
    id="a",
    given=("Ada",),
    family="Okafor",
    birth_date="1972-09-30",
    sex="female",
    identifiers=(("ssn", "234-56-7891"),),
    phone="555-201-3344",
    address_lines=("14 Elm Street",),
    city="Salem",
    state="MA",
    postal_code="01970",
)


def features(record: PersonRecord) -> Features:
    return extract(record, KEY)


@pytest.fixture(scope="module")
def trained() -> Model:
    records = population(400, 120)
    clock = FixedClock(datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC))
    return train([features(r) for r in records], seed=3, clock=clock)


@pytest.mark.parametrize("model_name", ["default", "trained"])
def test_an_exact_duplicate_beats_a_typo_which_beats_a_stranger(
    model_name: str, trained: Model
) -> None:
    model = default_model() if model_name == "default" else trained
    ada = features(ADA)
    typo = features(replace(ADA, id="b", family="Okafur", phone="555-201-3345"))
    stranger = features(
        PersonRecord(
            id="c",
            given=("Bill",),
            family="Quennell",
            birth_date="1950-01-01",
            sex="male",
            identifiers=(("ssn", "345-67-8912"),),
        )
    )
    exact, near, far = score(model, ada, ada), score(model, ada, typo), score(model, ada, stranger)
    assert exact.weight > near.weight > far.weight
    assert exact.probability >= near.probability > far.probability
    assert near.grade in {"certain", "probable"}
    assert far.grade == "certainly-not"


def test_the_explanation_adds_up_to_the_weight(trained: Model) -> None:
    a = features(ADA)
    b = features(replace(ADA, id="b", given=("Adah",), birth_date="1972-30-09", city=""))
    found = score(trained, a, b)
    rows = explain(found)
    assert rows[0]["field"] == "prior"
    assert math.isclose(sum(row["weight"] for row in rows), found.weight, abs_tol=1e-9)
    assert math.isclose(found.probability, 1 / (1 + 2**-found.weight))
    by_field = {row["field"]: row for row in rows}
    assert by_field["city"]["level"] == "null" and by_field["city"]["weight"] == 0
    assert by_field["given_name"]["label"].startswith("Jaro-Winkler 0.9")
    assert json.loads(json.dumps(rows)) == rows


def test_common_names_weigh_less_than_rare_ones(trained: Model) -> None:
    frequencies = trained.term_frequencies["family_name"]
    common = max(frequencies.values, key=lambda v: frequencies.values[v])
    rare = features(replace(ADA, family="Zyzzlewicz"))
    usual = features(replace(ADA, family=common))
    rare_weight = score(trained, rare, rare).contributions[2]
    usual_weight = score(trained, usual, usual).contributions[2]
    assert rare_weight.tf_adjusted and usual_weight.tf_adjusted
    assert rare_weight.weight > usual_weight.weight


def test_the_model_survives_a_json_round_trip(trained: Model) -> None:
    again = Model.from_json(trained.to_json())
    assert again == trained
    assert again.version == trained.version and again.version.startswith("fs1-")
    assert again.trained_at == "2026-01-02T03:04:05.000Z"
    a, b = features(ADA), features(replace(ADA, id="b", given=("Adaeze",)))
    assert score(again, a, b) == score(trained, a, b)


def test_training_is_deterministic_for_a_seed_and_records_its_statistics(trained: Model) -> None:
    records = [features(r) for r in population(400, 120)]
    clock = FixedClock(datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC))
    assert train(records, seed=3, clock=clock) == trained
    assert trained.training["records"] == 520
    assert trained.training["em_converged"] is True
    assert 110 <= trained.training["expected_matches"] <= 130


def test_a_model_for_other_comparisons_is_refused() -> None:
    data = json.loads(default_model().to_json())
    data["comparisons"][0]["levels"] = data["comparisons"][0]["levels"][:-1]
    with pytest.raises(ValueError, match="differ"):
        Model.from_json(json.dumps(data))
    data["comparisons_version"] = "0"
    with pytest.raises(ValueError, match="another version"):
        Model.from_json(json.dumps(data))


def test_the_default_model_is_versioned_data() -> None:
    model = default_model()
    assert model.version == "default-1"
    assert Model.from_json(model.to_json()) == model
    for parameters in model.comparisons:
        assert math.isclose(sum(parameters.m), 1, abs_tol=1e-6)
        assert math.isclose(sum(parameters.u), 1, abs_tol=1e-6)


@pytest.mark.parametrize(
    ("probability", "grade"),
    [(0.9999, "certain"), (0.95, "probable"), (0.6, "possible"), (0.1, "certainly-not")],
)
def test_grades_follow_the_thresholds(probability: float, grade: str) -> None:
    assert Thresholds(certain=0.999, probable=0.9, possible=0.5).grade(probability) == grade


BAD_TEXT = st.one_of(
    st.text(max_size=30),
    st.sampled_from(["", " ", "Дмитрий", "李", "محمد", "🙂", "2023-02-30", "0000-00-00", "-"]),
)


@settings(max_examples=150, deadline=None)
@given(
    given_names=st.lists(BAD_TEXT, max_size=3),
    family=BAD_TEXT,
    birth_date=BAD_TEXT,
    sex=BAD_TEXT,
    identifier=BAD_TEXT,
    phone=BAD_TEXT,
    address=st.lists(BAD_TEXT, max_size=3),
    postal_code=BAD_TEXT,
)
def test_bad_input_is_scored_without_raising(
    given_names: list[str],
    family: str,
    birth_date: str,
    sex: str,
    identifier: str,
    phone: str,
    address: list[str],
    postal_code: str,
) -> None:
    record = PersonRecord(
        id="bad",
        given=tuple(given_names),
        family=family,
        birth_date=birth_date,
        sex=sex,
        identifiers=(("ssn", identifier), ("dl", identifier)),
        phone=phone,
        email=identifier,
        address_lines=tuple(address),
        city=family,
        state=sex,
        postal_code=postal_code,
    )
    bad = features(record)
    assert Features.from_json(bad.to_json()) == bad
    for other in (bad, features(ADA), features(PersonRecord(id="empty"))):
        found = score(default_model(), bad, other)
        assert 0.0 <= found.probability <= 1.0
        assert math.isfinite(found.weight)


def test_non_latin_names_compare_within_their_script() -> None:
    a = features(PersonRecord(id="a", given=("Дмитрий",), family="李", birth_date="1980-01-02"))
    b = features(PersonRecord(id="b", given=("дмитрий",), family="李", birth_date="1980-01-02"))
    found = score(default_model(), a, b)
    assert [c.level for c in found.contributions[1:4]] == ["exact", "exact", "exact"]


def test_records_without_any_data_score_the_prior() -> None:
    empty = features(PersonRecord(id="x", given=("",), family=" ", birth_date="not a date"))
    found = score(default_model(), empty, empty)
    assert found.weight == default_model().prior_weight
    assert found.grade == "certainly-not"


def test_no_level_counts_against_a_match_more_than_disagreement() -> None:
    m = np.array([0.8, 0.00001, 0.19999])  # a level EM found almost no matches at
    u = np.array([0.01, 0.001, 0.989])
    fixed = no_worse_than_different(m, u)
    weights = np.log2(fixed / u)
    assert weights[1] == pytest.approx(weights[2])
    assert fixed.sum() == pytest.approx(1.0) and weights[0] > weights[2]


def test_none_and_other_non_text_values_are_treated_as_missing() -> None:
    loose = PersonRecord(
        None,  # type: ignore[arg-type]
        (None, "Ada", 3),  # type: ignore[arg-type]
        None,  # type: ignore[arg-type]
        19720930,  # type: ignore[arg-type]
        identifiers=((None, "1"), ("ssn", None), "x", ("ssn", "234-56-7891")),  # type: ignore[arg-type]
        address_lines=None,  # type: ignore[arg-type]
        postal_code=1970,  # type: ignore[arg-type]
    )
    found = features(loose)
    assert (found.id, found.given, found.family, found.birth_date) == ("", "ada", "", "")
    assert [i.kind for i in found.identifiers] == ["ssn"]
    assert score(default_model(), found, features(ADA)).contributions[4].level == "exact"
