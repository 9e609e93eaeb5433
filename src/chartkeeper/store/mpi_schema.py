"""The master patient index's tables: match features, blocking keys, models, the review
queue, merges and overlay flags. Migration 0006 creates them; ``chartkeeper.mpi`` owns them.

Features and blocking keys are derived data, written in the same transaction as the Patient
version they come from (so a rejected write leaves none). Designated identifiers (SSN, driver's
licence) appear here only as keyed hashes. Times are epoch microseconds UTC.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Float,
    Index,
    Integer,
    String,
    Table,
    Text,
    text,
)

from chartkeeper.store.schema import metadata

#: One row per current Patient: the normalised match features of its latest version.
mpi_records = Table(
    "mpi_records",
    metadata,
    Column("patient_id", String(64), primary_key=True),
    Column("version_id", Integer, nullable=False),
    Column("active", Boolean, nullable=False),
    Column("features", Text, nullable=False),
    Column("updated", BigInteger, nullable=False),
)

#: Blocking keys: candidates for a match are the patients sharing at least one key.
mpi_blocks = Table(
    "mpi_blocks",
    metadata,
    Column("block_key", String(128), nullable=False),
    Column("patient_id", String(64), nullable=False),
    Index("ix_mpi_blocks_key", "block_key", "patient_id"),
    Index("ix_mpi_blocks_patient", "patient_id"),
)

#: Trained (or default) match models, as versioned JSON; exactly one is active.
mpi_models = Table(
    "mpi_models",
    metadata,
    Column("version", String(64), primary_key=True),
    Column("created", BigInteger, nullable=False),
    Column("active", Boolean, nullable=False),
    Column("records", Integer, nullable=False),
    Column("model", Text, nullable=False),
)

#: Candidate duplicate pairs (left_id < right_id) and the technician's decision on each:
#: open, deferred, merged, distinct (never match again) or linked (automatic link).
mpi_pairs = Table(
    "mpi_pairs",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("left_id", String(64), nullable=False),
    Column("right_id", String(64), nullable=False),
    Column("probability", Float, nullable=False),
    Column("weight", Float, nullable=False),
    Column("grade", String(16), nullable=False),
    Column("explanation", Text, nullable=False),
    Column("status", String(16), nullable=False),
    Column("source", String(16), nullable=False),
    Column("model_version", String(64), nullable=False),
    Column("created", BigInteger, nullable=False),
    Column("decided_at", BigInteger, nullable=True),
    Column("decided_by", String(128), nullable=True),
    Column("note", Text, nullable=True),
    Index("ux_mpi_pairs_pair", "left_id", "right_id", unique=True),
    Index("ix_mpi_pairs_queue", "status", "probability"),
    Index("ix_mpi_pairs_right", "right_id"),
)

#: Merges: the duplicate folded into the survivor, the Provenance that records before and
#: after, and whether it has been undone. At most one standing merge per duplicate (a unique
#: partial index), so two concurrent merges of one record cannot both commit.
mpi_merges = Table(
    "mpi_merges",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("survivor_id", String(64), nullable=False),
    Column("duplicate_id", String(64), nullable=False),
    Column("provenance_id", String(64), nullable=False),
    Column("state", String(16), nullable=False),
    Column("merged_at", BigInteger, nullable=False),
    Column("merged_by", String(128), nullable=False),
    Column("note", Text, nullable=True),
    Column("override", Boolean, nullable=False),
    Column("users", Text, nullable=False),
    Column("unmerged_at", BigInteger, nullable=True),
    Column("unmerged_by", String(128), nullable=True),
    Index(
        "ux_mpi_merges_standing",
        "duplicate_id",
        unique=True,
        sqlite_where=text("state = 'merged'"),
        postgresql_where=text("state = 'merged'"),
    ),
    Index("ix_mpi_merges_survivor", "survivor_id"),
)

#: Charts that appear to hold two people, with the reasons, for review.
mpi_overlays = Table(
    "mpi_overlays",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("patient_id", String(64), nullable=False),
    Column("reasons", Text, nullable=False),
    Column("status", String(16), nullable=False),
    Column("created", BigInteger, nullable=False),
    Column("decided_at", BigInteger, nullable=True),
    Column("decided_by", String(128), nullable=True),
    Column("note", Text, nullable=True),
    Index("ix_mpi_overlays_patient", "patient_id"),
    Index("ix_mpi_overlays_status", "status", "created"),
)

#: Long-running MPI work (training, batch de-duplication) and its progress, for the workbench.
mpi_jobs = Table(
    "mpi_jobs",
    metadata,
    Column("id", String(64), primary_key=True),
    Column("kind", String(16), nullable=False),
    Column("state", String(16), nullable=False),
    Column("done", BigInteger, nullable=False),
    Column("total", BigInteger, nullable=False),
    Column("started", BigInteger, nullable=False),
    Column("finished", BigInteger, nullable=True),
    Column("started_by", String(128), nullable=False),
    Column("message", Text, nullable=True),
    Index("ix_mpi_jobs_started", "started"),
)
