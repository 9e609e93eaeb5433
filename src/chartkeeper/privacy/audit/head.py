"""The ledger head (last seq, its hash, the key that chains): read, locked, moved forward."""

from __future__ import annotations

from typing import NamedTuple

from sqlalchemy import Connection, insert, select, update

from chartkeeper.store.audit_schema import GENESIS_HASH, HEAD_ID, audit_head


class Head(NamedTuple):
    """The last entry, and the fingerprint of the HMAC key the chain is written with."""

    seq: int
    entry_hash: str
    key_id: str | None


EMPTY = Head(0, GENESIS_HASH, None)


def read_head(connection: Connection, *, lock: bool) -> Head:
    """The head; with ``lock``, held until the transaction ends.

    ``SELECT ... FOR UPDATE`` serialises appends on PostgreSQL; SQLite has one writer at a time
    already (``BEGIN IMMEDIATE``) and SQLAlchemy leaves the clause out there. Migration 0002
    creates the row; a store without it reads as empty.
    """
    query = select(audit_head.c.seq, audit_head.c.entry_hash, audit_head.c.key_id).where(
        audit_head.c.id == HEAD_ID
    )
    if lock:
        query = query.with_for_update()
    row = connection.execute(query).first()
    if row is None:
        return EMPTY
    return Head(int(row.seq), str(row.entry_hash), row.key_id)


def move_head(connection: Connection, head: Head) -> None:
    values = {"seq": head.seq, "entry_hash": head.entry_hash, "key_id": head.key_id}
    moved = connection.execute(update(audit_head).where(audit_head.c.id == HEAD_ID).values(values))
    if moved.rowcount == 0:
        connection.execute(insert(audit_head).values(id=HEAD_ID, **values))
