"""Forgiving readers of FHIR R4 datatypes for the claim conversion.

A claim with a missing or malformed element must still convert, so the scrubber can name what
is missing: every reader here answers an empty string, None or an empty list instead of
raising (FHIR R4 datatypes: http://hl7.org/fhir/R4/datatypes.html).
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal, InvalidOperation
from typing import Any

from chartkeeper.billing.x12.claim_model import Address

Json = dict[str, Any]


def as_list(value: Any) -> list[Any]:
    """A JSON array, or an empty list for anything else."""
    return value if isinstance(value, list) else []


def as_dict(value: Any) -> Json:
    """A JSON object, or an empty dict for anything else."""
    return value if isinstance(value, dict) else {}


def text(value: Any) -> str:
    """A JSON string stripped, or an empty string for anything else."""
    return value.strip() if isinstance(value, str) else ""


def codings(concept: Any) -> list[Json]:
    """The codings of a CodeableConcept."""
    return [c for c in as_list(as_dict(concept).get("coding")) if isinstance(c, dict)]


def code_of(concept: Any, *systems: str) -> str:
    """The code of the first coding in one of ``systems`` (tried in order; none: any system)."""
    found = codings(concept)
    if not systems:
        return next((text(c.get("code")) for c in found if text(c.get("code"))), "")
    for system in systems:
        for coding in found:
            if coding.get("system") == system and text(coding.get("code")):
                return text(coding.get("code"))
    return ""


def has_code(concept: Any, system: str, code: str) -> bool:
    """True when the CodeableConcept carries ``system|code``."""
    return any(c.get("system") == system and c.get("code") == code for c in codings(concept))


def identifier(resource: Json, system: str) -> str:
    """The value of the resource's first identifier in ``system``."""
    for item in as_list(resource.get("identifier")):
        if isinstance(item, dict) and item.get("system") == system and text(item.get("value")):
            return text(item.get("value"))
    return ""


def where_system(path: str, system: str) -> str:
    """A FHIRPath selecting the identifiers of one system (``Patient.identifier.where(...)``)."""
    return f"{path}.where(system='{system}')"


def human_name(resource: Json) -> tuple[int | None, Json]:
    """The official name (else the first) and its index in ``name``."""
    names = as_list(resource.get("name"))
    for index, name in enumerate(names):
        if isinstance(name, dict) and name.get("use") == "official":
            return index, name
    for index, name in enumerate(names):
        if isinstance(name, dict):
            return index, name
    return None, {}


def given(name: Json, position: int) -> str:
    """The ``position``-th given name (0: first name, 1: middle name)."""
    names = as_list(name.get("given"))
    return text(names[position]) if len(names) > position else ""


def address(resource: Json) -> Address | None:
    """``address[0]`` as an 837 address (ZIP+4 without its dash); None when there is none."""
    addresses = [a for a in as_list(resource.get("address")) if isinstance(a, dict)]
    if not addresses:
        return None
    first = addresses[0]
    lines = [text(line) for line in as_list(first.get("line"))] + ["", ""]
    return Address(
        lines[0],
        text(first.get("city")),
        text(first.get("state")),
        text(first.get("postalCode")).replace("-", ""),
        line2=lines[1],
    )


def fhir_date(value: Any) -> date | None:
    """A full ``date`` or the date part of a ``dateTime``; None for partial or bad dates."""
    raw = text(value)[:10]
    if len(raw) != 10:
        return None
    try:
        return date.fromisoformat(raw)
    except ValueError:
        return None


#: Largest magnitude of a money or quantity exponent we read: an 837 amount has at most 18
#: characters (R 1/18), so anything beyond 10^12 or below 10^-12 is a typing error, and
#: exponents like 1e-999999 would overflow Decimal arithmetic.
MAX_EXPONENT = 12


def decimal(value: Any) -> Decimal | None:
    """A JSON number as a Decimal (via its text, so 125.5 stays 125.5); None for anything
    else (a FHIR decimal is a JSON number, not a string) or an absurd magnitude."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    try:
        number = Decimal(str(value))
    except InvalidOperation:
        return None
    if not number.is_finite() or (number and abs(number.adjusted()) > MAX_EXPONENT):
        return None
    return number


def reference(value: Any) -> str:
    """The ``reference`` text of a Reference."""
    return text(as_dict(value).get("reference"))
