"""Scrubbing with pyx12's loop maps: the imsweb broken files give their documented errors.

Expectations come from ../shared/data/x12/SOURCES.md (imsweb's own test suite). Where pyx12
reports more than imsweb does (the malformed HI segments every imsweb file carries, HL/LX
numbering), the extra findings are in other categories and asserted separately.
"""

from __future__ import annotations

import pytest

from chartkeeper.billing.x12.envelope import SequentialControlNumbers
from chartkeeper.billing.x12.scrub import Finding, scrub, structure_findings
from chartkeeper.billing.x12.segments import X12Error
from chartkeeper.billing.x12.write837 import write_837
from tests.conftest import require_shared

from .samples import ENVELOPE, batch


def imsweb(name: str) -> str:
    return require_shared("data", "x12", "imsweb-x12-parser", "837_5010", name).read_text()


def brief(findings: list[Finding]) -> list[tuple[str, int, str]]:
    return [(f.segment_id, f.position, f.message.split("  Started at")[0]) for f in findings]


def test_a_generated_claim_scrubs_clean() -> None:
    assert scrub(write_837([batch()], SequentialControlNumbers(), ENVELOPE)) == []


def test_a_generated_claim_without_diagnosis_segment_is_found() -> None:
    text = write_837([batch()], SequentialControlNumbers(), ENVELOPE)
    text = text.replace("HI*ABK:E119~", "").replace("SE*26*", "SE*25*")
    assert brief(structure_findings(text)) == [
        ("HI", 22, 'Mandatory segment "Health Care Diagnosis Code" (HI) missing')
    ]


EXPECTED = {
    "x12_segment_errors.txt": [
        ("N3", 10, 'Mandatory segment "Billing Provider Address" (N3) missing'),
        ("REF", 12, "Segment REF exceeded max count.  Found 2, should have 1"),
        ("HI", 22, 'Mandatory segment "Health Care Diagnosis Code" (HI) missing'),
    ],
    "x12_bad_segment_identifier.txt": [
        ("", 6, "Segment *IC not found."),
        ("PER", 7, 'Mandatory segment "Submitter EDI Contact Information" (PER) missing'),
        ("Nd4", 11, "Segment Nd4*CALVERTON not found."),
        ("N4", 12, 'Mandatory segment "Billing Provider City, State, ZIP Code" (N4) missing'),
        ("NM31", 20, "Segment NM31*IL not found."),
        ("NM1", 21, 'Mandatory loop "Subscriber Name" (2010BA) missing'),
    ],
    "x12_loop_errors1_exceeds_max_1_parent.txt": [
        ("NM1", 15, "Loop 2010AA exceeded max count.  Found 2, should have 1"),
    ],
    "x12_loop_errors2_exceeds_max_repeats_multiple_parents.txt": [
        ("NM1", 34, "Loop 2010AA exceeded max count.  Found 2, should have 1"),
    ],
    "x12_loop_errors3_missing_loops.txt": [
        ("NM1", 9, 'Mandatory loop "Billing Provider Name" (2010AA) missing'),
    ],
    "x12_missing_required_loop_in_one_repeat.txt": [
        ("NM1", 20, 'Mandatory loop "Subscriber Name" (2010BA) missing'),
    ],
    "x12_missing_required_loops_mult_repeats.txt": [
        ("SV1", 33, "Segment SV1*HC:478330:25 not found."),
        ("DTP", 34, "Segment DTP*472 not found."),
        ("LX", 35, 'Mandatory loop "Service Line Number" (2400) missing'),
        ("SV1", 59, "Segment SV1*HC:99211:25 not found."),
        ("DTP", 60, "Segment DTP*472 not found."),
        ("LX", 61, 'Mandatory loop "Service Line Number" (2400) missing'),
    ],
    "x12_segments_out_of_order.txt": [
        ("N4", 12, "Segment N4 is out of order"),
        ("N3", 17, "Segment N3 is out of order"),
    ],
}


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_imsweb_broken_file_gives_exactly_its_documented_structure_errors(name: str) -> None:
    assert brief(structure_findings(imsweb(name))) == EXPECTED[name]


@pytest.mark.parametrize(
    "name",
    [
        "x12_valid.txt",
        "x12_valid_different_separators.txt",
        "x12_no_errors.txt",
        "x12_multiple_gs.txt",
        "x12_multiple_isa.txt",
        "x12_multiple_st.txt",
    ],
)
def test_imsweb_valid_files_have_no_structure_errors(name: str) -> None:
    assert structure_findings(imsweb(name)) == []


def test_imsweb_missing_elements_are_found_beside_the_malformed_hi_noise() -> None:
    findings = [f for f in scrub(imsweb("x12_missing_elements.txt")) if f.category == "element"]
    assert ("NM1", 7, 'Mandatory data element "Entity Type Qualifier" (NM102) is missing') in brief(
        findings
    )
    clm05 = 'Mandatory composite "Health Care Service Location Information" (CLM05) is missing'
    assert ("CLM", 31, clm05) in brief(findings)
    assert {f.segment_id for f in findings} == {"NM1", "CLM", "HI"}


def test_imsweb_bad_valid_code_is_first_an_unmatched_segment_in_2000a() -> None:
    [first, *_] = structure_findings(imsweb("x12_bad_valid_code.txt"))
    assert (first.segment_id, first.position) == ("NM1", 9)
    assert first.message.endswith("Started at /ISA_LOOP/GS_LOOP/ST_LOOP/DETAIL/2000A/HL")


@pytest.mark.parametrize("name", ["x12_bad_first_line.txt", "x12_no_isa_line.txt"])
def test_unreadable_separators_are_fatal_before_pyx12_runs(name: str) -> None:
    with pytest.raises(X12Error, match="separators cannot be read"):
        scrub(imsweb(name))
