"""``NullLedger``: a ledger that records nothing, to measure what auditing costs (benchmarks).

Never use it to serve requests: HIPAA's audit controls (45 CFR 164.312(b)) need every access
recorded. ``records`` is False, so the guarded repository does not even build the events.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import nullcontext
from typing import Any

from sqlalchemy import Connection

from chartkeeper.core.clock import Clock, SystemClock
from chartkeeper.privacy.actor import Actor
from chartkeeper.privacy.audit.buffer import AuditBuffer, QueuedEntry
from chartkeeper.privacy.audit.ledger import AuditLedger


class _NullBuffer(AuditBuffer):
    def add(
        self,
        event: dict[str, Any],
        *,
        patient_ids: Sequence[str],
        agent: str,
        action: str,
        outcome: str,
    ) -> None:
        return None

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
        return None


class NullLedger(AuditLedger):
    """An ``AuditLedger`` whose appends are dropped (see the module docstring)."""

    records = False

    def __init__(self, clock: Clock | None = None) -> None:  # no engine, keys or head
        self.clock = clock or SystemClock()
        self.writer = nullcontext()
        self._null_buffer = _NullBuffer(lambda entries: None, self.clock)

    def append_many(self, connection: Connection, entries: Sequence[QueuedEntry]) -> int:
        return 0

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
        return None

    def append_now(
        self,
        event: dict[str, Any],
        *,
        patient_ids: Sequence[str],
        agent: str,
        action: str,
        outcome: str,
    ) -> int:
        return 0

    def buffered(self) -> AuditBuffer:
        return self._null_buffer

    def close(self) -> None:
        return None
