"""SQL conditions for one search value against one index table, by parameter type.

Dates compare ranges with the prefix semantics of http://hl7.org/fhir/R4/search.html#prefix;
numbers and quantities use the implicit precision range of the search value.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, and_, false, literal, not_, or_

from chartkeeper.fhir.search_request import (
    CompositeValue,
    DateValue,
    NumberValue,
    QuantityValue,
    ReferenceValue,
    StringValue,
    TokenValue,
    UriValue,
)
from chartkeeper.store import schema

TABLE_BY_TYPE: dict[str, Any] = {
    "string": schema.idx_string,
    "token": schema.idx_token,
    "date": schema.idx_date,
    "reference": schema.idx_reference,
    "number": schema.idx_number,
    "quantity": schema.idx_quantity,
    "uri": schema.idx_uri,
    "composite": schema.idx_composite,
}

DAY_MICROS = 86_400_000_000

#: Indexed text columns keep at most this many UTF-8 bytes. PostgreSQL refuses a B-tree index
#: row over ~2.7 kB, and a 12,000-character valueString is valid FHIR; two bounded columns plus
#: type and parameter names stay under that. Both stores bound alike, so they answer alike.
INDEXED_BYTES = 1000


def bounded(text: str | None) -> str | None:
    """``text`` cut to ``INDEXED_BYTES`` of UTF-8 at a character boundary (as indexed)."""
    if text is None or len(text) * 4 <= INDEXED_BYTES:
        return text  # the common case: short enough whatever its characters
    encoded = text.encode("utf-8")
    if len(encoded) <= INDEXED_BYTES:
        return text
    return encoded[:INDEXED_BYTES].decode("utf-8", errors="ignore")


def _like_escape(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")


def string_condition(table: Any, modifier: str | None, value: StringValue) -> ColumnElement[bool]:
    """Starts-with by default; ``:exact`` and ``:contains`` as the spec defines them."""
    if modifier == "exact":
        return table.c.exact == value.raw  # type: ignore[no-any-return]
    pattern = _like_escape(bounded(value.normalized) or "")
    if modifier == "contains":
        return table.c.value.like(f"%{pattern}%", escape="\\")  # type: ignore[no-any-return]
    return table.c.value.like(f"{pattern}%", escape="\\")  # type: ignore[no-any-return]


def token_condition(
    table: Any, modifier: str | None, value: TokenValue | StringValue
) -> ColumnElement[bool]:
    """``system|code`` forms, plus ``:text`` on the display text."""
    if modifier == "text" or isinstance(value, StringValue):
        text = value.normalized if isinstance(value, StringValue) else (value.code or "")
        pattern = _like_escape(text.lower())
        return table.c.text.like(f"%{pattern}%", escape="\\")  # type: ignore[no-any-return]
    parts: list[ColumnElement[bool]] = []
    if value.code is not None:
        parts.append(table.c.code == bounded(value.code))
    if value.system == "":
        parts.append(table.c.system.is_(None))
    elif value.system is not None:
        parts.append(table.c.system == bounded(value.system))
    return and_(*parts) if parts else false()


def reference_condition(table: Any, value: ReferenceValue) -> ColumnElement[bool]:
    """``Type/id``, bare id or absolute url."""
    parts: list[ColumnElement[bool]] = []
    if value.target_id is not None:
        parts.append(table.c.target_id == value.target_id)
        if value.target_type is not None:
            parts.append(table.c.target_type == value.target_type)
        return and_(*parts)
    if value.url is not None:
        return table.c.url == value.url  # type: ignore[no-any-return]
    return false()


def date_condition(low: Any, high: Any, value: DateValue) -> ColumnElement[bool]:
    """Compare the stored range [low, high] with the search range by prefix."""
    contained = and_(low >= value.low, high <= value.high)
    rules: dict[str, ColumnElement[bool]] = {
        "eq": contained,
        "ne": not_(contained),
        "gt": high > value.high,
        "lt": low < value.low,
        "ge": or_(high > value.high, contained),
        "le": or_(low < value.low, contained),
        "sa": low > value.high,
        "eb": high < value.low,
    }
    if value.prefix == "ap":
        margin = max(DAY_MICROS, (value.high - value.low) // 10)
        return and_(low <= value.high + margin, high >= value.low - margin)
    return rules[value.prefix]


def number_condition(column: Any, value: NumberValue | QuantityValue) -> ColumnElement[bool]:
    """Numbers: ``eq`` means within the precision range of the search value."""
    in_range = and_(column >= value.low, column < value.high)
    rules: dict[str, ColumnElement[bool]] = {
        "eq": in_range,
        "ne": not_(in_range),
        "gt": column > value.value,
        "lt": column < value.value,
        "ge": column >= value.value,
        "le": column <= value.value,
        "sa": column > value.value,
        "eb": column < value.value,
    }
    if value.prefix == "ap":
        margin = abs(value.value) * 0.1
        return and_(column >= value.value - margin, column <= value.value + margin)
    return rules[value.prefix]


def quantity_condition(table: Any, value: QuantityValue) -> ColumnElement[bool]:
    """A number condition plus the unit: ``code`` matches the code, or the unit when no
    system is given (http://hl7.org/fhir/R4/search.html#quantity)."""
    parts = [number_condition(table.c.value, value)]
    if value.system:
        parts.append(table.c.system == value.system)
    if value.code:
        if value.system:
            parts.append(table.c.code == value.code)
        else:
            parts.append(or_(table.c.code == value.code, table.c.unit == value.code))
    return and_(*parts)


def uri_condition(table: Any, modifier: str | None, value: UriValue) -> ColumnElement[bool]:
    """Exact match, or ``:below``/``:above`` on the path."""
    text = bounded(value.value) or ""
    if modifier == "below":
        return table.c.value.like(f"{_like_escape(text)}%", escape="\\")  # type: ignore[no-any-return]
    if modifier == "above":
        return literal(text).like(table.c.value + "%")
    return table.c.value == text  # type: ignore[no-any-return]


def value_condition(
    table: Any, param_type: str, modifier: str | None, value: Any
) -> ColumnElement[bool]:
    """The condition for ``value`` of a parameter of ``param_type``."""
    if param_type == "string":
        return string_condition(table, modifier, value)
    if param_type == "token":
        return token_condition(table, modifier, value)
    if param_type == "reference":
        return reference_condition(table, value)
    if param_type == "date":
        return date_condition(table.c.low, table.c.high, value)
    if param_type == "number":
        return number_condition(table.c.value, value)
    if param_type == "quantity":
        return quantity_condition(table, value)
    if param_type == "uri":
        return uri_condition(table, modifier, value)
    return false()


def composite_condition(table: Any, value: CompositeValue) -> ColumnElement[bool]:
    """The token first component, and the second by its type."""
    first = token_condition(table, None, value.first)
    second = value.second
    if isinstance(second, QuantityValue):
        parts = [number_condition(table.c.quantity_value, second)]
        if second.system:
            parts.append(table.c.quantity_system == second.system)
        if second.code:
            parts.append(table.c.quantity_code == second.code)
        return and_(first, *parts)
    if isinstance(second, TokenValue):
        parts = []
        if second.code is not None:
            parts.append(table.c.token_code == second.code)
        if second.system:
            parts.append(table.c.token_system == second.system)
        return and_(first, *parts)
    if isinstance(second, DateValue):
        return and_(first, date_condition(table.c.date_low, table.c.date_high, second))
    if isinstance(second, StringValue):
        pattern = _like_escape(second.normalized)
        return and_(first, table.c.string_value.like(f"{pattern}%", escape="\\"))
    return false()
