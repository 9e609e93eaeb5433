"""The search-index values of one resource, as the store writes them.

``fhir.indexing`` fills an ``IndexRows`` from a resource using the official R4 SearchParameter
expressions; ``store`` writes one table per datatype from it. Dates are inclusive ranges in
epoch microseconds (UTC), so a search compares ranges as the spec's precision rules require
(http://hl7.org/fhir/R4/search.html#date).
"""

from __future__ import annotations

from dataclasses import dataclass, field

#: Lowest and highest representable instants, used for open period ends.
MIN_MICROS = -(2**62)
MAX_MICROS = 2**62


@dataclass
class CompositeRow:
    """One composite value: a token first component plus one second component."""

    param: str
    system: str | None
    code: str | None
    #: second component, exactly one group filled, by the component's type
    quantity_value: float | None = None
    quantity_system: str | None = None
    quantity_code: str | None = None
    token_system: str | None = None
    token_code: str | None = None
    date_low: int | None = None
    date_high: int | None = None
    string_value: str | None = None


@dataclass
class IndexRows:
    """All index values of one resource, grouped by search-parameter datatype."""

    #: (param, normalized value: lower-case, accents and punctuation folded, exact value)
    strings: list[tuple[str, str, str]] = field(default_factory=list)
    #: (param, system or None, code or None, normalized display text or None)
    tokens: list[tuple[str, str | None, str | None, str | None]] = field(default_factory=list)
    #: (param, low, high) inclusive, epoch microseconds UTC
    dates: list[tuple[str, int, int]] = field(default_factory=list)
    #: (param, target type or None, target id or None, url or None)
    #: local references fill type and id; absolute/other references keep the url too
    references: list[tuple[str, str | None, str | None, str | None]] = field(default_factory=list)
    #: (param, value)
    numbers: list[tuple[str, float]] = field(default_factory=list)
    #: (param, value, system or None, code or None, unit or None)
    quantities: list[tuple[str, float, str | None, str | None, str | None]] = field(
        default_factory=list
    )
    #: (param, uri)
    uris: list[tuple[str, str]] = field(default_factory=list)
    composites: list[CompositeRow] = field(default_factory=list)
    #: narrative text (Resource.text.div stripped of tags), for ``_text``
    narrative: str = ""
    #: all string values of the resource, for ``_content``
    content: str = ""
    #: ids of the Patients whose compartment holds this resource (first is the distribution key)
    patient_ids: list[str] = field(default_factory=list)
