"""Batching for read entries: one transaction per ~0.5 s or 1,000 reads instead of one per read.

Only reads go through here; a write's entry commits with the write itself. ``close()`` (at clean
shutdown) writes what is left; a hard crash can lose at most the last half second of reads.
A failed write keeps the entries and tries again at the next flush.

Adding is cheap: a read is queued as a compact entry (``compact``: a tuple; its text and hash
are made when its batch is written) on a ``deque`` (thread-safe without a lock). The add that
brings the queue to a whole number of batches writes one there and then, if no other batch is
being written and the store's writer is free (``try_write``); otherwise, and for partial
batches, a background thread writes what is queued half a second after it was queued, in as
few transactions as it may. Writing full batches in the request's own thread rather than
handing them to the background thread was measured (with the full events this buffer used to
hold): a second thread that wants the GIL while requests run is woken every time a request
thread lets go of it (every database call), thousands of times per batch, which cost more CPU
than writing the batch. So the thread writes only what requests leave: a partial batch that
has waited its half second. The exception is a request served on the event loop itself (reads
by id on SQLite): a batch written there would stall every other request, so its full batches
are left to the background thread.

Batches are large because a transaction costs about a millisecond of CPU whatever its size, and
its commit writes out every page it touched (the ends of the ledger and its indexes, a page of
the patient index per patient): at 200 entries a batch that was a third of each entry's cost.
"""

from __future__ import annotations

import asyncio
import logging
import threading
import time
from collections import deque
from collections.abc import Callable, Sequence
from typing import Any

from chartkeeper.core.clock import Clock, SystemClock
from chartkeeper.fhir.dates import to_micros
from chartkeeper.privacy.actor import Actor
from chartkeeper.privacy.audit.compact import ReadEntry, read_entry
from chartkeeper.privacy.audit.pending import PendingEntry, pending_entry

log = logging.getLogger(__name__)

FLUSH_INTERVAL = 0.5  # seconds
#: Entries that make a full batch, written by the request that fills it. Each transaction costs
#: about a millisecond of CPU whatever its size (and its commit rewrites every page it touched),
#: so batches are large; a compact entry queued costs ~0.1 kB of memory.
FLUSH_SIZE = 1000  # entries
#: A flush (background thread, shutdown) writes what is queued in transactions of up to this
#: many batches: fewer commits, while no single one holds the store's writer for long.
WRITE_MAX_BATCHES = 10

#: What the buffer holds: a read's compact entry, or an entry with its whole event.
QueuedEntry = ReadEntry | PendingEntry


def _on_event_loop() -> bool:
    """True on a thread that runs an asyncio event loop (a read served inline, see
    ``web.fhir_api``): a batch written there would stall every other request meanwhile, so it
    is left to the background thread."""
    try:
        asyncio.get_running_loop()
    except RuntimeError:
        return False
    return True


class AuditBuffer:
    """Collects read entries in memory and appends them in batches (see the module docstring)."""

    def __init__(
        self,
        write: Callable[[Sequence[QueuedEntry]], None],
        clock: Clock,
        *,
        interval: float = FLUSH_INTERVAL,
        size: int = FLUSH_SIZE,
        try_write: Callable[[Sequence[QueuedEntry]], bool] | None = None,
    ) -> None:
        """``write`` appends a batch (waiting for the store if need be); ``try_write`` appends
        it only if that needs no waiting, and says whether it did (default: ``write``)."""
        self._write = write
        self._try_write = try_write
        self._clock = clock
        self._interval = interval
        self._size = max(1, size)
        self._system_clock = type(clock) is SystemClock
        self._pending: deque[QueuedEntry] = deque()
        self._queued = threading.Event()  # entries wait for the background thread
        self._stop = threading.Event()
        self._write_lock = threading.Lock()  # one batch at a time, in order
        self._start_lock = threading.Lock()
        self._thread: threading.Thread | None = None
        self._closed = False
        self._written_at = 0.0  # time.monotonic() of the last batch written from a request

    def add(
        self,
        event: dict[str, Any],
        *,
        patient_ids: Sequence[str],
        agent: str,
        action: str,
        outcome: str,
    ) -> None:
        """Queue one entry with its whole event, stamped now; after ``close()`` it is written
        at once."""
        entry = pending_entry(
            event,
            patient_ids=patient_ids,
            agent=agent,
            action=action,
            outcome=outcome,
            recorded_at=self._micros(),
        )
        self._queue(entry)

    def add_read(
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
        """Queue a read as a compact entry (``compact``), stamped now.

        This is what every audited read costs on its own path: the checks of ``read_entry``
        and a tuple appended; the entry's text and hash are made when its batch is written.
        """
        recorded_at = time.time_ns() // 1000 if self._system_clock else self._micros()
        self._queue(
            read_entry(
                recorded_at, actor, action, subtype, patient_ids, resource, query, note, outcome
            )
        )

    def _queue(self, entry: QueuedEntry) -> None:
        pending = self._pending
        pending.append(entry)
        # Checked after appending: either close() had not begun (and its final flush writes
        # this entry) or it had, and this writes it.
        if self._closed:
            self.flush()
            return
        if self._thread is None:
            self._start()
        if not self._queued.is_set():
            self._queued.set()
        # Only the add that brings the queue to a whole number of batches tries to write one:
        # a queue left to the thread (on the event loop, or while the writer is busy) stays
        # over a batch for up to half a second, and asking on each of those adds whether this
        # is the event loop cost a system call every time (asyncio checks the process id).
        queued = len(pending)
        if queued % self._size == 0 and queued and not _on_event_loop():
            self._write_full_batch()

    def _micros(self) -> int:
        """Now, in epoch microseconds (the system clock read directly: ``datetime`` arithmetic
        would cost more than the rest of queueing a read)."""
        if self._system_clock:
            return time.time_ns() // 1000
        return to_micros(self._clock.now())

    def __len__(self) -> int:
        return len(self._pending)

    def flush(self) -> None:
        """Write what is queued now, in transactions of up to ``WRITE_MAX_BATCHES`` batches;
        on failure the entries stay queued and this raises.

        Only what was queued when it began: reads that arrive meanwhile wait for the next
        flush. Chasing them would write a trail of ever smaller transactions while requests
        keep adding, each costing about a millisecond whatever its size.
        """
        with self._write_lock:
            left = len(self._pending)
            while left > 0 and self._pending:
                batch = self._take(min(left, self._size * WRITE_MAX_BATCHES))
                left -= len(batch)
                try:
                    self._write(batch)
                except BaseException:
                    self._pending.extendleft(reversed(batch))
                    raise

    def close(self) -> None:
        """Stop the background thread and write what is left (raises if that fails)."""
        self._closed = True
        self._stop.set()
        self._queued.set()
        with self._start_lock:
            thread = self._thread
        if thread is not None:
            thread.join()
        self.flush()

    def _take(self, count: int) -> list[QueuedEntry]:
        """The oldest ``count`` entries (fewer if fewer are queued), out of the queue (called
        holding the write lock)."""
        pending = self._pending
        return [pending.popleft() for _ in range(min(count, len(pending)))]

    def _write_full_batch(self) -> None:
        """Write one full batch from the caller's thread, unless that would mean waiting (for
        another batch, or for the store's writer); a failure is logged and the entries stay."""
        if not self._write_lock.acquire(blocking=False):
            return  # a batch is being written: this one will be, next
        try:
            if len(self._pending) < self._size:
                return
            batch = self._take(self._size)
            try:
                written = True
                if self._try_write is None:
                    self._write(batch)
                else:
                    written = self._try_write(batch)
            except Exception as error:  # the read goes on; the entries stay for the next flush
                written = False
                log.warning(
                    "audit: could not write %d buffered entries (%s); will retry",
                    len(batch),
                    type(error).__name__,
                )
            if written:
                self._written_at = time.monotonic()
            else:
                self._pending.extendleft(reversed(batch))
        finally:
            self._write_lock.release()

    def _start(self) -> None:
        """Start the background thread on first use."""
        with self._start_lock:
            if self._thread is None and not self._closed:
                self._thread = threading.Thread(
                    target=self._run, name="chartkeeper-audit-buffer", daemon=True
                )
                self._thread.start()

    def _run(self) -> None:
        while True:
            self._queued.wait()
            wait = self._interval
            while True:
                if self._stop.wait(wait):  # let the batch fill for a while
                    return  # closing: close() writes what is left
                # A request wrote a full batch meanwhile: what is left was queued after it, so
                # wait for its own half second (the thread writes only when requests do not).
                wait = self._written_at + self._interval - time.monotonic()
                if wait <= 0.001:
                    break
            self._queued.clear()  # what is added from now on wakes the thread again
            try:
                self.flush()
            except Exception as error:  # keep serving; the entries stay queued for next time
                log.warning(
                    "audit: could not write %d buffered entries (%s); will retry",
                    len(self),
                    type(error).__name__,
                )
