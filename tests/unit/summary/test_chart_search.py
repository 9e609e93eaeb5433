"""Chart search's pure parts: query parsing with variants, snippets and highlights, titles."""

from __future__ import annotations

import re

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chartkeeper.fhir.repository import TextPhrase
from chartkeeper.store.chart_search_sql import fts5_expression, tsquery_text
from chartkeeper.summary.chart_search import (
    MAX_TERMS,
    build_snippet,
    date_of,
    no_variants,
    parse_query,
    searchable_text,
    title_of,
)

#: a small stand-in for ``language.abbreviations.variants`` (both directions)
PAIRS = {
    "mi": "myocardial infarction",
    "htn": "hypertension",
    "h/o": "history of",
    "copd": "chronic obstructive pulmonary disease",
}


def variants(phrase: str) -> frozenset[str]:
    key = " ".join(phrase.lower().split())
    forward = {PAIRS[key]} if key in PAIRS else set()
    backward = {short for short, long in PAIRS.items() if long == key}
    return frozenset(forward | backward)


def phrases(text: str) -> list[list[str]]:
    return [[" ".join(p.words) for p in term.phrases] for term in parse_query(text, variants).terms]


def test_an_abbreviation_also_looks_for_its_long_form_and_the_reverse() -> None:
    assert phrases("MI") == [["mi", "myocardial infarction"]]
    assert phrases("myocardial infarction") == [["myocardial infarction", "mi"]]
    assert phrases("Chronic  Obstructive pulmonary disease") == [
        ["chronic obstructive pulmonary disease", "copd"]
    ]


def test_words_are_anded_and_a_long_form_inside_a_query_is_one_term() -> None:
    assert phrases("old myocardial infarction chest") == [
        ["old"],
        ["myocardial infarction", "mi"],
        ["chest"],
    ]


def test_an_abbreviation_with_punctuation_is_looked_up_as_typed() -> None:
    # "h/o" is also asked for as one word: PostgreSQL's parser keeps it whole, FTS5 splits it
    assert phrases("h/o HTN") == [["h o", "h/o", "history of"], ["htn", "hypertension"]]
    assert phrases("history of") == [["history of", "h o", "h/o"]]
    assert parse_query("history of", variants).terms[0].variants == ("h/o",)


def test_only_a_last_plain_word_is_a_prefix() -> None:
    last = parse_query("chest pa", variants).terms[-1].phrases
    assert last == (TextPhrase(("pa",), prefix=True),)
    assert all(not p.prefix for p in parse_query("chest MI", variants).terms[-1].phrases)
    assert all(not p.prefix for p in parse_query('"chest pain"', variants).terms[-1].phrases)
    assert all(not p.prefix for p in parse_query("vitamin d", variants).terms[-1].phrases)


def test_a_quoted_phrase_is_one_term_with_its_variants() -> None:
    assert phrases('"myocardial infarction" "left arm') == [
        ["myocardial infarction", "mi"],
        ["left arm"],
    ]


#: the only FTS5 syntax chart search emits: quoted phrases (an optional prefix star), OR
#: inside a parenthesised group, AND between groups
_WORD = r"[^\W_]+(?:/[^\W_]+)*"
_PHRASE = rf'"{_WORD}(?: {_WORD})*"\*?'
_GROUP = rf"\({_PHRASE}(?: OR {_PHRASE})*\)"
FTS5_GRAMMAR = re.compile(rf"(?:{_GROUP}(?: AND {_GROUP})*)?")
#: and the only tsquery syntax: quoted lexemes, <-> in a phrase, | in a group, & between
_LEXEME = rf"'{_WORD}'(?::\*)?"
_TS_PHRASE = rf"\({_LEXEME}(?: <-> {_LEXEME})*\)"
_TS_GROUP = rf"\({_TS_PHRASE}(?: \| {_TS_PHRASE})*\)"
TSQUERY_GRAMMAR = re.compile(rf"(?:{_TS_GROUP}(?: & {_TS_GROUP})*)?")


@pytest.mark.parametrize(
    "text", ['"', "*", "NEAR(a b)", "' OR 1=1 --", "\\", ":", "a:b", "AND OR NOT", "()", "^"]
)
def test_metacharacters_never_reach_the_store_as_operators(text: str) -> None:
    groups = parse_query(text, variants).groups
    assert FTS5_GRAMMAR.fullmatch(fts5_expression(groups)), fts5_expression(groups)
    assert TSQUERY_GRAMMAR.fullmatch(tsquery_text(groups)), tsquery_text(groups)


@given(st.text(max_size=300))
def test_any_text_parses_into_quoted_words_only(text: str) -> None:
    query = parse_query(text, no_variants)
    assert len(query.terms) <= MAX_TERMS
    for term in query.terms:
        for phrase in term.phrases:
            assert phrase.words and all(w and '"' not in w and "'" not in w for w in phrase.words)
    assert FTS5_GRAMMAR.fullmatch(fts5_expression(query.groups))
    assert TSQUERY_GRAMMAR.fullmatch(tsquery_text(query.groups))


def test_the_sql_expressions_or_variants_and_and_terms() -> None:
    groups = parse_query("MI chest pa", variants).groups
    assert fts5_expression(groups) == '("mi" OR "myocardial infarction") AND ("chest") AND ("pa"*)'
    assert tsquery_text(groups) == (
        "(('mi') | ('myocardial' <-> 'infarction')) & (('chest')) & (('pa':*))"
    )


NOTE = (
    "PROGRESS NOTE. S: pt is a 65 y/o F w/ h/o HTN here for annual physical. Denies CP, SOB. "
    "Meds: lisinopril 10 mg PO daily. Allergies: peanuts. Labs today were unremarkable and "
    "the plan is unchanged from the last visit, which was uneventful for this patient. "
    "A/P: 1. Old myocardial infarction (2010), stable; no chest pain since the MI."
)


def marked(text: str, query: str) -> list[str]:
    snippet = build_snippet(text, parse_query(query, variants))
    return [snippet.text[a:b] for a, b in snippet.highlights]


def test_the_snippet_highlights_every_variant_found() -> None:
    assert marked(NOTE, "MI") == ["myocardial infarction", "MI"]
    assert marked(NOTE, "hypertension") == ["HTN"]


def test_the_snippet_is_the_window_with_the_most_terms() -> None:
    snippet = build_snippet(NOTE, parse_query("chest MI", variants), width=80)
    assert "chest" in snippet.text and "myocardial" in snippet.text
    assert snippet.text.startswith("…")
    assert [snippet.text[a:b] for a, b in snippet.highlights] == [
        "myocardial infarction",
        "chest",
        "MI",
    ]


def test_a_prefix_highlights_the_whole_word_folding_case_and_accents() -> None:
    assert marked("Seen by Zoë; LISINOPRIL started.", "lisin") == ["LISINOPRIL"]
    assert marked("Seen by Zoë; LISINOPRIL started.", "zoe") == ["Zoë"]


def test_a_phrase_must_be_in_order_and_whole_words_unless_last() -> None:
    assert marked("infarction myocardial", "MI") == []
    assert marked("mild pain", '"mi"') == []


def test_without_a_match_the_snippet_is_the_start_of_the_text() -> None:
    snippet = build_snippet("a" * 500, parse_query("zebra", variants))
    assert snippet.highlights == () and snippet.text.endswith("…") and len(snippet.text) == 181


def test_text_titles_and_dates_come_from_the_resource() -> None:
    condition = {
        "resourceType": "Condition",
        "code": {"coding": [{"system": "http://snomed.info/sct", "display": "Old MI"}]},
        "onsetDateTime": "2010-04-01",
        "text": {"status": "generated", "div": "<div>Old <b>MI</b> &amp; HTN</div>"},
    }
    assert title_of(condition) == "Old MI"
    assert date_of(condition) == "2010-04-01"
    assert searchable_text(condition) == "Old MI & HTN Old MI 2010-04-01"
    encounter = {"resourceType": "Encounter", "period": {"start": "2024-01-02T10:00:00Z"}}
    assert date_of(encounter) == "2024-01-02T10:00:00Z"
    assert title_of(encounter) == "Encounter"


_VOCABULARY = ["MI", "mild", "myocardial", "infarction", "HTN", "hypertension", "pain", "é"]


@given(
    st.lists(st.sampled_from(_VOCABULARY), max_size=120),
    st.lists(st.sampled_from(["MI", "hypertension", "pai", "myocardial infarction"]), max_size=3),
)
def test_every_highlight_lies_in_the_snippet_on_a_searched_form(
    words: list[str], typed: list[str]
) -> None:
    text = " ".join(words)
    query = parse_query(" ".join(typed), variants)
    snippet = build_snippet(text, query)
    assert len(snippet.text) <= 182
    phrases = [p for term in query.terms for p in term.phrases]
    previous_end = -1
    for start, end in snippet.highlights:
        assert previous_end < start < end <= len(snippet.text)
        previous_end = end
        marked_words = snippet.text[start:end].lower().split()
        assert any(_is_match(marked_words, p.words, p.prefix) for p in phrases), marked_words


def _is_match(marked: list[str], words: tuple[str, ...], prefix: bool) -> bool:
    if len(marked) != len(words) or marked[:-1] != list(words[:-1]):
        return False
    return marked[-1] == words[-1] or (prefix and marked[-1].startswith(words[-1]))
