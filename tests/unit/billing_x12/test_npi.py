"""NPI check digits: Luhn over the 80840 prefix."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chartkeeper.billing.x12.npi import is_valid_npi, luhn_check_digit, npi_check_digit


@pytest.mark.parametrize("npi", ["1234567893", "1245319599", "1679576722", "9876543213"])
def test_published_and_sample_npis_are_valid(npi: str) -> None:
    assert is_valid_npi(npi)


@pytest.mark.parametrize("npi", ["1234567890", "123456789", "12345678931", "12345678a3", ""])
def test_wrong_check_digit_or_shape_is_invalid(npi: str) -> None:
    assert not is_valid_npi(npi)


def test_the_cms_example_check_digit_is_3() -> None:
    assert npi_check_digit("123456789") == 3


def test_luhn_matches_the_textbook_example() -> None:
    assert luhn_check_digit("7992739871") == 3


@given(st.text("0123456789", min_size=9, max_size=9), st.integers(1, 9))
def test_changing_one_digit_breaks_the_check(first_nine: str, delta: int) -> None:
    npi = first_nine + str(npi_check_digit(first_nine))
    assert is_valid_npi(npi)
    changed = str((int(npi[0]) + delta) % 10) + npi[1:]
    assert not is_valid_npi(changed)


def test_npi_check_digit_refuses_bad_input() -> None:
    with pytest.raises(ValueError):
        npi_check_digit("12345")
