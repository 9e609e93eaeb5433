"""The tamper-evident audit ledger: every interaction as a BALP AuditEvent, hash-chained.

Public API (docs/audit.md describes the format, keys, checkpoints and verification)::

    keys = load_keys(data_dir)                 # <data_dir>/keys/, generated on first use
    ledger = AuditLedger(engine, keys, clock, checkpoint_every=10_000)

    event = audit_event(action="U", subtype="update", outcome="0", actor=actor,
                        patient_ids=["p1"], resource="Observation/7/_history/2",
                        recorded=clock.now())
    ledger.append(connection, event, patient_ids=["p1"], agent=actor.name,
                  action="U", outcome="0")        # in the caller's transaction -> seq
    ledger.append_now(event, ...)                  # its own transaction (sign-in, refusals)
    ledger.record_read(actor, "R", "read", ["p1"], "Observation/7")
                                                   # reads: compact, batched, ~0.5 s
    ledger.buffered().add(event, ...)              # a read with its whole event, batched
    ledger.close()                                 # at shutdown: flush the read buffer
    report = ledger.verify(checkpoint=None)        # VerifyReport: ok, entries, problem, seq
    checkpoint = ledger.checkpoint()               # sign the head now
    export_checkpoints(connection, keys, path)     # copy the signatures off the machine
    NullLedger()                                   # records nothing: to measure audit's cost

``append`` locks the ledger head until the caller's transaction ends (PostgreSQL), so append
as the last statement before commit. ``action`` is C, R, U, D or E; ``outcome`` 0, 4, 8 or 12.
"""

from __future__ import annotations

from chartkeeper.privacy.audit.buffer import AuditBuffer
from chartkeeper.privacy.audit.checkpoints import (
    Checkpoint,
    CheckpointFile,
    export_checkpoints,
    read_checkpoint_file,
)
from chartkeeper.privacy.audit.events import audit_event
from chartkeeper.privacy.audit.keys import AuditKeys, has_keys, load_keys
from chartkeeper.privacy.audit.ledger import AuditLedger
from chartkeeper.privacy.audit.null import NullLedger
from chartkeeper.privacy.audit.verify import VerifyReport

__all__ = [
    "AuditBuffer",
    "AuditKeys",
    "AuditLedger",
    "Checkpoint",
    "CheckpointFile",
    "NullLedger",
    "VerifyReport",
    "audit_event",
    "export_checkpoints",
    "has_keys",
    "load_keys",
    "read_checkpoint_file",
]
