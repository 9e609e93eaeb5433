"""ICD-10-CM suggestions from clinical text, on the shipped ICD-10-CM, with their evidence."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import Engine

from chartkeeper.billing.codes.loaders import open_code_file
from chartkeeper.billing.codes.registry import CodeRegistry, StoredCode
from chartkeeper.billing.codes.search import SearchIndex
from chartkeeper.billing.codes.suggest import (
    Evidence,
    Suggestion,
    dotted,
    is_match,
    parse_term,
    suggest,
    suggest_for_condition,
)
from chartkeeper.store.engine import make_engine
from chartkeeper.store.migrate import upgrade
from tests.unit.billing.support import mini_entries


@pytest.fixture(scope="module")
def icd10cm() -> SearchIndex:
    """The whole shipped ICD-10-CM (98,505 codes), built once for the module."""
    found = open_code_file("icd10cm", None)
    return SearchIndex(
        [
            StoredCode("icd10cm", found.version or "", e.code, e.display, e.billable, e.extra)
            for e in found.entries
        ]
    )


def codes(found: list[Suggestion]) -> list[str]:
    return [s.code for s in found]


def spans(suggestion: Suggestion) -> list[tuple[int, int, str]]:
    return [(e.start, e.end, e.text) for e in suggestion.evidence]


def test_a_full_title_suggests_its_code_first_with_every_word_as_evidence(
    icd10cm: SearchIndex,
) -> None:
    text = "Type 2 diabetes mellitus without complications"
    found = suggest(text, icd10cm)
    first = found[0]
    assert (first.code, first.billable, first.via) == ("E11.9", True, "title")
    assert first.display == text
    assert first.score > 0.9
    assert all(s.score < first.score for s in found[1:])
    assert " ".join(e.text for e in first.evidence) == text
    assert all(text[e.start : e.end] == e.text for e in first.evidence)


def test_abbreviations_are_expanded_and_their_spans_are_the_evidence(
    icd10cm: SearchIndex,
) -> None:
    text = "pt with HTN and T2DM"
    found = {s.code: s for s in suggest(text, icd10cm)}
    assert "I10" in found
    assert spans(found["I10"]) == [(8, 11, "HTN")]
    assert found["I10"].evidence[0].matched == "hypertension"
    diabetes = [s for code, s in found.items() if code.startswith("E11")]
    assert [spans(s) for s in diabetes] == [[(16, 20, "T2DM")]]
    assert diabetes[0].code == "E11.9"
    assert diabetes[0].evidence[0].matched == "type 2 diabetes mellitus"


def test_a_denied_symptom_is_not_suggested(icd10cm: SearchIndex) -> None:
    assert any(c.startswith("R07") for c in codes(suggest("chest pain", icd10cm)))
    assert suggest("denies chest pain", icd10cm) == []
    assert not any(c.startswith("R07") for c in codes(suggest("Denies chest pain.", icd10cm)))


@pytest.mark.parametrize(
    "text",
    [
        "negative for pneumonia",
        "pneumonia was ruled out",
        "PNA ruled out",
        "ruled out PNA",
        "no evidence of pneumonia",
        "pneumonia unlikely",
    ],
)
def test_negated_and_ruled_out_mentions_are_skipped(icd10cm: SearchIndex, text: str) -> None:
    assert "J18.9" in codes(suggest("pneumonia", icd10cm))
    assert not any(
        c.startswith(("J18", "J12", "J13", "J15")) for c in codes(suggest(text, icd10cm))
    )


def test_negation_stops_at_but_and_at_the_end_of_the_sentence(icd10cm: SearchIndex) -> None:
    assert "I10" in codes(suggest("no chest pain but HTN", icd10cm))
    assert "I10" in codes(suggest("Denies fever. HTN", icd10cm))
    assert "I10" not in codes(suggest("denies HTN", icd10cm))


def test_copd_with_acute_exacerbation(icd10cm: SearchIndex) -> None:
    found = suggest("acute exacerbation of COPD", icd10cm)
    assert found[0].code == "J44.1"
    assert [e.text for e in found[0].evidence] == ["acute", "exacerbation", "COPD"]
    assert "J44.9" in found[0].alternatives


def test_a_billable_code_comes_before_its_header(icd10cm: SearchIndex) -> None:
    found = suggest("BPH", icd10cm)
    assert (found[0].code, found[0].billable) == ("N40.0", True)
    assert (found[0].term, found[0].via) == ("Benign prostatic hyperplasia", "header")
    assert all(s.billable for s in found)
    assert suggest("CAD", icd10cm)[0].code == "I25.10"
    with_symptoms = suggest("BPH with LUTS", icd10cm)
    assert with_symptoms[0].code == "N40.1"
    assert [e.text for e in with_symptoms[0].evidence] == ["BPH", "LUTS"]


def test_each_mention_gets_one_code_up_to_the_limit(icd10cm: SearchIndex) -> None:
    text = "Assessment: HTN; T2DM; COPD; GERD; OSA; afib; BPH"
    found = suggest(text, icd10cm, limit=10)
    assert len({(e.start, e.end) for s in found for e in s.evidence}) == len(found) == 7
    assert len(suggest(text, icd10cm, limit=3)) == 3
    assert [s.score for s in found] == sorted((s.score for s in found), reverse=True)


def test_suggestions_for_a_condition_say_which_element_the_evidence_is_in(
    icd10cm: SearchIndex,
) -> None:
    condition = {
        "resourceType": "Condition",
        "code": {"text": "T2DM", "coding": [{"system": "urn:local", "display": "Diabetes"}]},
        "note": [{"text": "Also HTN. Denies chest pain."}],
    }
    found = {s.code: s for s in suggest_for_condition(condition, icd10cm)}
    assert found["E11.9"].evidence == [
        Evidence(0, 4, "T2DM", "type 2 diabetes mellitus", "code.text")
    ]
    assert found["I10"].evidence == [Evidence(5, 8, "HTN", "hypertension", "note[0].text")]
    assert not any(code.startswith("R07") for code in found)
    assert suggest_for_condition({"resourceType": "Condition"}, icd10cm) == []


def test_text_words_match_term_words_by_prefix_or_stem() -> None:
    assert is_match("hypertension", "hypertensive")
    assert is_match("diabetes", "diabetic")
    assert is_match("acute", "acutely")
    assert is_match("lung", "lungs")
    assert not is_match("coli", "colic")
    assert not is_match("2", "20")


def test_parenthesised_words_are_optional_and_unspecified_clauses_are_defaults() -> None:
    assert parse_term("Essential (primary) hypertension") == (
        ("essential", 0),
        ("primary", 1),
        ("hypertension", 0),
    )
    assert parse_term("Urinary tract infection, site not specified") == (
        ("urinary", 0),
        ("tract", 0),
        ("infection", 0),
        ("site", 2),
        ("not", 2),
        ("specified", 2),
    )
    assert parse_term("Type 2 diabetes mellitus without complications")[-2:] == (
        ("without", 2),
        ("complications", 2),
    )
    assert dotted("E119") == "E11.9"
    assert dotted("I10") == "I10"


@pytest.fixture
def registry(database_url: str) -> Iterator[CodeRegistry]:
    engine: Engine = make_engine(database_url)
    upgrade(engine)
    found = CodeRegistry(engine)
    found.load("icd10cm", mini_entries(), "2026", (date(2025, 10, 1), None), "mini.xml")
    yield found
    engine.dispose()


def test_suggestions_use_the_index_of_the_version_in_force(registry: CodeRegistry) -> None:
    version = registry.version_on("icd10cm", date(2026, 5, 1))
    assert version is not None
    index = registry.index(version)
    assert codes(suggest("T1DM", index)) == ["E10.9"]
    assert codes(suggest("T2DM", index)) == ["E11.9"]
    assert codes(suggest("denies T1DM", index)) == []


def test_an_abbreviation_is_evidence_only_for_a_term_using_all_of_it(icd10cm: SearchIndex) -> None:
    found = codes(suggest("Admitted for RA, acute MI and UTI", icd10cm))
    assert found[:3] == ["I21.9", "N39.0", "M06.00"]
    assert "I01.2" not in found  # acute rheumatic myocarditis: "RA" is not "rheumatic"


def test_a_combination_code_takes_both_mentions(icd10cm: SearchIndex) -> None:
    found = suggest("Known CHF and essential hypertension", icd10cm)
    assert found[0].code == "I11.0"
    assert [e.text for e in found[0].evidence] == ["CHF", "hypertension"]


def test_a_negated_word_only_counts_after_its_trigger_in_the_term(icd10cm: SearchIndex) -> None:
    assert "R11.0" in codes(suggest("nausea", icd10cm))
    assert "R11.0" not in codes(suggest("without nausea", icd10cm))  # not "Nausea without ..."


def test_note_words_are_not_evidence(icd10cm: SearchIndex) -> None:
    assert codes(suggest("Follow-up of UTI", icd10cm)) == ["N39.0"]  # not "following delivery"


WORDS = st.sampled_from(
    [
        *("no", "denies", "without", "HTN", "T2DM", "COPD", "chest", "pain", "acute", "ruled"),
        *("out", "type", "2", "diabetes", "with", "of", ".", ";", ",", "é", "r/o", "but", "\n"),
    ]
)


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(WORDS, max_size=14).map(" ".join) | st.text(max_size=60))
def test_any_text_gives_ranked_suggestions_whose_evidence_is_in_the_text(
    icd10cm: SearchIndex, text: str
) -> None:
    found = suggest(text, icd10cm)
    assert len(found) <= 5
    assert [s.score for s in found] == sorted((s.score for s in found), reverse=True)
    for suggestion in found:
        assert 0 < suggestion.score <= 1
        assert suggestion.evidence
        assert all(text[e.start : e.end] == e.text for e in suggestion.evidence)


@given(st.text("abcdeinorst", max_size=9), st.text("abcdeinorst", max_size=9))
def test_matching_words_share_their_first_four_letters(text_word: str, term_word: str) -> None:
    """The matcher looks words up by their first 4 letters: no match may be missed that way."""
    if is_match(text_word, term_word):
        assert text_word[:4] == term_word[:4]
