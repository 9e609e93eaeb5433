"""NPI check digits: the Luhn algorithm over the 80840 card-issuer prefix.

CMS, "Requirements for constructing the NPI check digit" (45 CFR 162.406): the tenth digit is
the Luhn check digit of ``80840`` followed by the first nine digits. Written here because it is
eight lines and a dependency would cost more than it saves.
"""

from __future__ import annotations

NPI_PREFIX = "80840"


def luhn_check_digit(digits: str) -> int:
    """The Luhn check digit to append to ``digits``."""
    total = 0
    for index, char in enumerate(reversed(digits)):
        value = int(char)
        if index % 2 == 0:
            value = value * 2 - 9 if value > 4 else value * 2
        total += value
    return (10 - total % 10) % 10


def npi_check_digit(first_nine: str) -> int:
    """The tenth digit of the NPI that starts with ``first_nine``."""
    if len(first_nine) != 9 or not first_nine.isascii() or not first_nine.isdigit():
        raise ValueError("an NPI starts with nine digits")
    return luhn_check_digit(NPI_PREFIX + first_nine)


def is_valid_npi(npi: str) -> bool:
    """True when ``npi`` is ten digits whose last is the check digit of the first nine."""
    if len(npi) != 10 or not npi.isascii() or not npi.isdigit():
        return False
    return npi_check_digit(npi[:9]) == int(npi[9])
