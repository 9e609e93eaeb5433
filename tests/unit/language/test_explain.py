"""Plain-language explanations: triggers kept, abbreviations and terms explained, spans."""

from __future__ import annotations

import re
import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chartkeeper.language.context import cues, kinds_covering
from chartkeeper.language.explain import CHUNK, TRIGGER_WORDS, explain_text, is_english
from chartkeeper.language.model import AbbreviationMatch, Explanation, Sense
from chartkeeper.language.sentences import sentence_spans

KNOWN = {
    "pt": "patient", "htn": "high blood pressure", "cp": "chest pain",
    "sob": "shortness of breath", "mi": "heart attack", "pna": "pneumonia", "ca": "cancer",
    "pe": "blood clot in the lung", "dm": "diabetes", "cxr": "chest x-ray",
    "uti": "bladder infection", "dvt": "blood clot in a leg vein", "cad": "heart artery disease",
    "nkda": "no known drug allergies", "abd": "belly", "bid": "twice a day",
    "cce": "clubbing, cyanosis, edema", "ncat": "normocephalic/atraumatic", "ug": "ug/kg",
    "fx": "broken bone (fracture)", "mg": "milligrams",
}  # fmt: skip
AMBIGUOUS = {"ms", "ra", "zq"}
TOKEN = re.compile(r"(?<![A-Za-z/])[A-Za-z]{2,5}(?![\w/])")


def finder(text: str) -> list[AbbreviationMatch]:
    """A small real finder over a fixed inventory (the shipped one is tested on its own)."""
    found: list[AbbreviationMatch] = []
    for match in TOKEN.finditer(text):
        key = match.group().lower()
        if key in KNOWN:
            sense = Sense(key, KNOWN[key], KNOWN[key], 1.0)
            found.append(AbbreviationMatch(match.start(), match.end(), match.group(), sense))
        elif key in AMBIGUOUS:
            found.append(AbbreviationMatch(match.start(), match.end(), match.group(), None))
    return found


def explain(text: str) -> Explanation:
    return explain_text(text, finder=finder)


# -- the invariant: every cue of the original governs the same concept in the explanation --

CASES = [
    ("Pt denies CP.", "CP"),
    ("Denies SOB or CP.", "CP"),
    ("No fever, chills or sweats.", "sweats"),
    ("No hypertension.", "hypertension"),
    ("Patient denied dyspnea on exertion.", "dyspnea on exertion"),
    ("CXR negative for PNA.", "PNA"),
    ("HEAD CT- NEG FOR BLEED; VQ SCAN- NEG FOR PE", "PE"),
    ("Abd soft, nontender.", "tender"),
    ("PE ruled out.", "PE"),
    ("Ruled out for MI.", "MI"),
    ("Without edema.", "edema"),
    ("w/o edema", "edema"),
    ("Ext: no edema", "edema"),
    ("r/o MI", "MI"),
    ("R/O FOR MI", "MI"),
    ("Rule out pneumonia.", "pneumonia"),
    ("Eval for DVT.", "DVT"),
    ("Possible UTI.", "UTI"),
    ("Pneumonia likely.", "Pneumonia"),
    ("Probable cellulitis.", "cellulitis"),
    ("? PNA", "PNA"),
    ("Cannot rule out PE.", "PE"),
    ("Concern for sepsis.", "sepsis"),
    ("CXR suggests PNA.", "PNA"),
    ("Presumed viral pneumonia.", "pneumonia"),
    ("Her mother's breast CA.", "CA"),
    ("Patient denies any CP.", "CP"),
    ("She has no h/o DM.", "DM"),
    ("Pulses absent.", "Pulses"),
    ("Watch for fever; return if worse.", "worse"),
    ("Suspected appendicitis.", "appendicitis"),
    ("Doubt surgical abdomen.", "abdomen"),
    ("Viral versus bacterial pneumonia.", "pneumonia"),
    ("FHx breast CA", "breast CA"),
    ("FH: CAD", "CAD"),
    ("Family history of colon cancer.", "colon cancer"),
    ("Mother with DM.", "DM"),
    ("Breast cancer in her mother.", "Breast cancer"),
    ("h/o MI", "MI"),
    ("Hx of HTN.", "HTN"),
    ("S/P MI 1992", "MI"),
    ("s/p appendectomy", "appendectomy"),
    ("Status post cholecystectomy.", "cholecystectomy"),
    ("PMH: HTN", "HTN"),
    ("Prior stroke.", "stroke"),
    ("Previous DVT.", "DVT"),
    ("Return if CP.", "CP"),
    ("Call should fever develop.", "fever"),
    ("Tylenol prn headache", "headache"),
    ("Denies h/o MI.", "MI"),
    ("No FHx of CAD.", "CAD"),
    ("Pt denies CP but has SOB.", "SOB"),
    ("No fever; cough for 3 days.", "cough"),
    ("NKDA, HTN, DM", "HTN"),
    ("Afebrile, tachycardic.", "tachycardic"),
    ("Pt has MS.", "MS"),
    ("Denies CP, SOB, palpitations, syncope, presyncope, orthopnea, edema, claudication, "
     "abdominal pain, nausea, vomiting, diarrhea, dysuria, hematuria and rash.", "rash"),
]  # fmt: skip


def rendering(explanation: Explanation, concept_start: int, concept_end: int) -> str:
    """What the explanation says for the concept: its span's wording, or its own words."""
    for span in explanation.spans:
        if span.start <= concept_start and concept_end <= span.end and span.kind != "trigger":
            return span.explained
    return explanation.original[concept_start:concept_end]


@pytest.mark.parametrize(("text", "concept"), CASES)
def test_the_explanation_keeps_every_cue_on_its_concept(text: str, concept: str) -> None:
    start = text.index(concept)
    before = kinds_covering(cues(text), start, start + len(concept))
    result = explain(text)
    words = rendering(result, start, start + len(concept))
    at = result.text.lower().index(words.lower())
    after = kinds_covering(cues(result.text), at, at + len(words))
    assert before <= after, (result.text, before, after)
    assert after & {"negated", "possible"} == before & {"negated", "possible"}, result.text


def test_the_case_set_covers_every_kind_and_plain_findings() -> None:
    covered: set[str] = set()
    plain = 0
    for text, concept in CASES:
        start = text.index(concept)
        kinds = kinds_covering(cues(text), start, start + len(concept))
        covered |= kinds
        plain += not kinds
    assert covered == {"negated", "possible", "family", "historical", "hypothetical"}
    assert plain >= 3


# -- wording ------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Pt denies CP.", "Patient reports no chest pain."),
        ("r/o MI", "Checking for possible heart attack."),
        ("h/o HTN", "A history of high blood pressure."),
        ("s/p appendectomy", "Has had removal of the appendix."),
        ("FHx breast CA", "Family history of breast cancer."),
        ("Abd soft, nontender.", "Belly soft, not sore to the touch."),
        ("CXR negative for PNA.", "Chest x-ray no sign of lung infection."),
        ("Hypertension and hyperlipidemia.", "High blood pressure and high cholesterol."),
        ("Afebrile.", "Fever-free."),
        ("Denies any CP.", "Reports no chest pain."),
        ("No h/o MI.", "No history of heart attack."),
        ("Pulses absent.", "Pulses not present."),
        ("Pneumonia versus PE.", "Lung infection or possible blood clot in the lung."),
        ("Tylenol prn", "Tylenol if needed."),
    ],
)
def test_triggers_abbreviations_and_terms_become_plain_words(text: str, expected: str) -> None:
    assert explain(text).text == expected


def test_every_explained_phrase_has_a_span_into_the_original() -> None:
    text = "Pt denies CP; h/o hypertension."
    result = explain(text)
    spans = {(text[s.start : s.end], s.explained, s.kind) for s in result.spans}
    assert spans == {
        ("Pt", "patient", "abbreviation"),
        ("denies", "reports no", "trigger"),
        ("CP", "chest pain", "abbreviation"),
        ("h/o", "a history of", "trigger"),
        ("hypertension", "high blood pressure", "term"),
    }
    assert all(s.original == text[s.start : s.end] for s in result.spans)
    assert next(s.source for s in result.spans if s.kind == "term").startswith("lay_terms@")


def test_unknown_or_ambiguous_abbreviations_stay_as_written_and_are_flagged() -> None:
    result = explain("Pt has MS and RA; MS is stable.")
    assert result.text == "Patient has MS and RA. MS is stable."
    assert result.flags == ("unknown-abbreviation:MS", "unknown-abbreviation:RA")
    assert [s.kind for s in result.spans].count("unknown-abbreviation") == 3


def test_a_negation_carried_by_an_abbreviation_does_not_spread_to_the_list() -> None:
    result = explain("NKDA, HTN, DM")
    assert result.text == "No known drug allergies. High blood pressure, diabetes."


def test_an_all_capitals_note_is_written_in_sentence_case() -> None:
    result = explain("ARRIVED IN TRANSFER; IN NO MAJOR DISTRESS; R/O FOR MI")
    assert (
        result.text
        == "Arrived in transfer. In no major trouble. Checking for possible heart attack."
    )


def test_lines_stay_lines_and_headers_keep_their_colon() -> None:
    result = explain("HPI: Pt denies CP\nExt: no edema")
    assert result.text == "HPI: patient reports no chest pain.\nExt: no swelling."


def test_a_long_sentence_is_split_only_where_no_cue_scope_crosses() -> None:
    text = (
        "The patient was seen in clinic today for her blood pressure check, and she says "
        "she takes all of her pills every day, but she denies chest pain, shortness of breath "
        "or leg swelling, and she has no fever."
    )
    result = explain(text)
    assert result.text == (
        "The patient was seen in clinic today for her blood pressure check. She says she "
        "takes all of her pills every day. She reports no chest pain, shortness of breath or "
        "leg swelling, and she has no fever."
    )  # not split at ", and she has no fever": "no" governs the list up to there
    assert [s.original for s in result.spans if s.kind == "sentence"] == [", and ", ", but "]


def test_readability_is_returned_for_both_texts() -> None:
    text = (
        "Patient with hypertension, hyperlipidemia and atrial fibrillation presenting with "
        "exertional dyspnea, bilateral lower extremity edema and orthopnea."
    )
    result = explain(text)
    assert result.grade_original.flesch_kincaid > 14
    assert result.grade_explained.flesch_kincaid < result.grade_original.flesch_kincaid
    assert result.grade_explained.second < result.grade_original.second


# -- bad input ----------------------------------------------------------------------------


def test_empty_text_gives_an_empty_explanation() -> None:
    for text in ("", "   \n  ", ",;"):  # nothing to say; the original is shown beside it anyway
        result = explain(text)
        assert (result.text, result.spans, result.flags) == ("", (), ())
        assert result.grade_explained.words == 0


@pytest.mark.parametrize(
    "text",
    [
        "El paciente refiere dolor torácico y niega fiebre desde ayer por la noche.",
        "Le patient est arrivé avec une douleur dans la poitrine et pas de fièvre.",
        "Der Patient hat seit gestern Schmerzen in der Brust und ist nicht fiebrig.",
        "患者は昨日から胸の痛みを訴えています。",
    ],
)
def test_text_in_another_language_is_returned_unchanged_and_flagged(text: str) -> None:
    result = explain(text)
    assert (result.text, result.spans, result.flags) == (text, (), ("not-english",))


@pytest.mark.parametrize(
    "text",
    ["Abd: soft, NT/ND, +BS", "CV: RRR, no m/r/g", "Pt is a 13 y/o F with N/V/D x2d."],
)
def test_telegraphic_english_is_english(text: str) -> None:
    assert is_english(text)


def test_a_one_megabyte_note_completes_in_linear_time() -> None:
    unit = "Pt denies CP but has SOB; h/o HTN. r/o PE. Abd soft, nontender, no edema.\n"
    small = unit * 1_000
    big = unit * (1_000_000 // len(unit))
    started = time.perf_counter()
    small_result = explain(small)
    small_seconds = time.perf_counter() - started
    started = time.perf_counter()
    big_result = explain(big)
    big_seconds = time.perf_counter() - started
    ratio = len(big) / len(small)
    assert big_result.text.count("reports no chest pain") == len(big) // len(unit)
    assert small_result.text.count("\n") == 999
    assert big_seconds < small_seconds * ratio * 3  # linear, with room for a noisy machine


def test_every_trigger_rewrite_is_a_trigger_of_the_same_kind() -> None:
    """The plain words for a trigger are themselves read as the same kind of cue, so no
    rewrite can turn "denies X" into "X" or "r/o X" into a diagnosis."""
    changed = {}
    for written, plain in TRIGGER_WORDS.items():
        joint = "" if written.startswith("non") else " "  # "nonfebrile", "non-febrile"
        before = {c.kind for c in cues(f"{written}{joint}febrile")}
        after = {c.kind for c in cues(f"{plain} febrile".replace("  ", " "))}
        if not before or before != after:
            changed[written] = (plain, before, after)
    assert changed == {}


# -- sentences ----------------------------------------------------------------------------


def test_periods_of_abbreviations_do_not_end_sentences() -> None:
    text = "Seen by Dr. Lind. Metoprolol 25 mg p.o. b.i.d. for HTN. Next visit e.g. in May."
    assert [text[s.start : s.end] for s in sentence_spans(text)] == [
        "Seen by Dr. Lind.",
        "Metoprolol 25 mg p.o. b.i.d. for HTN.",
        "Next visit e.g. in May.",
    ]
    assert explain(text).text == (
        "Seen by Dr. Lind. Metoprolol 25 milligrams p.o. b.i.d. for high blood pressure. "
        "Next visit e.g. in May."
    )


def test_section_headers_and_semicolons_end_sentences_and_wrapped_lines_do_not() -> None:
    text = "HPI: cough x3d; no fever PMH: HTN\nLungs: CLEAR BUT\n DIMINISHED AT BASES"
    assert explain(text).text == (
        "HPI: cough x3d. No fever. Past health: high blood pressure.\n"
        "Lungs: clear but diminished at bases."
    )


CLINICAL_BITS = st.sampled_from(
    [
        "Pt", "denies", "CP", "no", "fever", "r/o", "MI", "?", "h/o", "s/p", "FHx", "if",
        "hypertension", ",", ";", ".", ":", "\n", "\n ", "MS", "non", "-", "but", "prn",
        "NKDA", "b.i.d.", "Dr.", "HPI:", "edema", "(", ")", "nontender", "ruled out", "x3",
    ]
)  # fmt: skip


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(CLINICAL_BITS, st.text(max_size=6)), max_size=30))
def test_any_text_explains_with_spans_inside_the_original(parts: list[str]) -> None:
    text = " ".join(parts)
    result = explain(text)
    assert result.original == text
    previous_end = 0
    for span in sorted(result.spans, key=lambda s: s.start):
        assert previous_end <= span.start < span.end <= len(text)
        assert span.original == text[span.start : span.end]
        previous_end = span.end
    if any(ch.isalnum() for ch in text):
        assert any(ch.isalnum() for ch in result.text)


def test_an_abbreviations_wording_is_made_plain_too_but_not_its_parenthesis() -> None:
    result = explain("Ext: no CCE. Wrist FX. Lasix 40MG. Head NCAT. Dopa 5 ug.")
    assert result.text == (
        "Ext: no wide fingertips, bluish skin, swelling. Wrist broken bone (fracture). "
        "Lasix 40 milligrams. Head normal head shape, injury-free. Dopa 5 ug/kg."
    )


def test_a_long_note_goes_to_the_finder_in_pieces_cut_at_line_breaks() -> None:
    line = "Pt denies CP; h/o HTN.\n"
    calls: list[str] = []

    def recording(text: str) -> list[AbbreviationMatch]:
        calls.append(text)
        return finder(text)

    result = explain_text(line * 5_000, finder=recording)
    assert len(calls) > 1 and all(call.endswith("\n") or call == calls[-1] for call in calls)
    assert max(len(call) for call in calls) <= CHUNK + len(line)
    explained = "Patient reports no chest pain. A history of high blood pressure."
    assert result.text == "\n".join([explained] * 5_000)


def test_and_before_a_new_subject_is_a_safe_split_of_a_long_sentence() -> None:
    text = (
        "She walked two miles in the park with her daughter on Sunday morning and she "
        "felt a tight pressure in the middle of her chest for ten minutes."
    )
    assert explain(text).text == (
        "She walked two miles in the park with her daughter on Sunday morning. She felt a "
        "tight pressure in the middle of her chest for ten minutes."
    )
