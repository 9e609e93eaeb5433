"""Break-the-glass: emergency access grants and their privacy-officer review.

Revision ID: 0004
Revises: 0003
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "break_glass_grants",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("actor_name", sa.String(length=128), nullable=False),
        sa.Column("role", sa.String(length=32), nullable=False),
        sa.Column("practitioner_id", sa.String(length=64), nullable=True),
        sa.Column("patient_id", sa.String(length=64), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("granted_at", sa.BigInteger(), nullable=False),
        sa.Column("expires_at", sa.BigInteger(), nullable=False),
        sa.Column("expiry_audited", sa.Boolean(), nullable=False),
        sa.Column("review_status", sa.String(length=16), nullable=False),
        sa.Column("reviewer", sa.String(length=128), nullable=True),
        sa.Column("reviewed_at", sa.BigInteger(), nullable=True),
        sa.Column("review_note", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index(
        "ix_break_glass_grants_actor", "break_glass_grants", ["actor_name", "expires_at"]
    )
    op.create_index(
        "ix_break_glass_grants_review", "break_glass_grants", ["review_status", "granted_at"]
    )


def downgrade() -> None:
    op.drop_index("ix_break_glass_grants_review", table_name="break_glass_grants")
    op.drop_index("ix_break_glass_grants_actor", table_name="break_glass_grants")
    op.drop_table("break_glass_grants")
