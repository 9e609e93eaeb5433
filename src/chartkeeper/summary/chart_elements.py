"""Plain text of FHIR elements for the chart: concepts, names, references, dates and authors.

Every function takes the JSON as stored and tolerates what the spec allows to be absent, so a
sparse record shapes into blanks rather than errors.
"""

from __future__ import annotations

from typing import Any

from chartkeeper.core.errors import InvalidError
from chartkeeper.fhir.dates import parse_date_range

Json = dict[str, Any]

#: Where each type keeps the date the chart shows, in order of preference
#: (http://hl7.org/fhir/R4/resourcelist.html, each resource's "When" elements).
DATE_ELEMENTS: dict[str, tuple[str, ...]] = {
    "AllergyIntolerance": ("recordedDate", "onsetDateTime", "onsetPeriod"),
    "CareTeam": ("period",),
    "Condition": ("recordedDate", "onsetDateTime", "onsetPeriod"),
    "Consent": ("dateTime",),
    "DiagnosticReport": ("effectiveDateTime", "effectivePeriod", "issued"),
    "DocumentReference": ("date",),
    "Encounter": ("period",),
    "Immunization": ("occurrenceDateTime", "recorded"),
    "MedicationRequest": ("authoredOn",),
    "MedicationStatement": ("effectiveDateTime", "effectivePeriod", "dateAsserted"),
    "Observation": ("effectiveDateTime", "effectivePeriod", "effectiveInstant", "issued"),
    "Procedure": ("performedDateTime", "performedPeriod"),
    "ServiceRequest": ("authoredOn", "occurrenceDateTime", "occurrencePeriod"),
    "Task": ("authoredOn", "lastModified"),
}

#: Who stands behind each type's content, in order of preference: the one who asserted or
#: performed it before the one who merely typed it in.
AUTHOR_ELEMENTS: dict[str, tuple[str, ...]] = {
    "AllergyIntolerance": ("asserter", "recorder"),
    "Condition": ("asserter", "recorder"),
    "Consent": ("performer", "organization"),
    "DiagnosticReport": ("resultsInterpreter", "performer"),
    "DocumentReference": ("author", "authenticator", "custodian"),
    "Composition": ("author",),
    "Encounter": ("participant",),
    "Immunization": ("performer",),
    "MedicationRequest": ("requester", "recorder"),
    "MedicationStatement": ("informationSource",),
    "Observation": ("performer",),
    "Procedure": ("performer", "recorder", "asserter"),
    "ServiceRequest": ("requester",),
    "Task": ("requester", "owner"),
}


#: The referred-to types whose ``name`` says who authored or performed something.
NAMED_TYPES = ("Organization", "CareTeam", "Location", "HealthcareService")
#: Everything ``display_names`` reads: no patient's resources, only the people and places.
AUTHOR_TYPES = ("Practitioner", *NAMED_TYPES)


def concept_text(concept: Any) -> str:
    """The human text of a CodeableConcept (or of a bare Coding): its ``text``, else the first
    display of any coding, else the first code."""
    if not isinstance(concept, dict):
        return ""
    if isinstance(concept.get("text"), str) and concept["text"]:
        return str(concept["text"])
    codings = dicts(concept.get("coding")) if "coding" in concept else [concept]
    for key in ("display", "code"):
        for coding in codings:
            value = coding.get(key)
            if isinstance(value, str) and value:
                return value
    return ""


def dicts(value: Any) -> list[Json]:
    """The objects of a JSON array (anything else in it, or a non-array, is skipped)."""
    return [item for item in value if isinstance(item, dict)] if isinstance(value, list) else []


def strings(value: Any) -> list[str]:
    """The strings of a JSON array (a given name may be null beside its extension)."""
    return [item for item in value if isinstance(item, str)] if isinstance(value, list) else []


def code_of(resource: Json, element: str) -> str:
    """A ``code`` element's value ('' when absent or not a string)."""
    value = resource.get(element)
    return value if isinstance(value, str) else ""


def codes(concept: Any) -> set[str]:
    """The codes of a CodeableConcept, whatever their system."""
    if not isinstance(concept, dict):
        return set()
    return {str(c["code"]) for c in dicts(concept.get("coding")) if isinstance(c.get("code"), str)}


def any_codes(concepts: Any) -> set[str]:
    """The codes of a list of CodeableConcepts."""
    return {code for concept in _list(concepts) for code in codes(concept)}


def human_name(patient: Json) -> str:
    """'Family, Given' of the first name."""
    name = (dicts(patient.get("name")) or [{}])[0]
    if name.get("text"):
        return str(name["text"])
    # a given name may be null when only its extension is there ("_given": [{...}])
    given = " ".join(strings(name.get("given")))
    family = name.get("family") or ""
    return f"{family}, {given}".strip(", ")


def local_reference(reference: Any) -> str:
    """``Type/id`` of a Reference, relative or absolute (version and base dropped)."""
    text = reference.get("reference") if isinstance(reference, dict) else None
    if not isinstance(text, str) or text.startswith(("#", "urn:")):
        return ""
    parts = text.split("/_history/")[0].rstrip("/").split("/")
    return "/".join(parts[-2:]) if len(parts) >= 2 else ""


def references(value: Any) -> set[str]:
    """The ``Type/id`` of one Reference or a list of them."""
    return {ref for item in _list(value) if (ref := local_reference(item))}


def when(resource: Json, *keys: str) -> str:
    """The first of ``keys`` that holds a date, as written (a date, dateTime or instant, or a
    Period's start); "" when none does."""
    for key in keys:
        value = resource.get(key)
        if isinstance(value, str):
            return value
        if isinstance(value, dict) and isinstance(value.get("start"), str):
            return str(value["start"])
    return ""


def date_of(resource: Json) -> str:
    """The date the chart shows for a resource (as written: date, dateTime or instant)."""
    return when(resource, *DATE_ELEMENTS.get(str(resource.get("resourceType")), ("date",)))


def instant(date: str) -> int:
    """Epoch microseconds of a FHIR date, for sorting (unknown or invalid dates sort first)."""
    if not date:
        return -(2**62)
    try:
        return parse_date_range(date)[0]
    except InvalidError:
        return -(2**62)


def _list(value: Any) -> list[Any]:
    if isinstance(value, list):
        return value
    return [value] if value is not None else []


def _party(value: Any, names: dict[str, str]) -> str:
    """The display of one author-ish element: a Reference, or a backbone holding one."""
    if not isinstance(value, dict):
        return ""
    for inner in ("actor", "individual", "member"):  # performer.actor, participant.individual
        if isinstance(value.get(inner), dict):
            return _party(value[inner], names)
    if isinstance(value.get("display"), str) and value["display"]:
        return str(value["display"])
    ref = local_reference(value)
    return names.get(ref, ref)


def author_of(resource: Json, names: dict[str, str] | None = None) -> str:
    """Who wrote, asserted or performed a resource: a Reference's display, else the name of
    the resource it points to (``names``), else the reference itself."""
    known = names or {}
    keys = AUTHOR_ELEMENTS.get(str(resource.get("resourceType")), ("author", "performer"))
    for key in keys:
        values = _list(resource.get(key))
        if key == "participant":  # the attender of an Encounter before anyone else there
            values = sorted(values, key=lambda p: "ATND" not in any_codes(_type_of(p)))
        for value in values:
            found = _party(value, known)
            if found:
                return found
    return ""


def _type_of(participant: Any) -> Any:
    return participant.get("type") if isinstance(participant, dict) else None


def quantity_text(element: Json) -> str:
    """The value of an Observation (or component) as text: '7.2 mmol/L', 'Positive'..."""
    quantity = element.get("valueQuantity")
    if isinstance(quantity, dict) and "value" in quantity:
        return f"{quantity['value']} {quantity.get('unit') or quantity.get('code') or ''}".strip()
    if element.get("valueCodeableConcept"):
        return concept_text(element["valueCodeableConcept"])
    for key in ("valueString", "valueBoolean", "valueInteger"):
        if key in element and not isinstance(element[key], dict | list):
            return str(element[key])
    return ""


def display_names(resources: list[Json]) -> dict[str, str]:
    """``Type/id`` → name of the practitioners and organizations a record refers to."""
    found: dict[str, str] = {}
    for resource in resources:
        kind = resource.get("resourceType")
        if kind == "Practitioner":
            name = _person_name(resource)
        elif kind in NAMED_TYPES:
            name = str(resource.get("name") or "")
        else:
            continue
        if name:
            found[f"{kind}/{resource.get('id')}"] = name
    return found


def _person_name(resource: Json) -> str:
    name = (dicts(resource.get("name")) or [{}])[0]
    if name.get("text"):
        return str(name["text"])
    given = " ".join(strings(name.get("given")))
    prefix = " ".join(strings(name.get("prefix")))
    return " ".join(p for p in (prefix, given, name.get("family") or "") if p)
