"""Rewrite stored bodies in place, in batches (key rotation re-encrypting designated values).

No new version is written: what a client reads is unchanged, only how it is stored. Batches
are read in key order (``resources`` by type and id, ``history`` by ``seq``) and locked ``FOR
UPDATE`` on PostgreSQL (SQLite has one writer at a time), so a concurrent write waits for the
batch instead of being overwritten.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import Connection, Row, and_, bindparam, func, or_, select

from chartkeeper.fhir.index_rows import IndexRows
from chartkeeper.store import schema
from chartkeeper.store.writes import PendingWrites

R = schema.resources
H = schema.history


def count_versions(connection: Connection, types: Sequence[str]) -> int:
    """How many current and past versions of ``types`` have a body."""
    total = 0
    for table in (R, H):
        query = select(func.count()).where(table.c.res_type.in_(types), table.c.body.is_not(None))
        total += int(connection.execute(query).scalar() or 0)
    return total


def current_batch(
    connection: Connection, types: Sequence[str], after: tuple[str, str] | None, limit: int
) -> list[Row[Any]]:
    """The next ``limit`` current versions of ``types`` after the key ``after``, locked."""
    query = select(R).where(R.c.res_type.in_(types), R.c.body.is_not(None))
    if after is not None:
        kind, ident = after
        query = query.where(
            or_(R.c.res_type > kind, and_(R.c.res_type == kind, R.c.res_id > ident))
        )
    query = query.order_by(R.c.res_type, R.c.res_id).limit(limit).with_for_update()
    return list(connection.execute(query).all())


def history_batch(
    connection: Connection, types: Sequence[str], after: int, limit: int
) -> list[Row[Any]]:
    """The next ``limit`` history versions of ``types`` after ``seq`` ``after``, locked."""
    query = (
        select(H)
        .where(H.c.res_type.in_(types), H.c.body.is_not(None), H.c.seq > after)
        .order_by(H.c.seq)
        .limit(limit)
        .with_for_update()
    )
    return list(connection.execute(query).all())


def update_current_bodies(connection: Connection, updates: list[tuple[Row[Any], str]]) -> None:
    """Replace the body of each current version (only if it is still that version)."""
    if not updates:
        return
    statement = (
        R.update()
        .where(
            R.c.res_type == bindparam("t"),
            R.c.res_id == bindparam("i"),
            R.c.version_id == bindparam("v"),
        )
        .values(body=bindparam("new_body"))
    )
    rows = [
        {"t": row.res_type, "i": row.res_id, "v": row.version_id, "new_body": body}
        for row, body in updates
    ]
    connection.execute(statement, rows)


def update_history_bodies(connection: Connection, updates: list[tuple[Row[Any], str]]) -> None:
    """Replace the body of each history version."""
    if not updates:
        return
    statement = H.update().where(H.c.seq == bindparam("s")).values(body=bindparam("new_body"))
    connection.execute(statement, [{"s": row.seq, "new_body": body} for row, body in updates])


def reindex_current(connection: Connection, updates: list[tuple[Row[Any], str, IndexRows]]) -> None:
    """Replace the body and every index row of each current version (for values that were
    stored in plaintext before encryption, whose index rows hold them too)."""
    pending = PendingWrites()
    for row, body, index in updates:
        values = {
            "res_type": row.res_type,
            "res_id": row.res_id,
            "version_id": row.version_id,
            "last_updated": row.last_updated,
            "deleted": row.deleted,
            "patient_id": row.patient_id,
            "body": body,
        }
        pending.replace(connection, values)
        pending.add_index(row.res_type, row.res_id, row.patient_id, index)
    pending.flush(connection)


def stored_bodies(connection: Connection, types: Sequence[str]) -> Iterator[str]:
    """Every stored body of ``types``, current and past (streamed)."""
    for table in (R, H):
        query = select(table.c.body).where(table.c.res_type.in_(types), table.c.body.is_not(None))
        for row in connection.execution_options(yield_per=1000).execute(query):
            yield row.body
