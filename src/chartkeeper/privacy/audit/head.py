"""The ledger head (last seq, its hash, the key that chains): read, locked, moved forward."""

from __future__ import annotations

from typing import Any, NamedTuple

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


class HeadStatements(NamedTuple):
    """The head's statements as driver SQL, for appends on the transaction's own cursor."""

    lock: str
    move: str
    create: str


def head_statements(mark: str, *, for_update: bool) -> HeadStatements:
    """``mark`` is the driver's placeholder (``?`` for sqlite3, ``%s`` for psycopg)."""
    name = audit_head.name
    return HeadStatements(
        lock=(
            f"SELECT seq, entry_hash, key_id FROM {name} WHERE id = {HEAD_ID}"  # noqa: S608
            + (" FOR UPDATE" if for_update else "")
        ),
        move=(
            f"UPDATE {name} SET seq = {mark}, entry_hash = {mark}, key_id = {mark} "  # noqa: S608
            f"WHERE id = {HEAD_ID}"
        ),
        create=(
            f"INSERT INTO {name} (id, seq, entry_hash, key_id) "  # noqa: S608
            f"VALUES ({HEAD_ID}, {mark}, {mark}, {mark})"
        ),
    )


def lock_head_raw(cursor: Any, statements: HeadStatements) -> Head:
    """``read_head(lock=True)`` on a DB-API cursor of the caller's transaction."""
    cursor.execute(statements.lock)
    row = cursor.fetchone()
    if row is None:
        return EMPTY
    return Head(int(row[0]), str(row[1]), row[2])


def move_head_raw(cursor: Any, statements: HeadStatements, head: Head) -> None:
    """``move_head`` on a DB-API cursor of the caller's transaction."""
    values = (head.seq, head.entry_hash, head.key_id)
    cursor.execute(statements.move, values)
    if cursor.rowcount == 0:
        cursor.execute(statements.create, values)
