"""The MCE edits: sex and age conflicts, external-cause and unacceptable principal diagnoses."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from pathlib import Path

from chartkeeper.billing.codes.checks import Finding
from chartkeeper.billing.codes.loaders import open_code_file
from chartkeeper.billing.codes.mce import PatientFacts, flags_on, parse_master
from chartkeeper.billing.codes.mce_checks import check_mce
from tests.unit.billing.support import DATA, MemoryVersion

MINI_MCE = DATA / "mce_v43_1_mini_dx_master.tsv"
EDITS = MemoryVersion("43.1", list(parse_master(MINI_MCE.read_text().splitlines())), {})
BEFORE = date(2024, 9, 30)  # the last day of the sex-conflict edit
AFTER = date(2024, 10, 1)


def _rules(findings: list[Finding]) -> list[tuple[str, str]]:
    return [(f.rule, f.code) for f in findings]


def test_flags_hold_for_their_period() -> None:
    o80 = EDITS.get("O80")
    assert o80 is not None
    assert flags_on(o80.extra, BEFORE) == {"maternity", "female"}
    assert flags_on(o80.extra, AFTER) == {"maternity"}
    assert flags_on(o80.extra, date(2015, 9, 30)) == set()


def test_sex_conflict_until_cms_ended_the_edit() -> None:
    male = PatientFacts("male", 30)
    findings = check_mce(EDITS, ["O80"], BEFORE, male)
    assert _rules(findings) == [("sex-conflict", "O80")]
    assert findings[0].message == "O80 is for female patients; the patient is male"
    assert check_mce(EDITS, ["O80"], AFTER, male) == []


def test_age_conflict_uses_the_age_group_of_the_date() -> None:
    assert _rules(check_mce(EDITS, ["O80"], AFTER, PatientFacts("female", 70))) == [
        ("age-conflict", "O80")
    ]
    assert check_mce(EDITS, ["O80"], AFTER, PatientFacts("female", 10)) == []  # 9-64 since 2019
    assert _rules(check_mce(EDITS, ["O80"], date(2019, 1, 1), PatientFacts("female", 10))) == [
        ("age-conflict", "O80")
    ]
    [newborn] = check_mce(EDITS, ["E11.9", "P07.00"], AFTER, PatientFacts(None, 3))
    assert newborn.message == "P07.00 is a newborn code (ages 0-0); the patient is 3"
    assert check_mce(EDITS, ["N40"], AFTER, PatientFacts("male", None)) == []


def test_principal_diagnosis_edits_apply_to_the_first_code_only() -> None:
    adult = PatientFacts("female", 40)
    assert _rules(check_mce(EDITS, ["V00.01XA", "Z38.00"], AFTER, adult)) == [
        ("external-cause-as-principal", "V0001XA")
    ]
    assert _rules(check_mce(EDITS, ["Z38.00"], AFTER, adult)) == [
        ("unacceptable-principal", "Z3800")
    ]
    assert check_mce(EDITS, ["E11.9", "V00.01XA"], AFTER, adult) == []


def test_an_outpatient_visit_skips_only_the_admission_edit() -> None:
    adult = PatientFacts("female", 40)
    assert check_mce(EDITS, ["Z38.00"], AFTER, adult, inpatient=False) == []
    assert _rules(check_mce(EDITS, ["V00.01XA"], AFTER, adult, inpatient=False)) == [
        ("external-cause-as-principal", "V0001XA")
    ]


def test_without_the_edit_lists_the_findings_say_so() -> None:
    [finding] = check_mce(MemoryVersion(None, [], {}), ["O80"], AFTER, PatientFacts("male", 30))
    assert (finding.rule, finding.severity) == ("mce-not-loaded", "info")


def test_the_real_mce_master_loads_every_code(require_shared: Callable[..., Path]) -> None:
    path = require_shared("data", "billing", "mce", "mce_v43_1_icd10cm_dx_master.tsv.xz")
    found = open_code_file("mce", path)
    assert (found.version, found.effective_from) == ("43.1", "2015-10-01")
    entries = {e.code: e for e in found.entries}
    assert len(entries) == 75719
    assert flags_on(entries["O80"].extra, AFTER) == {"maternity"}
