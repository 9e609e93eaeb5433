"""The full sections of the workbench chart page: every resource of the record, by kind,
newest first (the clinician summary above them is ``summary.clinician``)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from chartkeeper.fhir.indexing import attachment_text
from chartkeeper.summary.chart_elements import concept_text, when
from chartkeeper.summary.clinician_orders import is_code_status

SECTIONS = (
    ("allergies", "Allergies", ("AllergyIntolerance",)),
    ("problems", "Problems", ("Condition",)),
    ("medications", "Medications", ("MedicationRequest", "MedicationStatement")),
    ("encounters", "Encounters", ("Encounter",)),
    ("results", "Results", ("Observation", "DiagnosticReport")),
    ("notes", "Notes", ("DocumentReference", "Composition")),
    ("immunizations", "Immunizations", ("Immunization",)),
    ("procedures", "Procedures", ("Procedure",)),
)


@dataclass
class Item:
    """One line of a chart section, linked to its source resource."""

    reference: str
    title: str
    date: str = ""
    status: str = ""
    detail: str = ""
    flag: str = ""
    body: str = ""


@dataclass
class Chart:
    """The sections of one patient's chart, plus counts by type."""

    patient: dict[str, Any]
    sections: dict[str, list[Item]] = field(default_factory=dict)
    counts: dict[str, int] = field(default_factory=dict)
    code_status: Item | None = None


def _date(resource: dict[str, Any], *keys: str) -> str:
    return when(resource, *keys)[:10]


def _value(observation: dict[str, Any]) -> str:
    quantity = observation.get("valueQuantity")
    if isinstance(quantity, dict) and "value" in quantity:
        return f"{quantity['value']} {quantity.get('unit', '')}".strip()
    if observation.get("valueCodeableConcept"):
        return concept_text(observation["valueCodeableConcept"])
    if observation.get("valueString"):
        return str(observation["valueString"])
    parts = [
        f"{concept_text(c.get('code'))} {_value(c)}" for c in observation.get("component") or []
    ]
    return "; ".join(p for p in parts if p.strip())


def _flag(observation: dict[str, Any]) -> str:
    for concept in observation.get("interpretation") or []:
        for coding in concept.get("coding") or []:
            code = coding.get("code")
            if code in ("H", "HH", "L", "LL", "A", "AA"):
                return {"H": "High", "HH": "Critical high", "L": "Low", "LL": "Critical low"}.get(
                    code, "Abnormal"
                )
    return ""


def _note_text(document: dict[str, Any]) -> str:
    for content in document.get("content") or []:
        text = attachment_text(content.get("attachment") or {})
        if text:
            return text
    return ""


def _allergy(resource: dict[str, Any], reference: str) -> Item:
    reactions = [
        concept_text(m)
        for r in resource.get("reaction") or []
        for m in r.get("manifestation") or []
    ]
    critical = resource.get("criticality") == "high"
    return Item(
        reference,
        concept_text(resource.get("code")),
        _date(resource, "recordedDate"),
        concept_text(resource.get("clinicalStatus")),
        ", ".join(reactions),
        "High criticality" if critical else "",
    )


def _condition(resource: dict[str, Any], reference: str) -> Item:
    return Item(
        reference,
        concept_text(resource.get("code")),
        _date(resource, "onsetDateTime", "recordedDate"),
        concept_text(resource.get("clinicalStatus")),
    )


def _medication(resource: dict[str, Any], reference: str) -> Item:
    dosage = (resource.get("dosageInstruction") or resource.get("dosage") or [{}])[0]
    return Item(
        reference,
        concept_text(resource.get("medicationCodeableConcept")),
        _date(resource, "authoredOn", "effectiveDateTime"),
        str(resource.get("status", "")),
        str(dosage.get("text", "")),
    )


def _encounter(resource: dict[str, Any], reference: str) -> Item:
    klass = resource.get("class") or {}
    types = ", ".join(concept_text(t) for t in resource.get("type") or [])
    return Item(
        reference,
        types or str(klass.get("display") or klass.get("code", "")),
        _date(resource, "period"),
        str(resource.get("status", "")),
        str(klass.get("code", "")),
    )


def _observation(resource: dict[str, Any], reference: str) -> Item:
    return Item(
        reference,
        concept_text(resource.get("code")),
        _date(resource, "effectiveDateTime", "issued", "effectivePeriod"),
        str(resource.get("status", "")),
        _value(resource),
        _flag(resource),
    )


def _document(resource: dict[str, Any], reference: str) -> Item:
    unsigned = resource.get("docStatus") == "preliminary"
    return Item(
        reference,
        concept_text(resource.get("type")),
        _date(resource, "date"),
        str(resource.get("docStatus") or resource.get("status", "")),
        "",
        "Unsigned" if unsigned else "",
        _note_text(resource),
    )


def _immunization(resource: dict[str, Any], reference: str) -> Item:
    return Item(
        reference,
        concept_text(resource.get("vaccineCode")),
        _date(resource, "occurrenceDateTime"),
        str(resource.get("status", "")),
    )


def _other(resource: dict[str, Any], reference: str) -> Item:
    when = _date(
        resource, "performedDateTime", "performedPeriod", "effectiveDateTime", "issued", "date"
    )
    return Item(
        reference, concept_text(resource.get("code")), when, str(resource.get("status", ""))
    )


ITEM_BUILDERS = {
    "AllergyIntolerance": _allergy,
    "Condition": _condition,
    "MedicationRequest": _medication,
    "MedicationStatement": _medication,
    "Encounter": _encounter,
    "Observation": _observation,
    "DocumentReference": _document,
    "Immunization": _immunization,
}


def item_for(resource: dict[str, Any]) -> Item:
    """The chart line of one resource."""
    kind = resource["resourceType"]
    builder = ITEM_BUILDERS.get(kind, _other)
    return builder(resource, f"{kind}/{resource['id']}")


def build_chart(patient: dict[str, Any], resources: list[dict[str, Any]]) -> Chart:
    """Group a patient's resources into chart sections, newest first."""
    chart = Chart(patient=patient, sections={key: [] for key, _, _ in SECTIONS})
    section_of = {t: key for key, _, types in SECTIONS for t in types}
    for resource in resources:
        kind = resource["resourceType"]
        if is_code_status(resource):
            candidate = item_for(resource)
            if chart.code_status is None or candidate.date > chart.code_status.date:
                chart.code_status = candidate
            continue
        chart.counts[kind] = chart.counts.get(kind, 0) + 1
        if kind in section_of:
            chart.sections[section_of[kind]].append(item_for(resource))
    for items in chart.sections.values():
        items.sort(key=lambda i: i.date, reverse=True)
    return chart
