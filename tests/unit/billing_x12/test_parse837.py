"""837 → parse → the same claim; every 837 example of ../shared parses."""

from __future__ import annotations

from dataclasses import replace
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chartkeeper.billing.x12.claim_model import (
    Address,
    Claim,
    ClaimBatch,
    Person,
    Provider,
    ServiceLine,
)
from chartkeeper.billing.x12.envelope import SequentialControlNumbers
from chartkeeper.billing.x12.parse837 import parse_837
from chartkeeper.billing.x12.segments import X12Error
from chartkeeper.billing.x12.write837 import write_837
from tests.conftest import SHARED_DIR, require_shared

from .samples import BILLING, CHILD, ENVELOPE, REFERRING, RENDERING, SUBSCRIBER, batch

X12_DIR = SHARED_DIR / "data" / "x12"
STUPIDEDI = X12_DIR / "stupidedi-005010"
IMSWEB = X12_DIR / "imsweb-x12-parser" / "837_5010"


def _files(pattern: str) -> list[Path]:
    return sorted(STUPIDEDI.glob(pattern)) if STUPIDEDI.exists() else []


def roundtrip(batches: list[ClaimBatch]) -> list[ClaimBatch]:
    return parse_837(write_837(batches, SequentialControlNumbers(), ENVELOPE))


words = st.text("ABCDEFGHIJKLMNOPQRSTUVWXYZ", min_size=1, max_size=12)
codes = st.text("ABCDEFGHJKLMNPQRSTVWXYZ0123456789", min_size=3, max_size=7)
money = st.decimals(Decimal("0.01"), Decimal("99999.99"), places=2)
days = st.dates(date(2020, 1, 1), date(2026, 12, 31))
addresses = st.builds(Address, words, words, st.sampled_from(["IL", "NY"]), st.just("627011234"))
people = st.builds(
    Person, words, words, days, st.sampled_from(["F", "M", "U"]), addresses, st.just("")
)


@st.composite
def claims(draw: st.DrawFn, kind: str) -> Claim:
    diagnoses = tuple(
        f"{c[:3]}.{c[3:]}" if len(c) > 3 else c
        for c in draw(st.lists(codes, min_size=1, max_size=12))
    )
    lines = draw(
        st.lists(
            st.builds(
                ServiceLine,
                st.text("0123456789", min_size=5, max_size=5),
                money,
                st.integers(1, 20).map(Decimal),
                days,
                st.lists(st.sampled_from(["25", "59", "26", "TC"]), max_size=4).map(tuple),
                st.just((1,)),
                st.just("0300" if kind == "837I" else ""),
            ),
            min_size=1,
            max_size=6,
        )
    )
    patient = draw(st.one_of(st.none(), people))
    base = Claim(
        draw(st.text("ABCDEFGHJ0123456789", min_size=1, max_size=20)),
        replace(SUBSCRIBER, person=replace(SUBSCRIBER.person, member_id=draw(codes))),
        diagnoses,
        tuple(lines),
        patient=patient,
        referring=draw(st.sampled_from([None, REFERRING])),
    )
    if kind == "837I":
        start = min(line.service_date for line in lines if line.service_date)
        return replace(
            base, facility_code="13", attending=RENDERING, statement_from=start, statement_to=start
        )
    return replace(base, rendering=draw(st.sampled_from([None, RENDERING])))


@settings(max_examples=60, deadline=None)
@given(
    st.sampled_from(["837P", "837I"]).flatmap(
        lambda k: st.tuples(st.just(k), st.lists(claims(k), min_size=1, max_size=4))
    )
)
def test_837_parse_gives_back_the_same_claims(kind_claims: tuple[str, list[Claim]]) -> None:
    kind, generated = kind_claims
    original = batch(*generated, kind=kind)  # type: ignore[arg-type]
    assert roundtrip([original]) == [original]


def test_billing_provider_taxonomy_tin_and_address_come_back() -> None:
    [parsed] = roundtrip([batch()])
    assert parsed.billing_provider == BILLING


def test_patient_loop_and_relationship_come_back() -> None:
    [parsed] = roundtrip([batch(Claim("C1", SUBSCRIBER, ("J45.909",), (), patient=CHILD))])
    assert parsed.claims[0].patient == CHILD
    assert isinstance(parsed.claims[0].rendering, Provider | None)


def test_a_non_837_transaction_is_refused_naming_st() -> None:
    text = write_837([batch()], SequentialControlNumbers(), ENVELOPE)
    with pytest.raises(X12Error) as caught:
        parse_837(text.replace("ST*837*", "ST*835*"))
    assert (caught.value.segment_id, caught.value.position) == ("ST", 3)


def test_a_malformed_amount_names_the_segment() -> None:
    text = write_837([batch()], SequentialControlNumbers(), ENVELOPE)
    with pytest.raises(X12Error, match="SV1 segment at position"):
        parse_837(text.replace("SV1*HC:G0463*125.5*", "SV1*HC:G0463*12X*"))


@pytest.mark.parametrize(
    "path",
    _files("X222A1*/pass/*.edi") + _files("X223A2*/pass/*.edi"),
    ids=lambda p: p.name,
)
def test_every_tr3_example_837_parses(path: Path) -> None:
    batches = parse_837(path.read_text())
    assert batches and all(b.claims for b in batches)
    assert all(c.lines and c.diagnoses for b in batches for c in b.claims)


def test_tr3_examples_are_present() -> None:
    require_shared("data", "x12")
    assert len(_files("X222A1*/pass/*.edi")) == 16
    assert len(_files("X223A2*/pass/*.edi")) == 5


#: imsweb's "valid" files and the number of CLM segments each holds
IMSWEB_VALID = {
    "x12_valid.txt": 2,
    "x12_valid_different_separators.txt": 2,
    "x12_no_errors.txt": 2,
    "x12_multiple_gs.txt": 6,
    "x12_multiple_isa.txt": 4,
    "x12_multiple_st.txt": 4,
    "x12_many_claims.txt": 820,
    "x12_multiple_transactions.txt": 624,
    "x12_complex.txt": 6,
    "x223-test.txt": 1,
}


@pytest.mark.parametrize("name", sorted(IMSWEB_VALID))
def test_imsweb_valid_files_parse_with_all_their_claims(name: str) -> None:
    path = require_shared("data", "x12", "imsweb-x12-parser", "837_5010", name)
    text = path.read_text()
    batches = parse_837(text, strict_counts=False)
    assert sum(len(b.claims) for b in batches) == IMSWEB_VALID[name]


def test_imsweb_valid_files_carry_wrong_se_counts_which_strict_reading_reports() -> None:
    path = require_shared("data", "x12", "imsweb-x12-parser", "837_5010", "x12_valid.txt")
    with pytest.raises(X12Error) as caught:
        parse_837(path.read_text())
    assert (caught.value.segment_id, caught.value.position) == ("SE", 36)
    assert "SE01 is '25', counted 34" in caught.value.message


@pytest.mark.parametrize(
    ("name", "problem"),
    [
        ("x12_bad_first_line.txt", "ISA is not 106 fixed-width characters"),
        ("x12_no_isa_line.txt", "does not start with ISA"),
    ],
)
def test_imsweb_files_without_readable_separators_are_fatal(name: str, problem: str) -> None:
    path = require_shared("data", "x12", "imsweb-x12-parser", "837_5010", name)
    with pytest.raises(X12Error) as caught:
        parse_837(path.read_text(), strict_counts=False)
    assert (caught.value.segment_id, caught.value.position) == ("ISA", 1)
    assert "separators cannot be read" in caught.value.message
    assert problem in caught.value.message
