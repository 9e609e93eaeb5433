"""Audit ledger: one ``audit_patients`` row per patient per append, with all its seqs.

Compact read entries (``privacy.audit.compact``) need no schema change: their ``event`` text is
a JSON array instead of an object, hash-chained like any other, so rows of both formats sit in
one ledger and every existing entry verifies and is served as before. What changes is the
patient index: a batch of reads now writes one ``audit_patients`` row per patient, whose new
``seqs`` column lists the patient's entries in the batch (NULL, as in every existing row, when
the row stands for ``seq`` alone). Adding a nullable column leaves the append-only triggers and
the existing rows untouched.

Revision ID: 0007
Revises: 0006
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("audit_patients", sa.Column("seqs", sa.Text(), nullable=True))


#: Each run's other entries as rows of their own, as the server before this revision expects.
EXPAND = {
    "sqlite": (
        "INSERT INTO audit_patients (patient_id, seq) "
        "SELECT r.patient_id, CAST(j.value AS INTEGER) FROM audit_patients AS r, "
        "json_each(r.seqs) AS j WHERE r.seqs IS NOT NULL AND CAST(j.value AS INTEGER) != r.seq"
    ),
    "postgresql": (
        "INSERT INTO audit_patients (patient_id, seq) "
        "SELECT r.patient_id, CAST(j.value AS BIGINT) FROM audit_patients AS r, "
        "jsonb_array_elements_text(CAST(r.seqs AS JSONB)) AS j(value) "
        "WHERE r.seqs IS NOT NULL AND CAST(j.value AS BIGINT) != r.seq"
    ),
}


def downgrade() -> None:
    # Compact entries stay as they are: they verify under any version, but a server from
    # before this revision serves their JSON arrays as they are stored, not as AuditEvents.
    op.execute(EXPAND[op.get_bind().dialect.name])
    # ALTER TABLE ... DROP COLUMN on SQLite too (3.35+): a batch rebuild of the table would
    # drop its append-only triggers with it.
    op.execute("ALTER TABLE audit_patients DROP COLUMN seqs")
