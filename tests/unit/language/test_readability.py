"""Readability: Flesch-Kincaid and Coleman-Liau grades of notes and of explanations."""

from __future__ import annotations

import pytest

from chartkeeper.language.readability import (
    SECOND_FORMULA,
    coleman_liau_index,
    note_sentence_count,
    readability,
    words_of,
)


def test_both_grades_follow_their_formulas() -> None:
    text = "The cat sat on the mat. Your plan paid for the insurance."
    result = readability(text)
    words = words_of(text)
    assert (result.words, result.sentences) == (12, 2)
    fk = 0.39 * 12 / 2 + 11.8 * 14 / 12 - 15.59
    letters = sum(len(word) for word in words)
    cli = 0.0588 * letters * 100 / 12 - 0.296 * 2 * 100 / 12 - 15.8
    assert result.flesch_kincaid == pytest.approx(fk, abs=0.01)
    assert result.second == pytest.approx(cli, abs=0.01)
    assert coleman_liau_index(words, 2) == pytest.approx(cli)
    assert SECOND_FORMULA == "Coleman-Liau index"


def test_a_line_without_a_stop_is_a_sentence_of_a_note() -> None:
    note = "Abd: soft, non-tender\nExt: warm, well perfused\nPlan: home today."
    assert note_sentence_count(note) == 3
    assert note_sentence_count("NO DISTRESS NOTED.LUNGS CLEAR. Taken p.o. by Dr.Lind") == 3
    assert note_sentence_count("BS CLEAR BUT\n DIMINISHED AT BASES\nGU: OK") == 2
    assert readability(note).sentences == 3


def test_empty_text_has_grade_zero_and_no_words() -> None:
    assert readability("   ") == readability("")
    assert readability("").words == 0


def test_clinical_jargon_scores_far_above_plain_words() -> None:
    jargon = readability(
        "Patient with hypertension, hyperlipidemia and paroxysmal atrial fibrillation "
        "presenting with exertional dyspnea and bilateral lower extremity edema."
    )
    plain = readability(
        "You have high blood pressure. Your legs are swollen. You get out of breath."
    )
    assert jargon.flesch_kincaid > 15 and jargon.second > 15
    assert plain.flesch_kincaid < 6 and plain.second < 8
