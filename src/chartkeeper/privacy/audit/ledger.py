"""``AuditLedger``: appends hash-chained AuditEvents in the caller's transaction, and checks them.

An entry commits or rolls back with the change it records, because it is written on the
caller's ``Connection``. Appends are serialised (the head row is locked ``FOR UPDATE`` on
PostgreSQL; SQLite has one writer at a time), so ``seq`` is contiguous and each entry chains to
the one before.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, insert
from sqlalchemy.exc import OperationalError

from chartkeeper.core.clock import Clock
from chartkeeper.core.errors import BusyError
from chartkeeper.fhir.dates import to_micros
from chartkeeper.privacy.audit.buffer import AuditBuffer
from chartkeeper.privacy.audit.chain import EntryHasher, canonical_json, hashed_message
from chartkeeper.privacy.audit.checkpoints import Checkpoint, make_checkpoint
from chartkeeper.privacy.audit.head import Head, move_head, read_head
from chartkeeper.privacy.audit.keys import AuditKeyMismatchError, AuditKeys
from chartkeeper.privacy.audit.pending import PendingEntry, pending_entry
from chartkeeper.privacy.audit.verify import VerifyReport, verify_ledger
from chartkeeper.store.audit_schema import audit_ledger, audit_patients
from chartkeeper.store.engine import WRITE_OPTION


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

    def append_many(self, connection: Connection, entries: Sequence[PendingEntry]) -> int:
        """Append ``entries`` in order inside the caller's transaction; returns the last seq."""
        head = read_head(connection, lock=True)
        key_id = self.keys.hmac_key_id
        if head.key_id not in (None, key_id):
            raise AuditKeyMismatchError(
                f"the audit HMAC key in use ({key_id}) is not the one that wrote this ledger "
                f"({head.key_id}); every server must share the same <data_dir>/keys/"
            )
        seq, prev_hash = head.seq, head.entry_hash
        now = to_micros(self.clock.now())
        rows: list[dict[str, Any]] = []
        patient_rows: list[dict[str, Any]] = []
        for entry in entries:
            seq += 1
            row = self._row(seq, prev_hash, entry, now)
            rows.append(row)
            patient_rows.extend({"patient_id": p, "seq": seq} for p in entry.patient_ids)
            prev_hash = row["entry_hash"]
        if not rows:
            return seq
        connection.execute(insert(audit_ledger), rows)
        if patient_rows:
            connection.execute(insert(audit_patients), patient_rows)
        move_head(connection, Head(seq, prev_hash, key_id))
        every = self.checkpoint_every
        if every > 0 and seq // every > head.seq // every:
            make_checkpoint(connection, self.keys, now)
        return seq

    def _row(self, seq: int, prev_hash: str, entry: PendingEntry, now: int) -> dict[str, Any]:
        recorded_at = now if entry.recorded_at is None else entry.recorded_at
        event = canonical_json({**entry.event, "id": str(seq)})
        patient_ids = " ".join(entry.patient_ids)
        message = hashed_message(
            prev_hash,
            seq,
            recorded_at,
            event,
            patient_ids,
            entry.agent,
            entry.action,
            entry.outcome,
        )
        return {
            "seq": seq,
            "recorded_at": recorded_at,
            "event": event,
            "patient_ids": patient_ids,
            "agent": entry.agent,
            "action": entry.action,
            "outcome": entry.outcome,
            "entry_hash": self._hasher.digest(message),
            "prev_hash": prev_hash,
        }

    def buffered(self) -> AuditBuffer:
        """The ledger's buffer for read entries (one per ledger; ``close()`` it at shutdown)."""
        with self._buffer_lock:
            if self._buffer is None:
                self._buffer = AuditBuffer(self._write_batch, self.clock)
            return self._buffer

    def _write_batch(self, entries: Sequence[PendingEntry]) -> None:
        with self._writing() as connection:
            self.append_many(connection, entries)

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
    def _writing(self) -> Iterator[Connection]:
        try:
            with (
                self.writer,
                self.engine.connect().execution_options(**{WRITE_OPTION: True}) as connection,
                connection.begin(),
            ):
                yield connection
        except OperationalError as error:
            if "locked" in str(error).lower() or "busy" in str(error).lower():
                raise BusyError("The store is busy; retry shortly") from error
            raise
