"""Parse one FHIR search value (escapes, prefixes, tokens, numbers...) into a typed search value."""

from __future__ import annotations

import math
import re
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import cast

from chartkeeper.core.errors import InvalidError, NotSupportedError
from chartkeeper.fhir.dates import parse_date_range
from chartkeeper.fhir.search_request import (
    CompositeValue,
    DateValue,
    NumberValue,
    QuantityValue,
    ReferenceValue,
    SearchValue,
    SimpleValue,
    StringValue,
    TokenValue,
    UriValue,
)
from chartkeeper.fhir.searchparams import SearchParamDef, SearchParamRegistry
from chartkeeper.fhir.text import normalize

#: http://hl7.org/fhir/R4/search.html#prefix
PREFIXES = frozenset({"eq", "ne", "gt", "lt", "ge", "le", "sa", "eb", "ap"})

# http://hl7.org/fhir/R4/search.html#escaping: only these four characters are escaped.
_ESCAPE = re.compile(r"\\([,$|\\])")
# http://hl7.org/fhir/R4/search.html#number; the exponent is bounded so Decimal stays finite.
_NUMBER = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)(?:[eE][+-]?[0-9]{1,4})?")
_MAX_MAGNITUDE = 300  # decimal exponent beyond which a float cannot hold the value
# http://hl7.org/fhir/R4/datatypes.html#id and #string (resource type names).
_ID = re.compile(r"[A-Za-z0-9\-.]{1,64}")
_TYPE = re.compile(r"[A-Z][A-Za-z]{0,63}")
_SCHEME = re.compile(r"[A-Za-z][A-Za-z0-9+.\-]*:.*", re.DOTALL)

#: Composite component types guessed from the component code when the registry cannot say.
_COMPONENT_TYPES = {
    "code": "token",
    "type": "token",
    "characteristic": "token",
    "chromosome": "token",
    "referenceseqid": "token",
    "relation": "token",
    "relatesto": "reference",
    "concept": "token",
    "context": "token",
    "value": "token",
    "quantity": "quantity",
    "date": "date",
    "string": "string",
    "start": "number",
    "end": "number",
}


@dataclass(frozen=True)
class ValueSpec:
    """What a value is parsed against: the parameter, its type and the modifier used."""

    code: str
    param_type: str
    modifier: str | None
    param: SearchParamDef | None
    registry: SearchParamRegistry


def split_unescaped(text: str, separator: str) -> list[str]:
    """Split on ``separator`` where not preceded by ``\\``; escapes are kept in the parts."""
    parts: list[str] = []
    current: list[str] = []
    index = 0
    while index < len(text):
        char = text[index]
        if char == "\\" and index + 1 < len(text):
            current.append(text[index : index + 2])
            index += 2
            continue
        if char == separator:
            parts.append("".join(current))
            current = []
        else:
            current.append(char)
        index += 1
    parts.append("".join(current))
    return parts


def unescape(text: str) -> str:
    """Remove the ``\\`` before an escaped ``,`` ``$`` ``|`` or ``\\`` (search.html#escaping)."""
    return _ESCAPE.sub(r"\1", text)


def split_prefix(text: str) -> tuple[str, str]:
    """``gt2020`` → (``gt``, ``2020``); no prefix means ``eq`` (search.html#prefix)."""
    if text[:2] in PREFIXES:
        return text[:2], text[2:]
    return "eq", text


def number_range(text: str) -> tuple[float, float, float]:
    """The value and the [low, high) range its significant figures imply (search.html#number).

    ``100`` → (100, 99.5, 100.5); ``100.00`` → (100, 99.995, 100.005); ``1e2`` has one
    significant figure → (100, 50, 150).
    """
    if not _NUMBER.fullmatch(text):
        raise InvalidError("expected a number such as 100, -2.5 or 1e2")
    number = Decimal(text)
    exponent = number.as_tuple().exponent
    assert isinstance(exponent, int)  # finite by the pattern above
    if number and abs(number.adjusted()) > _MAX_MAGNITUDE:
        raise InvalidError("the number is out of range")
    half = Decimal(5).scaleb(max(exponent, -2 * _MAX_MAGNITUDE) - 1)
    low, value, high = float(number - half), float(number), float(number + half)
    if not all(math.isfinite(x) for x in (low, value, high)):
        raise InvalidError("the number is out of range")
    return value, low, high


def parse_value(text: str, spec: ValueSpec) -> SearchValue:
    """Parse one OR-ed value (still escaped) of a parameter; raises InvalidError when malformed."""
    if spec.code == "_id":
        # Resource ids cannot hold '|', so _id takes the whole value as the code.
        return TokenValue(None, unescape(text))
    parser = _PARSERS.get(spec.param_type)
    if parser is None:
        raise NotSupportedError(f"Search parameters of type '{spec.param_type}' are not supported")
    return cast(SearchValue, parser(text, spec))


def _string(text: str, spec: ValueSpec) -> StringValue:
    raw = unescape(text)
    return StringValue(raw, normalize(raw))


def _plain_token(text: str) -> TokenValue:
    # search.html#token: [system]|[code], |[code], [system]| or [code].
    parts = split_unescaped(text, "|")
    if len(parts) == 1:
        return TokenValue(None, unescape(parts[0]))
    if len(parts) > 2:
        raise InvalidError("expected [system]|[code] with a single unescaped '|'")
    system, code = unescape(parts[0]), unescape(parts[1])
    if not system and not code:
        raise InvalidError("expected a system or a code around '|'")
    return TokenValue(system, code or None)


def _of_type(text: str) -> CompositeValue:
    # search.html#token :of-type: [type-system]|[type-code]|[identifier value]; the identifier
    # type goes in ``first`` and the identifier value in ``second``.
    parts = [unescape(p) for p in split_unescaped(text, "|")]
    if len(parts) != 3 or not all(parts):
        raise InvalidError("expected [type system]|[type code]|[identifier value]")
    return CompositeValue(TokenValue(parts[0], parts[1]), TokenValue(None, parts[2]))


def _token(text: str, spec: ValueSpec) -> StringValue | TokenValue | CompositeValue:
    if spec.modifier == "text":
        return _string(text, spec)
    if spec.modifier == "of-type":
        return _of_type(text)
    return _plain_token(text)


def _absolute_reference(url: str) -> ReferenceValue:
    # search.html#reference: an absolute URL; the type and id come from its ".../Type/id" tail.
    segments = url.rstrip("/").split("/")
    if len(segments) >= 4 and _TYPE.fullmatch(segments[-2]) and _ID.fullmatch(segments[-1]):
        return ReferenceValue(segments[-2], segments[-1], url)
    return ReferenceValue(None, None, url)


def _relative_reference(value: str, targets: tuple[str, ...]) -> ReferenceValue:
    kind, slash, ident = value.partition("/")
    if not slash:
        if not _ID.fullmatch(value):
            raise InvalidError("expected [type]/[id], an id or an absolute URL")
        return ReferenceValue(None, value)
    if not _TYPE.fullmatch(kind) or not _ID.fullmatch(ident):
        raise InvalidError("expected [type]/[id], an id or an absolute URL")
    if targets and kind not in targets:
        raise InvalidError(f"{kind} is not a target type (expected one of {', '.join(targets)})")
    return ReferenceValue(kind, ident)


def _reference(text: str, spec: ValueSpec) -> ReferenceValue:
    value = unescape(text)
    targets = spec.param.target if spec.param else ()
    if _SCHEME.fullmatch(value):
        reference = _absolute_reference(value)
    else:
        reference = _relative_reference(value, targets)
    wanted = spec.modifier  # the only modifier that reaches here is a resource type
    if wanted is None:
        return reference
    # search.html#reference: subject:Patient=23 is subject=Patient/23.
    if reference.target_type not in (None, wanted):
        raise InvalidError(f"the reference is to a {reference.target_type}, not a {wanted}")
    if reference.url is None:
        return ReferenceValue(wanted, reference.target_id)
    return reference


def _date(text: str, spec: ValueSpec) -> DateValue:
    prefix, rest = split_prefix(unescape(text))
    if not rest.isascii():
        raise InvalidError(f"'{rest}' is not a valid date")
    try:
        low, high = parse_date_range(rest)
    except (OverflowError, ValueError):
        raise InvalidError(f"'{rest}' is out of the supported date range") from None
    return DateValue(prefix, low, high)


def _number(text: str, spec: ValueSpec) -> NumberValue:
    prefix, rest = split_prefix(unescape(text))
    value, low, high = number_range(rest)
    return NumberValue(prefix, value, low, high)


def _quantity(text: str, spec: ValueSpec) -> QuantityValue:
    # search.html#quantity: [prefix][number]|[system]|[code], [number]||[code] or [number].
    parts = split_unescaped(text, "|")
    if len(parts) not in (1, 3):
        raise InvalidError("expected [prefix][number]|[system]|[code]")
    prefix, rest = split_prefix(unescape(parts[0]))
    value, low, high = number_range(rest)
    if len(parts) == 1:
        return QuantityValue(prefix, value, low, high, None, None)
    system, code = unescape(parts[1]) or None, unescape(parts[2]) or None
    return QuantityValue(prefix, value, low, high, system, code)


def _uri(text: str, spec: ValueSpec) -> UriValue:
    return UriValue(unescape(text))


def component_types(param: SearchParamDef, registry: SearchParamRegistry) -> tuple[str, ...]:
    """The parameter type of each component of a composite parameter (search.html#composite)."""
    found: list[str] = []
    for index, component in enumerate(param.component):
        definition = registry.by_url(component.definition) if component.definition else None
        guess = _COMPONENT_TYPES.get(component.code) or _guess(param.code, index)
        found.append(definition.type if definition else guess)
    return tuple(found)


def _guess(code: str, index: int) -> str:
    # R4 composites start with a token; the rest is named by the code's suffix:
    # Observation code-value-quantity → quantity, combo-code-value-concept → token, ...
    if index == 0:
        return "token"
    suffix = code.rsplit("-", 1)[-1]
    return {"concept": "token", "value": "token"}.get(suffix, suffix)


def _composite(text: str, spec: ValueSpec) -> CompositeValue:
    assert spec.param is not None
    types = component_types(spec.param, spec.registry)
    if len(types) != 2 or types[0] != "token" or types[1] not in _COMPONENT_PARSERS:
        raise NotSupportedError(f"The composite search parameter '{spec.code}' is not supported")
    parts = split_unescaped(text, "$")
    if len(parts) != 2 or not parts[0] or not parts[1]:
        raise InvalidError("expected [token]$[value]")
    inner = ValueSpec("", types[1], None, None, spec.registry)
    second = _COMPONENT_PARSERS[types[1]](parts[1], inner)
    return CompositeValue(_plain_token(parts[0]), cast(SimpleValue, second))


# Typed as returning ``object``: search_request's SimpleValue alias is assigned twice, which
# mypy reads as its first half only; parse_value casts back to SearchValue.
_PARSERS: dict[str, Callable[[str, ValueSpec], object]] = {
    "string": _string,
    "text": _string,
    "token": _token,
    "reference": _reference,
    "date": _date,
    "number": _number,
    "quantity": _quantity,
    "uri": _uri,
    "composite": _composite,
}

#: The types a composite's second component may have (modifiers never apply to it).
_COMPONENT_PARSERS = {k: v for k, v in _PARSERS.items() if k not in ("composite", "text")}


def is_searchable(param: SearchParamDef, registry: SearchParamRegistry) -> bool:
    """True when searches on ``param`` are answered (the CapabilityStatement lists only these)."""
    if param.type == "special":
        return False
    if param.type != "composite":
        return True
    types = component_types(param, registry)
    return len(types) == 2 and types[0] == "token" and types[1] in _COMPONENT_PARSERS
