"""The break-the-glass grants table: emergency access to one chart, and its review."""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Column, Index, String, Table, Text

from chartkeeper.store.schema import metadata

#: One emergency grant: who declared it for which Patient, why, until when, and its review.
#: Times are epoch microseconds UTC. Migration 0004 creates this table.
break_glass_grants = Table(
    "break_glass_grants",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("actor_name", String(128), nullable=False),
    Column("role", String(32), nullable=False),
    Column("practitioner_id", String(64), nullable=True),
    Column("patient_id", String(64), nullable=False),
    Column("reason", Text, nullable=False),
    Column("granted_at", BigInteger, nullable=False),
    Column("expires_at", BigInteger, nullable=False),
    Column("expiry_audited", Boolean, nullable=False, default=False),
    Column("review_status", String(16), nullable=False, default="pending"),
    Column("reviewer", String(128), nullable=True),
    Column("reviewed_at", BigInteger, nullable=True),
    Column("review_note", Text, nullable=True),
    Index("ix_break_glass_grants_actor", "actor_name", "expires_at"),
    Index("ix_break_glass_grants_review", "review_status", "granted_at"),
)
