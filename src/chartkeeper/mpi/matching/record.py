"""A person as the matcher sees one registration: the demographics, straight from the source.

``from_fhir_patient`` maps a FHIR R4 Patient (https://hl7.org/fhir/R4/patient.html); anything
missing or malformed becomes an empty field, never an error, because a bad registration still
has to be matched.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

SSN_SYSTEM = "http://hl7.org/fhir/sid/us-ssn"
V2_IDENTIFIER_TYPES = "http://terminology.hl7.org/CodeSystem/v2-0203"
#: v2 table 0203 identifier type codes → the matcher's identifier kinds.
TYPE_KINDS = {"SS": "ssn", "SB": "ssn", "DL": "dl", "PPN": "passport", "MR": "mrn"}
#: HumanName.use, most to least preferred; "old" and "anonymous" names are a last resort.
NAME_PREFERENCE = ("official", "usual", "", "maiden", "nickname", "temp", "old", "anonymous")


@dataclass(frozen=True, slots=True)
class PersonRecord:
    """The demographics of one registration, as written (normalised later by ``features``)."""

    id: str
    given: tuple[str, ...] = ()
    family: str = ""
    birth_date: str = ""
    sex: str = ""
    identifiers: tuple[tuple[str, str], ...] = ()
    phone: str = ""
    email: str = ""
    address_lines: tuple[str, ...] = ()
    city: str = ""
    state: str = ""
    postal_code: str = ""


def _text(value: Any) -> str:
    return value.strip() if isinstance(value, str) else ""


def _dicts(value: Any) -> list[Mapping[str, Any]]:
    return [item for item in value if isinstance(item, Mapping)] if isinstance(value, list) else []


def _texts(value: Any) -> tuple[str, ...]:
    items: Iterable[Any] = value if isinstance(value, list) else []
    return tuple(t for t in (_text(item) for item in items) if t)


def _preferred_name(names: list[Mapping[str, Any]]) -> Mapping[str, Any]:
    def rank(name: Mapping[str, Any]) -> int:
        use = _text(name.get("use"))
        return NAME_PREFERENCE.index(use) if use in NAME_PREFERENCE else len(NAME_PREFERENCE)

    return min(names, key=rank) if names else {}


def _name(resource: Mapping[str, Any]) -> tuple[tuple[str, ...], str]:
    name = _preferred_name(_dicts(resource.get("name")))
    given, family = _texts(name.get("given")), _text(name.get("family"))
    if not given and not family:
        words = _text(name.get("text")).split()
        if words:
            given, family = tuple(words[:-1]), words[-1]
    return given, family


def identifier_kind(identifier: Mapping[str, Any]) -> str:
    """``ssn``, ``dl``, ``passport``, ``mrn`` or ``other``, from the system or the v2 type."""
    system = _text(identifier.get("system")).lower()
    if system == SSN_SYSTEM:
        return "ssn"
    kind_type = identifier.get("type")
    codings = _dicts(kind_type.get("coding")) if isinstance(kind_type, Mapping) else []
    for coding in codings:
        coding_system = _text(coding.get("system"))
        code = _text(coding.get("code"))
        if coding_system in ("", V2_IDENTIFIER_TYPES) and code in TYPE_KINDS:
            return TYPE_KINDS[code]
    if "driver" in system:
        return "dl"
    return "other"


def _identifiers(resource: Mapping[str, Any]) -> tuple[tuple[str, str], ...]:
    found: list[tuple[str, str]] = []
    for identifier in _dicts(resource.get("identifier")):
        value = _text(identifier.get("value"))
        if value:
            found.append((identifier_kind(identifier), value))
    return tuple(found)


def _telecom(resource: Mapping[str, Any], system: str) -> str:
    for point in _dicts(resource.get("telecom")):
        if point.get("system") == system and _text(point.get("value")):
            return _text(point.get("value"))
    return ""


def _address(resource: Mapping[str, Any]) -> Mapping[str, Any]:
    addresses = [a for a in _dicts(resource.get("address")) if a.get("use") != "old"]
    homes = [a for a in addresses if a.get("use") == "home"]
    return (homes or addresses or [{}])[0]


def from_fhir_patient(resource: Mapping[str, Any]) -> PersonRecord:
    """Map a Patient resource: the official (else usual, else first) name, the first home
    address and the first phone and e-mail; identifier kinds from their system or type."""
    given, family = _name(resource)
    address = _address(resource)
    return PersonRecord(
        id=_text(resource.get("id")),
        given=given,
        family=family,
        birth_date=_text(resource.get("birthDate")),
        sex=_text(resource.get("gender")),
        identifiers=_identifiers(resource),
        phone=_telecom(resource, "phone"),
        email=_telecom(resource, "email"),
        address_lines=_texts(address.get("line")),
        city=_text(address.get("city")),
        state=_text(address.get("state")),
        postal_code=_text(address.get("postalCode")),
    )
