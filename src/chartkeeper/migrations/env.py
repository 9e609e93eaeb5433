"""Alembic environment: runs migrations on the connection chartkeeper hands it."""

from __future__ import annotations

from alembic import context

from chartkeeper.store.schema import metadata

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - chartkeeper always passes a connection
    raise RuntimeError("Run migrations through `chartkeeper db upgrade`")
context.configure(connection=connection, target_metadata=metadata, render_as_batch=True)
with context.begin_transaction():
    context.run_migrations()
