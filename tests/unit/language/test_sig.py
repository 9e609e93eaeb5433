"""Medication instructions (sigs) in plain words."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chartkeeper.language.readability import flesch_kincaid_grade
from chartkeeper.language.sig import sig_to_words

SIGS = [
    ("1 tab PO BID prn pain", "Take 1 tablet by mouth 2 times a day if needed for pain."),
    ("1 tab po bid prn pain", "Take 1 tablet by mouth 2 times a day if needed for pain."),
    ("1 tab p.o. b.i.d.", "Take 1 tablet by mouth 2 times a day."),
    ("2 caps PO Q.I.D.", "Take 2 capsules by mouth 4 times a day."),
    ("1 cap po tid", "Take 1 capsule by mouth 3 times a day."),
    ("1 tab PO qd", "Take 1 tablet by mouth once a day."),
    ("1 tab po daily.", "Take 1 tablet by mouth once a day."),
    ("one tab po qam", "Take 1 tablet by mouth every morning."),
    ("1 tab PO QPM", "Take 1 tablet by mouth every evening."),
    ("1 tab po qhs", "Take 1 tablet by mouth at bedtime."),
    ("1 tab po hs", "Take 1 tablet by mouth at bedtime."),
    ("1 tab po qod", "Take 1 tablet by mouth every other day."),
    ("1 tab po qweek", "Take 1 tablet by mouth once a week."),
    ("1 tab po q week", "Take 1 tablet by mouth once a week."),
    (
        "1-2 tabs po q4-6h prn pain",
        "Take 1 to 2 tablets by mouth every 4 to 6 hours if needed for pain.",
    ),
    ("1 to 2 tabs po q6h prn", "Take 1 to 2 tablets by mouth every 6 hours if needed."),
    ("2 tabs po q6h PRN fever", "Take 2 tablets by mouth every 6 hours if needed for fever."),
    ("1 tab po q4h", "Take 1 tablet by mouth every 4 hours."),
    ("1 tab po q 8 h", "Take 1 tablet by mouth every 8 hours."),
    ("1 tab po q12h x7d", "Take 1 tablet by mouth every 12 hours for 7 days."),
    ("1 cap po tid for 10 days", "Take 1 capsule by mouth 3 times a day for 10 days."),
    ("1 tab po daily x 2 weeks", "Take 1 tablet by mouth once a day for 2 weeks."),
    ("½ tab PO qd", "Take half a tablet by mouth once a day."),
    ("0.5 tab po daily", "Take half a tablet by mouth once a day."),
    ("1/2 tab po daily", "Take half a tablet by mouth once a day."),
    ("1 1/2 tabs po bid", "Take 1 and a half tablets by mouth 2 times a day."),
    ("1/4 tab po daily", "Take a quarter of a tablet by mouth once a day."),
    ("½ mL po daily", "Take 0.5 mL by mouth once a day."),
    ("1 or 2 caps po qhs", "Take 1 or 2 capsules by mouth at bedtime."),
    ("Take 1 tablet by mouth every morning", "Take 1 tablet by mouth every morning."),
    ("1 tab po twice weekly", "Take 1 tablet by mouth 2 times a week."),
    ("1 tab PO daily for BP", "Take 1 tablet by mouth once a day for blood pressure."),
    (
        "apply a thin layer to affected area bid",
        "Apply a thin layer to the affected area 2 times a day.",
    ),
    ("1 tab po tid ac", "Take 1 tablet by mouth 3 times a day before meals."),
    ("1 cap po tid pc", "Take 1 capsule by mouth 3 times a day after meals."),
    ("1 tab po ac and hs", "Take 1 tablet by mouth before meals and at bedtime."),
    ("1 tab PO BID with meals", "Take 1 tablet by mouth 2 times a day with meals."),
    ("1 tab po once", "Take 1 tablet by mouth one time."),
    ("2 tabs po stat", "Take 2 tablets by mouth right away."),
    (
        "1 tab SL q5min prn chest pain",
        "Take 1 tablet under the tongue every 5 minutes if needed for chest pain.",
    ),
    ("5 mL PO q6h prn cough", "Take 5 mL by mouth every 6 hours if needed for cough."),
    ("500mg po bid", "Take 500 mg by mouth 2 times a day."),
    ("2 tsp po bid", "Take 2 teaspoons by mouth 2 times a day."),
    ("2 puffs inh q4h prn wheezing", "Inhale 2 puffs every 4 hours if needed for wheezing."),
    ("1 puff inh bid", "Inhale 1 puff 2 times a day."),
    (
        "1 neb q6h prn sob",
        "Inhale 1 nebulizer treatment every 6 hours if needed for shortness of breath.",
    ),
    ("1 vial neb q4h", "Inhale 1 vial with a nebulizer every 4 hours."),
    ("1 gtt OU b.i.d.", "Put 1 drop in both eyes 2 times a day."),
    ("2 gtts OD qid", "Put 2 drops in the right eye 4 times a day."),
    ("1 drop OS qhs", "Put 1 drop in the left eye at bedtime."),
    ("3 drops AU tid", "Put 3 drops in both ears 3 times a day."),
    ("2 gtts A.D. bid", "Put 2 drops in the right ear 2 times a day."),
    ("2 gtts AS tid", "Put 2 drops in the left ear 3 times a day."),
    ("10 units SC qhs", "Inject 10 units under the skin at bedtime."),
    ("5 units subcut tid ac", "Inject 5 units under the skin 3 times a day before meals."),
    ("Inject 0.5 mL IM once", "Inject 0.5 mL into a muscle one time."),
    ("1 g IV q8h", "Inject 1 g into a vein every 8 hours."),
    (
        "1 supp PR q6h prn fever",
        "Insert 1 suppository in the rectum every 6 hours if needed for fever.",
    ),
    ("1 supp PV qhs x7d", "Insert 1 suppository in the vagina at bedtime for 7 days."),
    ("Apply topically BID x7d", "Apply on the skin 2 times a day for 7 days."),
    ("1 patch top daily", "Apply 1 patch on the skin once a day."),
    ("apply to affected area tid", "Apply to the affected area 3 times a day."),
    ("2 sprays each nostril daily", "Use 2 sprays in each nostril once a day."),
    ("use as directed", "Use as directed."),
    ("1 tab po q6h for pain", "Take 1 tablet by mouth every 6 hours for pain."),
    ("1 tab po bid prn for itching", "Take 1 tablet by mouth 2 times a day if needed for itching."),
    ("as directed", "Use as directed."),
    ("30 mL NG q4h", "Put 30 mL through the tube in your nose every 4 hours."),
    (
        "take 1 cap by mouth three times daily for 10 days",
        "Take 1 capsule by mouth 3 times a day for 10 days.",
    ),
    (
        "1 tab po every 4 to 6 hours as needed for pain",
        "Take 1 tablet by mouth every 4 to 6 hours if needed for pain.",
    ),
    (
        "2 tabs po x1 then 1 tab po daily x4d",
        "Take 2 tablets by mouth one time then 1 tablet by mouth once a day for 4 days.",
    ),
]


@pytest.mark.parametrize(("sig", "expected"), SIGS)
def test_a_known_sig_reads_as_one_plain_sentence(sig: str, expected: str) -> None:
    explanation = sig_to_words(sig)
    assert explanation.text == expected
    assert explanation.unknown == ()


def test_the_table_holds_at_least_forty_sigs() -> None:
    assert len({sig for sig, _ in SIGS}) >= 40


def test_the_spoken_sigs_average_grade_eight_or_below() -> None:
    """One sentence per sig: a long one with "suppository" or "nebulizer" scores above 8 on
    its own (Flesch-Kincaid counts syllables), so the table is held to 8 on average."""
    grades = [flesch_kincaid_grade(sig_to_words(sig).text) for sig, _ in SIGS]
    assert sum(grades) / len(grades) <= 8
    assert flesch_kincaid_grade(sig_to_words("1 tab PO BID prn pain").text) <= 8


def test_spans_point_at_the_words_they_explain() -> None:
    sig = "1 tab PO BID prn pain"
    spans = sig_to_words(sig).spans
    assert [(s.original, s.explained) for s in spans] == [
        ("1 tab", "1 tablet"),
        ("PO", "by mouth"),
        ("BID", "2 times a day"),
        ("prn pain", "if needed for pain"),
    ]
    assert all(sig[s.start : s.end] == s.original for s in spans)
    assert {s.kind for s in spans} == {"sig"}
    assert spans[1].source == "sig-1:route:po"


def test_a_period_inside_an_abbreviation_stays_in_its_span() -> None:
    spans = sig_to_words("1 gtt OU b.i.d.").spans
    assert spans[-1].original == "b.i.d."
    assert spans[-1].explained == "2 times a day"


def test_an_unknown_token_is_kept_as_written_and_listed() -> None:
    explanation = sig_to_words("1 tab po zq7 daily")
    assert explanation.text == "Take 1 tablet by mouth zq7 once a day."
    assert explanation.unknown == ("zq7",)
    unknown_span = next(s for s in explanation.spans if s.original == "zq7")
    assert unknown_span.explained == "zq7"
    assert unknown_span.source.endswith(":unknown")


def test_an_unknown_prn_reason_is_kept_and_flagged() -> None:
    explanation = sig_to_words("1 tab po bid prn Xyzzy")
    assert explanation.text == "Take 1 tablet by mouth 2 times a day if needed for Xyzzy."
    assert explanation.unknown == ("Xyzzy",)


def test_a_known_prn_abbreviation_is_spelled_out() -> None:
    assert sig_to_words("1 tab po prn HA").text == "Take 1 tablet by mouth if needed for headache."


@pytest.mark.parametrize("unit", ["u", "U", "IU"])
def test_the_do_not_use_unit_abbreviations_are_never_expanded(unit: str) -> None:
    explanation = sig_to_words(f"10 {unit} sc daily")
    assert unit in explanation.unknown
    assert "units" not in explanation.text


@pytest.mark.parametrize("word", ["as", "ad"])
def test_lower_case_as_and_ad_are_not_read_as_ears(word: str) -> None:
    explanation = sig_to_words(f"2 gtts {word} tid")
    assert "ear" not in explanation.text
    assert explanation.unknown == (word,)


def test_a_verb_written_first_is_kept() -> None:
    assert sig_to_words("Chew 1 tab po daily").text == "Chew 1 tablet by mouth once a day."


def test_the_route_decides_the_verb_before_the_form() -> None:
    assert sig_to_words("1 mL IM once").text.startswith("Inject ")
    assert sig_to_words("1 tab PV qhs").text.startswith("Insert ")


def test_an_empty_or_unreadable_sig_is_never_guessed() -> None:
    assert sig_to_words("").text == "Use."
    garbled = sig_to_words("zz qq")
    assert garbled.unknown == ("zz", "qq")
    assert garbled.text == "Use zz qq."


def test_the_same_sig_always_reads_the_same() -> None:
    assert sig_to_words("1-2 tabs po q4-6h prn pain") == sig_to_words("1-2 tabs po q4-6h prn pain")


SIG_ALPHABET = st.sampled_from(
    ["1", "2", "0.5", "½", "-", "tab", "caps", "po", "OU", "as", "prn", "for", "pain", "q4h",
     "q", "4", "h", "x7d", "x", "bid", "b.i.d.", "with", "meals", "then", "U", "zz", ".", ","]
)  # fmt: skip


@given(st.lists(SIG_ALPHABET, max_size=12).map(" ".join) | st.text(max_size=40))
def test_any_sig_is_read_without_error_and_its_spans_are_in_order(sig: str) -> None:
    explanation = sig_to_words(sig)
    assert explanation.text.endswith(".")
    previous_end = 0
    for span in explanation.spans:
        assert previous_end <= span.start < span.end <= len(sig)
        assert sig[span.start : span.end].startswith(span.original.split(" ")[0])
        previous_end = span.end
    assert all(word in sig for word in explanation.unknown)


@pytest.mark.parametrize("word", ["for", "prn for", "as needed for", "prn"])
def test_a_long_run_of_reason_words_is_read_without_recursion(word: str) -> None:
    sig = " ".join([word] * 400)
    assert sig_to_words(sig).text.endswith(".")


@pytest.mark.parametrize(
    "sig", ["2 puffs q4h prn SOB, max 8/day", "1 tab PO BID prn pain", "apply bid; do not crush"]
)
def test_every_span_points_at_the_sig_as_written(sig: str) -> None:
    for span in sig_to_words(sig).spans:
        assert sig[span.start : span.end] == span.original
