"""Coding checks: each rule fires on its problem and stays quiet on clean coding."""

from __future__ import annotations

from chartkeeper.billing.codes.checks import Finding, check_diagnoses
from chartkeeper.billing.codes.notes import CodeRange, references
from tests.unit.billing.support import MemoryVersion, mini_entries

CODES = MemoryVersion("2026", mini_entries(), {"Z9999": ["2025"]})


def _rules(findings: list[Finding]) -> list[tuple[str, str]]:
    return [(f.rule, f.code) for f in findings]


def test_clean_coding_has_no_findings() -> None:
    assert check_diagnoses(CODES, ["E85.4", "G63", "S72.001A", "A00.0"]) == []


def test_a_header_code_is_not_billable_and_the_hint_names_codes_below_it() -> None:
    [finding] = check_diagnoses(CODES, ["E11"])
    assert finding == Finding(
        "header-code",
        "error",
        "E11",
        "E11 is a header, not a billable code",
        "Code to the highest specificity, e.g. E11.9",
    )


def test_a_code_needing_a_7th_character_lists_the_choices() -> None:
    [finding] = check_diagnoses(CODES, ["S02.30"])
    assert finding.rule == "missing-seventh-character"
    assert finding.hint.startswith("S02.30XA (initial encounter for closed fracture), S02.30XB")


def test_a_7th_character_without_the_placeholder_x_is_caught() -> None:
    [finding] = check_diagnoses(CODES, ["S02.30A"])
    assert (finding.rule, finding.hint) == ("missing-placeholder", "Write S02.30XA")


def test_excludes1_at_a_category_applies_to_the_codes_below_it() -> None:
    findings = check_diagnoses(CODES, ["E11.9", "E10.9"])
    assert _rules(findings) == [("excludes1-conflict", "E119"), ("excludes1-conflict", "E109")]
    assert "Excludes1 at E11: type 1 diabetes mellitus (E10.-)" in findings[0].message


def test_excludes2_is_not_a_conflict() -> None:
    assert check_diagnoses(CODES, ["E11.9", "A00.9"]) == []


def test_a_manifestation_needs_its_etiology_coded_first() -> None:
    assert _rules(check_diagnoses(CODES, ["A00.9", "G63"])) == [
        ("manifestation-without-etiology", "G63")
    ]
    assert _rules(check_diagnoses(CODES, ["G63", "E85.4"])) == [
        ("manifestation-as-principal", "G63")
    ]


def test_codes_from_another_version_are_not_valid_on_the_date_of_service() -> None:
    findings = check_diagnoses(CODES, ["Z99.99", "Q99.9"])
    assert _rules(findings) == [("not-valid-on-date", "Z9999"), ("unknown-code", "Q999")]
    assert "2025" in findings[0].hint


def test_without_a_version_in_force_the_checks_say_so() -> None:
    empty = MemoryVersion(None, [], {})
    assert _rules(check_diagnoses(empty, ["E11.9"])) == [("no-code-set", "")]


def test_note_references_are_codes_and_ranges() -> None:
    assert references(["type 1 (E10.-)", "x (R73.01-R73.09)", "y (A00-B99, C00.1)"]) == [
        CodeRange("E10", "E10"),
        CodeRange("R7301", "R7309"),
        CodeRange("A00", "B99"),
        CodeRange("C001", "C001"),
    ]
    assert references(["diabetes mellitus (E08-E13 with .42)"]) == []
    assert CodeRange("R7301", "R7309").covers("R7303")
    assert not CodeRange("R7301", "R7309").covers("R739")
    assert CodeRange("A00", "B99").covers("B2000")
