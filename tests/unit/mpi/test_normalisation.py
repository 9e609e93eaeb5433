"""Normalisation and the comparisons it feeds: accents, punctuation, nicknames, surnames,
swapped names, transposed dates, phones, and identifiers that are only ever hashes."""

from __future__ import annotations

import hmac
import json

import pytest

from chartkeeper.mpi.matching.comparisons import COMPARISONS, compare
from chartkeeper.mpi.matching.features import Features, extract
from chartkeeper.mpi.matching.identifiers import (
    KeyedHash,
    hash_identifier,
    is_near,
    variant_slots,
)
from chartkeeper.mpi.matching.record import PersonRecord, from_fhir_patient
from chartkeeper.mpi.matching.text import birth_date_digits, fold, phone_digits, words

KEY = b"test-key-0123456789abcdef0123456"
LEVELS = {c.name: i for i, c in enumerate(COMPARISONS)}


def features(**fields: object) -> Features:
    return extract(PersonRecord(id=str(fields.pop("id", "x")), **fields), KEY)  # type: ignore[arg-type]


def level(name: str, a: Features, b: Features) -> str:
    """The level key of comparison ``name`` for the pair (``null`` when not compared)."""
    index, _ = compare(a, b)[LEVELS[name]]
    return "null" if index < 0 else COMPARISONS[LEVELS[name]].levels[index].key


def test_case_and_accents_fold_away() -> None:
    assert fold("Zoë Ångström-Ñúñez") == "zoe angstrom-nunez"
    assert fold("STRAßE Łódź Øre") == "strasse lodz ore"
    assert level("given_name", features(given=("JOSÉ",)), features(given=("jose",))) == "exact"


def test_punctuation_splits_words_and_apostrophes_join_them() -> None:
    assert words("O'Brien, Jr.") == ("obrien", "jr")
    assert words("  --  ") == ()
    assert features(family="O'Brien").family == features(family="OBRIEN").family == "obrien"


@pytest.mark.parametrize(
    ("first", "second"),
    [("Bill", "William"), ("Peggy", "Margaret"), ("Peggy", "Maggie"), ("bob", "ROBERT")],
)
def test_nicknames_from_the_documented_table_are_equivalent(first: str, second: str) -> None:
    a, b = features(given=(first,)), features(given=(second,))
    assert level("given_name", a, b) == "nickname"
    _, label = compare(a, b)[LEVELS["given_name"]]
    assert label.startswith("nickname (")


def test_unrelated_given_names_are_not_nicknames() -> None:
    assert level("given_name", features(given=("Bill",)), features(given=("Margaret",))) == (
        "different"
    )


def test_a_middle_name_used_as_first_name_is_recognised() -> None:
    a = features(given=("Anne", "Louise"))
    b = features(given=("Louise",))
    assert level("given_name", a, b) == "middle"


@pytest.mark.parametrize(
    ("first", "second"),
    [("García-López", "Garcia"), ("Garcia Lopez", "LOPEZ"), ("Smith-Jones", "Jones-Smith")],
)
def test_hyphenated_and_multi_part_surnames_share_a_part(first: str, second: str) -> None:
    a, b = features(family=first), features(family=second)
    assert level("family_name", a, b) in {"part", "exact"}


def test_particles_alone_are_not_a_shared_part() -> None:
    a, b = features(family="van der Berg"), features(family="van Dyke")
    assert level("family_name", a, b) != "part"


def test_swapped_given_and_family_names_count_once() -> None:
    a = features(given=("Okafor",), family="Ada")
    b = features(given=("Ada",), family="Okafor")
    assert level("given_name", a, b) == "swapped"
    assert level("family_name", a, b) == "null"


def test_transposed_day_and_month_is_its_own_level() -> None:
    a, b = features(birth_date="1980-03-04"), features(birth_date="1980-04-03")
    assert level("birth_date", a, b) == "transposed"


@pytest.mark.parametrize(
    ("first", "second", "expected"),
    [
        ("1980-03-04", "1980-03-04", "exact"),
        ("1980-03-04", "1980-03-05", "one_edit"),
        ("1980-03-04", "1908-03-04", "one_edit"),
        ("1980-03-04", "1981-03-24", "different"),
        ("1980-03-04", "1980-07-24", "different"),
        ("1980-03-04", "1980-03-24", "one_edit"),
        ("1980-03-04", "1980-11-04", "two_parts"),
        ("1980-03", "1980-03-04", "partial"),
        ("1980", "1981-03-04", "different"),
        ("", "1980-03-04", "null"),
    ],
)
def test_birth_date_levels(first: str, second: str, expected: str) -> None:
    assert level("birth_date", features(birth_date=first), features(birth_date=second)) == expected


@pytest.mark.parametrize(
    ("text", "digits"),
    [
        ("1980-03-04", "19800304"),
        ("19800304", "19800304"),
        ("1980-03", "198003"),
        ("2023-02-30", "20230230"),
        ("1980-13-45", "19801345"),
        ("0000-00-00", ""),
        ("yesterday", ""),
        ("", ""),
    ],
)
def test_birth_dates_keep_their_digits_even_when_impossible(text: str, digits: str) -> None:
    assert birth_date_digits(text) == digits


@pytest.mark.parametrize(
    ("text", "digits"),
    [
        ("+1 (555) 123-4567", "5551234567"),
        ("555.123.4567", "5551234567"),
        ("1-555-123-4567", "5551234567"),
        ("123", ""),
        ("000-000-0000", ""),
        ("call me", ""),
    ],
)
def test_phone_numbers_are_reduced_to_their_digits(text: str, digits: str) -> None:
    assert phone_digits(text) == digits


def test_a_phone_number_one_digit_off_is_one_edit() -> None:
    a, b = features(phone="555-123-4567"), features(phone="(555) 123-4568")
    assert level("phone", a, b) == "one_edit"


def test_address_abbreviations_and_zip_plus_four_are_unified() -> None:
    a = features(address_lines=("12 Main Street",), postal_code="02139-4307", city="Saint Paul")
    b = features(address_lines=("12 MAIN ST.",), postal_code="02139", city="St. Paul")
    assert (a.address_number, a.street, a.postal_code) == ("12", "main st", "02139")
    assert [level(n, a, b) for n in ("address_number", "street", "postal_code", "city")] == [
        "exact"
    ] * 4


@pytest.mark.parametrize(
    ("first", "second", "expected"),
    [
        ("234-56-7891", "234567891", "exact"),
        ("234-56-7891", "234-56-7890", "near"),
        ("234-56-7891", "324-56-7891", "near"),
        ("234-56-7891", "234-65-7891", "near"),
        ("234-56-7891", "234-56-7801", "near"),
        ("234-56-7891", "234-56-0801", "different"),
        ("234-56-7891", "334-56-7892", "different"),
        ("234-56-7891", "234-56-1987", "different"),
        ("234-56-7891", "23-456-7891", "exact"),
        ("234-56-7891", "2345-6789", "different"),
        ("234-56-7891", "", "null"),
    ],
)
def test_identifier_typos_are_recognised_from_hashes_alone(
    first: str, second: str, expected: str
) -> None:
    a = features(identifiers=(("ssn", first),))
    b = features(identifiers=(("ssn", second),))
    assert level("ssn", a, b) == expected


def test_identifier_levels_do_not_need_the_plaintext() -> None:
    a = hash_identifier("ssn", "234-56-7891", KEY)
    b = hash_identifier("ssn", "234-56-7881", KEY)
    assert a is not None and b is not None
    assert is_near(a, b)
    other_key = hash_identifier("ssn", "234-56-7881", b"another key")
    assert other_key is not None and not is_near(a, other_key)


def test_no_plaintext_identifier_appears_in_stored_features() -> None:
    record = PersonRecord(
        id="p1",
        identifiers=(("ssn", "234-56-7891"), ("dl", "S123-4567-8901"), ("mrn", "MRN0042")),
    )
    text = extract(record, KEY).to_json()
    for fragment in ("234567891", "7891", "s12345678901", "4567", "mrn0042", "0042"):
        assert fragment not in text.lower()
    kind, _, variants = json.loads(text)["i"][0]
    slots = variant_slots(variants)
    assert kind == "ssn" and len(slots) == 8 and len(set(slots)) == 8  # no slot repeats


def test_keyed_hash_is_hmac_sha256() -> None:
    for key in (b"", b"k" * 32, b"x" * 64, b"y" * 100):
        assert KeyedHash(key).digest(b"abc") == hmac.digest(key, b"abc", "sha256")


def test_placeholder_identifiers_are_no_evidence() -> None:
    assert features(identifiers=(("ssn", "000-00-0000"),)).identifiers == ()
    assert features(identifiers=(("ssn", "234-56-7891"),)).identifiers != ()
    assert features(identifiers=(("ssn", "123456789"),)).identifiers == ()  # a known filler


def test_features_survive_a_json_round_trip() -> None:
    original = features(
        given=("Mary", "Ann"),
        family="Smith-Jones",
        birth_date="1970-01-02",
        sex="female",
        identifiers=(("ssn", "123-45-6780"),),
        phone="555 123 4567",
        email="Mary@Example.org",
        address_lines=("1 Elm Street", "Unit 2"),
        city="Salem",
        state="MA",
        postal_code="01970",
    )
    assert Features.from_json(original.to_json()) == original


def test_features_of_another_format_are_refused() -> None:
    with pytest.raises(ValueError, match="format"):
        Features.from_json('{"v": 0, "id": "x"}')


def test_a_fhir_patient_maps_to_a_person_record() -> None:
    resource = {
        "resourceType": "Patient",
        "id": "abc",
        "name": [
            {"use": "old", "family": "Jones", "given": ["Peggy"]},
            {"use": "official", "family": "Smith", "given": ["Margaret", "Ann"]},
        ],
        "birthDate": "1970-01-02",
        "gender": "female",
        "identifier": [
            {"system": "http://hl7.org/fhir/sid/us-ssn", "value": "123-45-6789"},
            {
                "type": {
                    "coding": [
                        {"system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "DL"}
                    ]
                },
                "value": "S1234",
            },
            {"system": "urn:oid:2.16.840.1.113883.4.3.25-drivers", "value": "T9"},
            {"type": {"coding": [{"code": "MR"}]}, "system": "urn:x", "value": "M1"},
            {"system": "urn:y", "value": "Z"},
        ],
        "telecom": [
            {"system": "email", "value": "m@example.org"},
            {"system": "phone", "value": "555-0100"},
            {"system": "phone", "value": "555-0199"},
        ],
        "address": [
            {"use": "work", "line": ["1 Work Way"], "city": "Elsewhere"},
            {
                "use": "home",
                "line": ["2 Home St", "Apt 3"],
                "city": "Salem",
                "state": "MA",
                "postalCode": "01970",
            },
        ],
    }
    record = from_fhir_patient(resource)
    assert record == PersonRecord(
        id="abc",
        given=("Margaret", "Ann"),
        family="Smith",
        birth_date="1970-01-02",
        sex="female",
        identifiers=(
            ("ssn", "123-45-6789"),
            ("dl", "S1234"),
            ("dl", "T9"),
            ("mrn", "M1"),
            ("other", "Z"),
        ),
        phone="555-0100",
        email="m@example.org",
        address_lines=("2 Home St", "Apt 3"),
        city="Salem",
        state="MA",
        postal_code="01970",
    )


@pytest.mark.parametrize(
    "resource",
    [
        {},
        {"name": "not a list", "identifier": [None, 3, {"value": 5}], "telecom": {}},
        {"name": [{"text": "Ada Okafor"}], "address": [{"line": [None, "x"]}]},
        {"name": [{"given": [None, ""], "family": 7}], "birthDate": 19800101},
    ],
)
def test_malformed_patients_map_without_raising(resource: dict[str, object]) -> None:
    record = from_fhir_patient(resource)
    extract(record, KEY)


def test_identifier_plaintext_is_not_kept_in_the_normalisation_cache() -> None:
    words.cache_clear()
    hash_identifier("ssn", "234-56-7891", KEY)
    hash_identifier("dl", "S1234-5678", KEY)
    assert words.cache_info().currsize == 0
