"""Reading interchanges: separators from the ISA, segment positions, envelope checks."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chartkeeper.billing.x12.envelope import SequentialControlNumbers
from chartkeeper.billing.x12.parse837 import parse_837
from chartkeeper.billing.x12.segments import (
    DEFAULT_SEPARATORS,
    Separators,
    X12Error,
    format_segment,
    read_interchanges,
    read_separators,
)
from chartkeeper.billing.x12.write837 import write_837
from chartkeeper.core.errors import InvalidError

from .samples import ENVELOPE, batch


def sample_text(separators: Separators = DEFAULT_SEPARATORS) -> str:
    return write_837([batch()], SequentialControlNumbers(), ENVELOPE, separators)


def segment_lines(text: str) -> list[str]:
    return text.split("~")[:-1]


def test_separators_are_read_from_the_fixed_width_isa() -> None:
    seps = Separators("|", "!", "^", "\n")
    assert read_separators(sample_text(seps)) == seps


def test_an_interchange_nests_its_group_and_transaction_with_positions() -> None:
    [interchange] = read_interchanges(sample_text())
    [group] = interchange.groups
    [transaction] = group.transactions
    assert transaction.st.position == 3
    assert transaction.body[0].id == "BHT" and transaction.body[0].position == 4
    assert interchange.iea is not None and interchange.iea.get(2) == "000000001"


@pytest.mark.parametrize(
    ("mutate", "segment_id", "message"),
    [
        (lambda s: s.replace("SE*26*", "SE*24*"), "SE", "SE01 is '24', counted 26"),
        (lambda s: s.replace("SE*26*0001", "SE*26*0002"), "SE", "SE02 does not match ST02"),
        (lambda s: s.replace("GE*1*1", "GE*2*1"), "GE", "GE01 is '2', counted 1"),
        (lambda s: s.replace("GE*1*1", "GE*1*7"), "GE", "GE02 does not match GS06"),
        (lambda s: s.replace("IEA*1*", "IEA*3*"), "IEA", "IEA01 is '3', counted 1"),
        (lambda s: s.replace("IEA*1*000000001", "IEA*1*000000002"), "IEA", "IEA02 does not"),
    ],
)
def test_wrong_trailer_counts_and_control_numbers_name_the_segment_and_position(
    mutate: object, segment_id: str, message: str
) -> None:
    text = mutate(sample_text())  # type: ignore[operator]
    position = next(
        i for i, line in enumerate(segment_lines(text), 1) if line.startswith(segment_id + "*")
    )
    with pytest.raises(X12Error) as caught:
        read_interchanges(text)
    assert caught.value.segment_id == segment_id
    assert caught.value.position == position
    assert message in caught.value.message
    assert f"{segment_id} segment at position {position}" in caught.value.message
    assert isinstance(caught.value, InvalidError)


def test_a_missing_segment_changes_the_count_and_is_reported_at_se() -> None:
    lines = segment_lines(sample_text())
    del lines[10]
    with pytest.raises(X12Error) as caught:
        read_interchanges("~".join(lines) + "~")
    assert (caught.value.segment_id, caught.value.position) == ("SE", len(lines) - 2)


def test_an_extra_segment_after_iea_is_outside_any_envelope() -> None:
    text = sample_text() + "NM1*XX~"
    with pytest.raises(X12Error) as caught:
        read_interchanges(text)
    assert caught.value.segment_id == "NM1"
    assert caught.value.position == len(segment_lines(text))


def test_a_missing_iea_is_reported_after_the_last_segment() -> None:
    lines = segment_lines(sample_text())[:-1]
    with pytest.raises(X12Error) as caught:
        read_interchanges("~".join(lines) + "~")
    assert (caught.value.segment_id, caught.value.position) == ("IEA", len(lines) + 1)


def test_wrong_separators_are_fatal_at_the_isa() -> None:
    broken = sample_text().replace("*00*", "*00|", 1)
    with pytest.raises(X12Error) as caught:
        read_interchanges(broken)
    assert (caught.value.segment_id, caught.value.position) == ("ISA", 1)
    assert "separators cannot be read" in caught.value.message


def test_data_not_starting_with_isa_is_fatal() -> None:
    with pytest.raises(X12Error, match="does not start with ISA"):
        read_interchanges("GS*HC*A*B~")


def test_a_bad_segment_identifier_is_named() -> None:
    text = sample_text().replace("~BHT*", "~bht*")
    with pytest.raises(X12Error) as caught:
        read_interchanges(text)
    assert (caught.value.position, "bad segment identifier" in caught.value.message) == (4, True)


def test_lenient_counts_are_recorded_not_raised() -> None:
    [interchange] = read_interchanges(
        sample_text().replace("SE*26*", "SE*25*"), strict_counts=False
    )
    assert [e.segment_id for e in interchange.count_errors] == ["SE"]


def test_format_segment_drops_trailing_empty_elements_and_components() -> None:
    assert format_segment("SV1", (("HC", "G0463", ""), "40", "", "")) == "SV1*HC:G0463*40~"


@pytest.mark.parametrize("value", ["A*B", "A~B", "A:B", "A^B"])
def test_a_value_holding_a_separator_is_refused(value: str) -> None:
    with pytest.raises(InvalidError, match="NM1 contains an X12 separator"):
        format_segment("NM1", ("IL", "1", value))
    with pytest.raises(InvalidError):
        format_segment("SV1", (("HC", value), "40"))


@settings(max_examples=300, deadline=None)
@given(st.data())
def test_damaged_interchanges_either_read_or_raise_x12_error(data: st.DataObject) -> None:
    text = sample_text()
    start = data.draw(st.integers(0, len(text) - 1))
    end = data.draw(st.integers(start, min(len(text), start + 8)))
    junk = data.draw(st.text("*~:^ABC019\n", max_size=4))
    damaged = text[:start] + junk + text[end:]
    try:
        read_interchanges(damaged)
        parse_837(damaged)
    except X12Error as error:
        assert error.position >= 1 and error.segment_id
