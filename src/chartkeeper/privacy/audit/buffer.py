"""Batching for read entries: one transaction per ~0.5 s or 200 reads instead of one per read.

Only reads go through here; a write's entry commits with the write itself. ``close()`` (at clean
shutdown) writes what is left; a hard crash can lose at most the last half second of reads.
A failed write keeps the entries and tries again at the next flush.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from typing import Any

from chartkeeper.core.clock import Clock
from chartkeeper.fhir.dates import to_micros
from chartkeeper.privacy.audit.pending import PendingEntry, pending_entry

log = logging.getLogger(__name__)

FLUSH_INTERVAL = 0.5  # seconds
FLUSH_SIZE = 200  # entries


class AuditBuffer:
    """Collects read entries in memory and appends them in batches from a background thread."""

    def __init__(
        self,
        write: Callable[[Sequence[PendingEntry]], None],
        clock: Clock,
        *,
        interval: float = FLUSH_INTERVAL,
        size: int = FLUSH_SIZE,
    ) -> None:
        self._write = write
        self._clock = clock
        self._interval = interval
        self._size = size
        self._pending: list[PendingEntry] = []
        self._condition = threading.Condition()
        self._write_lock = threading.Lock()  # one batch at a time, in order
        self._thread: threading.Thread | None = None
        self._closed = False

    def add(
        self,
        event: dict[str, Any],
        *,
        patient_ids: Sequence[str],
        agent: str,
        action: str,
        outcome: str,
    ) -> None:
        """Queue one entry, stamped now; after ``close()`` it is written at once."""
        entry = pending_entry(
            event,
            patient_ids=patient_ids,
            agent=agent,
            action=action,
            outcome=outcome,
            recorded_at=to_micros(self._clock.now()),
        )
        with self._condition:
            if not self._closed:
                self._pending.append(entry)
                self._start()
                if len(self._pending) in (1, self._size):
                    self._condition.notify()  # wake the thread: a batch started or is full
                return
        with self._write_lock:
            self._write([entry])

    def __len__(self) -> int:
        with self._condition:
            return len(self._pending)

    def flush(self) -> None:
        """Write everything queued now; on failure the entries stay queued and this raises."""
        with self._write_lock:
            with self._condition:
                batch, self._pending = self._pending, []
            if not batch:
                return
            try:
                self._write(batch)
            except BaseException:
                with self._condition:
                    self._pending[:0] = batch
                raise

    def close(self) -> None:
        """Stop the background thread and write what is left (raises if that fails)."""
        with self._condition:
            self._closed = True
            self._condition.notify()
            thread = self._thread
        if thread is not None:
            thread.join()
        self.flush()

    def _start(self) -> None:
        """Start the flushing thread on first use (called with the condition held)."""
        if self._thread is None:
            self._thread = threading.Thread(
                target=self._run, name="chartkeeper-audit-buffer", daemon=True
            )
            self._thread.start()

    def _run(self) -> None:
        while True:
            with self._condition:
                while not self._closed and not self._pending:
                    self._condition.wait()
                if not self._closed and len(self._pending) < self._size:
                    self._condition.wait(self._interval)  # let the batch fill for a while
                if self._closed:
                    return
            try:
                self.flush()
            except Exception as error:  # keep serving; the entries stay queued for next time
                log.warning(
                    "audit: could not write %d buffered entries (%s); will retry",
                    len(self),
                    type(error).__name__,
                )
