"""``_summary`` and ``_elements``: trim resources in search results.

http://hl7.org/fhir/R4/search.html#summary — we implement ``text`` (text, id, meta and the
top-level mandatory elements we know of), ``data`` (without text), ``true`` (an approximation
of the summary elements: without text, contained and large narrative-like elements) and
``_elements`` (the named top-level elements plus id, meta and resourceType).
"""

from __future__ import annotations

from functools import cache
from typing import Any

from fhir.resources.R4B import get_fhir_model_class

ALWAYS = ("resourceType", "id", "meta")
SUBSETTED = {
    "system": "http://terminology.hl7.org/CodeSystem/v3-ObservationValue",
    "code": "SUBSETTED",
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
        keep = {*ALWAYS, *summary_elements(str(resource.get("resourceType")))}
        return _mark({k: v for k, v in resource.items() if k in keep})
    keep = {*ALWAYS, *elements}
    return _mark({k: v for k, v in resource.items() if k in keep})


@cache
def summary_elements(resource_type: str) -> frozenset[str]:
    """The top-level JSON keys of ``resource_type`` that are summary elements."""
    try:
        model = get_fhir_model_class(resource_type)
    except (KeyError, ValueError, AttributeError):
        return frozenset()
    keys = set()
    for name, field in model.model_fields.items():
        extra = field.json_schema_extra if isinstance(field.json_schema_extra, dict) else {}
        if extra.get("summary_element_property"):
            keys.add(field.alias or name)
    return frozenset(keys)
