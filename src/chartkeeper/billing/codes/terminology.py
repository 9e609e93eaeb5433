"""FHIR terminology operations over the loaded code sets: ``$lookup``, ``$validate-code``,
``$expand``.

http://hl7.org/fhir/R4/codesystem-operation-lookup.html,
http://hl7.org/fhir/R4/codesystem-operation-validate-code.html,
http://hl7.org/fhir/R4/valueset-operation-expand.html. Each takes the operation's parameters as
strings (from a query string or a Parameters body) and answers a plain resource; the version
used is the one in force on ``date`` (default: today). The only value sets are the implicit ones
of each code system (``url`` = the system URI, optionally with ``?fhir_vs``). CPT is answered
like the others once a licensee has loaded a version of it, and with an explanation until then.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import date
from typing import Any

from chartkeeper.billing.codes.model import (
    CPT,
    HCPCS,
    ICD10CM,
    ICD10PCS,
    KIND_OF_SYSTEM,
    LICENSED,
    SYSTEMS,
    UNSHIPPABLE,
    CodeSetVersion,
    normalise,
)
from chartkeeper.billing.codes.registry import CodeRegistry, StoredCode
from chartkeeper.core.errors import InvalidError, NotFoundError, NotSupportedError

NAMES = {ICD10CM: "ICD-10-CM", ICD10PCS: "ICD-10-PCS", HCPCS: "HCPCS Level II", CPT: "CPT"}
MAX_COUNT = 1000
DEFAULT_COUNT = 20
#: ``extra`` entries returned as properties by ``$lookup`` (name in extra → property code).
PROPERTIES = {
    "parent": "parent",
    "excludes1": "excludes1",
    "excludes2": "excludes2",
    "codeFirst": "codeFirst",
    "useAdditional": "useAdditionalCode",
    "codeAlso": "codeAlso",
    "inclusion": "inclusionTerm",
    "coverage": "coverage",
    "added": "added",
    "terminated": "terminated",
}


def _required(params: Mapping[str, str], name: str) -> str:
    value = params.get(name, "").strip()
    if not value:
        raise InvalidError(f"Parameter '{name}' is required", (name,))
    return value


def _kind(registry: CodeRegistry, system: str, name: str = "system") -> str:
    """The kind of a system URI; a licensed one (CPT) with no version loaded is explained."""
    uri = system.split("?", 1)[0].split("|", 1)[0]
    if uri in UNSHIPPABLE:
        raise NotSupportedError(UNSHIPPABLE[uri], (name,))
    kind = KIND_OF_SYSTEM.get(uri)
    if kind is None:
        known = ", ".join(SYSTEMS.values())
        raise InvalidError(f"Unknown code system '{system}'; this server has {known}", (name,))
    if kind in LICENSED and not registry.versions(kind):
        raise NotSupportedError(LICENSED[kind], (name,))
    return kind


def _day(params: Mapping[str, str], today: date) -> date:
    text = params.get("date", "").strip()
    if not text:
        return today
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        raise InvalidError(f"'date' must be a date, not '{text}'", ("date",)) from None


def _version(registry: CodeRegistry, kind: str, day: date) -> CodeSetVersion:
    found = registry.version_on(kind, day)
    if found is None:
        raise NotFoundError(f"No {NAMES[kind]} version is loaded for {day.isoformat()}")
    return found


def _property(code: str, value: bool | str) -> dict[str, Any]:
    """One ``property`` parameter; value[x] by type (``parent`` is a code)."""
    if isinstance(value, bool):
        typed = {"name": "value", "valueBoolean": value}
    elif code == "parent":
        typed = {"name": "value", "valueCode": value}
    else:
        typed = {"name": "value", "valueString": value}
    return {"name": "property", "part": [{"name": "code", "valueCode": code}, typed]}


def _properties(found: StoredCode) -> list[dict[str, Any]]:
    parts = [_property("billable", found.billable)]
    for name, code in PROPERTIES.items():
        value = found.extra.get(name)
        for item in value if isinstance(value, list) else ([value] if value else []):
            parts.append(_property(code, str(item)))
    return parts


def lookup(registry: CodeRegistry, params: Mapping[str, str], today: date) -> dict[str, Any]:
    """``CodeSystem/$lookup``: name, version, display and properties of one code."""
    kind = _kind(registry, _required(params, "system"))
    code = _required(params, "code")
    found_version = _version(registry, kind, _day(params, today))
    found = registry.lookup(kind, normalise(code), found_version.version)
    if found is None:
        raise NotFoundError(f"{code} is not in {NAMES[kind]} {found_version.version}")
    parameter = [
        {"name": "name", "valueString": NAMES[kind]},
        {"name": "version", "valueString": found_version.version},
        {"name": "display", "valueString": found.display},
        *_properties(found),
    ]
    return {"resourceType": "Parameters", "parameter": parameter}


def validate_code(registry: CodeRegistry, params: Mapping[str, str], today: date) -> dict[str, Any]:
    """``CodeSystem/$validate-code`` (and on the implicit value sets): is the code valid on the
    date, and is the display right?"""
    system = params.get("system") or params.get("url") or ""
    kind = _kind(registry, system or _required(params, "system"))
    code = _required(params, "code")
    found_version = _version(registry, kind, _day(params, today))
    found = registry.lookup(kind, normalise(code), found_version.version)
    out: list[dict[str, Any]] = []
    if found is None:
        message = f"{code} is not valid in {NAMES[kind]} {found_version.version}"
        out = [
            {"name": "result", "valueBoolean": False},
            {"name": "message", "valueString": message},
        ]
        return {"resourceType": "Parameters", "parameter": out}
    day = _day(params, today).isoformat()
    ended = found.extra.get("terminated")
    if isinstance(ended, str) and ended < day:  # HCPCS: terminated codes stay in the file
        message = f"{code} was terminated on {ended}"
        out = [
            {"name": "result", "valueBoolean": False},
            {"name": "message", "valueString": message},
        ]
        return {"resourceType": "Parameters", "parameter": out}
    display = params.get("display", "").strip()
    valid = not display or display.lower() == found.display.lower()
    out = [
        {"name": "result", "valueBoolean": valid},
        {"name": "display", "valueString": found.display},
    ]
    if not valid:
        message = f"The display of {code} is '{found.display}', not '{display}'"
        out.append({"name": "message", "valueString": message})
    elif not found.billable:
        message = f"{code} is valid but not billable (a header)"
        out.append({"name": "message", "valueString": message})
    return {"resourceType": "Parameters", "parameter": out}


def _count(params: Mapping[str, str], name: str, default: int) -> int:
    text = params.get(name, "").strip()
    if not text:
        return default
    if not text.isdigit():
        raise InvalidError(f"'{name}' must be a non-negative integer", (name,))
    return min(int(text), MAX_COUNT) if name == "count" else int(text)


def expand(
    registry: CodeRegistry, params: Mapping[str, str], today: date, now: str
) -> dict[str, Any]:
    """``ValueSet/$expand`` of a code system's implicit value set, optionally filtered."""
    url = _required(params, "url")
    kind = _kind(registry, url, "url")
    count = _count(params, "count", DEFAULT_COUNT)
    offset = _count(params, "offset", 0)
    found_version = _version(registry, kind, _day(params, today))
    index = registry.index(found_version)
    text = params.get("filter", "").strip()
    if text:
        page = index.search(text, offset + count)
        rows = [(h.code, h.display) for h in page.hits[offset:]]
        total = page.total
    else:
        rows = list(zip(index.sorted_codes, index.sorted_titles, strict=True))
        total = len(rows)
        rows = rows[offset : offset + count]
    system = SYSTEMS[kind]
    contains = [
        {"system": system, "version": found_version.version, "code": c, "display": d}
        for c, d in rows
    ]
    expansion: dict[str, Any] = {"timestamp": now, "total": total, "offset": offset}
    expansion["parameter"] = [{"name": "version", "valueUri": f"{system}|{found_version.version}"}]
    if text:
        expansion["parameter"].append({"name": "filter", "valueString": text})
    if contains:
        expansion["contains"] = contains
    return {"resourceType": "ValueSet", "url": url, "status": "active", "expansion": expansion}
