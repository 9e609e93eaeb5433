"""A parsed FHIR search: what ``fhir.search_parser`` produces and ``store`` compiles to SQL.

http://hl7.org/fhir/R4/search.html. Criteria are AND-ed; the values of one criterion are OR-ed.
Dates and numbers carry the implicit range of their precision, so the store only compares
ranges (http://hl7.org/fhir/R4/search.html#prefix).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from chartkeeper.core.errors import Issue
from chartkeeper.fhir.searchparams import SearchParamDef
from chartkeeper.fhir.visibility import Visibility


@dataclass(frozen=True)
class StringValue:
    """A string search value; ``normalized`` is folded like the index (lower, no accents)."""

    raw: str
    normalized: str


@dataclass(frozen=True)
class TokenValue:
    """``[system]|[code]``, ``|code`` (no system), ``system|`` (any code) or ``code``.

    ``system`` is None when not given, ``""`` when explicitly empty (``|code``).
    ``code`` is None for ``system|``.
    """

    system: str | None
    code: str | None


@dataclass(frozen=True)
class ReferenceValue:
    """``Type/id``, a bare ``id`` (type None), or an absolute ``url``."""

    target_type: str | None
    target_id: str | None
    url: str | None = None


@dataclass(frozen=True)
class DateValue:
    """A date with its prefix; [low, high] is the inclusive range its precision covers."""

    prefix: str  # eq ne gt lt ge le sa eb ap
    low: int  # epoch microseconds UTC
    high: int


@dataclass(frozen=True)
class NumberValue:
    """A number with its prefix; [low, high) is the range its significant figures imply."""

    prefix: str
    value: float
    low: float
    high: float


@dataclass(frozen=True)
class QuantityValue:
    """``[prefix]number|system|code``; system/code None when not given."""

    prefix: str
    value: float
    low: float
    high: float
    system: str | None
    code: str | None


@dataclass(frozen=True)
class UriValue:
    """A uri search value."""

    value: str


SimpleValue = (
    StringValue | TokenValue | ReferenceValue | DateValue | NumberValue | QuantityValue | UriValue
)


@dataclass(frozen=True)
class CompositeValue:
    """``token$second`` for the composite parameters (all R4 composites begin with a token)."""

    first: TokenValue
    second: SimpleValue


SearchValue = SimpleValue | CompositeValue


@dataclass
class Criterion:
    """One ``name[:modifier]=v1,v2`` (OR-ed values), possibly chained or reverse-chained.

    - ``missing`` is set for ``:missing=true|false`` (then ``values`` is empty).
    - ``chain`` is set for ``subject:Patient.name=x``: the criterion on the target type, with
      ``chain_types`` the possible target types.
    - ``has`` is set for ``_has:Observation:patient:code=x``: the criterion on the referring
      type, ``has_type`` that type and ``has_param`` the referring reference parameter.
    - ``param`` is None for the special parameters ``_id``, ``_lastUpdated``, ``_text``,
      ``_content`` and ``_has`` whose meaning is the name itself.
    """

    name: str
    param_type: str
    param: SearchParamDef | None
    modifier: str | None = None
    values: list[SearchValue] = field(default_factory=list)
    missing: bool | None = None
    chain: Criterion | None = None
    chain_types: tuple[str, ...] = ()
    has: Criterion | None = None
    has_type: str | None = None
    has_param: str | None = None


@dataclass(frozen=True)
class SortKey:
    """One ``_sort`` key: a parameter name (``_id``, ``_lastUpdated`` allowed), descending?"""

    name: str
    descending: bool
    param: SearchParamDef | None


@dataclass(frozen=True)
class Include:
    """``_include=Source:param[:Target]`` or ``_revinclude``; ``iterate`` for ``:iterate``."""

    source_type: str
    param: str
    target_type: str | None
    iterate: bool = False


@dataclass
class SearchRequest:
    """Everything a search asked for; ``warnings`` lists ignored unknown parameters."""

    resource_type: str | None  # None for a whole-system search
    criteria: list[Criterion] = field(default_factory=list)
    count: int | None = None
    offset: int = 0
    sort: list[SortKey] = field(default_factory=list)
    include: list[Include] = field(default_factory=list)
    revinclude: list[Include] = field(default_factory=list)
    summary: str | None = None  # true, count, data, text, false
    elements: list[str] = field(default_factory=list)
    total: str | None = None  # none, estimate, accurate
    types: list[str] = field(default_factory=list)  # _type on a system search
    #: keyset page cursor: the sort values and id of the last match of the previous page
    cursor: list[Any] | None = None
    #: what the caller may see (set by the access-control layer, never from the query)
    visibility: Visibility | None = None
    warnings: list[Issue] = field(default_factory=list)
