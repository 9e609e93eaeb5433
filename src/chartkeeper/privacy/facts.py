"""Look up the facts an access decision needs: treatment relationships and patients' Consents.

Relationships come from the record itself (who is on a patient's care team, took part in an
encounter, manages an episode, received a referral, is their general practitioner), so they
follow the chart without a separate table to keep in step.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import orjson
from sqlalchemy import Connection, select

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


def treated_patients(transaction: Any, practitioner_id: str | None) -> frozenset[str]:
    """Ids of the Patients whose records name ``practitioner_id`` in a treating role
    (``transaction``: the store's, which offers ``patients_referring``)."""
    if not practitioner_id:
        return frozenset()
    found: frozenset[str] = transaction.patients_referring(
        "Practitioner", practitioner_id, RELATIONSHIP_PARAMS
    )
    return found


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
    return active_only(row.body for row in connection.execute(query))


def active_only(bodies: Iterable[str]) -> tuple[dict[str, Any], ...]:
    """The active Consents among these stored bodies."""
    found = []
    for body in bodies:
        consent = orjson.loads(body)
        if consent.get("status") == "active":
            found.append(consent)
    return tuple(found)
