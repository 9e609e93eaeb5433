"""Lab results and vital signs in words: what was measured and where the value sits."""

from __future__ import annotations

import re

import pytest

from chartkeeper.language.labs import lab_tests, position_of, result_in_words
from chartkeeper.language.readability import flesch_kincaid_grade

#: Words that would name a diagnosis; a lab explanation must never contain one.
DIAGNOSIS_WORDS = [
    "diabetes",
    "diabetic",
    "prediabetes",
    "anemia",
    "anaemia",
    "kidney disease",
    "kidney failure",
    "renal failure",
    "infection",
    "infected",
    "cancer",
    "tumor",
    "leukemia",
    "hypertension",
    "hypotension",
    "high blood pressure",
    "hypothyroidism",
    "hyperthyroidism",
    "heart failure",
    "heart attack",
    "liver disease",
    "hepatitis",
    "cirrhosis",
    "gout",
    "obesity",
    "obese",
    "dehydration",
    "sepsis",
    "fever",
    "hyperlipidemia",
    "cholesterolemia",
    "hyperkalemia",
    "hypokalemia",
    "hyponatremia",
    "thrombocytopenia",
    "leukocytosis",
    "polycythemia",
    "uti",
    "disease",
    "disorder",
    "syndrome",
]
FORBIDDEN = re.compile(
    r"\b(?:" + "|".join(re.escape(w) for w in DIAGNOSIS_WORDS) + r"|normal|abnormal)\b", re.I
)

HEMOGLOBIN = "718-7"


@pytest.mark.parametrize(
    ("value", "position", "words"),
    [
        (14.0, "in-range", "This is in the usual range of 12 to 16 g/dL."),
        (12.0, "in-range", "This is in the usual range of 12 to 16 g/dL."),
        (16.0, "in-range", "This is in the usual range of 12 to 16 g/dL."),
        (17.0, "a-little-higher", "This is a little higher than the usual range of 12 to 16 g/dL."),
        (17.6, "a-little-higher", "This is a little higher than the usual range of 12 to 16 g/dL."),
        (17.7, "much-higher", "This is much higher than the usual range of 12 to 16 g/dL."),
        (10.8, "a-little-lower", "This is a little lower than the usual range of 12 to 16 g/dL."),
        (10.7, "much-lower", "This is much lower than the usual range of 12 to 16 g/dL."),
    ],
)
def test_a_value_is_placed_against_its_range(value: float, position: str, words: str) -> None:
    # margin = max(20% of width 4 = 0.8, 10% of the crossed limit: 1.6 above, 1.2 below)
    result = result_in_words("Hgb", value, "g/dL", 12, 16, loinc=HEMOGLOBIN)
    assert result.position == position
    assert result.text == (
        f"Hemoglobin: {value:g} g/dL. "
        "This measures the protein in red blood cells that carries oxygen. " + words
    )
    assert result.flags == ()


def test_the_margin_is_a_share_of_the_width_when_the_range_is_wide() -> None:
    # range 0 to 100: 20% of the width (20) beats 10% of the limit (10)
    assert position_of(120, 0, 100) == "a-little-higher"
    assert position_of(120.5, 0, 100) == "much-higher"


def test_the_margin_is_a_share_of_the_limit_when_the_range_is_narrow() -> None:
    # glucose 70 to 99: 20% of the width is 5.8, 10% of 99 is 9.9
    assert position_of(105, 70, 99) == "a-little-higher"
    assert position_of(110, 70, 99) == "much-higher"


@pytest.mark.parametrize("flag", ["HH", "LL", "AA", "hh"])
def test_a_critical_flag_wins_over_the_numbers(flag: str) -> None:
    result = result_in_words("Potassium", 5.0, "mmol/L", 3.5, 5.1, flag, "2823-3")
    assert result.position == "critical"
    assert result.text.endswith(
        "This is far outside the usual range; your care team should talk with you about it."
    )


def test_without_a_range_the_value_is_only_stated() -> None:
    result = result_in_words("Hgb", 13.2, "g/dL", None, None, loinc=HEMOGLOBIN)
    assert result.position == "no-range"
    assert result.text.endswith(
        "Hemoglobin: 13.2 g/dL. " + lab_tests()[HEMOGLOBIN].what + (" No usual range was given.")
    )


def test_without_a_range_the_labs_own_flag_is_reported() -> None:
    result = result_in_words("Glucose", 180, "mg/dL", None, None, "H", "2345-7")
    assert result.position == "no-range"
    assert result.text.endswith(
        "No usual range was given. The lab marked it as higher than its usual values."
    )


def test_an_upper_limit_only_range_reads_as_or_less() -> None:
    under = result_in_words("Cholesterol", 180, "mg/dL", None, 200, loinc="2093-3")
    assert under.position == "in-range"
    assert under.text.endswith("This is in the usual range of 200 mg/dL or less.")
    over = result_in_words("Cholesterol", 215, "mg/dL", None, 200, loinc="2093-3")
    assert over.position == "a-little-higher"  # 10% of 200 is 20
    far = result_in_words("Cholesterol", 260, "mg/dL", None, 200, loinc="2093-3")
    assert far.position == "much-higher"


def test_a_lower_limit_only_range_reads_as_or_more() -> None:
    result = result_in_words("eGFR", 55, "mL/min/{1.73_m2}", 60, None, loinc="98979-8")
    assert result.position == "a-little-lower"
    assert result.text.endswith("a little lower than the usual range of 60 mL/min/1.73m² or more.")
    assert position_of(40, 60, None) == "much-lower"


@pytest.mark.parametrize("value", ["Positive", "Trace", "<0.1", "Yellow", "not detected"])
def test_a_text_value_is_stated_as_given(value: str) -> None:
    result = result_in_words("Urine test", value, None, None, None, loinc="5802-4")
    assert result.position == "as-given"
    assert result.text.startswith(f"Nitrite in urine: {value}. ")
    assert "as the lab reported it" in result.text


def test_a_numeric_string_is_read_as_a_number() -> None:
    assert result_in_words("Sodium", "150", "mmol/L", 135, 145, loinc="2951-2").position == (
        "a-little-higher"
    )


def test_an_unknown_test_keeps_its_given_name_and_is_flagged() -> None:
    result = result_in_words("Zinc, serum", 70, "ug/dL", 60, 120, loinc="99999-9")
    assert result.text == "Zinc, serum: 70 µg/dL. This is in the usual range of 60 to 120 µg/dL."
    assert result.flags == ("unknown-test:Zinc, serum",)


def test_vital_signs_use_their_everyday_units() -> None:
    pressure = result_in_words("SBP", 128, "mm[Hg]", 90, 120, loinc="8480-6")
    assert pressure.text.startswith("Blood pressure, top number (systolic): 128 mmHg.")
    temperature = result_in_words("Temp", 37.1, "Cel", 36.1, 37.2, loinc="8310-5")
    assert temperature.text.startswith("Body temperature: 37.1 °C.")
    oxygen = result_in_words("SpO2", 97, "%", 95, 100, loinc="59408-5")
    assert oxygen.text.startswith("Oxygen level (pulse oximeter): 97%.")


def test_about_sixty_common_tests_and_vital_signs_have_lay_names() -> None:
    tests = lab_tests()
    assert len(tests) >= 60
    for loinc in ["6690-2", "2345-7", "2093-3", "4548-4", "3016-3", "5803-2", "8867-4", "39156-5"]:
        assert loinc in tests


def test_every_what_sentence_is_at_grade_eight_or_below() -> None:
    too_hard = {t.loinc: t.what for t in lab_tests().values() if flesch_kincaid_grade(t.what) > 8}
    assert too_hard == {}


CASES = [
    (12.0, 16.0, 14.0, None),
    (12.0, 16.0, 17.0, None),
    (12.0, 16.0, 30.0, "H"),
    (12.0, 16.0, 10.8, None),
    (12.0, 16.0, 2.0, "LL"),
    (None, 200.0, 400.0, None),
    (60.0, None, 10.0, None),
    (None, None, 3.0, "A"),
    (None, None, "Positive", "A"),
]


@pytest.mark.parametrize("loinc", sorted(lab_tests()))
def test_no_explanation_names_a_diagnosis_or_says_normal(loinc: str) -> None:
    for low, high, value, flag in CASES:
        text = result_in_words("test", value, "mg/dL", low, high, flag, loinc).text
        assert FORBIDDEN.search(text) is None, text


def test_the_same_result_always_reads_the_same() -> None:
    first = result_in_words("Hgb", 10.9, "g/dL", 12, 16, None, HEMOGLOBIN)
    assert first == result_in_words("Hgb", 10.9, "g/dL", 12, 16, None, HEMOGLOBIN)
