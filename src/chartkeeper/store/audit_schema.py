"""The audit ledger's tables: hash-chained entries, their patient index, the head and checkpoints.

The ledger is append-only: ``chartkeeper.privacy.audit`` writes it, and migration 0002 adds
triggers that refuse UPDATE and DELETE. ``seq`` is assigned by the ledger (contiguous from 1),
never by the database, because the hash chain depends on it. What is hashed, and why, is in
``docs/audit.md``.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Index, Integer, String, Table, Text

from chartkeeper.store.schema import SeqType, metadata

#: One row per audited interaction, in commit order.
audit_ledger = Table(
    "audit_ledger",
    metadata,
    # On SQLite an INTEGER primary key is the rowid: rows lie in seq order, so verify is a scan.
    Column("seq", SeqType, primary_key=True, autoincrement=False),
    Column("recorded_at", BigInteger, nullable=False),  # epoch microseconds UTC
    Column("event", Text, nullable=False),  # the AuditEvent as canonical JSON
    Column("patient_ids", Text, nullable=False),  # space-separated Patient ids
    Column("agent", String(256), nullable=False),  # who: user or client name
    Column("action", String(1), nullable=False),  # C, R, U, D or E
    Column("outcome", String(2), nullable=False),  # 0, 4, 8 or 12
    Column("entry_hash", String(64), nullable=False),  # hex HMAC-SHA-256
    Column("prev_hash", String(64), nullable=False),  # the previous entry's entry_hash
    Index("ix_audit_ledger_recorded", "recorded_at"),
    Index("ix_audit_ledger_agent", "agent", "recorded_at"),
)

#: Which entries concern which patient: "who has looked at my record" without a full scan.
#: One row per patient per append: ``seq`` is the patient's first entry in it, and ``seqs`` all
#: of them as a JSON array (NULL: ``seq`` alone, as in every row before migration 0007).
audit_patients = Table(
    "audit_patients",
    metadata,
    Column("patient_id", String(64), primary_key=True),
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("seqs", Text, nullable=True),
)

#: One row (id 1): the last entry. Appends lock it (``SELECT ... FOR UPDATE``) to stay in order,
#: and refuse to chain with an HMAC key other than the one recorded here.
audit_head = Table(
    "audit_head",
    metadata,
    Column("id", Integer, primary_key=True, autoincrement=False),
    Column("seq", BigInteger, nullable=False),
    Column("entry_hash", String(64), nullable=False),
    Column("key_id", String(64), nullable=True),  # HMAC key fingerprint; set by the first append
)

#: Ed25519 signatures over ``seq || entry_hash``, made every N entries and on demand.
audit_checkpoints = Table(
    "audit_checkpoints",
    metadata,
    Column("seq", BigInteger, primary_key=True, autoincrement=False),
    Column("entry_hash", String(64), nullable=False),
    Column("signed_at", BigInteger, nullable=False),  # epoch microseconds UTC
    Column("signature", String(128), nullable=False),  # hex
    Column("public_key_id", String(64), nullable=False),
)

AUDIT_TABLES: tuple[Table, ...] = (audit_ledger, audit_patients, audit_head, audit_checkpoints)
#: The tables the database refuses to UPDATE or DELETE (the head is updated on every append).
APPEND_ONLY_TABLES: tuple[str, ...] = ("audit_ledger", "audit_patients", "audit_checkpoints")
#: ``prev_hash`` of entry 1.
GENESIS_HASH = "0" * 64
HEAD_ID = 1
