"""``_summary`` and ``_elements``: trim resources in search results.

http://hl7.org/fhir/R4/search.html#summary — we implement ``text`` (text, id, meta and the
top-level mandatory elements we know of), ``data`` (without text), ``true`` (an approximation
of the summary elements: without text, contained and large narrative-like elements) and
``_elements`` (the named top-level elements plus id, meta and resourceType).
"""

from __future__ import annotations

from typing import Any

ALWAYS = ("resourceType", "id", "meta")
SUBSETTED = {
    "system": "http://terminology.hl7.org/CodeSystem/v3-ObservationValue",
    "code": "SUBSETTED",
}
#: Elements never in the summary view of any resource (not marked isSummary in R4).
NOT_IN_SUMMARY = {
    "text",
    "contained",
    "extension",
    "modifierExtension",
    "note",
    "content",
    "presentedForm",
    "section",
    "data",
}
MANDATORY_FOR_TEXT = ("status", "code", "subject", "patient", "intent", "class", "type")


def _mark(resource: dict[str, Any]) -> dict[str, Any]:
    meta = dict(resource.get("meta") or {})
    meta["tag"] = [*meta.get("tag", []), SUBSETTED]
    resource["meta"] = meta
    return resource


def shape(resource: dict[str, Any], summary: str | None, elements: list[str]) -> dict[str, Any]:
    """The resource as ``_summary``/``_elements`` ask; marked SUBSETTED when trimmed."""
    if summary in (None, "false") and not elements:
        return resource
    if summary == "data":
        return _mark({k: v for k, v in resource.items() if k != "text"})
    if summary == "text":
        keep = {*ALWAYS, "text", *MANDATORY_FOR_TEXT}
        return _mark({k: v for k, v in resource.items() if k in keep})
    if summary == "true":
        return _mark({k: v for k, v in resource.items() if k not in NOT_IN_SUMMARY})
    keep = {*ALWAYS, *elements}
    return _mark({k: v for k, v in resource.items() if k in keep})
