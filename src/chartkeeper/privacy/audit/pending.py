"""Entries waiting for their seq: checked once, so every ledger row is well formed."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from chartkeeper.core.ids import is_valid_id
from chartkeeper.privacy.audit.events import ACTIONS, OUTCOMES

MAX_AGENT_LENGTH = 256


@dataclass(frozen=True)
class PendingEntry:
    """An AuditEvent and its index columns; ``recorded_at`` is set when it was buffered."""

    event: dict[str, Any]
    patient_ids: tuple[str, ...]
    agent: str
    action: str
    outcome: str
    recorded_at: int | None = None  # epoch microseconds; None: the time of the append


def pending_entry(
    event: dict[str, Any],
    *,
    patient_ids: Sequence[str],
    agent: str,
    action: str,
    outcome: str,
    recorded_at: int | None = None,
) -> PendingEntry:
    """A checked entry; a bad code, empty agent or bad Patient id is a bug (``ValueError``)."""
    if action not in ACTIONS:
        raise ValueError(f"audit action must be one of C, R, U, D, E, not {action!r}")
    if outcome not in OUTCOMES:
        raise ValueError(f"audit outcome must be one of 0, 4, 8, 12, not {outcome!r}")
    if not agent:
        raise ValueError("audit agent must not be empty")
    if isinstance(patient_ids, str):
        raise ValueError("patient_ids must be a sequence of ids, not one string")
    unique = tuple(dict.fromkeys(patient_ids))
    bad = [patient_id for patient_id in unique if not is_valid_id(patient_id)]
    if bad:
        raise ValueError(f"not a Patient id: {bad[0]!r}")
    # A name typed at sign-in can be any length; the column keeps the first 256 characters
    # (the event keeps it whole).
    agent = agent[:MAX_AGENT_LENGTH]
    return PendingEntry(event, unique, agent, action, outcome, recorded_at)
