"""Billing work tables: claim worklist, 837 batches, counters, remittances, postings, denials.

Revision ID: 0009
Revises: 0008
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "billing_claims",
        sa.Column("claim_id", sa.String(length=64), nullable=False),
        sa.Column("control_number", sa.String(length=20), nullable=False),
        sa.Column("patient_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=4), nullable=False),
        sa.Column("payer_id", sa.String(length=80), nullable=False),
        sa.Column("billing_npi", sa.String(length=10), nullable=False),
        sa.Column("service_from", sa.String(length=10), nullable=False),
        sa.Column("service_to", sa.String(length=10), nullable=False),
        sa.Column("total_cents", sa.BigInteger(), nullable=False),
        sa.Column("signature", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("findings", sa.Text(), nullable=False),
        sa.Column("batch_id", sa.String(length=64), nullable=True),
        sa.Column("scrubbed_at", sa.BigInteger(), nullable=True),
        sa.Column("updated", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("claim_id"),
        sa.UniqueConstraint("control_number"),
    )
    op.create_index("ix_billing_claims_patient", "billing_claims", ["patient_id"])
    op.create_index("ix_billing_claims_signature", "billing_claims", ["signature"])
    op.create_index("ix_billing_claims_status", "billing_claims", ["status", "updated"])
    op.create_table(
        "billing_batches",
        sa.Column("batch_id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=4), nullable=False),
        sa.Column("interchange_control", sa.BigInteger(), nullable=False),
        sa.Column("created", sa.BigInteger(), nullable=False),
        sa.Column("claim_count", sa.Integer(), nullable=False),
        sa.Column("total_cents", sa.BigInteger(), nullable=False),
        sa.Column("x12", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("batch_id"),
    )
    op.create_table(
        "billing_counters",
        sa.Column("name", sa.String(length=32), nullable=False),
        sa.Column("value", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("name"),
    )
    op.create_table(
        "billing_remittances",
        sa.Column("remit_id", sa.String(length=64), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        sa.Column("trace_number", sa.String(length=64), nullable=False),
        sa.Column("payer_name", sa.Text(), nullable=False),
        sa.Column("payer_id", sa.String(length=80), nullable=False),
        sa.Column("payment_cents", sa.BigInteger(), nullable=False),
        sa.Column("payment_date", sa.String(length=10), nullable=True),
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("claim_count", sa.Integer(), nullable=False),
        sa.Column("unmatched", sa.Integer(), nullable=False),
        sa.Column("received", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("remit_id"),
        sa.UniqueConstraint("digest"),
    )
    op.create_table(
        "billing_postings",
        sa.Column("posting_id", sa.String(length=64), nullable=False),
        sa.Column("remit_id", sa.String(length=64), nullable=False),
        sa.Column("claim_id", sa.String(length=64), nullable=True),
        sa.Column("patient_id", sa.String(length=64), nullable=True),
        sa.Column("patient_control", sa.String(length=64), nullable=False),
        sa.Column("payer_claim_id", sa.String(length=64), nullable=False),
        sa.Column("status_code", sa.String(length=4), nullable=False),
        sa.Column("charge_cents", sa.BigInteger(), nullable=False),
        sa.Column("paid_cents", sa.BigInteger(), nullable=False),
        sa.Column("patient_cents", sa.BigInteger(), nullable=False),
        sa.Column("adjusted_cents", sa.BigInteger(), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("reverses", sa.String(length=64), nullable=True),
        sa.Column("posted", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("posting_id"),
    )
    op.create_index("ix_billing_postings_claim", "billing_postings", ["claim_id", "posted"])
    op.create_index("ix_billing_postings_patient", "billing_postings", ["patient_id"])
    op.create_index("ix_billing_postings_remit", "billing_postings", ["remit_id"])
    op.create_table(
        "billing_denials",
        sa.Column("denial_id", sa.String(length=64), nullable=False),
        sa.Column("posting_id", sa.String(length=64), nullable=False),
        sa.Column("claim_id", sa.String(length=64), nullable=True),
        sa.Column("line", sa.Integer(), nullable=True),
        sa.Column("group_code", sa.String(length=2), nullable=False),
        sa.Column("reason_code", sa.String(length=8), nullable=False),
        sa.Column("remarks", sa.Text(), nullable=False),
        sa.Column("amount_cents", sa.BigInteger(), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("updated", sa.BigInteger(), nullable=False),
        sa.Column("updated_by", sa.String(length=128), nullable=False),
        sa.PrimaryKeyConstraint("denial_id"),
    )
    op.create_index("ix_billing_denials_claim", "billing_denials", ["claim_id"])
    op.create_index("ix_billing_denials_state", "billing_denials", ["state", "updated"])


def downgrade() -> None:
    op.drop_table("billing_denials")
    op.drop_table("billing_postings")
    op.drop_table("billing_remittances")
    op.drop_table("billing_counters")
    op.drop_table("billing_batches")
    op.drop_table("billing_claims")
