"""Search and autocomplete over titles, inclusion terms and code prefixes."""

from __future__ import annotations

import pytest

from chartkeeper.billing.codes.search import SearchIndex, words
from tests.unit.billing.support import mini_entries, stored


@pytest.fixture(scope="module")
def index() -> SearchIndex:
    return SearchIndex(stored(mini_entries()))


def test_every_query_word_must_start_a_word_of_the_title(index: SearchIndex) -> None:
    page = index.search("frac fem", 3)
    assert [h.code for h in page.hits] == ["S72", "S720", "S7200"]
    assert page.total == 7
    assert index.search("fem frac zebra").hits == []


def test_inclusion_terms_match_after_titles(index: SearchIndex) -> None:
    page = index.search("classical chol")
    assert [(h.code, h.matched) for h in page.hits] == [("A000", "Classical cholera")]
    hip = index.search("hip fracture")
    assert [(h.code, h.matched) for h in hip.hits] == [("S7200", "Fracture of hip NOS")]


def test_a_code_prefix_finds_codes_with_or_without_the_dot(index: SearchIndex) -> None:
    assert [h.code for h in index.search("S72.001").hits] == [
        "S72001",
        "S72001A",
        "S72001D",
        "S72001S",
    ]
    assert [h.code for h in index.search("e11").hits] == ["E11", "E119"]


def test_billable_only_leaves_headers_out(index: SearchIndex) -> None:
    page = index.search("cholera", billable_only=True)
    assert [h.code for h in page.hits] == ["A000", "A009"]
    assert all(h.billable for h in page.hits)


def test_sections_and_chapters_are_not_search_results(index: SearchIndex) -> None:
    assert "E08-E13" not in [h.code for h in index.search("diabetes").hits]
    assert index.search("").hits == []


def test_words_fold_case_and_accents() -> None:
    assert words("Ménière's DISEASE, 2nd") == ["meniere", "s", "disease", "2nd"]


def test_a_word_without_digits_is_never_taken_for_a_code() -> None:
    from chartkeeper.billing.codes.registry import StoredCode

    pcs = SearchIndex(
        [
            StoredCode("icd10pcs", "2026", "BY00ZZZ", "Plain Radiography, Fetal Head", True, {}),
            StoredCode("icd10pcs", "2026", "0016070", "Bypass, Cerebral Ventricle", True, {}),
        ]
    )
    assert [h.code for h in pcs.search("by").hits] == ["0016070"]
    assert [h.code for h in pcs.search("BY0").hits] == ["BY00ZZZ"]
