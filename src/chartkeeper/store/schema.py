"""The store's tables: current resources, history, and one search-index table per datatype.

Every clinical row carries ``patient_id`` (the Patient compartment it belongs to), the future
distribution key when the store moves to distributed PostgreSQL. Full-text tables differ by
dialect and live in ``store.fulltext``. Alembic migrations own the schema in a deployed store;
these Table objects are their single source.
"""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Float,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
)

metadata = MetaData()

#: SQLite only auto-increments an ``INTEGER PRIMARY KEY``; PostgreSQL gets a BIGINT identity.
SeqType = BigInteger().with_variant(Integer(), "sqlite")

resources = Table(
    "resources",
    metadata,
    Column("res_type", String(64), primary_key=True),
    Column("res_id", String(64), primary_key=True),
    Column("version_id", Integer, nullable=False),
    Column("last_updated", BigInteger, nullable=False),  # epoch microseconds UTC
    Column("deleted", Boolean, nullable=False, default=False),
    Column("patient_id", String(64), nullable=True),
    Column("body", Text, nullable=True),  # JSON text as served; NULL when deleted
    Index("ix_resources_patient", "patient_id", "res_type"),
    Index("ix_resources_type_updated", "res_type", "last_updated"),
)

history = Table(
    "history",
    metadata,
    Column("seq", SeqType, primary_key=True, autoincrement=True),
    Column("res_type", String(64), nullable=False),
    Column("res_id", String(64), nullable=False),
    Column("version_id", Integer, nullable=False),
    Column("last_updated", BigInteger, nullable=False),
    Column("method", String(8), nullable=False),  # POST, PUT, PATCH, DELETE
    Column("deleted", Boolean, nullable=False, default=False),
    Column("patient_id", String(64), nullable=True),
    Column("body", Text, nullable=True),
    Index("ux_history_version", "res_type", "res_id", "version_id", unique=True),
    Index("ix_history_updated", "last_updated"),
    Index("ix_history_type_updated", "res_type", "last_updated"),
)


def _index_table(name: str, *columns: Column[object], value_index: tuple[str, ...]) -> Table:
    """An index table: the owning resource, the parameter name, and typed value columns."""
    return Table(
        name,
        metadata,
        Column("res_type", String(64), nullable=False),
        Column("res_id", String(64), nullable=False),
        Column("param", String(64), nullable=False),
        Column("patient_id", String(64), nullable=True),
        *columns,
        Index(f"ix_{name}_owner", "res_type", "res_id"),
        Index(f"ix_{name}_value", "res_type", "param", *value_index),
    )


idx_string = _index_table(
    "idx_string",
    Column("value", Text, nullable=False),  # normalized: lower-case, accents folded
    Column("exact", Text, nullable=False),
    value_index=("value",),
)
idx_token = _index_table(
    "idx_token",
    Column("system", Text, nullable=True),
    Column("code", Text, nullable=True),
    Column("text", Text, nullable=True),  # normalized display text for :text
    value_index=("code", "system"),
)
idx_date = _index_table(
    "idx_date",
    Column("low", BigInteger, nullable=False),
    Column("high", BigInteger, nullable=False),
    value_index=("low", "high"),
)
idx_reference = _index_table(
    "idx_reference",
    Column("target_type", String(64), nullable=True),
    Column("target_id", String(64), nullable=True),
    Column("url", Text, nullable=True),
    value_index=("target_id", "target_type"),
)
#: $everything and chart facts look up everything one patient's records refer to
Index("ix_idx_reference_patient", idx_reference.c.patient_id)

idx_number = _index_table(
    "idx_number",
    Column("value", Float, nullable=False),
    value_index=("value",),
)
idx_quantity = _index_table(
    "idx_quantity",
    Column("value", Float, nullable=False),
    Column("system", Text, nullable=True),
    Column("code", Text, nullable=True),
    Column("unit", Text, nullable=True),
    value_index=("value",),
)
idx_uri = _index_table(
    "idx_uri",
    Column("value", Text, nullable=False),
    value_index=("value",),
)
idx_composite = _index_table(
    "idx_composite",
    Column("system", Text, nullable=True),
    Column("code", Text, nullable=True),
    Column("quantity_value", Float, nullable=True),
    Column("quantity_system", Text, nullable=True),
    Column("quantity_code", Text, nullable=True),
    Column("token_system", Text, nullable=True),
    Column("token_code", Text, nullable=True),
    Column("date_low", BigInteger, nullable=True),
    Column("date_high", BigInteger, nullable=True),
    Column("string_value", Text, nullable=True),
    value_index=("code",),
)

INDEX_TABLES: tuple[Table, ...] = (
    idx_string,
    idx_token,
    idx_date,
    idx_reference,
    idx_number,
    idx_quantity,
    idx_uri,
    idx_composite,
)

#: One row per resource that has full text; its ``doc_id`` is the FTS5 rowid on SQLite, and on
#: PostgreSQL the same row carries the ``tsvector`` columns (see ``store.fulltext``).
fulltext_docs = Table(
    "fulltext_docs",
    metadata,
    Column("doc_id", SeqType, primary_key=True, autoincrement=True),
    Column("res_type", String(64), nullable=False),
    Column("res_id", String(64), nullable=False),
    Column("patient_id", String(64), nullable=True),
    Index("ux_fulltext_docs_owner", "res_type", "res_id", unique=True),
)
