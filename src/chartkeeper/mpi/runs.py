"""The MPI's batch work: re-index, train, de-duplicate the whole index, look for overlays.

Each function takes a progress callback (``jobs.Progress``) and returns a one-line summary;
``service`` runs them as jobs (CLI in the foreground, workbench in the background).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from typing import Any

import numpy as np
from sqlalchemy import Connection, Engine, insert, select, update

from chartkeeper.core.clock import Clock
from chartkeeper.core.ids import new_id
from chartkeeper.fhir.dates import to_micros
from chartkeeper.fhir.interactions.context import FhirContext
from chartkeeper.fhir.repository import HistoryQuery
from chartkeeper.mpi import overlays, pairs, records
from chartkeeper.mpi.jobs import Progress
from chartkeeper.mpi.matching.batch import score_pairs
from chartkeeper.mpi.matching.blocking import blocking_keys, candidate_pairs
from chartkeeper.mpi.matching.explanation import explain
from chartkeeper.mpi.matching.features import Features
from chartkeeper.mpi.matching.model import Model, score, train
from chartkeeper.mpi.models import ModelStore
from chartkeeper.mpi.registration import is_active, patient_features
from chartkeeper.store.mpi_schema import mpi_pairs

#: Patients written per transaction when re-indexing.
REINDEX_BATCH = 500
#: Pairs scored, explained and inserted per statement when de-duplication queues them.
QUEUE_BATCH = 2000


def reindex(ctx: FhirContext, engine: Engine, identifier_key: bytes, progress: Progress) -> str:
    """Bring the match index up to date with the stored Patients (after an upgrade, a key
    change, or an import made before the MPI existed)."""
    with engine.connect() as connection:
        known = records.versions(connection)
    todo: list[tuple[str, int, bool, Any, int]] = []
    seen: set[str] = set()
    with ctx.repository.reading() as tx:
        for stored in tx.iterate("Patient"):
            seen.add(stored.id)
            if stored.deleted or known.get(stored.id) == stored.version_id:
                continue
            resource = stored.resource()
            features = patient_features(resource, identifier_key)
            todo.append(
                (stored.id, stored.version_id, is_active(resource), features, stored.last_updated)
            )
    gone = [patient_id for patient_id in known if patient_id not in seen]
    total = len(todo) + len(gone)
    progress(0, total, "re-indexing patients")
    for start in range(0, len(todo), REINDEX_BATCH):
        with engine.begin() as connection:
            for row in todo[start : start + REINDEX_BATCH]:
                records.store(connection, *row)
        progress(min(start + REINDEX_BATCH, len(todo)), total, "re-indexing patients")
    with engine.begin() as connection:
        for patient_id in gone:
            records.remove(connection, patient_id)
    progress(total, total, "re-indexed")
    return f"re-indexed {len(todo)} patients, dropped {len(gone)}"


def train_model(engine: Engine, models: ModelStore, clock: Clock, progress: Progress) -> str:
    """Estimate a model (EM, unsupervised) from the index and make it the active one."""
    progress(0, 3, "reading the index")
    with engine.connect() as connection:
        features = [patient.features for patient in records.every(connection)]
    progress(1, 3, f"estimating m and u from {len(features)} patients")
    model = train(features)
    progress(2, 3, "saving the model")
    with engine.begin() as connection:
        models.save(connection, model, len(features), to_micros(clock.now()))
    progress(3, 3, "trained")
    return f"trained model {model.version} on {len(features)} patients"


def dedupe(
    engine: Engine,
    models: ModelStore,
    clock: Clock,
    review_threshold: float,
    auto_link_threshold: float,
    progress: Progress,
) -> str:
    """Score the whole index, queue pairs for review, link the certain ones; decided pairs
    (merged, distinct, linked) are never proposed again."""
    progress(0, 4, "reading the index")
    with engine.connect() as connection:
        indexed = list(records.every(connection))
        model = models.active(connection)
        decided = pairs.decided_pairs(connection, ("merged", "distinct", "linked"))
    features = [patient.features for patient in indexed]
    ids = [patient.patient_id for patient in indexed]
    progress(1, 4, f"blocking {len(ids)} patients")
    candidates = candidate_pairs([blocking_keys(f) for f in features])
    progress(2, 4, f"scoring {len(candidates)} candidate pairs")
    probabilities, _ = score_pairs(model, features, candidates)
    found = _above(ids, candidates, probabilities, review_threshold, decided)
    progress(3, 4, f"queuing {len(found)} pairs")
    now = to_micros(clock.now())
    with engine.begin() as connection:
        queued, linked = _queue(connection, model, features, ids, found, auto_link_threshold, now)
    progress(4, 4, "done")
    return (
        f"scored {len(candidates)} candidate pairs among {len(ids)} patients: "
        f"{queued} queued for review, {linked} linked automatically"
    )


def _above(
    ids: Sequence[str],
    candidates: Any,
    probabilities: Any,
    threshold: float,
    decided: set[tuple[str, str]],
) -> list[tuple[int, int]]:
    """Index pairs at or above the threshold that nobody has decided on yet (the threshold
    is applied column-wise: a million-patient index has tens of millions of candidates)."""
    kept: list[tuple[int, int]] = []
    above = candidates[np.asarray(probabilities) >= threshold]
    for a, b in above.tolist():
        if decided and pairs.ordered(ids[a], ids[b]) in decided:
            continue
        kept.append((a, b))
    return kept


def _queue(
    connection: Connection,
    model: Model,
    features: Sequence[Features],
    ids: Sequence[str],
    found: Sequence[tuple[int, int]],
    auto_link_threshold: float,
    now: int,
) -> tuple[int, int]:
    """``pairs.propose`` for every found pair, in bulk: the stored pairs are read once and new
    ones inserted a chunk at a time (three statements per pair took 430 of 620 s on a
    million-patient index). Same rows as ``propose``: a queued pair gets the new score (and
    ``linked`` when certain), a decided one is left alone. (queued, linked) counts."""
    existing = {
        (row.left_id, row.right_id): (row.id, row.status)
        for row in connection.execute(
            select(mpi_pairs.c.id, mpi_pairs.c.left_id, mpi_pairs.c.right_id, mpi_pairs.c.status)
        )
    }
    queued = linked = 0
    for start in range(0, len(found), QUEUE_BATCH):
        new_rows: list[dict[str, Any]] = []
        for a, b in found[start : start + QUEUE_BATCH]:
            detail = score(model, features[a], features[b])
            status = "linked" if detail.probability >= auto_link_threshold else "open"
            left, right = pairs.ordered(ids[a], ids[b])
            values: dict[str, Any] = {
                "probability": detail.probability,
                "weight": detail.weight,
                "grade": detail.grade,
                "explanation": json.dumps(explain(detail), separators=(",", ":")),
                "model_version": model.version,
            }
            known = existing.get((left, right))
            if known is not None:
                pair_id, known_status = known
                if known_status not in pairs.QUEUED:
                    continue
                if status == "linked":
                    values["status"] = status
                connection.execute(
                    update(mpi_pairs).where(mpi_pairs.c.id == pair_id).values(values)
                )
            else:
                new_rows.append(
                    {
                        "id": new_id(),
                        "left_id": left,
                        "right_id": right,
                        "status": status,
                        "source": "dedupe",
                        "created": now,
                        **values,
                    }
                )
            linked += status == "linked"
            queued += status == "open"
        if new_rows:
            connection.execute(insert(mpi_pairs), new_rows)
    return queued, linked


def scan_overlays(ctx: FhirContext, engine: Engine, clock: Clock, progress: Progress) -> str:
    """Flag charts whose Patient history looks like two people (``overlays``)."""
    with engine.connect() as connection:
        patient_ids = [patient.patient_id for patient in records.every(connection)]
    flagged = 0
    now = to_micros(clock.now())
    progress(0, len(patient_ids), "reading Patient histories")
    with ctx.repository.reading() as tx:
        for done, patient_id in enumerate(patient_ids, start=1):
            versions, _ = tx.history(
                HistoryQuery(resource_type="Patient", resource_id=patient_id, count=100)
            )
            bodies = [stored.resource() for stored in versions if not stored.deleted]
            reasons = overlays.overlay_reasons(bodies)
            if reasons:
                with engine.begin() as connection:
                    flagged += overlays.flag(connection, patient_id, reasons, now)
            if done % 200 == 0:
                progress(done, len(patient_ids), "reading Patient histories")
    progress(len(patient_ids), len(patient_ids), "done")
    return f"looked at {len(patient_ids)} charts: {flagged} newly flagged as possible overlays"
