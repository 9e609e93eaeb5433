"""Master patient index: match features, blocking keys, models, review queue, merges, overlays.

Revision ID: 0006
Revises: 0005
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

TABLES = (
    "mpi_blocks",
    "mpi_jobs",
    "mpi_merges",
    "mpi_models",
    "mpi_overlays",
    "mpi_pairs",
    "mpi_records",
)


def upgrade() -> None:
    op.create_table(
        "mpi_blocks",
        sa.Column("block_key", sa.String(length=128), nullable=False),
        sa.Column("patient_id", sa.String(length=64), nullable=False),
    )
    op.create_index("ix_mpi_blocks_key", "mpi_blocks", ["block_key", "patient_id"], unique=False)
    op.create_index("ix_mpi_blocks_patient", "mpi_blocks", ["patient_id"], unique=False)
    op.create_table(
        "mpi_jobs",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("done", sa.BigInteger(), nullable=False),
        sa.Column("total", sa.BigInteger(), nullable=False),
        sa.Column("started", sa.BigInteger(), nullable=False),
        sa.Column("finished", sa.BigInteger(), nullable=True),
        sa.Column("started_by", sa.String(length=128), nullable=False),
        sa.Column("message", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_mpi_jobs_started", "mpi_jobs", ["started"], unique=False)
    op.create_table(
        "mpi_merges",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("survivor_id", sa.String(length=64), nullable=False),
        sa.Column("duplicate_id", sa.String(length=64), nullable=False),
        sa.Column("provenance_id", sa.String(length=64), nullable=False),
        sa.Column("state", sa.String(length=16), nullable=False),
        sa.Column("merged_at", sa.BigInteger(), nullable=False),
        sa.Column("merged_by", sa.String(length=128), nullable=False),
        sa.Column("note", sa.Text(), nullable=True),
        sa.Column("override", sa.Boolean(), nullable=False),
        sa.Column("users", sa.Text(), nullable=False),
        sa.Column("unmerged_at", sa.BigInteger(), nullable=True),
        sa.Column("unmerged_by", sa.String(length=128), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_mpi_merges_survivor", "mpi_merges", ["survivor_id"], unique=False)
    op.create_index(
        "ux_mpi_merges_standing",
        "mpi_merges",
        ["duplicate_id"],
        unique=True,
        sqlite_where=sa.text("state = 'merged'"),
        postgresql_where=sa.text("state = 'merged'"),
    )
    op.create_table(
        "mpi_models",
        sa.Column("version", sa.String(length=64), nullable=False),
        sa.Column("created", sa.BigInteger(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("records", sa.Integer(), nullable=False),
        sa.Column("model", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("version"),
    )
    op.create_table(
        "mpi_overlays",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("patient_id", sa.String(length=64), nullable=False),
        sa.Column("reasons", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created", sa.BigInteger(), nullable=False),
        sa.Column("decided_at", sa.BigInteger(), nullable=True),
        sa.Column("decided_by", sa.String(length=128), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_mpi_overlays_patient", "mpi_overlays", ["patient_id"], unique=False)
    op.create_index("ix_mpi_overlays_status", "mpi_overlays", ["status", "created"], unique=False)
    op.create_table(
        "mpi_pairs",
        sa.Column("id", sa.String(length=64), nullable=False),
        sa.Column("left_id", sa.String(length=64), nullable=False),
        sa.Column("right_id", sa.String(length=64), nullable=False),
        sa.Column("probability", sa.Float(), nullable=False),
        sa.Column("weight", sa.Float(), nullable=False),
        sa.Column("grade", sa.String(length=16), nullable=False),
        sa.Column("explanation", sa.Text(), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("model_version", sa.String(length=64), nullable=False),
        sa.Column("created", sa.BigInteger(), nullable=False),
        sa.Column("decided_at", sa.BigInteger(), nullable=True),
        sa.Column("decided_by", sa.String(length=128), nullable=True),
        sa.Column("note", sa.Text(), nullable=True),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_mpi_pairs_queue", "mpi_pairs", ["status", "probability"], unique=False)
    op.create_index("ix_mpi_pairs_right", "mpi_pairs", ["right_id"], unique=False)
    op.create_index("ux_mpi_pairs_pair", "mpi_pairs", ["left_id", "right_id"], unique=True)
    op.create_table(
        "mpi_records",
        sa.Column("patient_id", sa.String(length=64), nullable=False),
        sa.Column("version_id", sa.Integer(), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("features", sa.Text(), nullable=False),
        sa.Column("updated", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("patient_id"),
    )


def downgrade() -> None:
    for table in TABLES:
        op.drop_table(table)
