"""Amounts an 837 cannot carry are held, and absurd numbers never reach Decimal arithmetic."""

from __future__ import annotations

from datetime import date
from decimal import Decimal

import pytest

from chartkeeper.billing.claims.convert import to_scrub_claim
from chartkeeper.billing.claims.fhir_read import decimal
from chartkeeper.billing.scrub.context import ScrubContext
from chartkeeper.billing.scrub.rules import charges
from tests.unit.billing.data.scrub.builders import claim, line


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (125.5, Decimal("125.5")),
        (3, Decimal("3")),
        ("125.50", None),  # a FHIR decimal is a JSON number, not a string
        (True, None),
        (1e300, None),
        (1e-300, None),
        (0, Decimal("0")),
    ],
)
def test_fhir_decimals_are_json_numbers_of_a_sane_size(value: object, expected: object) -> None:
    assert decimal(value) == expected


def _where(found: list[object]) -> list[tuple[str, str]]:
    return [(i.location, i.message) for i in found]  # type: ignore[attr-defined]


def test_fractions_of_a_cent_and_huge_amounts_are_held() -> None:
    context = ScrubContext.__new__(ScrubContext)  # the amounts need only the charge ceiling
    context.charge_ceiling = Decimal("100000")
    cents = claim(line(charge=Decimal("9.0000001")))
    assert _where(list(charges.check(cents, context)))[0] == (
        "line[0].charge",
        "The line charge 9.0000001 is not an amount in dollars and cents",
    )
    huge = claim(line(charge=Decimal("123456789.00")))
    assert _where(list(charges.check(huge, context)))[0][0] == "line[0].charge"
    units = claim(line(units=Decimal("1E+8")))
    assert _where(list(charges.check(units, context)))[0][0] == "line[0].units"


def test_an_absurd_quantity_or_price_converts_without_overflow() -> None:
    body = {
        "resourceType": "Claim",
        "item": [
            {"sequence": 1, "quantity": {"value": 1e-300}, "net": {"value": 175.5}},
            {"sequence": 2, "unitPrice": {"value": 9e300}, "quantity": {"value": 10}},
        ],
    }
    scrub = to_scrub_claim(body, lambda _ref: None, date(2026, 11, 27))
    first, second = scrub.claim.lines
    assert first.units == 1  # an unreadable quantity counts as one unit
    assert second.charge == 0  # an unreadable price gives no charge (held as not above zero)
