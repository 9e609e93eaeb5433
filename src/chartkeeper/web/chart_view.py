"""Shape a patient's record into the sections of the workbench chart page."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass, field
from typing import Any

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


def concept_text(concept: Any) -> str:
    """The human text of a CodeableConcept."""
    if not isinstance(concept, dict):
        return ""
    if concept.get("text"):
        return str(concept["text"])
    for coding in concept.get("coding") or []:
        if coding.get("display"):
            return str(coding["display"])
        if coding.get("code"):
            return str(coding["code"])
    return ""


def human_name(patient: dict[str, Any]) -> str:
    """'Family, Given' of the first name."""
    names = patient.get("name") or [{}]
    name = names[0]
    if name.get("text"):
        return str(name["text"])
    given = " ".join(name.get("given") or [])
    family = name.get("family") or ""
    return f"{family}, {given}".strip(", ")


def _date(resource: dict[str, Any], *keys: str) -> str:
    for key in keys:
        value = resource.get(key)
        if isinstance(value, str):
            return value[:10]
        if isinstance(value, dict) and isinstance(value.get("start"), str):
            return str(value["start"])[:10]
    return ""


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
        attachment = content.get("attachment") or {}
        if attachment.get("data") and str(attachment.get("contentType", "")).startswith("text"):
            try:
                return base64.b64decode(attachment["data"]).decode("utf-8", errors="replace")
            except (binascii.Error, ValueError):
                return ""
    return ""


def item_for(resource: dict[str, Any]) -> Item:
    """The chart line of one resource."""
    kind = resource["resourceType"]
    reference = f"{kind}/{resource['id']}"
    if kind == "AllergyIntolerance":
        reactions = [
            concept_text(m)
            for r in resource.get("reaction") or []
            for m in r.get("manifestation") or []
        ]
        return Item(
            reference,
            concept_text(resource.get("code")),
            _date(resource, "recordedDate"),
            concept_text(resource.get("clinicalStatus")),
            ", ".join(reactions),
            str(resource.get("criticality", "")),
        )
    if kind == "Condition":
        return Item(
            reference,
            concept_text(resource.get("code")),
            _date(resource, "onsetDateTime", "recordedDate"),
            concept_text(resource.get("clinicalStatus")),
        )
    if kind in ("MedicationRequest", "MedicationStatement"):
        dosage = (resource.get("dosageInstruction") or resource.get("dosage") or [{}])[0]
        return Item(
            reference,
            concept_text(resource.get("medicationCodeableConcept")),
            _date(resource, "authoredOn", "effectiveDateTime"),
            str(resource.get("status", "")),
            str(dosage.get("text", "")),
        )
    if kind == "Encounter":
        klass = resource.get("class") or {}
        types = ", ".join(concept_text(t) for t in resource.get("type") or [])
        return Item(
            reference,
            types or str(klass.get("display") or klass.get("code", "")),
            _date(resource, "period"),
            str(resource.get("status", "")),
            str(klass.get("code", "")),
        )
    if kind == "Observation":
        return Item(
            reference,
            concept_text(resource.get("code")),
            _date(resource, "effectiveDateTime", "issued", "effectivePeriod"),
            str(resource.get("status", "")),
            _value(resource),
            _flag(resource),
        )
    if kind == "DocumentReference":
        return Item(
            reference,
            concept_text(resource.get("type")),
            _date(resource, "date"),
            str(resource.get("docStatus") or resource.get("status", "")),
            "",
            "Unsigned" if resource.get("docStatus") == "preliminary" else "",
            _note_text(resource),
        )
    if kind == "Immunization":
        return Item(
            reference,
            concept_text(resource.get("vaccineCode")),
            _date(resource, "occurrenceDateTime"),
            str(resource.get("status", "")),
        )
    return Item(
        reference,
        concept_text(resource.get("code")),
        _date(
            resource, "performedDateTime", "performedPeriod", "effectiveDateTime", "issued", "date"
        ),
        str(resource.get("status", "")),
    )


def build_chart(patient: dict[str, Any], resources: list[dict[str, Any]]) -> Chart:
    """Group a patient's resources into chart sections, newest first."""
    chart = Chart(patient=patient, sections={key: [] for key, _, _ in SECTIONS})
    section_of = {t: key for key, _, types in SECTIONS for t in types}
    for resource in resources:
        kind = resource["resourceType"]
        chart.counts[kind] = chart.counts.get(kind, 0) + 1
        if kind in section_of:
            chart.sections[section_of[kind]].append(item_for(resource))
    for items in chart.sections.values():
        items.sort(key=lambda i: i.date, reverse=True)
    return chart
