"""FHIR search result parameters (_count, _sort, _include...) and the state one parse shares."""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from typing import Any

from chartkeeper.core.errors import InvalidError, Issue
from chartkeeper.fhir.search_request import Include, SearchRequest, SortKey
from chartkeeper.fhir.searchparams import SearchParamDef, SearchParamRegistry

# search.html#all: the common parameters, the only ones a whole-system search takes.
SYSTEM_PARAMS = frozenset(
    {"_id", "_lastUpdated", "_tag", "_profile", "_security", "_text", "_content"}
)
# search.html#text: full-text parameters, searched against the narrative / whole resource.
TEXT_PARAMS = frozenset({"_text", "_content"})
# search.html#sort: sorting by full text or composites has no defined order.
_SORTABLE = frozenset({"string", "token", "reference", "date", "number", "quantity", "uri"})
# search.html#summary, #elements and #total.
_SUMMARY = ("true", "text", "data", "count", "false")
_TOTAL = ("none", "estimate", "accurate")
_ELEMENT = re.compile(r"[A-Za-z][A-Za-z0-9_]*(?:\.[A-Za-z][A-Za-z0-9_]*)*")
_DIGITS = re.compile(r"[0-9]+")
_HUGE = 10**30  # stands for any longer run of digits (int() refuses very long strings)
_MAX_OFFSET = 2**63 - 1  # a SQL bigint


@dataclass
class QueryState:
    """One parse in progress: where we search, how strictly, and what we found so far."""

    resource_type: str | None
    registry: SearchParamRegistry
    strict: bool
    max_count: int
    request: SearchRequest
    types: frozenset[str]
    seen: set[str] = field(default_factory=set)


def lookup(query: QueryState, resource_type: str | None, code: str) -> SearchParamDef | None:
    """The parameter ``code`` of ``resource_type``; a system search (None) knows common ones."""
    if resource_type is None:
        found = query.registry.lookup("Resource", code)
        return found if code in SYSTEM_PARAMS else None
    return query.registry.lookup(resource_type, code)


# --- errors (search.html#errors) ---------------------------------------------------------------


def invalid(label: str, message: str) -> InvalidError:
    """An InvalidError pointing at the query parameter ``label``."""
    return InvalidError(message, expression=(label,))


def bad_value(label: str, value: str, detail: str) -> InvalidError:
    """The InvalidError for a malformed value of ``label``, with why."""
    message = f"Invalid value '{value}' for search parameter '{label}': {detail}"
    return InvalidError(message, expression=(label,))


def warn_unknown(query: QueryState, label: str) -> None:
    """Skip an unknown parameter with a warning, or refuse it when strict (search.html#errors)."""
    where = query.resource_type or "a whole-system search"
    if query.strict:
        raise invalid(label, f"Unknown search parameter '{label}' for {where}")
    diagnostics = f"Unknown search parameter '{label}' for {where} was ignored"
    query.request.warnings.append(Issue(diagnostics, severity="warning", code="not-supported"))


# --- result controls (search.html#return) -------------------------------------------------------

Control = Callable[[QueryState, str, str | None, str], None]


def _no_modifier(name: str, modifier: str | None) -> None:
    if modifier is not None:
        raise invalid(name, f"The parameter '{name.partition(':')[0]}' takes no modifier")


def _once(query: QueryState, key: str, name: str) -> None:
    if key in query.seen:
        raise invalid(name, f"The parameter '{name}' may be given only once")
    query.seen.add(key)


def _non_negative(name: str, value: str) -> int:
    if not _DIGITS.fullmatch(value):
        raise bad_value(name, value, "expected a non-negative integer")
    digits = value.lstrip("0") or "0"
    return int(digits) if len(digits) <= 30 else _HUGE


def _count(query: QueryState, name: str, modifier: str | None, value: str) -> None:
    # search.html#count: the server may return fewer than asked for.
    _no_modifier(name, modifier)
    _once(query, "_count", name)
    query.request.count = min(_non_negative(name, value), query.max_count)


def _offset(query: QueryState, name: str, modifier: str | None, value: str) -> None:
    _no_modifier(name, modifier)
    _once(query, "_offset", name)
    offset = _non_negative(name, value)
    if offset > _MAX_OFFSET:
        raise bad_value(name, value, "the offset is too large")
    query.request.offset = offset


def _sort(query: QueryState, name: str, modifier: str | None, value: str) -> None:
    # search.html#sort: _sort=a,-b; repeating _sort adds keys after the earlier ones.
    _no_modifier(name, modifier)
    where = query.resource_type or "a whole-system search"
    for item in value.split(","):
        key = item.strip()
        descending = key.startswith("-")
        code = key[1:] if descending else key
        if not code:
            continue
        param = lookup(query, query.resource_type, code)
        if param is None or code in TEXT_PARAMS or param.type not in _SORTABLE:
            raise bad_value(name, key, f"'{code}' is not a sortable search parameter of {where}")
        query.request.sort.append(SortKey(code, descending, param))


def _parse_include(query: QueryState, name: str, modifier: str | None, value: str) -> Include:
    # search.html#include: Type:param[:Target]; '*' for every reference parameter of Type.
    if modifier not in (None, "iterate", "recurse"):
        raise invalid(name, f"Unknown modifier ':{modifier}' for '{name.partition(':')[0]}'")
    parts = value.split(":")
    if len(parts) not in (2, 3):
        raise bad_value(name, value, "expected [type]:[parameter] or [type]:[parameter]:[type]")
    source, code, target = parts[0], parts[1], parts[2] if len(parts) == 3 else None
    if source not in query.types:
        raise bad_value(name, value, f"unknown resource type '{source}'")
    targets = _include_targets(query, source, code)
    if targets is None:
        raise bad_value(name, value, f"'{code}' is not a reference search parameter of {source}")
    if target is not None and target not in targets:
        raise bad_value(name, value, f"'{target}' is not a target type of {source}:{code}")
    return Include(source, code, target, iterate=modifier is not None)


def _include_targets(query: QueryState, source: str, code: str) -> Collection[str] | None:
    if code == "*":
        return query.types
    param = query.registry.lookup(source, code)
    if param is None or param.type != "reference":
        return None
    return param.target or query.types


def _include(query: QueryState, name: str, modifier: str | None, value: str) -> None:
    query.request.include.append(_parse_include(query, name, modifier, value))


def _revinclude(query: QueryState, name: str, modifier: str | None, value: str) -> None:
    query.request.revinclude.append(_parse_include(query, name, modifier, value))


def _choice(
    query: QueryState, name: str, modifier: str | None, value: str, allowed: tuple[str, ...]
) -> str:
    _no_modifier(name, modifier)
    _once(query, name, name)
    if value not in allowed:
        raise bad_value(name, value, f"expected one of {', '.join(allowed)}")
    return value


def _summary(query: QueryState, name: str, modifier: str | None, value: str) -> None:
    query.request.summary = _choice(query, name, modifier, value, _SUMMARY)


def _total(query: QueryState, name: str, modifier: str | None, value: str) -> None:
    query.request.total = _choice(query, name, modifier, value, _TOTAL)


def _elements(query: QueryState, name: str, modifier: str | None, value: str) -> None:
    _no_modifier(name, modifier)
    for item in value.split(","):
        element = item.strip()
        if element and not _ELEMENT.fullmatch(element):
            raise bad_value(name, element, "expected an element name such as 'birthDate'")
        if element and element not in query.request.elements:
            query.request.elements.append(element)


def _type(query: QueryState, name: str, modifier: str | None, value: str) -> None:
    # search.html#all: _type limits a whole-system search; a type search does not take it.
    if query.resource_type is not None:
        warn_unknown(query, name)
        return
    _no_modifier(name, modifier)
    _once(query, "_type", name)
    for item in value.split(","):
        kind = item.strip()
        if kind and kind not in query.types:
            raise bad_value(name, kind, "not a known resource type")
        if kind and kind not in query.request.types:
            query.request.types.append(kind)


def _cursor(query: QueryState, name: str, modifier: str | None, value: str) -> None:
    """Our paging links carry the last match's sort key (keyset paging), so pages stay
    consistent while others write: no match is skipped or repeated."""
    _no_modifier(name, modifier)
    _once(query, "_cursor", name)
    query.request.cursor = decode_cursor(value)


def encode_cursor(values: list[Any]) -> str:
    """The opaque ``_cursor`` text of a page position."""
    return base64.urlsafe_b64encode(json.dumps(values).encode()).decode().rstrip("=")


def decode_cursor(value: str) -> list[Any]:
    """The page position in a ``_cursor``; InvalidError when it was not made by us."""
    try:
        decoded = json.loads(base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)))
    except (ValueError, binascii.Error):
        raise bad_value("_cursor", value, "not a page cursor made by this server") from None
    if not isinstance(decoded, list) or not decoded or not isinstance(decoded[-1], str):
        raise bad_value("_cursor", value, "not a page cursor made by this server")
    if not all(v is None or isinstance(v, str | int | float) for v in decoded):
        raise bad_value("_cursor", value, "not a page cursor made by this server")
    return decoded


def _ignore(query: QueryState, name: str, modifier: str | None, value: str) -> None:
    """``_format`` is handled by content negotiation and ``_pretty`` by the renderer."""


CONTROLS: dict[str, Control] = {
    "_count": _count,
    "_offset": _offset,
    "_getpagesoffset": _offset,
    "_cursor": _cursor,
    "_sort": _sort,
    "_include": _include,
    "_revinclude": _revinclude,
    "_summary": _summary,
    "_total": _total,
    "_elements": _elements,
    "_type": _type,
    "_format": _ignore,
    "_pretty": _ignore,
}
