"""Audit ledger: append-only, hash-chained AuditEvents and signed checkpoints.

The database refuses UPDATE, DELETE (and on PostgreSQL TRUNCATE) of the ledger tables through
triggers. That stops mistakes and casual edits, not a DBA, who can drop a trigger: the guarantee
is tamper *evidence* from the hash chain and signed checkpoints (docs/audit.md).

Revision ID: 0002
Revises: 0001
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

APPEND_ONLY = ("audit_ledger", "audit_patients", "audit_checkpoints")
GENESIS_HASH = "0" * 64

PG_FUNCTION = """
CREATE OR REPLACE FUNCTION chartkeeper_audit_append_only() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'chartkeeper: % is append-only (% refused)', TG_TABLE_NAME, TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$
"""


def upgrade() -> None:
    _create_tables()
    head = sa.table(
        "audit_head",
        sa.column("id", sa.Integer),
        sa.column("seq", sa.BigInteger),
        sa.column("entry_hash", sa.String),
    )
    op.bulk_insert(head, [{"id": 1, "seq": 0, "entry_hash": GENESIS_HASH}])
    if op.get_bind().dialect.name == "postgresql":
        _postgresql_triggers()
    else:
        _sqlite_triggers()


def _create_tables() -> None:
    op.create_table(
        "audit_ledger",
        # INTEGER on SQLite makes seq the rowid: the table is stored in seq order.
        sa.Column(
            "seq",
            sa.BigInteger().with_variant(sa.Integer(), "sqlite"),
            autoincrement=False,
            nullable=False,
        ),
        sa.Column("recorded_at", sa.BigInteger(), nullable=False),
        sa.Column("event", sa.Text(), nullable=False),
        sa.Column("patient_ids", sa.Text(), nullable=False),
        sa.Column("agent", sa.String(length=256), nullable=False),
        sa.Column("action", sa.String(length=1), nullable=False),
        sa.Column("outcome", sa.String(length=2), nullable=False),
        sa.Column("entry_hash", sa.String(length=64), nullable=False),
        sa.Column("prev_hash", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("seq"),
    )
    op.create_index("ix_audit_ledger_recorded", "audit_ledger", ["recorded_at"])
    op.create_index("ix_audit_ledger_agent", "audit_ledger", ["agent", "recorded_at"])
    op.create_table(
        "audit_patients",
        sa.Column("patient_id", sa.String(length=64), nullable=False),
        sa.Column("seq", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.PrimaryKeyConstraint("patient_id", "seq"),
    )
    op.create_table(
        "audit_head",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("entry_hash", sa.String(length=64), nullable=False),
        sa.Column("key_id", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_table(
        "audit_checkpoints",
        sa.Column("seq", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("entry_hash", sa.String(length=64), nullable=False),
        sa.Column("signed_at", sa.BigInteger(), nullable=False),
        sa.Column("signature", sa.String(length=128), nullable=False),
        sa.Column("public_key_id", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("seq"),
    )


def _postgresql_triggers() -> None:
    op.execute(PG_FUNCTION)
    for table in APPEND_ONLY:
        op.execute(
            f"CREATE TRIGGER {table}_append_only BEFORE UPDATE OR DELETE ON {table} "
            "FOR EACH ROW EXECUTE FUNCTION chartkeeper_audit_append_only()"
        )
        op.execute(
            f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
            "FOR EACH STATEMENT EXECUTE FUNCTION chartkeeper_audit_append_only()"
        )


def _sqlite_triggers() -> None:
    for table in APPEND_ONLY:
        for verb in ("UPDATE", "DELETE"):
            op.execute(
                f"CREATE TRIGGER {table}_no_{verb.lower()} BEFORE {verb} ON {table} "
                f"BEGIN SELECT RAISE(ABORT, 'chartkeeper: {table} is append-only "
                f"({verb} refused)'); END"
            )


def downgrade() -> None:
    # Dropping a table drops its triggers; the ledger's contents go with it.
    for table in ("audit_checkpoints", "audit_head", "audit_patients"):
        op.drop_table(table)
    op.drop_index("ix_audit_ledger_agent", table_name="audit_ledger")
    op.drop_index("ix_audit_ledger_recorded", table_name="audit_ledger")
    op.drop_table("audit_ledger")
    if op.get_bind().dialect.name == "postgresql":
        op.execute("DROP FUNCTION IF EXISTS chartkeeper_audit_append_only()")
