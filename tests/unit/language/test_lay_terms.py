"""The lay vocabulary: plain words for medical terms, matched safely."""

from __future__ import annotations

import pytest

from chartkeeper.language.context import cues
from chartkeeper.language.lay_terms import find_lay_terms, vocabulary


def lay_of(text: str) -> list[tuple[str, str]]:
    return [(m.text, m.lay) for m in find_lay_terms(text)]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Hypertension", [("Hypertension", "high blood pressure")]),
        ("hx hyperlipidemia", [("hyperlipidemia", "high cholesterol")]),
        ("dyspnea on exertion", [("dyspnea on exertion", "short of breath with activity")]),
        ("Bilateral edema", [("Bilateral", "on both sides"), ("edema", "swelling")]),
        ("pulmonary  embolism", [("pulmonary  embolism", "blood clot in the lung")]),
        ("PULMONARY EDEMA", [("PULMONARY EDEMA", "fluid in the lungs")]),
        ("adrenal mass", []),
        ("nontender", [("tender", "sore to the touch")]),
        ("afebrile", [("afebrile", "fever-free")]),
    ],
)
def test_terms_match_longest_first_case_insensitively_on_word_boundaries(
    text: str, expected: list[tuple[str, str]]
) -> None:
    assert lay_of(text) == expected


def test_the_table_is_versioned_and_holds_a_few_hundred_terms() -> None:
    vocab = vocabulary()
    assert vocab.version == "2026.11.1"
    assert len(vocab.entries) >= 300


def test_no_lay_wording_carries_a_context_trigger() -> None:
    """Plain words must not add a negation, hedge, family or time cue the term did not have
    ("afebrile" -> "fever-free", not "no fever", which would negate the rest of a list)."""
    carrying = {term: lay for term, (lay, _) in vocabulary().entries.items() if cues(f"{lay} x")}
    assert carrying == {}


def test_no_term_is_its_own_lay_wording() -> None:
    same = [term for term, (lay, _) in vocabulary().entries.items() if term == lay.lower()]
    assert same == []


def test_matches_report_their_table_line_for_the_span_source() -> None:
    [match] = find_lay_terms("edema")
    assert match.line > 0 and (match.start, match.end) == (0, 5)
