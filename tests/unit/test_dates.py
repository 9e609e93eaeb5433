"""FHIR dates as inclusive microsecond ranges (http://hl7.org/fhir/R4/search.html#date)."""

from __future__ import annotations

import pytest

from chartkeeper.core.errors import InvalidError
from chartkeeper.fhir.dates import from_micros, parse_date_range


@pytest.mark.parametrize(
    ("text", "low", "high"),
    [
        ("2020", "2020-01-01 00:00:00+00:00", "2020-12-31 23:59:59.999999+00:00"),
        ("2020-02", "2020-02-01 00:00:00+00:00", "2020-02-29 23:59:59.999999+00:00"),
        ("2021-02-28", "2021-02-28 00:00:00+00:00", "2021-02-28 23:59:59.999999+00:00"),
        ("2020-02-29T10:00", "2020-02-29 10:00:00+00:00", "2020-02-29 10:00:59.999999+00:00"),
        ("2020-02-29T10:00:00Z", "2020-02-29 10:00:00+00:00", "2020-02-29 10:00:00.999999+00:00"),
        (
            "2020-02-29T10:00:00.123+02:00",
            "2020-02-29 08:00:00.123000+00:00",
            "2020-02-29 08:00:00.123999+00:00",
        ),
        ("9999-12-31", "9999-12-31 00:00:00+00:00", "9999-12-31 23:59:59.999999+00:00"),
    ],
)
def test_a_date_covers_the_span_of_its_precision(text: str, low: str, high: str) -> None:
    start, end = parse_date_range(text)
    assert str(from_micros(start)) == low
    assert str(from_micros(end)) == high


@pytest.mark.parametrize(
    "text",
    [
        "1990-13-45",
        "2021-02-29",
        "notadate",
        "2020-1",
        "20201",
        "2020-02-29T25:00",
        "٢٠٢٠",
        "0001-01-01T00:00+01:00",
        "",
    ],
)
def test_an_invalid_date_is_an_invalid_error(text: str) -> None:
    with pytest.raises(InvalidError):
        parse_date_range(text)
