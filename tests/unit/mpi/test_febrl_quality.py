"""Match quality on the FEBRL benchmark in ../shared/data/mpi/febrl (skips cleanly without it).

Training is unsupervised: the ``rec_id`` truth (``rec-N-org`` and ``rec-N-dup-k`` are one person)
is read only to score the result. Targets from issue 4: F1 >= 0.999 linking FEBRL4 (5,000 x
5,000, one-to-one), F1 >= 0.997 de-duplicating FEBRL3 (5,000 records, 6,538 true pairs), both at
the model's default threshold.
"""

from __future__ import annotations

import csv
import re
from collections import defaultdict
from collections.abc import Callable
from itertools import combinations
from pathlib import Path

import numpy as np
import pytest

from chartkeeper.mpi.matching import (
    Features,
    PersonRecord,
    candidate_pairs,
    dedupe,
    extract,
    link,
    link_pairs,
    score,
    score_pairs,
    train,
)
from chartkeeper.mpi.matching.comparisons import compare
from chartkeeper.mpi.matching.prepared import combine, prepare

FEBRL = Path(__file__).resolve().parents[3].parent / "shared" / "data" / "mpi" / "febrl"
KEY = b"febrl-test-identifier-key-012345"
pytestmark = [pytest.mark.shared, pytest.mark.slow]


def _record(row: dict[str, str]) -> PersonRecord:
    dob = row["date_of_birth"]
    return PersonRecord(
        id=row["rec_id"],
        given=(row["given_name"],) if row["given_name"] else (),
        family=row["surname"],
        birth_date=f"{dob[:4]}-{dob[4:6]}-{dob[6:]}" if len(dob) == 8 else dob,
        identifiers=(("ssn", row["soc_sec_id"]),) if row["soc_sec_id"] else (),
        address_lines=(f"{row['street_number']} {row['address_1']}".strip(), row["address_2"]),
        city=row["suburb"],
        state=row["state"],
        postal_code=row["postcode"],
    )


def _load(path: Path) -> list[PersonRecord]:
    with path.open(newline="", encoding="utf-8") as handle:
        rows = csv.reader(handle, skipinitialspace=True)
        header = [name.strip() for name in next(rows)]
        return [_record(dict(zip(header, (c.strip() for c in row), strict=True))) for row in rows]


def _person(record: PersonRecord) -> str:
    found = re.match(r"rec-(\d+)-", record.id)
    assert found is not None
    return found.group(1)


def _f1(found: set[tuple[int, int]], truth: set[tuple[int, int]]) -> float:
    return 2 * len(found & truth) / (len(found) + len(truth))


@pytest.fixture(scope="module")
def febrl() -> Callable[[str], list[PersonRecord]]:
    if not (FEBRL / "dataset3.csv").is_file():
        pytest.skip("../shared/data/mpi/febrl is not present")
    return lambda name: _load(FEBRL / name)


def _assert_batch_equals_single(records: list[Features], pairs: np.ndarray) -> None:
    model = train(records[:2000], seed=0)
    probabilities, levels = score_pairs(model, records, pairs)
    for k, (i, j) in enumerate(pairs.tolist()):
        assert levels[k].tolist() == [level for level, _ in compare(records[i], records[j])]
        assert probabilities[k] == pytest.approx(score(model, records[i], records[j]).probability)


def test_febrl4_linkage_f1_is_at_least_0_999(febrl: Callable[[str], list[PersonRecord]]) -> None:
    left_records, right_records = febrl("dataset4a.csv"), febrl("dataset4b.csv")
    left = [extract(r, KEY) for r in left_records]
    right = [extract(r, KEY) for r in right_records]
    row_of = {_person(r): i for i, r in enumerate(left_records)}
    truth = {(row_of[_person(r)], j) for j, r in enumerate(right_records)}
    assert len(truth) == 5000
    first, second = prepare(left), prepare(right)
    blocked = {tuple(p) for p in link_pairs(first.keys, second.keys).tolist()}
    assert len(blocked & truth) / len(truth) >= 0.999  # pairs completeness of blocking
    model = train(combine(first, second), seed=0)
    found = {(i, j) for i, j, _ in link(first, second, model, one_to_one=True)}
    assert _f1(found, truth) >= 0.999


def test_febrl3_deduplication_f1_is_at_least_0_997(
    febrl: Callable[[str], list[PersonRecord]],
) -> None:
    people = febrl("dataset3.csv")
    records = [extract(r, KEY) for r in people]
    groups: dict[str, list[int]] = defaultdict(list)
    for row, person in enumerate(people):
        groups[_person(person)].append(row)
    truth = {pair for rows in groups.values() for pair in combinations(rows, 2)}
    assert len(truth) == 6538
    prepared = prepare(records)
    model = train(prepared, seed=0)
    found = {(i, j) for i, j, _ in dedupe(prepared, model)}
    assert _f1(found, truth) >= 0.997
    rng = np.random.default_rng(0)
    sample = candidate_pairs(prepared.keys)[:1500]
    random_pairs = rng.integers(0, len(records), (1500, 2))
    _assert_batch_equals_single(records, np.concatenate([sample, random_pairs]))
