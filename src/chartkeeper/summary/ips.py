"""The International Patient Summary of one patient, as a FHIR document Bundle.

IPS IG R4 (http://hl7.org/fhir/uv/ips/): a Bundle of type ``document`` with an identifier and
a timestamp, whose first entry is a Composition (LOINC 60591-5 "Patient summary Document")
about the Patient, then the Patient, the author (this system, as a Device) and every resource
a section lists. Sections carry generated, escaped XHTML narrative; a required section with
nothing to list says why with ``emptyReason``.

The record is read through the caller's FHIR context, so the guarded repository decides (a
refused or unknown patient is the same 404 as a read) and audits the look; only the types the
sections use are read.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field

from chartkeeper.core.clock import format_instant
from chartkeeper.core.errors import ChartkeeperError
from chartkeeper.fhir.interactions.context import FhirContext
from chartkeeper.fhir.interactions.read import found
from chartkeeper.fhir.repository import ResourceTransaction, StoredResource
from chartkeeper.summary.ips_sections import (
    SECTIONS,
    SUMMARY_TYPES,
    Record,
    Resource,
    SectionSpec,
    prepare,
)
from chartkeeper.summary.narrative import generated, paragraph, table

LOINC = "http://loinc.org"
EMPTY_REASON = "http://terminology.hl7.org/CodeSystem/list-empty-reason"
CONFIDENTIALITY = "http://terminology.hl7.org/CodeSystem/v3-Confidentiality"
#: The author of every summary: this server, as a Device (IPS allows a Device author).
AUTHOR_NAMESPACE = uuid.UUID("6f0c6b1e-4c55-4a8e-9a43-1d0f5a1e2c37")
#: Confidentiality, lowest first; the Composition takes the highest of what it lists.
CONFIDENTIALITY_ORDER = ("N", "R", "V")


@dataclass
class SectionContent:
    """One section as built: its spec, what it lists, and why it is empty when it is."""

    spec: SectionSpec
    resources: list[Resource]
    empty_reason: str | None = None
    empty_text: str = ""


@dataclass
class PatientSummary:
    """What a summary of one patient holds, before it becomes a document or a page."""

    patient: Resource
    sections: list[SectionContent]
    #: resources the listed ones refer to (a report's results, a Medication), by reference
    referenced: dict[str, Resource] = field(default_factory=dict)
    #: other resources read for the emergency view (CareTeam), by type
    extra: dict[str, list[Resource]] = field(default_factory=dict)

    def section(self, key: str) -> SectionContent | None:
        """The section of ``key``, when the summary has it."""
        return next((s for s in self.sections if s.spec.key == key), None)


def read_record(
    ctx: FhirContext, patient_id: str, extra_types: tuple[str, ...] = ()
) -> tuple[Resource, Record, dict[str, Resource]]:
    """The Patient, its compartment's resources of the summary's types, and the Medications
    they refer to, all read through the caller's (guarded, audited) context."""
    with ctx.repository.reading() as tx:
        patient = found("Patient", patient_id, tx.read("Patient", patient_id)).resource()
        record: Record = {}
        for stored in tx.compartment(patient_id, [*SUMMARY_TYPES, *extra_types], None):
            record.setdefault(stored.resource_type, []).append(stored.resource())
        medications = _medications(tx, record)
    return patient, record, medications


def _medications(tx: ResourceTransaction, record: Record) -> dict[str, Resource]:
    """The Medication resources that medication requests and statements name by reference."""
    wanted: set[str] = set()
    for kind in ("MedicationRequest", "MedicationStatement"):
        for resource in record.get(kind, []):
            reference = resource.get("medicationReference")
            target = reference.get("reference") if isinstance(reference, dict) else None
            if isinstance(target, str) and target.startswith("Medication/"):
                wanted.add(target.split("/", 1)[1])
    out: dict[str, Resource] = {}
    tx.prefetch([("Medication", ident) for ident in sorted(wanted)])  # one query, then reads
    for ident in sorted(wanted):
        try:
            stored: StoredResource | None = tx.read("Medication", ident)
        except ChartkeeperError:
            continue  # refused: the request still names the medication by its display
        if stored is not None and not stored.deleted:
            out[f"Medication/{ident}"] = stored.resource()
    return out


def summarise(
    patient: Resource, record: Record, medications: dict[str, Resource] | None = None
) -> PatientSummary:
    """Select each section's content from the record (required sections always, the others
    when they list something)."""
    sections: list[SectionContent] = []
    prepared = prepare(record)
    for spec in SECTIONS:
        selected = spec.select(prepared)
        if selected:
            sections.append(SectionContent(spec, selected))
        elif spec.required:
            sections.append(_empty(spec, record))
    summary = PatientSummary(patient, sections)
    listed = {_key(r) for s in sections for r in s.resources}
    known = {_key(r): r for r in record.get("Observation", [])}
    known.update(medications or {})
    for content in sections:
        for resource in content.resources:
            for reference in _references(resource):
                target = known.get(reference)
                if target is not None and reference not in listed:
                    summary.referenced[reference] = target
    summary.extra = {k: v for k, v in record.items() if k not in SUMMARY_TYPES}
    return summary


def _references(resource: Resource) -> list[str]:
    """What a listed resource refers to that the document should carry: a report's results,
    a medication named by reference."""
    targets = list(resource.get("result") or [])
    if isinstance(resource.get("medicationReference"), dict):
        targets.append(resource["medicationReference"])
    return [
        str(r["reference"])
        for r in targets
        if isinstance(r, dict) and isinstance(r.get("reference"), str)
    ]


#: What a required section lists, in words for its empty-section narrative.
EMPTY_NOUNS = {
    "problems": "problems",
    "medications": "medications",
    "allergies": "allergies or intolerances",
}


def _empty(spec: SectionSpec, record: Record) -> SectionContent:
    """``nilknown`` when the record holds such entries but none current (all resolved,
    stopped...); ``unavailable`` when it holds none at all."""
    noun = EMPTY_NOUNS.get(spec.key, spec.title.lower())
    recorded = sum(len(record.get(kind, [])) for kind in spec.sources)
    if recorded:
        text = f"No current {noun} recorded ({recorded} earlier or inactive)."
        return SectionContent(spec, [], "nilknown", text)
    text = f"No information about {noun} is recorded for this patient."
    return SectionContent(spec, [], "unavailable", text)


def _key(resource: Resource) -> str:
    return f"{resource.get('resourceType')}/{resource.get('id')}"


def author_device(base_url: str) -> Resource:
    """This system as the Device that authors summaries (a stable id per server)."""
    ident = str(uuid.uuid5(AUTHOR_NAMESPACE, base_url))
    return {
        "resourceType": "Device",
        "id": ident,
        "deviceName": [{"name": "chartkeeper", "type": "manufacturer-name"}],
        "type": {"text": "Health information system"},
        "url": base_url,
    }


def _confidentiality(resources: list[Resource]) -> str:
    level = 0
    for resource in resources:
        for label in (resource.get("meta") or {}).get("security") or []:
            if isinstance(label, dict) and label.get("system") == CONFIDENTIALITY:
                code = label.get("code")
                if code in CONFIDENTIALITY_ORDER:
                    level = max(level, CONFIDENTIALITY_ORDER.index(code))
    return CONFIDENTIALITY_ORDER[level]


def _section(content: SectionContent, base_url: str) -> Resource:
    spec = content.spec
    out: Resource = {
        "title": spec.title,
        "code": {"coding": [{"system": LOINC, "code": spec.loinc, "display": spec.display}]},
    }
    if content.resources:
        rows = [spec.row(r) for r in content.resources]
        out["text"] = generated(table(spec.headers, rows))
        out["entry"] = [{"reference": f"{base_url}/{_key(r)}"} for r in content.resources]
    else:
        out["text"] = generated(paragraph(content.empty_text))
        reason = content.empty_reason or "unavailable"
        display = {"nilknown": "Nil Known", "unavailable": "Unavailable"}[reason]
        out["emptyReason"] = {
            "coding": [{"system": EMPTY_REASON, "code": reason, "display": display}]
        }
    return out


def build_document(summary: PatientSummary, base_url: str, now: str) -> Resource:
    """The IPS document Bundle of ``summary``, stamped ``now`` (an instant)."""
    document_id = str(uuid.uuid4())
    author = author_device(base_url)
    listed: dict[str, Resource] = {}
    for content in summary.sections:
        for resource in content.resources:
            listed.setdefault(_key(resource), resource)
    listed.update({k: v for k, v in summary.referenced.items() if k not in listed})
    patient_key = _key(summary.patient)
    composition = {
        "resourceType": "Composition",
        "id": document_id,
        "status": "final",
        "type": {
            "coding": [{"system": LOINC, "code": "60591-5", "display": "Patient summary Document"}]
        },
        "subject": {"reference": f"{base_url}/{patient_key}"},
        "date": now,
        "author": [{"reference": f"urn:uuid:{author['id']}", "display": "chartkeeper"}],
        "title": "International Patient Summary",
        "confidentiality": _confidentiality([summary.patient, *listed.values()]),
        "event": [
            {
                "code": [
                    {
                        "coding": [
                            {
                                "system": "http://terminology.hl7.org/CodeSystem/v3-ActClass",
                                "code": "PCPR",
                            }
                        ]
                    }
                ],
                "period": {"end": now},
            }
        ],
        "section": [_section(s, base_url) for s in summary.sections],
    }
    entries = [
        {"fullUrl": f"urn:uuid:{document_id}", "resource": composition},
        {"fullUrl": f"{base_url}/{patient_key}", "resource": summary.patient},
        {"fullUrl": f"urn:uuid:{author['id']}", "resource": author},
    ]
    entries += [
        {"fullUrl": f"{base_url}/{key}", "resource": resource}
        for key, resource in listed.items()
        if key != patient_key
    ]
    return {
        "resourceType": "Bundle",
        "id": str(uuid.uuid4()),
        "identifier": {"system": "urn:ietf:rfc:3986", "value": f"urn:uuid:{document_id}"},
        "type": "document",
        "timestamp": now,
        "entry": entries,
    }


def patient_summary(ctx: FhirContext, patient_id: str) -> Resource:
    """``Patient/{id}/$summary``: the IPS document of the patient, read as the caller."""
    patient, record, medications = read_record(ctx, patient_id)
    summary = summarise(patient, record, medications)
    return build_document(summary, ctx.options.base_url, format_instant(ctx.clock.now()))
