"""Turn one resource into the rows of its search indexes, fast enough for bulk ingest.

Each search parameter's R4 expression is compiled once per resource type (``fhirpath_lite``);
the values it selects become rows by parameter type as http://hl7.org/fhir/R4/search.html
describes for each (#string, #token, #date, #reference, #number, #quantity, #uri, #composite).
"""

from __future__ import annotations

import base64
import binascii
import html
import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from functools import cache, lru_cache
from typing import Any, TypeGuard

from chartkeeper.core.errors import InvalidError
from chartkeeper.fhir.dates import parse_date_range
from chartkeeper.fhir.fhirpath_lite import Branch, Program, compile_expression, parse_reference
from chartkeeper.fhir.index_rows import MAX_MICROS, MIN_MICROS, CompositeRow, IndexRows
from chartkeeper.fhir.searchparams import (
    SearchParamDef,
    SearchParamRegistry,
    load_registry,
    patient_compartment,
)
from chartkeeper.fhir.text import normalize

#: Parameters with no expression to index, or answered elsewhere (``_text``/``_content`` from
#: ``IndexRows.narrative``/``content``) - http://hl7.org/fhir/R4/search.html#all
_SKIPPED = frozenset({"_text", "_content", "_query", "_filter", "_list", "_has", "_type"})
_ISO_4217 = "urn:iso:std:iso:4217"
_STRING_TYPES = ("string", "markdown", "code", "id", "uri", "url", "canonical", "oid", "uuid")
_NUMBER_TYPES = ("decimal", "integer", "positiveInt", "unsignedInt")
_NUMERIC = (int, float, Decimal)
_TAGS = re.compile(r"<[^>]*>")
_SPACES = re.compile(r"\s+")
#: keys whose strings are not text a person would search for (``_content``)
_NOT_CONTENT = frozenset({"reference", "system", "url", "id", "data", "div", "resourceType",
                          "hash", "valueBase64Binary"})  # fmt: skip

Converter = Callable[[str, Any, list[Any]], None]


@lru_cache(maxsize=65_536)
def _fold(text: str) -> str:
    return normalize(text)


def _fold_opt(text: object) -> str | None:
    return _fold(text) if isinstance(text, str) and text else None


@lru_cache(maxsize=65_536)
def _date_range(text: object) -> tuple[int, int] | None:
    if not isinstance(text, str):
        return None
    try:
        return parse_date_range(text)
    except InvalidError:
        return None  # validated on write; an odd stored value is simply not indexed


# -- string (http://hl7.org/fhir/R4/search.html#string) ---------------------------------------


def _string(param: str, node: Any, out: list[Any]) -> None:
    if isinstance(node, str) and node:
        out.append((param, _fold(node), node))


def _string_parts(*keys: str) -> Converter:
    def convert(param: str, node: Any, out: list[Any]) -> None:
        for key in keys:
            value = node.get(key)
            for text in value if isinstance(value, list) else (value,):
                _string(param, text, out)

    return convert


# -- token (http://hl7.org/fhir/R4/search.html#token) -----------------------------------------


def _coding(param: str, node: Any, out: list[Any]) -> None:
    out.append((param, node.get("system"), node.get("code"), _fold_opt(node.get("display"))))


def _concept(param: str, node: Any, out: list[Any]) -> None:
    codings, text = node.get("coding") or (), node.get("text")
    for coding in codings:
        display = _fold_opt(coding.get("display") or text)
        out.append((param, coding.get("system"), coding.get("code"), display))
    if text and not codings:
        out.append((param, None, None, _fold_opt(text)))


def _identifier(param: str, node: Any, out: list[Any]) -> None:
    system, value, kind = node.get("system"), node.get("value"), node.get("type") or {}
    if system is None and value is None:
        return
    out.append((param, system, value, _fold_opt(kind.get("text"))))
    for coding in kind.get("coding") or ():  # for :of-type (#token)
        if coding.get("code") and value is not None:
            row = (f"{param}:of-type", coding.get("system"), f"{coding['code']}|{value}", None)
            out.append(row)


def _contact_point(param: str, node: Any, out: list[Any]) -> None:
    if node.get("value") is not None:
        out.append((param, node.get("system"), node["value"], None))


def _token_primitive(param: str, node: Any, out: list[Any]) -> None:
    if isinstance(node, bool):
        out.append((param, None, "true" if node else "false", None))
    elif isinstance(node, str | int | float | Decimal):
        out.append((param, None, str(node), None))


# -- date (http://hl7.org/fhir/R4/search.html#date) -------------------------------------------


def _date(param: str, node: Any, out: list[Any]) -> None:
    found = _date_range(node)
    if found is not None:
        out.append((param, found[0], found[1]))


def _period(param: str, node: Any, out: list[Any]) -> None:
    start, end = _date_range(node.get("start")), _date_range(node.get("end"))
    if start is not None or end is not None:
        low = start[0] if start is not None else MIN_MICROS
        out.append((param, low, end[1] if end is not None else MAX_MICROS))


def _timing(param: str, node: Any, out: list[Any]) -> None:
    """Events, and the outer limits of ``repeat.boundsPeriod`` (#date: Timing)."""
    for event in node.get("event") or ():
        _date(param, event, out)
    bounds = (node.get("repeat") or {}).get("boundsPeriod")
    if isinstance(bounds, dict):
        _period(param, bounds, out)


# -- reference, number, quantity, uri ---------------------------------------------------------


def _reference(param: str, node: Any, out: list[Any]) -> None:
    """#reference: local ``Type/id``, absolute url (type and id kept), or other (url only)."""
    if isinstance(node, str):  # canonical / uri
        out.append((param, None, None, node))
        return
    ref = node.get("reference")
    if not isinstance(ref, str) or not ref or ref.startswith("#"):
        return  # contained, or identifier/display only
    found = parse_reference(ref)
    if found is None:
        out.append((param, None, None, ref))
    else:
        out.append((param, found[0], found[1], ref if "://" in ref else None))


def _is_number(value: object) -> TypeGuard[int | float | Decimal]:
    return isinstance(value, _NUMERIC) and not isinstance(value, bool)


def _number(param: str, node: Any, out: list[Any]) -> None:
    if _is_number(node):
        out.append((param, float(node)))


def _quantity(param: str, node: Any, out: list[Any]) -> None:
    value = node.get("value") if isinstance(node, dict) else None
    if _is_number(value):
        out.append((param, float(value), node.get("system"), node.get("code"), node.get("unit")))


def _money(param: str, node: Any, out: list[Any]) -> None:
    if _is_number(value := node.get("value")):
        currency = node.get("currency")
        out.append((param, float(value), _ISO_4217, currency, currency))


def _range(param: str, node: Any, out: list[Any]) -> None:
    _quantity(param, node.get("low"), out)
    _quantity(param, node.get("high"), out)


def _uri(param: str, node: Any, out: list[Any]) -> None:
    if isinstance(node, str) and node:
        out.append((param, node))


_CONVERTERS: dict[str, dict[str, Converter]] = {
    "string": {"HumanName": _string_parts("family", "given", "prefix", "suffix", "text"),
               "Address": _string_parts("line", "city", "district", "state", "postalCode",
                                        "country", "text"),
               **dict.fromkeys(_STRING_TYPES, _string)},
    "token": {"Coding": _coding, "CodeableConcept": _concept, "Identifier": _identifier,
              "ContactPoint": _contact_point,
              **dict.fromkeys((*_STRING_TYPES, *_NUMBER_TYPES, "boolean"), _token_primitive)},
    "date": {"date": _date, "dateTime": _date, "instant": _date, "Period": _period,
             "Timing": _timing},
    "reference": dict.fromkeys(("Reference", "canonical", "uri", "url", "string"), _reference),
    "number": dict.fromkeys(_NUMBER_TYPES, _number),
    "quantity": {"Money": _money, "Range": _range, **dict.fromkeys(("Quantity", "Age", "Count",
                 "Distance", "Duration", "SimpleQuantity", "MoneyQuantity"), _quantity)},
    "uri": dict.fromkeys(_STRING_TYPES, _uri),
}  # fmt: skip


def converter(kind: str, fhir_type: str) -> Converter | None:
    """How a value of ``fhir_type`` becomes rows of a ``kind`` parameter (None: not indexed)."""
    return _CONVERTERS.get(kind, {}).get(fhir_type)


def values_of(kind: str, program: Program, root: Any) -> list[Any]:
    """Rows (param ``""``) of what ``program`` selects from ``root``, for a ``kind`` param."""
    out: list[Any] = []
    for value, fhir_type in program.typed_values(root):
        convert = converter(kind, fhir_type)
        if convert is not None:
            convert("", value, out)
    return [row for row in out if row[0] == ""]


# -- compiled plans ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Param:
    """One simple parameter: ``pairs`` are its fast branches with their converters."""

    code: str
    kind: str
    program: Program
    pairs: tuple[tuple[Branch, Converter], ...] | None


@dataclass(frozen=True)
class _CompositePart:
    """A composite over one context path, with its two components relative to it."""

    code: str
    base: Branch
    first: Program
    second: Program
    second_kind: str


@dataclass(frozen=True)
class _Plan:
    params: tuple[_Param, ...]
    composites: tuple[_CompositePart, ...]
    compartment: tuple[str, ...]


def _simple(definition: SearchParamDef, resource_type: str) -> _Param:
    program = compile_expression(definition.expression or "", resource_type)
    pairs: tuple[tuple[Branch, Converter], ...] | None = None
    if program.fast and not program.truthy:
        found = [(b, converter(definition.type, b.fhir_type)) for b in program.branches]
        pairs = tuple((b, c) for b, c in found if c is not None)
    return _Param(definition.code, definition.type, program, pairs)


def _composite(
    definition: SearchParamDef, resource_type: str, registry: SearchParamRegistry
) -> list[_CompositePart]:
    """#composite: both components are evaluated relative to each element the path selects."""
    if len(definition.component) != 2:
        return []  # R4's 3-part MolecularSequence coordinates are not indexed
    first, second = definition.component
    found = registry.by_url(second.definition) or registry.lookup(resource_type, second.code)
    parts = []
    for base in compile_expression(definition.expression or "", resource_type).branches:
        first_program = compile_expression(first.expression, resource_type, base.ctx)
        second_program = compile_expression(second.expression, resource_type, base.ctx)
        kind = found.type if found else "token"
        if {b.fhir_type for b in second_program.branches} == {"Reference"}:
            kind = "reference"  # R4 DocumentReference-relationship swaps its component urls
        parts.append(_CompositePart(definition.code, base, first_program, second_program, kind))
    return parts


@cache
def _plan(registry: SearchParamRegistry, resource_type: str) -> _Plan:
    params: list[_Param] = []
    composites: list[_CompositePart] = []
    for definition in registry.for_type(resource_type).values():
        if not definition.expression or definition.code in _SKIPPED:
            continue
        if definition.type == "composite":
            composites += _composite(definition, resource_type, registry)
        elif definition.type != "special":
            param = _simple(definition, resource_type)
            if param.pairs != ():  # () when no path of the expression can hold a value
                params.append(param)
    compartment = patient_compartment().get(resource_type, ())
    return _Plan(tuple(params), tuple(composites), compartment)


def fallback_params(
    resource_type: str, registry: SearchParamRegistry | None = None
) -> list[tuple[str, str, str]]:
    """``(code, expression, reason)`` of every parameter that needs ``fhirpathpy``."""
    plan = _plan(registry or load_registry(), resource_type)
    programs = [(p.code, p.program) for p in plan.params]
    programs += [(c.code, prog) for c in plan.composites for prog in (c.first, c.second)]
    return [(code, prog.expression, prog.reason) for code, prog in programs if not prog.fast]


# -- extraction -------------------------------------------------------------------------------


def extract_index(
    resource: dict[str, Any], registry: SearchParamRegistry | None = None
) -> IndexRows:
    """Every search-index value of ``resource``, by the R4 parameters of its type."""
    plan = _plan(registry or load_registry(), resource["resourceType"])
    rows = IndexRows()
    targets: dict[str, list[Any]] = {
        "string": rows.strings, "token": rows.tokens, "date": rows.dates, "uri": rows.uris,
        "reference": rows.references, "number": rows.numbers, "quantity": rows.quantities,
    }  # fmt: skip
    for param in plan.params:
        _param_rows(param, resource, targets[param.kind])
    for part in plan.composites:
        rows.composites += _composite_rows(part, resource)
    rows.narrative = narrative(resource)
    rows.content = content(resource)
    rows.patient_ids = _patient_ids(resource, rows.references, plan.compartment)
    return rows


def _param_rows(param: _Param, resource: dict[str, Any], out: list[Any]) -> None:
    try:
        if param.pairs is None:
            found = values_of(param.kind, param.program, resource)
            out += [(param.code, *row[1:]) for row in found]
            return
        for branch, convert in param.pairs:
            for value in branch.values(resource):
                if value is not None:
                    convert(param.code, value, out)
    except (AttributeError, TypeError, ValueError):
        return  # a value of the wrong shape: validated on write, so just not indexed


def _composite_rows(part: _CompositePart, resource: dict[str, Any]) -> list[CompositeRow]:
    found: list[CompositeRow] = []
    for element in part.base.values(resource):
        firsts = [row for row in values_of("token", part.first, element) if row[2] is not None]
        seconds = _second_fields(
            part.second_kind, values_of(part.second_kind, part.second, element)
        )
        found += [CompositeRow(part.code, f[1], f[2], **s) for f in firsts for s in seconds]
    return found


#: which ``CompositeRow`` fields a second component's row fills, by the component's type
_SECOND_FIELDS = {
    "quantity": ("quantity_value", "quantity_system", "quantity_code"),
    "token": ("token_system", "token_code"),
    "date": ("date_low", "date_high"),
    "string": ("string_value",),  # normalized, like the string index
}


def _second_fields(kind: str, rows: list[Any]) -> list[dict[str, Any]]:
    if kind == "reference":  # 'Type/id', or the url when not local
        return [{"string_value": r[3] or f"{r[1]}/{r[2]}"} for r in rows]
    keys = _SECOND_FIELDS.get(kind, ())
    return [dict(zip(keys, row[1:], strict=False)) for row in rows] if keys else []


def narrative(resource: dict[str, Any]) -> str:
    """The text of ``Resource.text.div``, tags dropped and entities decoded (#text)."""
    text = resource.get("text")
    div = text.get("div") if isinstance(text, dict) else None
    if not isinstance(div, str):
        return ""
    return _SPACES.sub(" ", html.unescape(_TAGS.sub(" ", div))).strip()


def content(resource: dict[str, Any]) -> str:
    """Every distinct string of the resource but ids, urls, codes' systems and narrative."""
    found: list[str] = []
    _collect_strings({k: v for k, v in resource.items() if k != "text"}, found)
    return " ".join(dict.fromkeys(found))


#: Inline text attachments up to this size are searchable (clinical notes are small).
MAX_ATTACHMENT_TEXT = 200_000


def attachment_text(attachment: dict[str, Any]) -> str | None:
    """The text of an inline ``text/*`` Attachment (a clinical note), so that ``_content``
    and chart search find words in notes; None for other attachments."""
    kind = attachment.get("contentType")
    data = attachment.get("data")
    if not (isinstance(kind, str) and kind.startswith("text/") and isinstance(data, str)):
        return None
    if len(data) > MAX_ATTACHMENT_TEXT:
        return None
    try:
        return base64.b64decode(data, validate=True).decode("utf-8", errors="replace")
    except (binascii.Error, ValueError):
        return None


def _collect_strings(node: Any, found: list[str]) -> None:
    if isinstance(node, str):
        found.append(node)
    elif isinstance(node, dict):
        text = attachment_text(node) if "data" in node else None
        if text:
            found.append(text)
        for key, value in node.items():
            if key not in _NOT_CONTENT:
                _collect_strings(value, found)
    elif isinstance(node, list):
        for value in node:
            _collect_strings(value, found)


def _patient_ids(
    resource: dict[str, Any], references: list[Any], params: tuple[str, ...]
) -> list[str]:
    """The Patient compartments (http://hl7.org/fhir/R4/compartmentdefinition-patient.html).

    Only local ``Patient/id`` references count: another server's Patient is not ours.
    """
    if resource["resourceType"] == "Patient":
        return [resource["id"]] if resource.get("id") else []
    found = [
        (params.index(code), target_id)
        for code, target_type, target_id, url in references
        if target_type == "Patient" and url is None and target_id and code in params
    ]
    return list(dict.fromkeys(target_id for _, target_id in sorted(found, key=lambda f: f[0])))
