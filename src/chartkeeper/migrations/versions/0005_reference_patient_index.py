"""Index references by patient, for $everything and treatment-relationship look-ups.

Revision ID: 0005
Revises: 0004
"""

from __future__ import annotations

from alembic import op

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_index("ix_idx_reference_patient", "idx_reference", ["patient_id"])


def downgrade() -> None:
    op.drop_index("ix_idx_reference_patient", table_name="idx_reference")
