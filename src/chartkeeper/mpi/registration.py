"""Keeping the match index current, and reporting possible duplicates at registration.

``MatchIndexer`` is a write hook of the store (``EncryptedRepository.after_write``): every
Patient version written — through the API, an import, an HL7 feed or the workbench — refreshes
that patient's features and blocking keys in the same transaction, and a new or changed active
Patient is scored against its candidates at once. Pairs at or above the review threshold go to
the review queue (``source = registration``); the API reports them to whoever registered.
"""

from __future__ import annotations

from typing import Any

import orjson
from sqlalchemy import Connection

from chartkeeper.core.clock import Clock
from chartkeeper.fhir.dates import to_micros
from chartkeeper.fhir.repository import StoredResource
from chartkeeper.mpi import pairs, records
from chartkeeper.mpi.matching.explanation import explain
from chartkeeper.mpi.matching.features import Features, extract
from chartkeeper.mpi.matching.model import Model, score
from chartkeeper.mpi.matching.record import from_fhir_patient
from chartkeeper.mpi.models import ModelStore


def is_active(resource: dict[str, Any]) -> bool:
    """Whether a Patient takes part in matching: not inactive, not merged into another."""
    if resource.get("active") is False:
        return False
    return not any(link.get("type") == "replaced-by" for link in resource.get("link") or [])


def patient_features(resource: dict[str, Any], identifier_key: bytes) -> Features:
    """The match features of one Patient resource."""
    return extract(from_fhir_patient(resource), identifier_key)


class MatchIndexer:
    """The store's write hook that maintains the match index (see the module docstring)."""

    def __init__(
        self,
        identifier_key: bytes,
        models: ModelStore,
        review_threshold: float,
        clock: Clock,
    ) -> None:
        self.identifier_key = identifier_key
        self.models = models
        self.review_threshold = review_threshold
        self.clock = clock

    def __call__(self, connection: Connection, stored: StoredResource) -> None:
        if stored.resource_type != "Patient":
            return
        if stored.deleted or stored.body is None:
            records.remove(connection, stored.id)
            return
        resource: dict[str, Any] = orjson.loads(stored.body)
        features = patient_features(resource, self.identifier_key)
        active = is_active(resource)
        records.store(
            connection, stored.id, stored.version_id, active, features, stored.last_updated
        )
        if active:
            self.check(connection, stored.id, features)

    def check(
        self, connection: Connection, patient_id: str, features: Features
    ) -> list[pairs.Pair]:
        """Queue every candidate at or above the review threshold; the queued pairs."""
        model: Model = self.models.active(connection)
        now = to_micros(self.clock.now())
        queued: list[pairs.Pair] = []
        for candidate in records.candidates(connection, features, exclude=patient_id):
            found = score(model, features, candidate.features)
            if found.probability < self.review_threshold:
                continue
            pair = pairs.propose(
                connection,
                patient_id,
                candidate.patient_id,
                probability=found.probability,
                weight=found.weight,
                grade=found.grade,
                explanation=explain(found),
                source="registration",
                model_version=model.version,
                now=now,
            )
            if pair is not None:
                queued.append(pair)
        return queued
