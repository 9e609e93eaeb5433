"""Blocking keys and candidate pairs: selective keys, tolerant of one bad field, no plaintext."""

from __future__ import annotations

from dataclasses import replace

import numpy as np

from chartkeeper.mpi.matching import PersonRecord, blocking_keys, candidate_pairs, extract
from chartkeeper.mpi.matching.blocking import link_pairs

KEY = b"blocking-test-key-0123456789abcd"
ADA = PersonRecord(
    id="a",
    given=("Ada",),
    family="Okafor",
    birth_date="1972-09-03",
    identifiers=(("ssn", "234-56-7891"),),
    phone="555-201-3344",
    address_lines=("14 Elm Street",),
    postal_code="01970",
)


def keys(record: PersonRecord) -> set[str]:
    return set(blocking_keys(extract(record, KEY)))


def test_keys_are_short_and_hold_no_plaintext_identifier() -> None:
    found = keys(ADA)
    assert 5 <= len(found) <= 12
    assert all(len(key) <= 128 for key in found)
    assert not any("234567891" in key or "7891" in key for key in found)


def test_one_wrong_field_still_shares_a_key() -> None:
    for changed in (
        replace(ADA, given=("Adaeze",)),
        replace(ADA, family="Okafur", identifiers=()),
        replace(ADA, birth_date="1972-03-09"),  # day and month transposed
        replace(ADA, given=("Okafor",), family="Ada"),  # swapped
        replace(ADA, birth_date="", identifiers=(("ssn", "234-56-7892"),)),
    ):
        assert keys(ADA) & keys(changed), changed


def test_a_record_with_nothing_has_no_keys() -> None:
    assert keys(PersonRecord(id="empty")) == set()


def test_candidate_pairs_are_each_pair_once_in_order() -> None:
    pairs = candidate_pairs([["a", "b"], ["a", "b", "c"], ["c"], ["d"], ["a"]])
    assert pairs.tolist() == [[0, 1], [0, 4], [1, 2], [1, 4]]
    assert candidate_pairs([]).shape == (0, 2)


def test_oversized_blocks_are_skipped() -> None:
    pairs = candidate_pairs([["common", f"k{n // 2}"] for n in range(10)], max_block=4)
    assert pairs.tolist() == [[0, 1], [2, 3], [4, 5], [6, 7], [8, 9]]


def test_link_pairs_join_left_to_right_only() -> None:
    pairs = link_pairs([["a"], ["a", "b"]], [["b"], ["a"], ["z"]])
    assert pairs.tolist() == [[0, 1], [1, 0], [1, 1]]
    assert np.issubdtype(pairs.dtype, np.integer)
