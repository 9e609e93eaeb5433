"""The duplicate review queue: candidate pairs, their explanation, and the decision on each.

A pair is stored once, with the smaller id on the left. Decisions are remembered: a pair
marked ``distinct`` (not the same person) is never proposed again, however it scores later,
and a ``merged`` pair stays as the record of why the merge was made.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, and_, func, insert, or_, select, update

from chartkeeper.core.ids import new_id
from chartkeeper.store.mpi_schema import mpi_pairs
from chartkeeper.store.rows import as_dict

#: What a pair can be: waiting for review, put off, merged, not the same person, or linked by
#: batch de-duplication above the automatic-link threshold.
STATUSES = ("open", "deferred", "merged", "distinct", "linked")
#: Statuses that keep a pair in the review queue.
QUEUED = ("open", "deferred")
#: Statuses a technician may still decide on (a linked pair may yet be merged, or unlinked).
DECIDABLE = (*QUEUED, "linked")
#: Decisions the queue accepts, and the status each leaves.
DECISIONS = {"merge": "merged", "distinct": "distinct", "defer": "deferred"}


@dataclass(frozen=True)
class Pair:
    """One candidate pair as stored."""

    id: str
    left_id: str
    right_id: str
    probability: float
    weight: float
    grade: str
    explanation: list[dict[str, Any]]
    status: str
    source: str
    model_version: str
    created: int
    decided_at: int | None
    decided_by: str | None
    note: str | None

    def other(self, patient_id: str) -> str:
        """The other patient of the pair."""
        return self.right_id if patient_id == self.left_id else self.left_id


def ordered(a: str, b: str) -> tuple[str, str]:
    """The stored order of a pair."""
    return (a, b) if a < b else (b, a)


def find(connection: Connection, a: str, b: str) -> Pair | None:
    """The stored pair of two patients, if any."""
    left, right = ordered(a, b)
    row = connection.execute(
        select(mpi_pairs).where(mpi_pairs.c.left_id == left, mpi_pairs.c.right_id == right)
    ).first()
    return None if row is None else _pair(row)


def propose(
    connection: Connection,
    a: str,
    b: str,
    *,
    probability: float,
    weight: float,
    grade: str,
    explanation: list[dict[str, Any]],
    source: str,
    model_version: str,
    now: int,
    status: str = "open",
) -> Pair | None:
    """Queue a pair (or refresh the score of a queued one; ``linked`` also links a queued
    one). A decided pair is left alone and None returned: a technician's decision outlives
    any later score."""
    left, right = ordered(a, b)
    existing = find(connection, left, right)
    values = {
        "probability": probability,
        "weight": weight,
        "grade": grade,
        "explanation": json.dumps(explanation, separators=(",", ":")),
        "model_version": model_version,
    }
    if existing is not None:
        if existing.status not in QUEUED:
            return None
        if status == "linked":  # a batch run links what it is certain of, queued or not
            values = {**values, "status": status}
        connection.execute(update(mpi_pairs).where(mpi_pairs.c.id == existing.id).values(values))
        return find(connection, left, right)
    pair_id = new_id()
    connection.execute(
        insert(mpi_pairs).values(
            id=pair_id,
            left_id=left,
            right_id=right,
            status=status,
            source=source,
            created=now,
            **values,
        )
    )
    return get(connection, pair_id)


def get(connection: Connection, pair_id: str) -> Pair | None:
    """One pair by id."""
    row = connection.execute(select(mpi_pairs).where(mpi_pairs.c.id == pair_id)).first()
    return None if row is None else _pair(row)


def queue(
    connection: Connection,
    statuses: tuple[str, ...] = QUEUED,
    limit: int = 50,
    offset: int = 0,
) -> tuple[list[Pair], int]:
    """A page of pairs in those statuses, most probable first, and how many there are."""
    where = mpi_pairs.c.status.in_(statuses)
    total = connection.execute(select(func.count()).select_from(mpi_pairs).where(where))
    rows = connection.execute(
        select(mpi_pairs)
        .where(where)
        .order_by(mpi_pairs.c.probability.desc(), mpi_pairs.c.id)
        .limit(limit)
        .offset(offset)
    )
    return [_pair(row) for row in rows], int(total.scalar_one())


def involving(
    connection: Connection, patient_id: str, statuses: tuple[str, ...] = QUEUED
) -> list[Pair]:
    """The pairs one patient is part of, in those statuses, most probable first."""
    rows = connection.execute(
        select(mpi_pairs)
        .where(
            or_(mpi_pairs.c.left_id == patient_id, mpi_pairs.c.right_id == patient_id),
            mpi_pairs.c.status.in_(statuses),
        )
        .order_by(mpi_pairs.c.probability.desc())
    )
    return [_pair(row) for row in rows]


def decided_pairs(connection: Connection, statuses: tuple[str, ...]) -> set[tuple[str, str]]:
    """The (left, right) ids of every pair in those statuses (batch runs skip them)."""
    rows = connection.execute(
        select(mpi_pairs.c.left_id, mpi_pairs.c.right_id).where(mpi_pairs.c.status.in_(statuses))
    )
    return {(row.left_id, row.right_id) for row in rows}


def decide(
    connection: Connection,
    pair_id: str,
    status: str,
    *,
    by: str,
    note: str | None,
    now: int,
    expected: tuple[str, ...] = DECIDABLE,
) -> bool:
    """Record a decision on a queued pair; False when it was no longer in ``expected`` (a
    concurrent decision won)."""
    done = connection.execute(
        update(mpi_pairs)
        .where(and_(mpi_pairs.c.id == pair_id, mpi_pairs.c.status.in_(expected)))
        .values(status=status, decided_at=now, decided_by=by, note=note)
    )
    return done.rowcount == 1


def _pair(row: Any) -> Pair:
    values = as_dict(row)
    values["explanation"] = json.loads(values["explanation"])
    return Pair(**values)
