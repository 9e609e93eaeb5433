"""ICD-10-CM diagnoses in lay words: curated wording, wording generated from the title."""

from __future__ import annotations

import re
from functools import cache
from importlib.resources import files

import pytest

from chartkeeper.billing.codes import icd10cm_tabular
from chartkeeper.language.diagnoses import (
    CURATED,
    GENERATED,
    UNKNOWN,
    curated_diagnoses,
    dotted_code,
    explain_diagnosis,
    generate_from_title,
)
from chartkeeper.language.readability import flesch_kincaid_grade


@cache
def shipped_icd10cm() -> dict[str, str]:
    """Billable ICD-10-CM codes (dotted) and titles of the tabular the product ships."""
    with icd10cm_tabular.bundled_tabular() as handle:
        return {
            dotted_code(e.code): e.display
            for e in icd10cm_tabular.parse_tabular(handle)
            if e.billable
        }


def test_a_few_hundred_common_codes_are_curated() -> None:
    assert len(curated_diagnoses()) >= 250


def test_the_data_file_lists_each_code_once() -> None:
    text = files("chartkeeper.language").joinpath("data/diagnosis_lay.tsv").read_text("utf-8")
    rows = [line.split("\t")[0] for line in text.splitlines() if line and line[0] != "#"]
    codes = rows[1:]  # after the header
    assert rows[0] == "code"
    assert len(codes) == len(set(codes)) == len(curated_diagnoses())


def test_every_curated_code_is_billable_in_the_shipped_icd10cm() -> None:
    """Codes of the FY2026 tabular with its April 2026 update (``icd10cm_tabular``)."""
    billable = shipped_icd10cm()
    assert len(billable) > 70_000
    assert sorted(set(curated_diagnoses()) - set(billable)) == []


def test_every_curated_sentence_is_at_grade_eight_or_below() -> None:
    too_hard = {
        (code, sentence)
        for code, explanation in curated_diagnoses().items()
        for sentence in explanation.sentences
        if flesch_kincaid_grade(sentence) > 8
    }
    assert too_hard == set()


def test_every_curated_code_has_a_title_and_one_or_two_sentences() -> None:
    for code, explanation in curated_diagnoses().items():
        assert explanation.code == code
        assert explanation.lay_title.strip() == explanation.lay_title != ""
        assert 1 <= len(explanation.sentences) <= 2, code
        assert all(s.endswith((".", "!", "?")) for s in explanation.sentences), code
        assert explanation.source == CURATED


@pytest.mark.parametrize(
    "code",
    ["I10", "E11.9", "E11.65", "E78.5", "J44.9", "N18.31", "I50.9", "I48.91", "N39.0", "J18.9",
     "M54.50", "F41.9", "F32.A", "E66.9", "K21.9", "E03.9", "J45.909", "M17.11", "A41.9",
     "N17.9", "U07.1", "Z34.00", "O80", "Z00.00", "Z23"],
)  # fmt: skip
def test_the_most_common_codes_are_curated(code: str) -> None:
    assert explain_diagnosis(code, None).source == CURATED


def test_a_code_is_found_with_or_without_its_dot_and_in_any_case() -> None:
    expected = explain_diagnosis("E11.9", None)
    assert expected.lay_title == "Type 2 diabetes"
    assert explain_diagnosis(" e119 ", None) == expected
    assert explain_diagnosis("E119", "Type 2 diabetes mellitus without complications") == expected


def test_curated_wording_does_not_echo_the_filler_of_official_titles() -> None:
    for explanation in curated_diagnoses().values():
        text = " ".join([explanation.lay_title, *explanation.sentences]).lower()
        assert "unspecified" not in text
        assert "not elsewhere classified" not in text


@pytest.mark.parametrize(
    ("code", "title", "lay_title", "sentences"),
    [
        (
            "J02.8",
            "Acute pharyngitis due to other specified organisms",
            "Acute pharyngitis due to other specified organisms"
            " (swelling and irritation of the throat)",
            (
                "This is the name your care team used for this condition.",
                "Here, \u201cpharyngitis\u201d means swelling and irritation of the throat,"
                " and \u201cacute\u201d means sudden or short-term.",
            ),
        ),
        (
            "K29.50",
            "Unspecified chronic gastritis without bleeding",
            "Chronic gastritis without bleeding (swelling and irritation of the stomach)",
            (
                "This is the name your care team used for this condition.",
                "Here, \u201cgastritis\u201d means swelling and irritation of the stomach,"
                " and \u201cchronic\u201d means long-lasting.",
            ),
        ),
        (
            "C64.2",
            "Malignant neoplasm of left kidney, except renal pelvis",
            "Malignant neoplasm of left kidney, except renal pelvis (cancer)",
            (
                "This is the name your care team used for this condition.",
                "Here, \u201cmalignant neoplasm\u201d means cancer,"
                " and \u201crenal\u201d means having to do with the kidneys.",
            ),
        ),
        (
            "R41.3",
            "Other amnesia",
            "Other amnesia",
            ("This is the name your care team used for a sign or symptom.",),
        ),
        (
            "Z01.20",
            "Encounter for dental examination and cleaning without abnormal findings",
            "Encounter for dental examination and cleaning without abnormal findings",
            (
                "This is the name your care team used for a reason for a visit"
                " or a fact about your health.",
            ),
        ),
    ],
)
def test_an_uncurated_code_is_explained_from_its_official_title(
    code: str, title: str, lay_title: str, sentences: tuple[str, ...]
) -> None:
    assert code not in curated_diagnoses()
    explanation = explain_diagnosis(code, title)
    assert explanation.source == GENERATED
    assert explanation.code == code
    assert explanation.lay_title == lay_title
    assert explanation.sentences == sentences


@pytest.mark.parametrize(
    ("title", "kept"),
    [
        ("Acute pharyngitis, unspecified", "Acute pharyngitis"),
        ("Gastritis, unspecified, without bleeding", "Gastritis, without bleeding"),
        ("Unspecified fracture of right wrist and hand", "Fracture of right wrist and hand"),
        ("Other disorders of kidney and ureter, not elsewhere classified",
         "Other disorders of kidney and ureter"),
        # "unspecified" inside a phrase carries meaning and stays
        ("Malignant neoplasm of unspecified kidney, except renal pelvis",
         "Malignant neoplasm of unspecified kidney, except renal pelvis"),
    ],
)  # fmt: skip
def test_only_filler_is_dropped_from_the_title(title: str, kept: str) -> None:
    assert generate_from_title("X00", title).lay_title.startswith(kept)


FILLER = re.compile(
    r",\s*(?:unspecified|not elsewhere classified|NOS)(?=,|$)|^Unspecified\s+", re.I
)


def test_a_generated_explanation_adds_no_words_to_the_title_but_glosses() -> None:
    """Every shipped code: the lay title is the title without filler, plus at most one
    bracketed gloss; the sentences are a fixed opening and glosses of words in the title."""
    quoted = re.compile(r"\u201c([^\u201d]+)\u201d means")
    for code, title in shipped_icd10cm().items():
        if code in curated_diagnoses():
            continue
        explanation = explain_diagnosis(code, title)
        assert explanation.source == GENERATED
        cleaned = FILLER.sub("", title).strip(" ,")
        cleaned = cleaned[:1].upper() + cleaned[1:]
        glosses = " ".join(explanation.sentences[1:])
        assert explanation.sentences[0].startswith(("This is the name", "This code describes"))
        assert len(explanation.sentences) <= 2
        for word in quoted.findall(glosses):
            assert word in title.lower(), (code, word)
        if explanation.lay_title != cleaned:
            bracket = explanation.lay_title.removeprefix(cleaned + " (")
            assert bracket != explanation.lay_title, (code, explanation.lay_title)
            assert f"means {bracket[:-1]}" in glosses, (code, explanation.lay_title)


def test_generated_wording_is_deterministic() -> None:
    titles = list(shipped_icd10cm().items())[::997]
    first = [explain_diagnosis(code, title) for code, title in titles]
    assert first == [explain_diagnosis(code, title) for code, title in titles]


def test_an_unknown_code_without_a_title_is_given_back_as_written() -> None:
    explanation = explain_diagnosis("Q99.8", None)
    assert explanation == type(explanation)("Q99.8", "Q99.8", (), UNKNOWN)
    assert explain_diagnosis("  ", "").source == UNKNOWN


@pytest.mark.parametrize(
    ("written", "dotted"),
    [("e119", "E11.9"), ("I10", "I10"), ("s060x0a", "S06.0X0A"), ("Z3A.39", "Z3A.39"),
     ("not a code", "not a code"), ("", "")],
)  # fmt: skip
def test_codes_are_dotted_only_when_shaped_like_icd10cm(written: str, dotted: str) -> None:
    assert dotted_code(written) == dotted
