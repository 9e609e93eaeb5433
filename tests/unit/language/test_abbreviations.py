"""Clinical abbreviations: tokens, case rules, sense choice by context, flags, synonyms, data."""

from __future__ import annotations

import subprocess
import sys
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chartkeeper.language.abbreviation_inventory import VOCABULARY_VERSION
from chartkeeper.language.abbreviations import find_abbreviations, senses, variants
from chartkeeper.language.model import AbbreviationMatch

REPO = Path(__file__).resolve().parents[3]
DATA = REPO / "src" / "chartkeeper" / "language" / "data"


def only(text: str, written: str) -> AbbreviationMatch:
    """The single match of ``written`` in ``text``."""
    found = [m for m in find_abbreviations(text) if m.text == written]
    assert len(found) == 1, (written, find_abbreviations(text))
    return found[0]


def long_form(text: str, written: str) -> str | None:
    match = only(text, written)
    return match.sense.long_form if match.sense else None


# --- tokens ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "written", "expected"),
    [
        ("Pt is s/p CABG.", "s/p", "status post"),
        ("CXR to r/o pneumonia", "r/o", "rule out"),
        ("She c/o pain", "c/o", "complain of"),
        ("72 y/o woman", "y/o", "year old"),
        ("amoxicillin 500 mg b.i.d. for a week", "b.i.d.", "bis in die"),
        ("aspirin 81 mg q.d. forever", "q.d.", "quaque die (every day)"),
        ("came in w/ chest pain", "w/", "with"),
        ("h/o asthma", "h/o", "history of"),
        ("N/V since Monday", "N/V", "nausea/vomiting"),
        ("anemia 2/2 blood loss", "2/2", "secondary to"),
        ("incision c/d/i today", "c/d/i", "clean, dry, and intact"),
    ],
)
def test_clinical_forms_are_kept_whole(text: str, written: str, expected: str) -> None:
    match = only(text, written)
    assert text[match.start : match.end] == written
    assert match.sense is not None
    assert match.sense.long_form == expected


def test_a_possessive_is_part_of_the_token_and_the_sense_is_the_base_form() -> None:
    match = only("Pt's daughter called.", "Pt's")
    assert (match.start, match.end) == (0, 4)
    assert match.sense is not None
    assert match.sense.long_form == "patient"


def test_trailing_punctuation_is_not_part_of_the_match() -> None:
    text = "History of HTN. Also GERD, and CHF; stable."
    matches = find_abbreviations(text)
    assert [(m.text, text[m.start : m.end]) for m in matches] == [
        ("HTN", "HTN"),
        ("GERD", "GERD"),
        ("CHF", "CHF"),
    ]


def test_matches_come_in_text_order_and_compounds_are_split_into_known_parts() -> None:
    matches = find_abbreviations("HTN/DM, on HCTZ")
    assert [m.text for m in matches] == ["HTN", "DM", "HCTZ"]
    assert [m.start for m in matches] == [0, 4, 11]


def test_a_unit_glued_to_its_number_is_matched_without_the_number() -> None:
    match = only("metoprolol 25mg daily", "mg")
    assert (match.start, match.end) == (13, 15)
    assert match.sense is not None
    assert match.sense.long_form == "milligram"


# --- case rules -----------------------------------------------------------------------------


def test_common_english_words_in_lower_case_are_not_abbreviations() -> None:
    assert find_abbreviations("Is it in? He was as well as can be, up and about at home.") == []


def test_an_all_caps_form_that_is_also_a_word_is_an_abbreviation() -> None:
    assert long_form("Taken to the OR for repair.", "OR") == "operating room"


def test_a_sentence_written_in_capitals_is_read_as_words() -> None:
    assert find_abbreviations("THE PATIENT IS IN THE OR NOW") == []


def test_a_clinical_form_that_is_also_an_english_word_is_expanded_in_lower_case() -> None:
    assert long_form("1 tab by mouth", "tab") == "tablet"
    assert long_form("worse sob on stairs", "sob") == "shortness of breath"


def test_a_lower_case_english_word_needs_context_to_be_read_as_an_abbreviation() -> None:
    assert find_abbreviations("She will am going") == []
    assert long_form("Take it at 8 am with food", "am") == "morning"


# --- sense chosen by context ------------------------------------------------------------------


def test_pt_is_physical_therapy_beside_exercises_and_the_patient_when_she_reports() -> None:
    therapy = only("PT for gait exercises twice a week.", "PT")
    assert therapy.sense is not None
    assert therapy.sense.long_form == "physical therapy"
    assert "exercises" in therapy.reason
    assert long_form("Pt reports less pain today.", "Pt") == "patient"
    assert long_form("PT 13.2 sec, INR 1.1", "PT") == "prothrombin time"


def test_context_does_not_cross_a_sentence() -> None:
    text = "Pt was seen today. PT for ambulation."
    first, second = (m for m in find_abbreviations(text) if m.text.lower() == "pt")
    assert first.sense is not None
    assert first.sense.long_form == "patient"
    assert second.sense is not None
    assert second.sense.long_form == "physical therapy"


def test_ms_follows_its_context() -> None:
    assert long_form("MS changes since yesterday, more confused.", "MS") == "mental status"
    assert long_form("History of MS with relapsing flares.", "MS") == "multiple sclerosis"
    assert long_form("QTc 450 ms on the ECG", "ms") == "milliseconds"


def test_k_next_to_a_number_is_potassium_and_vitamin_k_is_the_vitamin() -> None:
    assert long_form("K 4.1, Na 139", "K") == "potassium"
    assert long_form("Vitamin K given for the high INR", "K") == "vitamin k"


def test_pe_under_a_heading_is_the_exam_and_on_ct_with_heparin_is_the_clot() -> None:
    assert long_form("PE: lungs clear, heart regular.", "PE") == "physical exam"
    assert long_form("CT showed bilateral PE, started heparin.", "PE") == "pulmonary embolus"


def test_a_dominant_sense_is_chosen_by_its_prior_and_says_so() -> None:
    match = only("Seen in the ED today", "ED")
    assert match.sense is not None
    assert match.sense.long_form == "emergency department"
    assert match.reason.startswith("prior 0.9")


def test_a_single_sense_is_chosen_as_the_only_sense() -> None:
    match = only("HTN controlled", "HTN")
    assert match.sense is not None
    assert (match.sense.lay, match.reason) == ("high blood pressure", "only sense")


# --- flags ----------------------------------------------------------------------------------


def test_an_ambiguous_abbreviation_without_context_is_flagged_not_guessed() -> None:
    match = only("MS noted.", "MS")
    assert match.sense is None
    assert match.reason == "ambiguous"
    assert {"mental status", "multiple sclerosis"} <= {s.long_form for s in match.candidates}


def test_abbreviation_like_tokens_outside_the_inventory_are_flagged_unknown() -> None:
    text = "Started on QZX and f/x/q yesterday."
    assert [(m.text, m.sense, m.reason) for m in find_abbreviations(text)] == [
        ("QZX", None, "unknown"),
        ("f/x/q", None, "unknown"),
    ]


def test_numbers_units_and_slashed_words_are_never_flagged() -> None:
    matches = find_abbreviations("BP 120/80, weight 70 kg, 2.5 tablets on 11/27/2026 and/or he/she")
    assert [m.text for m in matches] == ["BP", "kg"]
    assert all(m.sense is not None for m in matches)


# --- senses and synonyms ----------------------------------------------------------------------


def test_senses_are_listed_most_frequent_first_whatever_the_spelling() -> None:
    listed = senses("PT")
    assert listed[0].long_form == "patient"
    assert {"physical therapy", "prothrombin time"} <= {s.long_form for s in listed}
    assert senses("b.i.d.") == senses("BID") == senses("bid")
    assert abs(sum(s.frequency for s in listed) - 1.0) < 0.01
    assert senses("not-an-abbreviation") == ()


def test_variants_map_both_ways_for_safe_pairs_only() -> None:
    assert "myocardial infarction" in variants("MI")
    assert "mi" in variants("Myocardial  Infarction")
    assert "htn" in variants("hypertension")
    assert variants("in") == frozenset()
    assert variants("pt") == frozenset()  # several senses: not a safe synonym


# --- the shipped data ---------------------------------------------------------------------------


def _rows() -> list[dict[str, str]]:
    lines = [
        line
        for line in (DATA / "abbreviations.tsv").read_text().splitlines()
        if not line.startswith("#")
    ]
    header = lines[0].split("\t")
    return [dict(zip(header, line.split("\t"), strict=True)) for line in lines[1:]]


def test_the_inventory_header_carries_the_vocabulary_version() -> None:
    assert f"# version: {VOCABULARY_VERSION}" in (DATA / "abbreviations.tsv").read_text()


def test_the_inventory_has_no_junk_senses_and_priors_sum_to_one() -> None:
    totals: dict[str, float] = defaultdict(float)
    for row in _rows():
        assert row["long_form"] and row["lay"], row
        assert "not an acronym" not in row["long_form"]
        assert "typo" not in row["long_form"]
        assert row["long_form"].lower() != row["abbreviation"]
        totals[row["abbreviation"]] += float(row["frequency"])
    assert len(totals) > 1000
    assert all(abs(total - 1.0) < 0.01 for total in totals.values())


def test_sources_and_licences_of_the_abbreviation_files_are_recorded() -> None:
    sources = (DATA / "SOURCES.md").read_text()
    for name in (
        "abbreviations.tsv",
        "abbreviation_curation.tsv",
        "abbreviation_english_words.txt",
    ):
        assert name in sources
        assert (DATA / name).exists()
    assert "CC BY 4.0" in sources
    assert "c2530a6519ec02246a4f577bf073e4dfe9428518" in sources


def test_the_shipped_inventory_is_what_the_build_script_makes(
    require_shared: Callable[..., Path],
) -> None:
    require_shared("data", "vocab", "clinical-abbreviations-metainventory", "sources")
    script = REPO / "scripts" / "build_abbreviations.py"
    done = subprocess.run(
        [sys.executable, str(script), "--check"], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stdout + done.stderr


# --- never a crash ----------------------------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from("aPTKMSs/.-'\u2019: 0123\nxOR,;"), max_size=60))
def test_any_text_gives_matches_whose_offsets_point_at_their_text(text: str) -> None:
    matches = find_abbreviations(text)
    assert [m.start for m in matches] == sorted(m.start for m in matches)
    for match in matches:
        assert text[match.start : match.end] == match.text
        assert (match.sense is None) == (match.reason in ("ambiguous", "unknown"))


def test_a_list_of_capitalised_abbreviations_is_not_a_shouted_sentence() -> None:
    matches = find_abbreviations("PMH: HTN, DM, CAD, CKD, COPD.")
    assert [(m.text, m.sense.long_form if m.sense else None) for m in matches][1:] == [
        ("HTN", "hypertension"),
        ("DM", "diabetes mellitus"),
        ("CAD", "coronary artery disease"),
        ("CKD", "chronic kidney disease"),
        ("COPD", "chronic obstructive pulmonary disease"),
    ]


def test_units_in_compounds_are_read_as_units_and_never_flagged() -> None:
    matches = find_abbreviations("O2 at 2 L/min, glucose 110 mg/dL, temp 98.6 F")
    assert all(m.reason != "unknown" for m in matches)
    assert long_form("O2 at 2 L/min", "L") == "liter"
    assert long_form("temp 98.6 F", "F") == "fahrenheit"
    assert long_form("72 y/o F with cough", "F") == "female"


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=80))
def test_any_unicode_text_is_read_without_error(text: str) -> None:
    for match in find_abbreviations(text):
        assert text[match.start : match.end] == match.text


def test_a_compound_with_a_known_part_is_read_part_by_part() -> None:
    matches = find_abbreviations("CXR/QZX ordered, 3 WBC/hpf")
    assert [(m.text, m.sense.long_form if m.sense else m.reason) for m in matches] == [
        ("CXR", "chest x-ray"),
        ("QZX", "unknown"),
        ("WBC", "white blood cell"),
    ]


def test_a_plural_with_a_lower_case_s_is_read_as_its_abbreviation() -> None:
    match = only("Two TIAs last year.", "TIAs")
    assert match.sense is not None
    assert match.sense.long_form == "transient ischemic attack"


def test_a_cue_for_another_sense_stops_a_guess_by_prior() -> None:
    assert long_form("Discussed tx options today.", "tx") == "treatment"
    match = only("Kidney tx in 2012.", "tx")  # one cue, not enough against the prior
    assert (match.sense, match.reason) == (None, "ambiguous")
    assert long_form("Kidney tx in 2012, no rejection.", "tx") == "transplant"
