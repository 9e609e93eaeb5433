"""Context cues: negation, uncertainty, family history, time and conditions, with scopes."""

from __future__ import annotations

import pytest

from chartkeeper.language.context import cues, kinds_covering


def kinds_of(text: str, concept: str) -> set[str]:
    """The cue kinds whose scope covers ``concept`` (its first occurrence) in ``text``."""
    start = text.index(concept)
    return kinds_covering(cues(text), start, start + len(concept))


@pytest.mark.parametrize(
    ("text", "concept", "kinds"),
    [
        ("Pt denies chest pain.", "chest pain", {"negated"}),
        ("No fever.", "fever", {"negated"}),
        ("Ext: no edema", "edema", {"negated"}),
        ("Head CT negative for bleed.", "bleed", {"negated"}),
        ("HEAD CT- NEG FOR BLEED", "BLEED", {"negated"}),
        ("Walks without difficulty or pain.", "pain", {"negated"}),
        ("PE ruled out.", "PE", {"negated"}),
        ("Abdomen nontender.", "tender", {"negated"}),
        ("r/o MI", "MI", {"possible"}),
        ("R/O FOR MI;", "MI", {"possible"}),
        ("Rule out sepsis.", "sepsis", {"possible"}),
        ("Possible pneumonia.", "pneumonia", {"possible"}),
        ("Pneumonia likely.", "Pneumonia", {"possible"}),
        ("? PNA on CXR", "PNA", {"possible"}),
        ("Cannot rule out PE.", "PE", {"possible"}),
        ("PE has not been ruled out.", "PE", {"possible"}),
        ("Concern for appendicitis.", "appendicitis", {"possible"}),
        ("Findings suggestive of pneumonia.", "pneumonia", {"possible"}),
        ("Her mother's breast cancer.", "breast cancer", {"family"}),
        ("FHx breast CA", "breast CA", {"family"}),
        ("FH: CAD", "CAD", {"family"}),
        ("Family history of colon cancer.", "colon cancer", {"family"}),
        ("Breast cancer in her mother.", "Breast cancer", {"family"}),
        ("Mother with diabetes.", "diabetes", {"family"}),
        ("h/o MI", "MI", {"historical"}),
        ("S/P MI 1992", "MI", {"historical"}),
        ("Status post appendectomy.", "appendectomy", {"historical"}),
        ("PMH: HTN, DM", "DM", {"historical"}),
        ("Prior stroke.", "stroke", {"historical"}),
        ("Stroke 3 years ago.", "Stroke", {"historical"}),
        ("Return if chest pain.", "chest pain", {"hypothetical"}),
        ("Call should fever develop.", "fever", {"hypothetical"}),
        ("Tylenol prn headache", "headache", {"hypothetical"}),
        ("Pt has chest pain.", "chest pain", set()),
    ],
)
def test_each_kind_of_cue_covers_its_concept(text: str, concept: str, kinds: set[str]) -> None:
    assert kinds_of(text, concept) == kinds


def test_a_negation_governs_every_item_of_a_list() -> None:
    text = "No fever, chills or sweats."
    assert all(kinds_of(text, c) == {"negated"} for c in ("fever", "chills", "sweats"))


@pytest.mark.parametrize(
    ("text", "outside"),
    [
        ("Denies chest pain but has cough.", "cough"),
        ("No fever; cough for 3 days.", "cough"),
        ("No rash, however itching is present.", "itching"),
        ("No edema although legs are red.", "legs are red"),
        ("No pain.\nSwelling of the knee.", "Swelling"),
        ("NO RESP DISTRESS NOTED.B/S DIMINISHED", "DIMINISHED"),
        ("No significant PMH who presents with abdominal pain.", "abdominal pain"),
        ("Negative for fever. Cough.", "Cough"),
        ("No complaints aside from knee pain.", "knee pain"),
        ("No symptoms apart from fatigue.", "fatigue"),
        ("None except nausea.", "nausea"),
    ],
)
def test_terminators_end_a_negations_scope(text: str, outside: str) -> None:
    assert "negated" not in kinds_of(text, outside)


@pytest.mark.parametrize(
    "text",
    [
        "No change in the edema.",
        "No interval change in effusion.",
        "No increase in swelling.",
        "Not only pain but swelling.",
        "Gram negative rods in the urine.",
    ],
)
def test_pseudo_triggers_do_not_negate(text: str) -> None:
    assert [cue for cue in cues(text) if cue.kind == "negated"] == []


def test_a_new_trigger_after_words_ends_the_previous_scope() -> None:
    text = "No fever, possible pneumonia."
    assert kinds_of(text, "fever") == {"negated"}
    assert kinds_of(text, "pneumonia") == {"possible"}


def test_stacked_triggers_both_govern_the_concept() -> None:
    assert kinds_of("Denies h/o MI.", "MI") == {"negated", "historical"}


def test_triggers_are_case_insensitive_and_word_bounded() -> None:
    assert kinds_of("DENIES CP", "CP") == {"negated"}
    assert cues("Nodular lesion, knot, notable, snow") == []
    assert cues("Ifosfamide given.") == []


def test_a_cue_reports_its_trigger_and_offsets() -> None:
    text = "Pt denies SOB."
    [cue] = cues(text)
    assert (cue.kind, cue.trigger, text[cue.start : cue.end]) == ("negated", "denies", "denies")
    assert text[cue.scope_start : cue.scope_end].strip() == "SOB"


def test_a_long_note_keeps_every_cue() -> None:
    text = "Pt denies chest pain but has cough; h/o MI. r/o PE. " * 2_000  # about 100 kB
    found = cues(text)
    assert [c.kind for c in found] == ["negated", "historical", "possible"] * 2_000
    assert {text[c.scope_start : c.scope_end].strip() for c in found} == {
        "chest pain",
        "MI",
        "PE",
    }


def test_a_wrapped_line_continues_the_scope_and_a_new_line_ends_it() -> None:
    assert kinds_of("DENIES \n PAIN.", "PAIN") == {"negated"}
    assert kinds_of("NO STOOL\nGU: DARK URINE", "DARK URINE") == set()
    assert kinds_of("NO STOOL\n GU: DARK URINE", "DARK URINE") == set()


def test_a_question_is_not_a_hedge_but_a_trailing_question_mark_is() -> None:
    assert cues('"Can I get out of bed?"') == []
    assert kinds_of("PNA?", "PNA") == {"possible"}
