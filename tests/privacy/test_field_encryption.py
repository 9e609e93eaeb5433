"""Encryption of designated identifiers: keyring, AES-GCM tokens, blind index, rewrites."""

from __future__ import annotations

import json
import stat
from datetime import date
from pathlib import Path
from typing import Any

import orjson
import pytest

from chartkeeper.fhir.indexing import extract_index
from chartkeeper.fhir.repository import StoredResource
from chartkeeper.fhir.search_parser import parse_search
from chartkeeper.fhir.search_request import CompositeValue, TokenValue
from chartkeeper.privacy.encryption import (
    FieldCipher,
    FieldKeyError,
    FieldKeyring,
    has_keyring,
    is_designated,
    keyring_path,
    load_keyring,
)
from chartkeeper.privacy.encryption.blind_index import blinded_search
from chartkeeper.privacy.encryption.cipher import associated_data, normalize_identifier
from chartkeeper.privacy.encryption.identifiers import has_tokens, reveal, revealed, seal
from chartkeeper.privacy.encryption.repository import sealed_version

CREATED = "2026-01-15T09:30:00Z"
SSN = "http://hl7.org/fhir/sid/us-ssn"
MA_LICENCE = "urn:oid:2.16.840.1.113883.4.3.25"
V2 = "http://terminology.hl7.org/CodeSystem/v2-0203"
CONTEXT = associated_data("Patient", "p1", SSN)


@pytest.fixture
def keyring(tmp_path: Path) -> FieldKeyring:
    return load_keyring(tmp_path, CREATED)


@pytest.fixture
def cipher(keyring: FieldKeyring) -> FieldCipher:
    return FieldCipher(keyring)


def _patient(**extra: Any) -> dict[str, Any]:
    return {
        "resourceType": "Patient",
        "id": "p1",
        "identifier": [
            {"system": "urn:mrn", "value": "100"},
            {
                "type": {"coding": [{"system": V2, "code": "SS"}], "text": "Social Security"},
                "system": SSN,
                "value": "999-12-3456",
            },
            {"system": MA_LICENCE, "value": "S99943289"},
        ],
        "name": [{"family": "Quinn"}],
        **extra,
    }


# --- keyring -------------------------------------------------------------------------------------


def test_the_keyring_is_made_on_first_run_readable_by_its_owner_only(tmp_path: Path) -> None:
    assert not has_keyring(tmp_path)
    first = load_keyring(tmp_path, CREATED)
    path = keyring_path(tmp_path)
    assert has_keyring(tmp_path)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    document = json.loads(path.read_text())
    assert document["active"] == first.state.active
    assert len(document["data_keys"]) == 1 and document["blind_index_key"]["key"]
    again = load_keyring(tmp_path, "2027-01-01T00:00:00Z")
    assert again.state == first.state  # loaded, not made again


def test_key_material_never_appears_in_a_repr(keyring: FieldKeyring) -> None:
    state = keyring.state
    text = repr(state)
    assert state.active_key.key.hex() not in text and "key=" not in text


def test_a_damaged_keyring_is_refused_by_name(tmp_path: Path) -> None:
    path = keyring_path(tmp_path)
    path.parent.mkdir(mode=0o700)
    path.write_text('{"format": "something else"}')
    with pytest.raises(FieldKeyError, match="not a valid field-encryption keyring"):
        load_keyring(tmp_path, CREATED)


def test_a_new_data_key_becomes_active_and_the_old_ones_stay(keyring: FieldKeyring) -> None:
    old = keyring.state.active
    new = keyring.add_data_key("2026-02-01T00:00:00Z")
    assert keyring.state.active == new.id != old
    assert {k.id for k in keyring.state.data_keys} == {old, new.id}
    assert keyring.retire({new.id}) == []  # never the active one
    assert keyring.retire({old}) == [old]
    assert [k.id for k in keyring.state.data_keys] == [new.id]


def test_another_process_sees_a_rotation_before_it_encrypts(tmp_path: Path) -> None:
    server = FieldCipher(load_keyring(tmp_path, CREATED))
    operator = load_keyring(tmp_path, CREATED)
    made_before = server.encrypt("999-12-3456", CONTEXT)
    new = operator.add_data_key("2026-02-01T00:00:00Z")
    assert server.active_key_id == new.id
    made_after = server.encrypt("999-12-3456", CONTEXT)
    assert f".{new.id}." in made_after and f".{new.id}." not in made_before
    assert server.decrypt(made_before, CONTEXT, "Patient/p1") == "999-12-3456"


# --- tokens --------------------------------------------------------------------------------------


def test_a_value_round_trips_and_each_token_is_different(cipher: FieldCipher) -> None:
    first = cipher.encrypt("999-12-3456", CONTEXT)
    second = cipher.encrypt("999-12-3456", CONTEXT)
    assert first != second  # a fresh 96-bit nonce each time
    assert first.startswith(f"ckenc1.{cipher.active_key_id}.")
    assert "999-12-3456" not in first and "3456" not in first
    assert cipher.decrypt(first, CONTEXT, "Patient/p1") == "999-12-3456"
    assert cipher.decrypt(second, CONTEXT, "Patient/p1") == "999-12-3456"


def test_a_token_moved_to_another_record_or_system_does_not_decrypt(cipher: FieldCipher) -> None:
    token = cipher.encrypt("999-12-3456", CONTEXT)
    for context in (
        associated_data("Patient", "p2", SSN),
        associated_data("RelatedPerson", "p1", SSN),
        associated_data("Patient", "p1", MA_LICENCE),
    ):
        with pytest.raises(FieldKeyError, match="Patient/p2: an encrypted identifier does not"):
            cipher.decrypt(token, context, "Patient/p2")


def test_a_token_fails_under_another_key_and_when_altered(tmp_path: Path) -> None:
    cipher = FieldCipher(load_keyring(tmp_path / "a", CREATED))
    stranger = FieldCipher(load_keyring(tmp_path / "b", CREATED))
    token = cipher.encrypt("999-12-3456", CONTEXT)
    with pytest.raises(FieldKeyError, match="is not in the keyring"):
        stranger.decrypt(token, CONTEXT, "Patient/p1")
    key_id = cipher.active_key_id
    forged = token.replace(f".{key_id}.", f".{stranger.active_key_id}.")
    with pytest.raises(FieldKeyError, match="does not decrypt"):
        stranger.decrypt(forged, CONTEXT, "Patient/p1")
    flipped = token[:-2] + ("A" if token[-2] != "A" else "B") + token[-1]
    with pytest.raises(FieldKeyError, match="does not decrypt"):
        cipher.decrypt(flipped, CONTEXT, "Patient/p1")
    with pytest.raises(FieldKeyError, match="malformed"):
        cipher.decrypt("ckenc1.zz.nope", CONTEXT, "Patient/p1")


def test_error_messages_never_carry_the_value(cipher: FieldCipher) -> None:
    token = cipher.encrypt("999-12-3456", CONTEXT)
    with pytest.raises(FieldKeyError) as caught:
        cipher.decrypt(token, associated_data("Patient", "p2", SSN), "Patient/p2")
    assert "999" not in caught.value.message and token not in caught.value.message


# --- blind index ---------------------------------------------------------------------------------


def test_the_blind_index_is_keyed_deterministic_and_ignores_separators(tmp_path: Path) -> None:
    cipher = FieldCipher(load_keyring(tmp_path / "a", CREATED))
    other = FieldCipher(load_keyring(tmp_path / "b", CREATED))
    index = cipher.blind_index("999-12-3456")
    assert index.startswith("bi1.") and "999" not in index
    assert index == cipher.blind_index("999 12 3456") == cipher.blind_index("999123456")
    assert cipher.blind_index("s99943289") == cipher.blind_index("S99943289")
    assert index != cipher.blind_index("999-12-3457")
    assert index != other.blind_index("999-12-3456")  # a different key, a different index
    assert normalize_identifier(" \uff5399-943.289 ") == "S99943289"  # fullwidth s: NFKC


# --- designated identifiers ----------------------------------------------------------------------


@pytest.mark.parametrize(
    ("identifier", "designated"),
    [
        ({"system": SSN, "value": "1"}, True),
        ({"system": "urn:oid:2.16.840.1.113883.4.1", "value": "1"}, True),
        ({"system": MA_LICENCE, "value": "1"}, True),
        ({"system": "urn:oid:2.16.840.1.113883.4.3.6", "value": "1"}, True),
        ({"type": {"coding": [{"system": V2, "code": "DL"}]}, "value": "1"}, True),
        ({"type": {"coding": [{"code": "SS"}]}, "value": "1"}, True),
        ({"type": {"coding": [{"system": V2, "code": "MR"}]}, "value": "1"}, False),
        ({"type": {"coding": [{"system": "urn:other", "code": "SS"}]}, "value": "1"}, False),
        ({"system": "urn:oid:2.16.840.1.113883.4.30", "value": "1"}, False),
        ({"system": "http://hl7.org/fhir/sid/us-npi", "value": "1"}, False),
    ],
)
def test_which_identifiers_are_designated(identifier: dict[str, Any], designated: bool) -> None:
    assert is_designated(identifier) is designated


def test_seal_encrypts_only_designated_values_and_reveal_undoes_it(cipher: FieldCipher) -> None:
    resource = _patient()
    sealed = seal(resource, "Patient", "p1", cipher)
    assert [(s.system, s.value) for s in sealed] == [
        (SSN, "999-12-3456"),
        (MA_LICENCE, "S99943289"),
    ]
    values = [i["value"] for i in resource["identifier"]]
    assert (
        values[0] == "100" and values[1].startswith("ckenc1.") and values[2].startswith("ckenc1.")
    )
    assert resource["identifier"][1]["system"] == SSN  # system and type stay readable
    reveal(resource, "Patient", "p1", cipher)
    assert resource == _patient()


def test_other_resource_types_are_left_alone(cipher: FieldCipher) -> None:
    coverage = {"resourceType": "Coverage", "identifier": [{"system": SSN, "value": "9"}]}
    assert seal(coverage, "Coverage", "c1", cipher) == []
    assert coverage["identifier"][0]["value"] == "9"


def test_a_client_value_that_looks_like_a_token_is_kept_as_given(cipher: FieldCipher) -> None:
    resource = {
        "resourceType": "Patient",
        "identifier": [{"system": "urn:x", "value": "ckenc1.00000000.AAAA"}],
    }
    assert len(seal(resource, "Patient", "p1", cipher)) == 1
    reveal(resource, "Patient", "p1", cipher)
    assert resource["identifier"][0]["value"] == "ckenc1.00000000.AAAA"


def test_stored_versions_are_sealed_and_revealed_whole(cipher: FieldCipher) -> None:
    resource = _patient(text={"status": "generated", "div": "<div>SSN 999-12-3456</div>"})
    body = orjson.dumps(resource).decode()
    stored = StoredResource("Patient", "p1", 1, 0, False, body)
    sealed, index = sealed_version(stored, extract_index(resource), cipher)
    assert sealed.body is not None and index is not None
    assert "S99943289" not in sealed.body
    assert sealed.body.count("999-12-3456") == 1  # the narrative's copy: free text is not encrypted
    assert has_tokens(sealed)
    assert revealed(sealed, cipher).body == body
    rows = json.dumps([index.tokens, index.strings, index.content, index.narrative])
    assert "999-12-3456" not in rows and "S99943289" not in rows
    assert ["identifier", SSN, cipher.blind_index("999123456"), "social security"] in [
        list(t) for t in index.tokens
    ]
    assert ("identifier:of-type", V2, f"SS|{cipher.blind_index('999-12-3456')}", None) in (
        index.tokens
    )
    assert ("identifier", "urn:mrn", "100", None) in index.tokens  # not designated: as it was
    assert "Quinn" in index.content and "100" in index.content


def test_versions_without_designated_values_pass_untouched(cipher: FieldCipher) -> None:
    body = orjson.dumps({"resourceType": "Observation", "id": "o1"}).decode()
    stored = StoredResource("Observation", "o1", 1, 0, False, body)
    assert sealed_version(stored, None, cipher) == (stored, None)
    assert revealed(stored, cipher) is stored
    plain = StoredResource("Patient", "p1", 1, 0, False, orjson.dumps(_patient()).decode())
    assert not has_tokens(plain)
    assert revealed(plain, cipher) is plain


# --- search --------------------------------------------------------------------------------------


def test_identifier_searches_also_match_the_blind_index(cipher: FieldCipher) -> None:
    items = [("identifier", f"{SSN}|999-12-3456,100"), ("name", "quinn")]
    request = parse_search("Patient", items)
    blinded = blinded_search(request, cipher)
    values = blinded.criteria[0].values
    assert values[:2] == request.criteria[0].values  # the plain values still match plain rows
    assert values[2:] == [
        TokenValue(SSN, cipher.blind_index("999-12-3456")),
        TokenValue(None, cipher.blind_index("100")),
    ]
    assert blinded.criteria[1] is request.criteria[1]
    assert len(request.criteria[0].values) == 2  # the request itself is unchanged


def test_of_type_chained_and_has_searches_are_blinded_too(cipher: FieldCipher) -> None:
    of_type = parse_search("Patient", [("identifier:of-type", f"{V2}|SS|999-12-3456")])
    value = blinded_search(of_type, cipher).criteria[0].values[-1]
    assert value == CompositeValue(
        TokenValue(V2, "SS"), TokenValue(None, cipher.blind_index("999-12-3456"))
    )
    chained = parse_search("Observation", [("subject:Patient.identifier", "999-12-3456")])
    chain = blinded_search(chained, cipher).criteria[0].chain
    assert chain is not None and chain.values[-1] == TokenValue(
        None, cipher.blind_index("999-12-3456")
    )
    has = parse_search("Patient", [("_has:RelatedPerson:patient:identifier", "S99943289")])
    inner = blinded_search(has, cipher).criteria[0].has
    assert inner is not None and inner.values[-1] == TokenValue(
        None, cipher.blind_index("S99943289")
    )


def test_searches_without_identifiers_are_returned_as_they_were(cipher: FieldCipher) -> None:
    request = parse_search("Patient", [("name", "quinn"), ("identifier:missing", "true")])
    assert blinded_search(request, cipher) is request


# --- the demo hospital ---------------------------------------------------------------------------


def test_demo_adults_carry_an_ssn_and_a_drivers_licence() -> None:
    from chartkeeper.demo import generate_hospital

    bundles = list(generate_hospital(patients=20, seed=1))
    patients = [
        e["resource"]
        for b in bundles
        for e in b.get("entry", [])
        if e["resource"]["resourceType"] == "Patient"
    ]
    adults = [p for p in patients if date.fromisoformat(p["birthDate"]).year < 2000]
    assert adults
    for patient in adults:
        kinds = {i["type"]["coding"][0]["code"]: i for i in patient["identifier"]}
        assert kinds["DL"]["system"] == MA_LICENCE and kinds["DL"]["value"].startswith("S99")
        assert is_designated(kinds["DL"])
        assert "SS" not in kinds or is_designated(kinds["SS"])
