"""``AuditLedger``: appends hash-chained AuditEvents in the caller's transaction, and checks them.

An entry commits or rolls back with the change it records, because it is written on the
caller's ``Connection``. Appends are serialised (the head row is locked ``FOR UPDATE`` on
PostgreSQL; SQLite has one writer at a time), so ``seq`` is contiguous and each entry chains to
the one before.

Writes, sign-ins and refusals are appended with their whole AuditEvent; reads are recorded as
compact entries (``record_read``, ``compact``), batched by the buffer: a few hundred bytes each
instead of 1.4 kB, and no event built until someone looks. Both kinds chain alike.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass
from functools import lru_cache
from itertools import chain
from json.encoder import encode_basestring
from pathlib import Path
from typing import Any, Protocol, cast

from sqlalchemy import Connection, Engine
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import DBAPIError, OperationalError

from chartkeeper.core.clock import Clock
from chartkeeper.core.errors import BusyError
from chartkeeper.fhir.dates import to_micros
from chartkeeper.privacy.actor import Actor
from chartkeeper.privacy.audit.buffer import AuditBuffer, QueuedEntry
from chartkeeper.privacy.audit.chain import MESSAGE, EntryHasher, canonical_json
from chartkeeper.privacy.audit.checkpoints import Checkpoint, make_checkpoint
from chartkeeper.privacy.audit.compact import CODE_JSON, COMPACT_READ, compact_text
from chartkeeper.privacy.audit.head import (
    Head,
    HeadStatements,
    head_statements,
    lock_head_raw,
    move_head_raw,
)
from chartkeeper.privacy.audit.keys import AuditKeyMismatchError, AuditKeys
from chartkeeper.privacy.audit.pending import PendingEntry, pending_entry
from chartkeeper.privacy.audit.verify import VerifyReport, verify_ledger
from chartkeeper.store.audit_schema import audit_ledger, audit_patients
from chartkeeper.store.engine import WRITE_OPTION, placeholder

#: One ledger row, in ``audit_ledger`` column order.
_Row = tuple[int, int, str, str, str, str, str, str, str]
_LEDGER_COLUMNS = (
    "seq",
    "recorded_at",
    "event",
    "patient_ids",
    "agent",
    "action",
    "outcome",
    "entry_hash",
    "prev_hash",
)


#: Rows per multi-row INSERT, largest first. A batch of read entries goes in as a few
#: statements rather than one per row: each statement is one trip into the driver (which lets
#: go of the GIL, so a batch written beside busy request threads would otherwise hand the GIL
#: back and forth hundreds of times), and a fixed set of shapes keeps the driver's prepared
#: statements cached. 64 rows of 9 columns (the ledger; the patient index has 3) stay under
#: SQLite's oldest limit of 999 parameters.
CHUNKS = (64, 16, 4, 1)


@dataclass(frozen=True)
class _Statements:
    ledger: dict[int, str]  # rows per statement -> INSERT INTO audit_ledger ...
    patients: dict[int, str]  # rows per statement -> INSERT INTO audit_patients ...
    head: HeadStatements


def _insert_statements(table: str, columns: Sequence[str], mark: str) -> dict[int, str]:
    row = f"({', '.join([mark] * len(columns))})"
    return {
        size: f"INSERT INTO {table} ({', '.join(columns)}) "  # noqa: S608 (names from the schema)
        f"VALUES {', '.join([row] * size)}"
        for size in CHUNKS
    }


@lru_cache(maxsize=8)
def _driver_statements(mark: str, for_update: bool) -> _Statements:
    return _Statements(
        ledger=_insert_statements(audit_ledger.name, _LEDGER_COLUMNS, mark),
        patients=_insert_statements(audit_patients.name, ("patient_id", "seq", "seqs"), mark),
        head=head_statements(mark, for_update=for_update),
    )


def _insert(cursor: Any, statements: dict[int, str], rows: Sequence[tuple[Any, ...]]) -> None:
    """Insert ``rows`` with the multi-row statements, largest first (200 rows: 3 x 64 + 2 x 4)."""
    start = 0
    for size in CHUNKS:
        count = (len(rows) - start) // size
        if count == 0:
            continue
        end = start + count * size
        if size == 1:
            cursor.executemany(statements[1], rows[start:end])
        else:
            cursor.executemany(
                statements[size],
                [list(chain.from_iterable(rows[at : at + size])) for at in range(start, end, size)],
            )
        start = end


def patient_runs(runs: dict[str, list[int]]) -> list[tuple[str, int, str | None]]:
    """The ``audit_patients`` rows of one append: one per patient, ``(patient_id, first seq,
    every seq as a JSON array)``, the array NULL when the patient has one entry only.

    One row per entry cost more than the entry itself: each lands at its patient's place in
    the index, so a batch of reads dirtied (and wrote to the WAL at commit) about one page per
    patient it touched, 4 kB for every few entries. A patient's run of entries in a batch is
    one row instead; ``query`` expands the arrays.
    """
    return [
        (patient_id, seqs[0], None if len(seqs) == 1 else f"[{','.join(map(str, seqs))}]")
        for patient_id, seqs in runs.items()
    ]


def _statements(dialect: Dialect) -> _Statements:
    """The append's statements in the driver's placeholder style (``?``: sqlite3; ``%s``:
    psycopg); the head is locked ``FOR UPDATE`` except on SQLite (one writer at a time)."""
    return _driver_statements(placeholder(dialect), dialect.name != "sqlite")


class _Lock(Protocol):
    def acquire(self, blocking: bool = ...) -> bool: ...
    def release(self) -> None: ...


_NO_LOCK: _Lock = threading.Lock()  # stands for "no lock to take" in ``_lock_of``


def _lock_of(writer: AbstractContextManager[None]) -> _Lock | None:
    """The lock behind ``writer`` that can be tried without waiting: ``_NO_LOCK`` when there is
    none to take (``nullcontext``), None when it is unknown."""
    if isinstance(writer, nullcontext):
        return _NO_LOCK
    if callable(getattr(writer, "acquire", None)) and callable(getattr(writer, "release", None)):
        return cast(_Lock, writer)
    return None


class AuditLedger:
    """The append-only audit ledger of one store (see ``privacy.audit`` for the API)."""

    #: Whether appends are kept (False only for ``NullLedger``, which measures auditing's cost).
    records = True

    def __init__(
        self,
        engine: Engine,
        keys: AuditKeys,
        clock: Clock,
        checkpoint_every: int = 10_000,
        writer: AbstractContextManager[None] | None = None,
    ) -> None:
        # ``writer``: the repository's in-process writer lock, so on SQLite the ledger's own
        # transactions queue behind the repository's instead of polling a locked database
        self.writer: AbstractContextManager[None] = writer or nullcontext()
        self.engine = engine
        self.keys = keys
        self.clock = clock
        self.checkpoint_every = checkpoint_every
        self._hasher = EntryHasher(keys.hmac_key)
        self._buffer: AuditBuffer | None = None
        self._buffer_lock = threading.Lock()
        self._key_id_of: tuple[AuditKeys, str] | None = None

    def append(
        self,
        connection: Connection,
        event: dict[str, Any],
        *,
        patient_ids: Sequence[str],
        agent: str,
        action: str,
        outcome: str,
    ) -> int:
        """Append one entry inside the caller's transaction; returns its ``seq``."""
        entry = pending_entry(
            event, patient_ids=patient_ids, agent=agent, action=action, outcome=outcome
        )
        return self.append_many(connection, [entry])

    def append_now(
        self,
        event: dict[str, Any],
        *,
        patient_ids: Sequence[str],
        agent: str,
        action: str,
        outcome: str,
    ) -> int:
        """Append one entry in a transaction of its own (sign-in, refused requests...)."""
        with self._writing() as connection:
            return self.append(
                connection,
                event,
                patient_ids=patient_ids,
                agent=agent,
                action=action,
                outcome=outcome,
            )

    def record_read(
        self,
        actor: Actor,
        action: str,
        subtype: str,
        patient_ids: Sequence[str],
        resource: str | None = None,
        query: str | None = None,
        note: str | None = None,
        outcome: str = "0",
    ) -> None:
        """Record a read (or search, history, ``$everything``...) through the buffer, as a
        compact entry (see ``compact``): its AuditEvent is built only when it is looked at."""
        buffer = self._buffer
        if buffer is None:
            buffer = self.buffered()
        buffer.add_read(actor, action, subtype, patient_ids, resource, query, note, outcome)

    def append_many(self, connection: Connection, entries: Sequence[QueuedEntry]) -> int:
        """Append ``entries`` in order inside the caller's transaction; returns the last seq.

        A handful of statements whatever the number of entries, once per call (so once per
        transaction for a request's writes): lock the head, insert the entries and their
        patients (many rows per statement, see ``CHUNKS``), move the head. They run on the
        transaction's own DB-API cursor: SQLAlchemy's per-statement compilation and per-row
        parameter processing cost several times what the database spends on them (as for
        resource rows in ``store.writes``). Driver errors are raised as SQLAlchemy's, as
        ``execute`` would.
        """
        if not connection.in_transaction():
            connection.begin()  # what ``execute`` would do (autobegin): the caller commits
        statements = _statements(connection.dialect)
        cursor = connection.connection.cursor()  # the transaction's own DB-API connection
        try:
            head = lock_head_raw(cursor, statements.head)
            key_id = self._key_id()
            if head.key_id not in (None, key_id):
                raise AuditKeyMismatchError(
                    f"the audit HMAC key in use ({key_id}) is not the one that wrote this "
                    f"ledger ({head.key_id}); every server must share the same <data_dir>/keys/"
                )
            if not entries:
                return head.seq
            now = to_micros(self.clock.now())
            rows, patient_rows = self._rows(head, entries, now)
            _insert(cursor, statements.ledger, rows)
            _insert(cursor, statements.patients, patient_rows)
            seq, last_hash = rows[-1][0], rows[-1][7]
            move_head_raw(cursor, statements.head, Head(seq, last_hash, key_id))
        except connection.dialect.loaded_dbapi.Error as error:
            raise DBAPIError.instance(
                None, None, error, connection.dialect.loaded_dbapi.Error, dialect=connection.dialect
            ) from error
        finally:
            cursor.close()
        every = self.checkpoint_every
        if every > 0 and seq // every > head.seq // every:
            make_checkpoint(connection, self.keys, now)
        return seq

    def _rows(
        self, head: Head, entries: Sequence[QueuedEntry], now: int
    ) -> tuple[list[_Row], list[tuple[str, int, str | None]]]:
        """The ledger rows (in ``audit_ledger`` column order) and ``audit_patients`` rows.

        The loop is every entry's cost of writing (a batch of reads is mostly compact entries),
        so it hashes inline with the hasher's prepared states rather than through calls.
        A patient's entries in the batch share one ``audit_patients`` row (``patient_runs``).
        """
        inner_copy, outer_copy = self._hasher.inner.copy, self._hasher.outer.copy
        quote, codes = encode_basestring, CODE_JSON
        seq, prev_hash = head.seq, head.entry_hash
        rows: list[_Row] = []
        runs: dict[str, list[int]] = {}
        for entry in entries:
            seq += 1
            if type(entry) is tuple:  # a compact read (``ReadEntry``)
                recorded_at, actor, action, outcome, subtype, patients, resource, query, note = (
                    entry
                )
                actor_json, agent, agent_json = actor
                if resource is not None and query is None and note is None:  # a read by id
                    event = COMPACT_READ % (seq, codes[subtype], quote(resource), actor_json)
                else:
                    event = compact_text(seq, entry)
            else:
                pending = cast(PendingEntry, entry)
                recorded_at = now if pending.recorded_at is None else pending.recorded_at
                event = canonical_json({**pending.event, "id": str(seq)})
                agent, action, outcome = pending.agent, pending.action, pending.outcome
                agent_json, patients = quote(agent), pending.patient_ids
            patient_ids = " ".join(patients)
            message = MESSAGE % (
                prev_hash,
                codes[action],
                agent_json,
                event,
                codes[outcome],
                quote(patient_ids),
                recorded_at,
                seq,
            )
            inner = inner_copy()
            inner.update(message.encode())
            outer = outer_copy()
            outer.update(inner.digest())
            entry_hash = outer.hexdigest()
            rows.append(
                (
                    seq,
                    recorded_at,
                    event,
                    patient_ids,
                    agent,
                    action,
                    outcome,
                    entry_hash,
                    prev_hash,
                )
            )
            for patient_id in patients:
                run = runs.get(patient_id)
                if run is None:
                    runs[patient_id] = [seq]
                else:
                    run.append(seq)
            prev_hash = entry_hash
        return rows, patient_runs(runs)

    def _key_id(self) -> str:
        """``keys.hmac_key_id``, computed once per key (an HMAC through OpenSSL each time)."""
        keys = self.keys
        cached = self._key_id_of
        if cached is None or cached[0] is not keys:
            cached = self._key_id_of = (keys, keys.hmac_key_id)
        return cached[1]

    def buffered(self) -> AuditBuffer:
        """The ledger's buffer for read entries (one per ledger; ``close()`` it at shutdown)."""
        with self._buffer_lock:
            if self._buffer is None:
                self._buffer = AuditBuffer(
                    self._write_batch, self.clock, try_write=self._try_write_batch
                )
            return self._buffer

    def _write_batch(self, entries: Sequence[QueuedEntry]) -> None:
        with self._writing() as connection:
            self.append_many(connection, entries)

    def _try_write_batch(self, entries: Sequence[QueuedEntry]) -> bool:
        """Append ``entries`` in a transaction of their own if the writer is free right now.

        A request thread writes a full batch only this way: it must never queue behind a long
        write (or, holding the writer itself, wait for it forever).
        """
        lock = _lock_of(self.writer)
        if lock is None:
            return False  # a writer that cannot be tried: the background thread writes
        if lock is _NO_LOCK:
            self._write_batch(entries)  # no in-process writer lock (PostgreSQL)
            return True
        if not lock.acquire(blocking=False):
            return False
        try:
            with self._writing(nullcontext()) as connection:
                self.append_many(connection, entries)
        finally:
            lock.release()
        return True

    def verify(self, checkpoint: Path | None = None) -> VerifyReport:
        """Walk the whole chain (and, if given, an exported checkpoint file)."""
        return verify_ledger(self.engine, self.keys, checkpoint)

    def checkpoint(self, connection: Connection | None = None) -> Checkpoint:
        """Sign the current head now and store the checkpoint."""
        now = to_micros(self.clock.now())
        if connection is not None:
            return make_checkpoint(connection, self.keys, now)
        with self._writing() as own:
            return make_checkpoint(own, self.keys, now)

    def close(self) -> None:
        """Flush and stop the read buffer, if one was started."""
        with self._buffer_lock:
            buffer, self._buffer = self._buffer, None
        if buffer is not None:
            buffer.close()

    @contextmanager
    def _writing(self, writer: AbstractContextManager[None] | None = None) -> Iterator[Connection]:
        try:
            with (
                self.writer if writer is None else writer,
                self.engine.connect().execution_options(**{WRITE_OPTION: True}) as connection,
                connection.begin(),
            ):
                yield connection
        except OperationalError as error:
            if "locked" in str(error).lower() or "busy" in str(error).lower():
                raise BusyError("The store is busy; retry shortly") from error
            raise
