"""The match index: each current Patient's features and blocking keys, and candidate look-up.

Rows are derived from the Patient versions and written in the same transaction (see
``registration``), so the index can always be rebuilt from the records (``reindex``).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

from sqlalchemy import Connection, delete, func, insert, select

from chartkeeper.mpi.matching.blocking import blocking_keys
from chartkeeper.mpi.matching.features import Features
from chartkeeper.store.mpi_schema import mpi_blocks, mpi_records

#: The most candidates one look-up scores: a key shared by more patients than this (a very
#: common name on a very common birth date) says little, and scoring them all would be slow.
CANDIDATE_CAP = 1000


@dataclass(frozen=True)
class IndexedPatient:
    """One row of the match index."""

    patient_id: str
    version_id: int
    active: bool
    features: Features


def store(
    connection: Connection,
    patient_id: str,
    version_id: int,
    active: bool,
    features: Features,
    updated: int,
) -> None:
    """Replace the index rows of one Patient."""
    remove(connection, patient_id)
    connection.execute(
        insert(mpi_records).values(
            patient_id=patient_id,
            version_id=version_id,
            active=active,
            features=features.to_json(),
            updated=updated,
        )
    )
    keys = sorted(set(blocking_keys(features)))
    if keys:
        connection.execute(
            insert(mpi_blocks), [{"block_key": key, "patient_id": patient_id} for key in keys]
        )


def remove(connection: Connection, patient_id: str) -> None:
    """Drop a Patient from the index (deleted, or about to be re-indexed)."""
    connection.execute(delete(mpi_blocks).where(mpi_blocks.c.patient_id == patient_id))
    connection.execute(delete(mpi_records).where(mpi_records.c.patient_id == patient_id))


def candidates(
    connection: Connection, features: Features, exclude: str | None = None
) -> list[IndexedPatient]:
    """Active patients that share at least one blocking key with ``features``."""
    keys = sorted(set(blocking_keys(features)))
    if not keys:
        return []
    found = select(mpi_blocks.c.patient_id).where(mpi_blocks.c.block_key.in_(keys)).distinct()
    if exclude is not None:
        found = found.where(mpi_blocks.c.patient_id != exclude)
    ids = found.limit(CANDIDATE_CAP).subquery()
    rows = connection.execute(
        select(
            mpi_records.c.patient_id,
            mpi_records.c.version_id,
            mpi_records.c.active,
            mpi_records.c.features,
        )
        .join(ids, ids.c.patient_id == mpi_records.c.patient_id)
        .where(mpi_records.c.active.is_(True))
    )
    return [_indexed(row) for row in rows]


def fetch(connection: Connection, patient_ids: Iterable[str]) -> dict[str, IndexedPatient]:
    """The index rows of some patients, by id."""
    wanted = sorted(set(patient_ids))
    if not wanted:
        return {}
    rows = connection.execute(
        select(
            mpi_records.c.patient_id,
            mpi_records.c.version_id,
            mpi_records.c.active,
            mpi_records.c.features,
        ).where(mpi_records.c.patient_id.in_(wanted))
    )
    return {row.patient_id: _indexed(row) for row in rows}


def every(connection: Connection, batch: int = 5000) -> Iterator[IndexedPatient]:
    """Every active indexed patient, in id order, read in batches (batch de-duplication)."""
    after = ""
    while True:
        rows = connection.execute(
            select(
                mpi_records.c.patient_id,
                mpi_records.c.version_id,
                mpi_records.c.active,
                mpi_records.c.features,
            )
            .where(mpi_records.c.patient_id > after, mpi_records.c.active.is_(True))
            .order_by(mpi_records.c.patient_id)
            .limit(batch)
        ).all()
        if not rows:
            return
        for row in rows:
            yield _indexed(row)
        after = rows[-1].patient_id


def versions(connection: Connection) -> dict[str, int]:
    """patient id → the version the index holds (to find what ``reindex`` must do)."""
    rows = connection.execute(select(mpi_records.c.patient_id, mpi_records.c.version_id))
    return {row.patient_id: row.version_id for row in rows}


def count(connection: Connection) -> int:
    """How many active patients the index holds."""
    found = connection.execute(
        select(func.count()).select_from(mpi_records).where(mpi_records.c.active.is_(True))
    ).scalar_one()
    return int(found)


def _indexed(row: Sequence[object]) -> IndexedPatient:
    patient_id, version_id, active, features = row
    return IndexedPatient(
        str(patient_id), int(str(version_id)), bool(active), Features.from_json(str(features))
    )
