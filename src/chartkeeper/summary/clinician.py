"""The clinician summary of a chart: what a clinician must see first, every item linked to its
source resource with its author and date.

``build_summary`` is a pure function of the patient's resources; ``read_record`` is the one
read of them, through the caller's guarded context, so access is decided and audited there
(one ``$everything``-like read entry per summary).
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

from chartkeeper.fhir.interactions.context import FhirContext
from chartkeeper.fhir.interactions.read import found
from chartkeeper.summary.care_team import CareMember, care_team
from chartkeeper.summary.chart_elements import (
    AUTHOR_TYPES,
    Json,
    any_codes,
    display_names,
    human_name,
    local_reference,
)
from chartkeeper.summary.clinician_items import (
    RECENT_ENCOUNTERS,
    Allergy,
    Entry,
    Medication,
    Problem,
    active_medications,
    active_problems,
    allergies,
    entries,
    last_addressed,
)
from chartkeeper.summary.clinician_orders import (
    Referral,
    advance_directives,
    code_status,
    fulfilled_orders,
    is_code_status,
    pending_orders,
    referrals,
)
from chartkeeper.summary.trends import Result, latest_results

#: The types the summary reads from the Patient compartment.
SUMMARY_TYPES = (
    "AllergyIntolerance",
    "CareTeam",
    "Condition",
    "Consent",
    "DiagnosticReport",
    "DocumentReference",
    "Encounter",
    "Immunization",
    "MedicationRequest",
    "MedicationStatement",
    "Observation",
    "Procedure",
    "ServiceRequest",
    "Task",
)
#: http://terminology.hl7.org/CodeSystem/observation-category
VITAL_SIGNS, LABORATORY = "vital-signs", "laboratory"


@dataclass(frozen=True)
class PatientRecord:
    """What the guarded read returned: the Patient, its compartment, and the names of the
    practitioners and organizations the record refers to."""

    patient: Json
    resources: list[Json]
    names: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class PatientHeader:
    """Who the summary is about."""

    reference: str
    name: str
    birth_date: str
    gender: str


@dataclass(frozen=True)
class ClinicianSummary:
    """The critical facts of a chart, most recent first, each linked to its source."""

    patient: PatientHeader
    problems: list[Problem]
    medications: list[Medication]
    allergies: list[Allergy]
    code_status: Entry | None
    advance_directives: list[Entry]
    vitals: list[Result]
    labs: list[Result]
    encounters: list[Entry]
    procedures: list[Entry]
    immunizations: list[Entry]
    pending_orders: list[Entry]
    referrals: list[Referral]
    care_team: list[CareMember]

    @property
    def open_referrals(self) -> list[Referral]:
        """The referrals still waiting to happen."""
        return [r for r in self.referrals if r.open]

    @property
    def abnormal_labs(self) -> list[Result]:
        """The latest labs that carry an abnormal flag."""
        return [r for r in self.labs if r.flag]

    def to_json(self) -> dict[str, Any]:
        """The summary as the API answers it."""
        body = asdict(self)
        body["open_referrals"] = [r.reference for r in self.open_referrals]
        return body


def _by_type(resources: list[Json]) -> dict[str, list[Json]]:
    grouped: dict[str, list[Json]] = {}
    for resource in resources:
        grouped.setdefault(str(resource.get("resourceType")), []).append(resource)
    return grouped


def _category(observations: list[Json], category: str) -> list[Json]:
    return [
        o
        for o in observations
        if category in any_codes(o.get("category")) and not is_code_status(o)
    ]


def build_summary(record: PatientRecord) -> ClinicianSummary:
    """Shape a patient's resources into the clinician summary."""
    patient = record.patient
    # what the patient asserted themself (a directive, a statement) names them, too
    names = {**record.names, f"Patient/{patient.get('id')}": human_name(patient)}
    resources = [r for r in record.resources if r.get("resourceType") != "Patient"]
    kinds = _by_type(resources)
    observations = kinds.get("Observation", [])
    requests = kinds.get("ServiceRequest", [])
    home = local_reference(patient.get("managingOrganization"))
    fulfilled = fulfilled_orders(resources)
    medications = kinds.get("MedicationRequest", []) + kinds.get("MedicationStatement", [])
    return ClinicianSummary(
        patient=PatientHeader(
            reference=f"Patient/{patient.get('id')}",
            name=human_name(patient),
            birth_date=str(patient.get("birthDate") or ""),
            gender=str(patient.get("gender") or ""),
        ),
        problems=active_problems(kinds.get("Condition", []), last_addressed(resources), names),
        medications=active_medications(medications, names),
        allergies=allergies(kinds.get("AllergyIntolerance", []), names),
        code_status=code_status(observations, names),
        advance_directives=advance_directives(resources, names),
        vitals=latest_results(_category(observations, VITAL_SIGNS), names),
        labs=_flagged_first(latest_results(_category(observations, LABORATORY), names)),
        encounters=entries(kinds.get("Encounter", []), names)[:RECENT_ENCOUNTERS],
        procedures=entries(kinds.get("Procedure", []), names),
        immunizations=entries(kinds.get("Immunization", []), names),
        pending_orders=pending_orders(requests, fulfilled, home, names),
        referrals=referrals(requests, kinds.get("Task", []), fulfilled, home, names),
        care_team=care_team(patient, kinds.get("CareTeam", []), kinds.get("Encounter", []), names),
    )


def _flagged_first(results: list[Result]) -> list[Result]:
    """Abnormal labs on top, each group newest first (the sort is stable)."""
    return sorted(results, key=lambda r: not r.flag)


def read_record(
    ctx: FhirContext, patient_id: str, types: tuple[str, ...] | None = SUMMARY_TYPES
) -> PatientRecord:
    """The Patient and its compartment (``types``, or everything), read and audited through
    the caller's guarded context; an unknown or hidden patient is a NotFoundError."""
    with ctx.repository.reading() as tx:
        patient = found("Patient", patient_id, tx.read("Patient", patient_id)).resource()
        wanted = list(types) if types is not None else None
        members = [m.resource() for m in tx.compartment(patient_id, wanted, None) if m.body]
        referred = [
            r.resource()
            for r in tx.referenced_by_compartment(patient_id)
            if r.body and r.resource_type in AUTHOR_TYPES
        ]
    return PatientRecord(patient, members, display_names(referred))


def clinician_summary(ctx: FhirContext, patient_id: str) -> ClinicianSummary:
    """The clinician summary of ``patient_id`` as the caller may see it."""
    return build_summary(read_record(ctx, patient_id))
