"""The role permission table: what each role may do to each resource type (minimum necessary).

Read it as policy, not code. ``ROLE_PERMISSIONS`` grants interactions to a role per *group* of
resource types; ``ROLE_SCOPE`` then says which patients' charts the role reaches. Anything not
granted here is refused (default deny). The reasoning behind each row is in
``docs/security_access.md``; 45 CFR 164.502(b) and 164.514(d) (minimum necessary) are why the
rows are as narrow as they are.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from chartkeeper.fhir.searchparams import all_resource_types, patient_compartment
from chartkeeper.privacy.actor import ROLES

# -- interactions -----------------------------------------------------------------------------

#: Every interaction the guard asks about (``everything`` is Patient/$everything, ``export`` is
#: bulk or per-patient $export).
INTERACTIONS = frozenset(
    {
        "read",
        "vread",
        "search",
        "history",
        "create",
        "update",
        "patch",
        "delete",
        "export",
        "everything",
    }
)
#: Interactions that only read.
READ_INTERACTIONS = frozenset({"read", "vread", "search", "history", "export", "everything"})
#: Interactions about one existing record: a refusal of these must not reveal that it exists.
INSTANCE_INTERACTIONS = frozenset(
    {"read", "vread", "history", "update", "patch", "delete", "everything"}
)

READ = frozenset({"read", "vread", "search", "history"})
WRITE = frozenset({"create", "update", "patch"})
DELETE = frozenset({"delete"})
MANAGE = READ | WRITE | DELETE
#: The auditor's reach: the ledger is read, never browsed through history or changed.
LOOK_UP = frozenset({"read", "vread", "search"})

# -- resource type groups ---------------------------------------------------------------------

#: Who and where: the directory every staff member (and the patient portal) needs.
DIRECTORY = frozenset(
    {
        "Practitioner",
        "PractitionerRole",
        "Organization",
        "OrganizationAffiliation",
        "Location",
        "HealthcareService",
        "Endpoint",
        "InsurancePlan",
    }
)
#: Definitions and terminology: no patient data in them.
CONFIGURATION = frozenset(
    {
        "ValueSet",
        "CodeSystem",
        "ConceptMap",
        "NamingSystem",
        "StructureDefinition",
        "StructureMap",
        "SearchParameter",
        "OperationDefinition",
        "CapabilityStatement",
        "CompartmentDefinition",
        "ImplementationGuide",
        "GraphDefinition",
        "Questionnaire",
        "PlanDefinition",
        "ActivityDefinition",
        "Library",
        "Measure",
        "ObservationDefinition",
        "SpecimenDefinition",
        "ChargeItemDefinition",
        "Medication",
        "Substance",
    }
)
#: Server plumbing only the administrator sees (subscriptions carry endpoints and headers).
SERVER = frozenset({"Subscription"})
DEMOGRAPHICS = frozenset({"Patient", "RelatedPerson", "Person"})
SCHEDULING = frozenset({"Appointment", "AppointmentResponse", "Schedule", "Slot"})
ENCOUNTERS = frozenset({"Encounter", "EpisodeOfCare"})
#: Orders: written by physicians only (nurses carry them out and document).
ORDERS = frozenset(
    {
        "MedicationRequest",
        "ServiceRequest",
        "DeviceRequest",
        "NutritionOrder",
        "VisionPrescription",
        "RequestGroup",
        "SupplyRequest",
    }
)
CLINICAL = frozenset(
    {
        "AllergyIntolerance",
        "Condition",
        "Procedure",
        "Observation",
        "DiagnosticReport",
        "Immunization",
        "ImmunizationEvaluation",
        "ImmunizationRecommendation",
        "CarePlan",
        "CareTeam",
        "Goal",
        "FamilyMemberHistory",
        "ClinicalImpression",
        "RiskAssessment",
        "DetectedIssue",
        "AdverseEvent",
        "Flag",
        "Specimen",
        "ImagingStudy",
        "Media",
        "MolecularSequence",
        "BodyStructure",
        "MedicationAdministration",
        "MedicationDispense",
        "MedicationStatement",
        "DeviceUseStatement",
        "Device",
        "QuestionnaireResponse",
        "Communication",
        "CommunicationRequest",
        "List",
        "SupplyDelivery",
    }
)
DOCUMENTS = frozenset({"DocumentReference", "Composition", "DocumentManifest"})
#: Work queues (chart deficiencies, record requests).
WORKFLOW = frozenset({"Task"})
COVERAGE = frozenset({"Coverage"})
BILLING = frozenset(
    {
        "Account",
        "ChargeItem",
        "Claim",
        "ClaimResponse",
        "Invoice",
        "ExplanationOfBenefit",
        "PaymentNotice",
        "PaymentReconciliation",
        "CoverageEligibilityRequest",
        "CoverageEligibilityResponse",
        "EnrollmentRequest",
        "EnrollmentResponse",
    }
)
CONSENTS = frozenset({"Consent"})
#: AuditEvent is written only by the system (the audit ledger), never through the API.
AUDIT = frozenset({"AuditEvent"})
#: Types no request writes, whatever its role or a service client's scopes (the table grants no
#: role a write on them; ``guard`` applies this to service clients, which the table does not bind).
SERVER_WRITTEN = AUDIT
PROVENANCE = frozenset({"Provenance"})
#: The whole chart as a clinician sees it.
CHART = DEMOGRAPHICS | SCHEDULING | ENCOUNTERS | ORDERS | CLINICAL | DOCUMENTS

_PATIENT_ONLY = frozenset({"Patient"})
_CODER_READS = frozenset(
    {"Procedure", "Observation", "DiagnosticReport", "DocumentReference", "Composition"}
)

# -- the table --------------------------------------------------------------------------------

#: role -> ((resource types, interactions), ...). Later rows add to earlier ones.
ROLE_PERMISSIONS: Mapping[str, tuple[tuple[frozenset[str], frozenset[str]], ...]] = (
    MappingProxyType(
        {
            # Configuration and the directory, never charts (separation of duties).
            "admin": ((DIRECTORY | CONFIGURATION | SERVER, MANAGE),),
            "physician": (
                (DIRECTORY | CONFIGURATION | CONSENTS | PROVENANCE | CHART, READ),
                (ENCOUNTERS | CLINICAL | ORDERS | DOCUMENTS | WORKFLOW, READ | WRITE),
                (_PATIENT_ONLY, frozenset({"everything"})),
            ),
            "nurse": (
                (DIRECTORY | CONFIGURATION | CONSENTS | PROVENANCE | CHART, READ),
                (ENCOUNTERS | CLINICAL | DOCUMENTS | WORKFLOW, READ | WRITE),
                (_PATIENT_ONLY, frozenset({"everything"})),
            ),
            # Record management: reads every chart, maintains documents, demographics, consents.
            "him_technician": (
                (DIRECTORY | CONFIGURATION | CHART | BILLING | COVERAGE | PROVENANCE, READ),
                (DEMOGRAPHICS | DOCUMENTS | WORKFLOW | CONSENTS, READ | WRITE),
                (_PATIENT_ONLY, frozenset({"everything", "export"})),
            ),
            "coder": (
                (DIRECTORY | CONFIGURATION | _PATIENT_ONLY | ENCOUNTERS | _CODER_READS, READ),
                (COVERAGE | frozenset({"Account"}), READ),
                (frozenset({"Condition", "Claim", "ChargeItem"}), READ | WRITE),
            ),
            "biller": (
                (DIRECTORY | CONFIGURATION | DEMOGRAPHICS | frozenset({"Encounter"}), READ),
                (BILLING | COVERAGE, READ | WRITE),
            ),
            "front_desk": (
                (DIRECTORY | CONFIGURATION, READ),
                (DEMOGRAPHICS | SCHEDULING | COVERAGE, READ | WRITE),
            ),
            # Investigations: the ledger plus read-only charts (45 CFR 164.402(2) risk assessment).
            "privacy_officer": (
                (AUDIT, LOOK_UP),
                (DIRECTORY | CONFIGURATION | CHART | BILLING | COVERAGE, READ),
                (PROVENANCE | WORKFLOW, READ),
                (CONSENTS, READ | WRITE),
            ),
            "auditor": ((AUDIT, LOOK_UP),),
            # Right of access (164.524): their own designated record set, read only.
            "patient": (
                (DIRECTORY | CONFIGURATION | CHART | BILLING | COVERAGE | CONSENTS, READ),
                (_PATIENT_ONLY, frozenset({"everything", "export"})),
            ),
            "external_provider": (
                (DIRECTORY | CONFIGURATION | CHART - SCHEDULING, READ),
                (_PATIENT_ONLY, frozenset({"everything"})),
            ),
        }
    )
)

#: Which charts a role reaches once the table allows the interaction:
#: ``all`` every patient; ``treatment`` patients in a treatment relationship (or under
#: break-the-glass); ``own`` the actor's own compartment; ``none`` no chart at all.
ROLE_SCOPE: Mapping[str, str] = MappingProxyType(
    {
        "admin": "none",
        "physician": "treatment",
        "nurse": "treatment",
        "him_technician": "all",
        "coder": "all",
        "biller": "all",
        "front_desk": "all",
        "privacy_officer": "all",
        "auditor": "all",
        "patient": "own",
        "external_provider": "treatment",
    }
)

#: Roles outside the workforce: resources outside every Patient compartment that they may see
#: are limited to the directory and definitions (an orphaned Observation is nobody's business).
OUTSIDE_ROLES = frozenset({"patient", "external_provider"})
#: Roles that may manage user accounts.
USER_MANAGERS = frozenset({"admin"})

#: Every R4 resource type, and those that belong to a Patient compartment.
RESOURCE_TYPES = frozenset(all_resource_types())
COMPARTMENT_TYPES = frozenset(patient_compartment())


def _compile() -> Mapping[tuple[str, str], frozenset[str]]:
    table: dict[tuple[str, str], frozenset[str]] = {}
    for role, rows in ROLE_PERMISSIONS.items():
        for types, interactions in rows:
            for resource_type in types:
                key = (role, resource_type)
                table[key] = table.get(key, frozenset()) | interactions
    return MappingProxyType(table)


#: (role, resource type) -> interactions, flattened from ``ROLE_PERMISSIONS``.
PERMISSIONS = _compile()


def _readable() -> Mapping[str, frozenset[str]]:
    return MappingProxyType(
        {
            role: frozenset(t for (r, t), i in PERMISSIONS.items() if r == role and "search" in i)
            for role in ROLES
        }
    )


#: role -> resource types the role may search.
SEARCHABLE = _readable()


def allowed_interactions(role: str, resource_type: str) -> frozenset[str]:
    """The interactions ``role`` may perform on ``resource_type`` (empty when none)."""
    return PERMISSIONS.get((role, resource_type), frozenset())


def non_patient_types(role: str) -> frozenset[str]:
    """Types whose resources outside every Patient compartment ``role`` may see."""
    searchable = SEARCHABLE.get(role, frozenset())
    if role in OUTSIDE_ROLES:
        return searchable & (DIRECTORY | CONFIGURATION)
    return searchable
