"""Who is asking: the actor every access decision and audit entry is about."""

from __future__ import annotations

from dataclasses import dataclass, field

#: The roles of chartkeeper's users (docs/security.md says what each may see).
ROLES = (
    "admin",
    "physician",
    "nurse",
    "him_technician",
    "coder",
    "biller",
    "front_desk",
    "privacy_officer",
    "auditor",
    "patient",
    "external_provider",
)
#: Roles that give care and so may hold a treatment relationship (and break the glass).
CLINICAL_ROLES = frozenset({"physician", "nurse", "external_provider"})


@dataclass(frozen=True)
class Actor:
    """An authenticated user, service client or the system itself.

    ``practitioner_id`` links a clinician to their Practitioner resource (for treatment
    relationships); ``patient_id`` links a patient user to their Patient resource.
    ``scopes`` are the SMART scopes of the token (empty for a workbench session, whose rights
    come from the role alone).
    """

    kind: str  # user, client, system
    name: str
    role: str | None = None
    patient_id: str | None = None
    practitioner_id: str | None = None
    organization: str | None = None
    scopes: frozenset[str] = field(default_factory=frozenset)
    purpose: str = "TREAT"  # v3-ActReason purpose of use: TREAT, HPAYMT, HOPERAT, ETREAT...
    source_address: str | None = None


#: The system itself (CLI import, demo load, migrations): allowed everything, still audited.
SYSTEM = Actor(kind="system", name="chartkeeper", role="admin")
