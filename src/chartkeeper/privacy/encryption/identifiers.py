"""Designated identifiers: which ones are encrypted, and sealing or revealing them in a body.

Designated: an ``identifier`` of a Patient, RelatedPerson, Practitioner or Person whose system
is the US Social Security number (``http://hl7.org/fhir/sid/us-ssn``, or its OID
2.16.840.1.113883.4.1) or a US driver's licence (the state arc
``urn:oid:2.16.840.1.113883.4.3.<state>``, as Synthea writes), or whose ``type`` is ``SS`` or
``DL`` from http://terminology.hl7.org/CodeSystem/v2-0203. Only ``identifier.value`` is
encrypted: the system and type stay readable, so a record still says it *has* an SSN.

A value that already has the form of a token is encrypted again on write, so that every token
found in a stored body is one this server made (reading it back gives the client's string).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, replace
from typing import Any

import orjson

from chartkeeper.fhir.repository import StoredResource
from chartkeeper.privacy.encryption.cipher import FieldCipher, associated_data, is_token

DESIGNATED_TYPES = frozenset({"Patient", "RelatedPerson", "Practitioner", "Person"})
SSN_SYSTEMS = frozenset({"http://hl7.org/fhir/sid/us-ssn", "urn:oid:2.16.840.1.113883.4.1"})
LICENCE_ARC = "urn:oid:2.16.840.1.113883.4.3."
V2_0203 = "http://terminology.hl7.org/CodeSystem/v2-0203"
TYPE_CODES = frozenset({"SS", "DL"})
#: what a stored body that holds a token always contains (a JSON string starting a token)
MARK = '"ckenc1.'


@dataclass(frozen=True)
class Sealed:
    """One value that was encrypted: the identifier's system and the plaintext."""

    system: str | None
    value: str


def is_designated(identifier: dict[str, Any]) -> bool:
    """True for an SSN or driver's licence identifier (see the module docstring)."""
    system = identifier.get("system")
    if isinstance(system, str) and (system in SSN_SYSTEMS or system.startswith(LICENCE_ARC)):
        return True
    kind = identifier.get("type")
    codings = kind.get("coding") if isinstance(kind, dict) else None
    for coding in codings if isinstance(codings, list) else ():
        if (
            isinstance(coding, dict)
            and coding.get("system") in (V2_0203, None)
            and coding.get("code") in TYPE_CODES
        ):
            return True
    return False


def identifiers_of(resource: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """The ``identifier`` entries of ``resource`` that have a string value."""
    found = resource.get("identifier")
    for identifier in found if isinstance(found, list) else ():
        if isinstance(identifier, dict) and isinstance(identifier.get("value"), str):
            yield identifier


def _system(identifier: dict[str, Any]) -> str | None:
    system = identifier.get("system")
    return system if isinstance(system, str) else None


def seal(
    resource: dict[str, Any], resource_type: str, resource_id: str, cipher: FieldCipher
) -> list[Sealed]:
    """Encrypt the designated values of ``resource`` in place; returns what was encrypted."""
    if resource_type not in DESIGNATED_TYPES:
        return []
    sealed: list[Sealed] = []
    for identifier in identifiers_of(resource):
        value = identifier["value"]
        if value and (is_designated(identifier) or is_token(value)):
            system = _system(identifier)
            context = associated_data(resource_type, resource_id, system)
            identifier["value"] = cipher.encrypt(value, context)
            sealed.append(Sealed(system, value))
    return sealed


def reveal(
    resource: dict[str, Any], resource_type: str, resource_id: str, cipher: FieldCipher
) -> list[Sealed]:
    """Decrypt every token of ``resource`` in place; returns what was decrypted."""
    revealed: list[Sealed] = []
    where = f"{resource_type}/{resource_id}"
    for identifier in identifiers_of(resource):
        value = identifier["value"]
        if is_token(value):
            system = _system(identifier)
            context = associated_data(resource_type, resource_id, system)
            identifier["value"] = cipher.decrypt(value, context, where)
            revealed.append(Sealed(system, identifier["value"]))
    return revealed


def has_tokens(stored: StoredResource) -> bool:
    """The fast check on every read: only bodies that pass it are parsed and decrypted."""
    body = stored.body
    return body is not None and stored.resource_type in DESIGNATED_TYPES and MARK in body


def revealed(stored: StoredResource, cipher: FieldCipher) -> StoredResource:
    """``stored`` with its designated values in plaintext (itself when it holds none)."""
    if not has_tokens(stored):
        return stored
    resource: dict[str, Any] = orjson.loads(stored.body or "{}")
    if not reveal(resource, stored.resource_type, stored.id, cipher):
        return stored
    return replace(stored, body=orjson.dumps(resource).decode())


def without_sealed_values(resource: dict[str, Any]) -> dict[str, Any]:
    """A shallow copy of ``resource`` whose encrypted identifiers have no ``value`` (what the
    full-text index of ``_content`` may see)."""
    found = resource.get("identifier")
    if not isinstance(found, list):
        return resource
    kept = [
        {k: v for k, v in i.items() if not (k == "value" and is_token(v))}
        if isinstance(i, dict)
        else i
        for i in found
    ]
    return {**resource, "identifier": kept}
