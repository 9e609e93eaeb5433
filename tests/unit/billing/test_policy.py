"""Coverage policy tables: the CSV chartkeeper defines, ranges, versions from file names."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chartkeeper.billing.codes.policy import high_bound, low_bound, parse, version_of_file
from chartkeeper.core.errors import InvalidError
from tests.unit.billing.data.scrub.builders import POLICY


def _lines() -> list[str]:
    return POLICY.read_text().splitlines(keepends=True)


def test_rows_are_grouped_per_procedure_code_and_policy() -> None:
    entries = {e.code: e for e in parse(_lines())}
    assert sorted(entries) == ["A0428", "J1885"]
    assert entries["J1885"].display == "Synthetic ketorolac policy"
    assert entries["J1885"].extra == {
        "policies": [
            {
                "id": "L99901",
                "title": "Synthetic ketorolac policy",
                "ranges": [["E08", "E13"], ["G63", "G63"]],
            }
        ]
    }
    assert entries["A0428"].extra["policies"][0]["ranges"] == [["S0230XA", "S0230XB"]]


def test_a_bound_reaches_every_code_below_it_after_padding() -> None:
    low, high = low_bound("E08"), high_bound("E13")
    assert low <= low_bound("E0800") <= high
    assert low <= low_bound("E13") <= high
    assert low <= low_bound("E139") <= high
    assert not low <= low_bound("E14") <= high
    assert not low <= low_bound("E079") <= high


@pytest.mark.parametrize(
    ("line", "number"),
    [
        ("L1,Title,J1885,E13,E08\n", 5),
        ("L1,Title,J1885,E08\n", 5),
        ("L1,Title,J1,E08,E13\n", 5),
        (",Title,J1885,E08,E13\n", 5),
    ],
)
def test_a_bad_row_is_refused_naming_its_line(line: str, number: int) -> None:
    with pytest.raises(InvalidError) as raised:
        list(parse([*_lines(), line]))
    assert raised.value.message.startswith(f"Line {number} is not")
    assert raised.value.expression == (f"line {number}",)


def test_a_file_without_the_header_is_refused() -> None:
    with pytest.raises(InvalidError, match="Line 1 is not the policy header"):
        list(parse(["id,procedure,from,to\n"]))


def test_a_date_in_the_file_name_is_the_version() -> None:
    assert version_of_file("policy_scrub_2026-01-01.csv") == ("2026-01-01", "2026-01-01")
    assert version_of_file("policy.csv") is None


@given(st.lists(st.text(alphabet=st.sampled_from('ELJ0189.,"\n -'), max_size=30), max_size=8))
@settings(max_examples=200, deadline=None)
def test_any_rows_are_read_or_refused_never_crashing(rows: list[str]) -> None:
    try:
        entries = list(parse([_lines()[0], *rows]))
    except InvalidError as refused:
        assert refused.message.startswith("Line ")
    else:
        assert all(len(e.code) == 5 and e.extra["policies"] for e in entries)
