"""Look up the facts an access decision needs: treatment relationships and patients' Consents.

Relationships come from the record itself (who is on a patient's care team, took part in an
encounter, manages an episode, received a referral, is their general practitioner), so they
follow the chart without a separate table to keep in step.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import orjson
from sqlalchemy import Connection, and_, or_, select

from chartkeeper.store import schema

#: (resource type, reference parameter) pairs that make the referenced Practitioner a member of
#: the patient's treatment team (45 CFR 164.506: treatment).
RELATIONSHIP_PARAMS = (
    ("CareTeam", "participant"),
    ("Encounter", "participant"),
    ("Encounter", "practitioner"),
    ("EpisodeOfCare", "care-manager"),
    ("ServiceRequest", "performer"),
    ("ServiceRequest", "requester"),
    ("Patient", "general-practitioner"),
    ("Appointment", "practitioner"),
)


def treated_patients(connection: Connection, practitioner_id: str | None) -> frozenset[str]:
    """Ids of the Patients whose records name ``practitioner_id`` in a treating role."""
    if not practitioner_id:
        return frozenset()
    ref = schema.idx_reference
    pairs = or_(*[and_(ref.c.res_type == t, ref.c.param == p) for t, p in RELATIONSHIP_PARAMS])
    query = (
        select(ref.c.patient_id)
        .where(
            ref.c.target_type == "Practitioner",
            ref.c.target_id == practitioner_id,
            ref.c.patient_id.is_not(None),
            pairs,
        )
        .distinct()
    )
    return frozenset(str(row.patient_id) for row in connection.execute(query))


def active_consents(
    connection: Connection, patient_ids: Iterable[str] | None
) -> tuple[dict[str, Any], ...]:
    """The active Consent resources of these Patients (None: of every patient)."""
    resources = schema.resources
    query = select(resources.c.body).where(
        resources.c.res_type == "Consent", resources.c.deleted.is_(False)
    )
    if patient_ids is not None:
        wanted = sorted(set(patient_ids))
        if not wanted:
            return ()
        query = query.where(resources.c.patient_id.in_(wanted))
    found = []
    for row in connection.execute(query):
        consent = orjson.loads(row.body)
        if consent.get("status") == "active":
            found.append(consent)
    return tuple(found)
