"""The NCCI PTP and MUE parsers on CMS's layouts (synthetic rows, HCPCS Level II codes only)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chartkeeper.billing.codes.loaders import open_code_file
from chartkeeper.billing.codes.ncci import mue_version, parse_mue, parse_ptp, ptp_version
from chartkeeper.core.errors import InvalidError
from tests.unit.billing.data.scrub.builders import MUE, PTP


def _ptp_lines() -> list[str]:
    return PTP.read_text("latin-1").splitlines(keepends=True)


def _mue_lines() -> list[str]:
    return MUE.read_text("latin-1").splitlines(keepends=True)


def test_ptp_rows_become_one_entry_per_pair_with_their_periods() -> None:
    entries = {e.code: e.extra["periods"] for e in parse_ptp(_ptp_lines())}
    assert sorted(entries) == ["A0428|A0425", "G0008|G0009", "G0463|J1885", "G0463|J3490"]
    assert entries["G0463|J1885"] == [
        {
            "from": "2025-01-01",
            "to": None,
            "modifier": "1",
            "rationale": "Misuse of Column Two code with Column One code",
        }
    ]
    assert entries["A0428|A0425"][0]["to"] == "2025-12-31"
    assert entries["G0008|G0009"][0]["modifier"] == "9"


def test_ptp_rows_of_one_pair_are_aggregated() -> None:
    extra_row = "G0463\tJ1885\t\t20200101\t20241231\t0\tMutually exclusive procedures\r\n"
    entries = {e.code: e.extra["periods"] for e in parse_ptp([*_ptp_lines(), extra_row])}
    assert [p["from"] for p in entries["G0463|J1885"]] == ["2025-01-01", "2020-01-01"]


@pytest.mark.parametrize(
    ("line_number", "replacement"),
    [
        (2, "Something else\t\t\t\t\t\t\r\n"),
        (3, "Code\tOther\r\n"),
        (7, "A0428\tA0425\t\t2025-01-01\t*\t0\tRationale\r\n"),
        (8, "G0008\tG0009\t\t20260101\t20260101\t5\tRationale\r\n"),
        (9, "G0463\tJ1885\t\t20250101\r\n"),
    ],
)
def test_a_ptp_file_in_another_layout_is_refused_naming_the_line(
    line_number: int, replacement: str
) -> None:
    lines = _ptp_lines()
    lines[line_number - 1] = replacement
    with pytest.raises(InvalidError) as raised:
        list(parse_ptp(lines))
    assert raised.value.message.startswith(f"Line {line_number} is not")


def test_ptp_version_follows_cms_numbering() -> None:
    assert ptp_version("ccipra-v322r0-f1.TXT") == ("2026Q3", "2026-07-01")
    assert ptp_version("ccioph-v310r0-f1.TXT") == ("2025Q1", "2025-01-01")
    assert ptp_version("ccipra-v323r1-f4.TXT") == ("2026Q4", "2026-10-01")
    assert ptp_version("edits.txt") is None


def test_mue_records_skip_the_notice_and_the_wrapped_header() -> None:
    entries = {e.code: e.extra for e in parse_mue(_mue_lines())}
    assert entries == {
        "A0428": {"value": 1, "mai": 1, "rationale": "Nature of Service/Procedure"},
        "G0463": {"value": 1, "mai": 2, "rationale": "Code Descriptor / CPT Instruction"},
        "J1885": {"value": 8, "mai": 3, "rationale": "Clinical: CMS Workgroup"},
    }


def test_a_bad_mue_record_is_refused_with_its_line() -> None:
    lines = [*_mue_lines(), "J3490,many,1 Line Edit,Anatomic\r\n"]
    with pytest.raises(InvalidError) as raised:
        list(parse_mue(lines))
    assert raised.value.message == ("Line 8 is not an MUE record (code, integer value, MAI 1/2/3)")
    with pytest.raises(InvalidError, match="Line 2 is not the MUE header"):
        list(parse_mue(["notice,,,\r\n", "A0428,1,1 Line Edit,x\r\n"]))


def test_mue_version_is_the_effective_date_in_the_name() -> None:
    assert mue_version("MCR_MUE_PractitionerServices_Eff_07-01-2026.csv") == (
        "2026-07-01",
        "2026-07-01",
    )
    assert mue_version("mue.csv") is None


def test_the_loaders_read_both_files_by_kind_and_name() -> None:
    ptp = open_code_file("ptp-opps", PTP)
    assert (ptp.version, ptp.effective_from, len(list(ptp.entries))) == ("2026Q3", "2026-07-01", 4)
    mue = open_code_file("mue-prac", MUE)
    assert (mue.version, mue.effective_from) == ("2026-07-01", "2026-07-01")
    assert [e.code for e in mue.entries] == ["A0428", "G0463", "J1885"]


def test_the_files_of_a_quarter_may_be_concatenated() -> None:
    second = [
        line.replace("A0428\tA0425", "J1885\tJ3490") if line.startswith("A0428") else line
        for line in _ptp_lines()[:7]
    ]
    entries = [e.code for e in parse_ptp([*_ptp_lines(), *second])]
    assert entries == ["A0428|A0425", "G0008|G0009", "G0463|J1885", "G0463|J3490", "J1885|J3490"]
    with pytest.raises(InvalidError, match="Line 12 is not the PTP title"):
        list(parse_ptp([*_ptp_lines(), second[0], "Other\r\n"]))


TEXT = st.lists(st.text(alphabet=st.sampled_from('AGJ019²*|\t,"\r\n x-'), max_size=40), max_size=12)


@given(TEXT)
@settings(max_examples=200, deadline=None)
def test_any_text_is_read_or_refused_never_crashes(lines: list[str]) -> None:
    for parser in (parse_ptp, parse_mue):
        try:
            entries = list(parser([*_ptp_lines()[:6], *lines]))
        except InvalidError as refused:
            assert refused.message.startswith("Line ")
        else:
            assert all(len(e.code) <= 16 for e in entries)
