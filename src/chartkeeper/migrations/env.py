"""Alembic environment: runs migrations on the connection chartkeeper hands it."""

from __future__ import annotations

from alembic import context

# every module that adds tables to the shared metadata, so autogenerate sees them all
import chartkeeper.store.audit_schema
import chartkeeper.store.billing_schema
import chartkeeper.store.break_glass_schema
import chartkeeper.store.code_schema
import chartkeeper.store.identity_schema
import chartkeeper.store.mpi_schema  # noqa: F401
from chartkeeper.store.schema import metadata

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - chartkeeper always passes a connection
    raise RuntimeError("Run migrations through `chartkeeper db upgrade`")
context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
