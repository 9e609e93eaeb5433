"""Generated 837P/837I: pyx12 finds zero errors, golden files match, control numbers advance."""

from __future__ import annotations

import os
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest

from chartkeeper.billing.x12.claim_model import Claim, ClaimBatch
from chartkeeper.billing.x12.envelope import SequentialControlNumbers
from chartkeeper.billing.x12.segments import Separators, read_interchanges
from chartkeeper.billing.x12.write837 import write_837
from chartkeeper.core.errors import InvalidError

from .pyx12_oracle import pyx12_errors
from .samples import CHILD, ENVELOPE, REFERRING, batch, claim, institutional_claim, line

GOLDEN = Path(__file__).parent / "golden"

SCENARIOS: dict[str, list[ClaimBatch]] = {
    "837p_single_line": [batch(claim())],
    "837p_multiple_lines": [
        batch(
            claim(
                diagnoses=("E11.9", "I10", "Z79.4"),
                lines=(
                    line(),
                    line("G0466", "80", modifiers=("25", "59"), diagnosis_pointers=(1, 2)),
                    line("J1885", "18.25", diagnosis_pointers=(1, 3)),
                ),
            )
        )
    ],
    "837p_patient_not_subscriber_referred": [
        batch(claim("CLM0002", patient=CHILD, referring=REFERRING), claim("CLM0003"))
    ],
    "837i_revenue_codes": [batch(institutional_claim(), kind="837I")],
    "837p_and_837i_in_one_interchange": [
        batch(claim()),
        batch(institutional_claim("INST0002"), kind="837I"),
    ],
}


def generate(batches: list[ClaimBatch]) -> str:
    return write_837(batches, SequentialControlNumbers(), ENVELOPE)


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_generated_837_validates_with_pyx12(name: str) -> None:
    assert pyx12_errors(generate(SCENARIOS[name])) == []


def test_pyx12_is_a_real_oracle_it_rejects_a_broken_claim() -> None:
    text = generate(SCENARIOS["837p_single_line"])
    assert pyx12_errors(text.replace("N3*400 RIVER ROAD*SUITE 2~", "", 1)) != []


@pytest.mark.parametrize("name", sorted(SCENARIOS))
def test_generated_837_matches_its_golden_file(name: str) -> None:
    text = generate(SCENARIOS[name]).replace("~", "~\n")
    golden = GOLDEN / f"{name}.x12"
    if os.environ.get("CHARTKEEPER_UPDATE_GOLDEN"):
        golden.write_text(text)
    assert text == golden.read_text()


def test_control_numbers_come_from_the_caller_and_advance() -> None:
    counter = SequentialControlNumbers(interchange=41, group=7, transaction=99)
    first = read_interchanges(write_837([batch()], counter, ENVELOPE))[0]
    second = read_interchanges(write_837([batch()], counter, ENVELOPE))[0]
    assert first.isa.get(13) == "000000042" and second.isa.get(13) == "000000043"
    assert [first.groups[0].gs.get(6), second.groups[0].gs.get(6)] == ["8", "9"]
    assert second.groups[0].transactions[0].st.get(2) == "0101"


def test_hl_hierarchy_counts_parents_and_children() -> None:
    [interchange] = read_interchanges(generate(SCENARIOS["837p_patient_not_subscriber_referred"]))
    body = interchange.groups[0].transactions[0].body
    hls = [seg.elements for seg in body if seg.id == "HL"]
    assert hls == [
        ("1", "", "20", "1"),
        ("2", "1", "22", "1"),
        ("3", "2", "23", "0"),
        ("4", "1", "22", "0"),
    ]


def test_other_separators_still_validate() -> None:
    text = write_837(
        [batch(claim())], SequentialControlNumbers(), ENVELOPE, Separators("|", "!", "^", "\n")
    )
    assert pyx12_errors(text) == []


@pytest.mark.parametrize(
    "bad",
    [
        claim(rendering=replace(REFERRING, npi="1679576723")),
        claim(referring=replace(REFERRING, npi="167957672")),
        claim(diagnoses=()),
        claim(rendering=replace(REFERRING, taxonomy="207Q0000")),
    ],
)
def test_a_claim_with_a_bad_npi_taxonomy_or_no_diagnosis_is_refused(bad: Claim) -> None:
    with pytest.raises(InvalidError):
        generate([batch(bad)])


def test_837i_without_any_date_is_refused() -> None:
    undated = replace(institutional_claim(), lines=(replace(line(), service_date=None),))
    with pytest.raises(InvalidError, match="statement dates"):
        generate([batch(undated, kind="837I")])


def test_837i_statement_dates_are_written_as_a_range() -> None:
    dated = replace(
        institutional_claim(), statement_from=date(2026, 11, 1), statement_to=date(2026, 11, 3)
    )
    assert "DTP*434*RD8*20261101-20261103~" in generate([batch(dated, kind="837I")])


def test_an_interchange_sender_longer_than_the_isa_field_is_refused() -> None:
    with pytest.raises(InvalidError, match="15 characters"):
        write_837([batch()], SequentialControlNumbers(), replace(ENVELOPE, sender_id="X" * 16))
