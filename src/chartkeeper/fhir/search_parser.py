"""Turn a FHIR search query (ordered name/value pairs) into a SearchRequest, or refuse it."""

from __future__ import annotations

from chartkeeper.core.errors import InvalidError, NotSupportedError
from chartkeeper.fhir.search_controls import (
    CONTROLS,
    TEXT_PARAMS,
    QueryState,
    bad_value,
    invalid,
    lookup,
    warn_unknown,
)
from chartkeeper.fhir.search_request import Criterion, SearchRequest, SearchValue
from chartkeeper.fhir.search_values import ValueSpec, parse_value, split_unescaped
from chartkeeper.fhir.searchparams import (
    SearchParamDef,
    SearchParamRegistry,
    all_resource_types,
    load_registry,
)

# search.html#all and #list: valid FHIR parameters this server does not implement.
_NOT_SUPPORTED = frozenset({"_list", "_query", "_filter", "_contained", "_containedType"})

# search.html#modifiers (the R4 table); ``missing`` applies to every type.
_MISSING_ONLY = frozenset({"missing"})
_MODIFIERS: dict[str, frozenset[str]] = {
    "string": frozenset({"exact", "contains", "missing"}),
    "token": frozenset({"not", "text", "of-type", "missing"}),
    "uri": frozenset({"below", "above", "missing"}),
    "text": frozenset(),
}
_ID_MODIFIERS = frozenset({"not", "missing"})
_UNSUPPORTED_MODIFIERS: dict[str, frozenset[str]] = {
    "token": frozenset({"in", "not-in", "above", "below"}),
    "reference": frozenset({"identifier", "above", "below"}),
}


def parse_search(
    resource_type: str | None,
    items: list[tuple[str, str]],
    *,
    strict: bool = False,
    registry: SearchParamRegistry | None = None,
    default_count: int = 20,
    max_count: int = 1000,
) -> SearchRequest:
    """Parse ``items`` (repeated names are AND-ed) for ``resource_type`` (None: system search).

    Raises ``InvalidError`` for malformed values and ``NotSupportedError`` for valid FHIR this
    server does not implement. Unknown parameters are warnings, or errors when ``strict``
    (``Prefer: handling=strict``, http://hl7.org/fhir/R4/search.html#errors).
    """
    registry = registry or load_registry()
    request = SearchRequest(resource_type, count=min(default_count, max_count))
    types = frozenset(all_resource_types()) | frozenset(registry.resource_types())
    query = QueryState(resource_type, registry, strict, max_count, request, types)
    for name, value in items:
        if value == "":
            continue  # an empty value is ignored, as HAPI does
        if "\x00" in value:  # no stored string holds one (and PostgreSQL cannot compare it)
            raise bad_value(name, value.replace("\x00", "\\0"), "NUL characters are not allowed")
        _parse_item(query, name, value)
    _check_size(request)
    return request


# Bounds on one search, so that its SQL stays within what the stores accept (SQLite: expression
# depth 1000 and 32766 variables; PostgreSQL: 65535 parameters). Beyond them: 400, not 500.
MAX_OR_VALUES = 100
MAX_CRITERIA = 100
MAX_SEARCH_VALUES = 1000
MAX_SORT_KEYS = 50


def _check_size(request: SearchRequest) -> None:
    if len(request.criteria) > MAX_CRITERIA:
        count = len(request.criteria)
        raise InvalidError(f"A search may have at most {MAX_CRITERIA} criteria, not {count}")
    total = sum(_value_count(c) for c in request.criteria)
    if total > MAX_SEARCH_VALUES:
        raise InvalidError(f"A search may carry at most {MAX_SEARCH_VALUES} values, not {total}")
    if len(request.sort) > MAX_SORT_KEYS:
        raise invalid("_sort", f"_sort may name at most {MAX_SORT_KEYS} keys")


def _value_count(criterion: Criterion) -> int:
    inner = criterion.chain or criterion.has
    return len(criterion.values) + (_value_count(inner) if inner else 0)


def _parse_item(query: QueryState, name: str, value: str) -> None:
    base, colon, modifier = name.partition(":")
    control = CONTROLS.get(base)
    if control is not None:
        control(query, name, modifier if colon else None, value)
        return
    criterion = _criterion(query, query.resource_type, name, value, name)
    if criterion is not None:
        query.request.criteria.append(criterion)


# --- criteria -----------------------------------------------------------------------------------


def _criterion(
    query: QueryState, resource_type: str | None, name: str, value: str, label: str
) -> Criterion | None:
    if name == "_has" or name.startswith("_has:"):
        return _has(query, resource_type, name, value, label)
    if "." in name:
        return _chain(query, resource_type, name, value, label)
    return _simple(query, resource_type, name, value, label)


def _simple(
    query: QueryState, resource_type: str | None, name: str, value: str, label: str
) -> Criterion | None:
    """``code[:modifier]=v1,v2`` against ``resource_type``; None when skipped."""
    code, colon, modifier_text = name.partition(":")
    modifier = modifier_text if colon else None
    if code in _NOT_SUPPORTED:
        raise NotSupportedError(f"The search parameter '{code}' is not supported", (label,))
    found = lookup(query, resource_type, code)
    if found is None:
        warn_unknown(query, label)
        return None
    # search.html#text: _text and _content carry no registry definition of their own.
    param = None if code in TEXT_PARAMS else found
    param_type = param.type if param else "text"
    _check_modifier(query, label, code, param_type, param, modifier)
    if modifier == "missing":
        # search.html#modifiers: :missing=true|false, whatever the parameter's type.
        return Criterion(code, param_type, param, modifier, missing=_boolean(label, value))
    spec = ValueSpec(code, param_type, modifier, param, query.registry)
    values = _values(spec, label, value)
    if not values:
        return None
    return Criterion(code, param_type, param, modifier, values)


def _check_modifier(
    query: QueryState,
    label: str,
    code: str,
    param_type: str,
    param: SearchParamDef | None,
    modifier: str | None,
) -> None:
    if param_type == "special":
        raise NotSupportedError(f"The search parameter '{code}' is not supported", (label,))
    if modifier is None:
        return
    if param_type == "reference" and modifier in query.types:
        # search.html#reference: subject:Patient narrows the reference to one target type.
        if param and param.target and modifier not in param.target:
            raise invalid(label, f"'{modifier}' is not a target type of '{code}'")
        return
    if modifier in _UNSUPPORTED_MODIFIERS.get(param_type, ()):
        raise NotSupportedError(f"The modifier ':{modifier}' is not supported", (label,))
    allowed = _ID_MODIFIERS if code == "_id" else _MODIFIERS.get(param_type, _MISSING_ONLY)
    if modifier not in allowed:
        message = f"Unknown modifier ':{modifier}' for the {param_type} parameter '{code}'"
        raise invalid(label, message)


def _boolean(label: str, value: str) -> bool:
    if value not in ("true", "false"):
        raise bad_value(label, value, "expected true or false")
    return value == "true"


def _values(spec: ValueSpec, label: str, value: str) -> list[SearchValue]:
    """The OR-ed values (search.html#combining: unescaped ``,`` separates them)."""
    values: list[SearchValue] = []
    parts = split_unescaped(value, ",")
    if len(parts) > MAX_OR_VALUES:
        raise invalid(label, f"At most {MAX_OR_VALUES} values may be OR-ed, not {len(parts)}")
    for part in parts:
        if not part:
            continue
        try:
            values.append(parse_value(part, spec))
        except NotSupportedError as error:
            raise NotSupportedError(error.message, (label,)) from None
        except InvalidError as error:
            raise bad_value(label, part, error.message) from None
    return values


def _chain(
    query: QueryState, resource_type: str | None, name: str, value: str, label: str
) -> Criterion | None:
    """``subject[:Type].param=x`` (search.html#chaining), one link deep."""
    head, _, tail = name.partition(".")
    code, colon, wanted = head.partition(":")
    param = lookup(query, resource_type, code)
    if param is None:
        warn_unknown(query, label)
        return None
    if param.type != "reference":
        raise invalid(label, f"The search parameter '{code}' is not a reference to chain from")
    if "." in tail or tail.startswith("_has"):
        raise NotSupportedError("Chains of more than one link are not supported", (label,))
    types = _chain_types(query, label, param, wanted if colon else None, tail.partition(":")[0])
    if not types:
        warn_unknown(query, label)
        return None
    inner = _simple(query, types[0], tail, value, label)
    if inner is None:
        return None
    modifier = wanted if colon else None
    return Criterion(code, "reference", param, modifier, chain=inner, chain_types=types)


def _chain_types(
    query: QueryState, label: str, param: SearchParamDef, wanted: str | None, inner_code: str
) -> tuple[str, ...]:
    """The target types that have ``inner_code`` (and give it one type), in target order."""
    candidates = param.target or tuple(sorted(query.types))
    if wanted is not None:
        if wanted not in candidates:
            raise invalid(label, f"'{wanted}' is not a target type of '{param.code}'")
        candidates = (wanted,)
    found = [(t, d) for t in candidates if (d := query.registry.lookup(t, inner_code))]
    if not found:
        return ()
    first_type = found[0][1].type
    return tuple(t for t, d in found if d.type == first_type)


def _has(
    query: QueryState, resource_type: str | None, name: str, value: str, label: str
) -> Criterion | None:
    """``_has:Type:param:inner=x`` (search.html#has), one level deep."""
    if resource_type is None:
        warn_unknown(query, label)
        return None
    parts = name.split(":", 3)
    if len(parts) != 4 or not all(parts):
        raise invalid(label, "Expected _has:[type]:[reference parameter]:[search parameter]")
    _, has_type, has_param, inner_name = parts
    link = query.registry.lookup(has_type, has_param) if has_type in query.types else None
    if link is None or link.type != "reference":
        raise invalid(label, f"'{has_param}' is not a reference search parameter of {has_type}")
    if link.target and resource_type not in link.target:
        raise invalid(label, f"{has_type}:{has_param} does not refer to {resource_type}")
    if "." in inner_name or inner_name.startswith("_has"):
        raise NotSupportedError("Nested or chained _has is not supported", (label,))
    inner = _simple(query, has_type, inner_name, value, label)
    if inner is None:
        return None
    return Criterion("_has", "has", None, has=inner, has_type=has_type, has_param=has_param)
