"""Match models as versioned data: stored as JSON in ``mpi_models``, exactly one active.

Before anyone trains, the built-in ``default_model()`` (hand-set m/u) is used, so matching
works on a new install. ``chartkeeper mpi train`` stores a model estimated from the site's own
records and makes it the active one; earlier versions stay, for the record and to roll back.
"""

from __future__ import annotations

import threading

from sqlalchemy import Connection, insert, select, update

from chartkeeper.mpi.matching.model import Model, default_model
from chartkeeper.store.mpi_schema import mpi_models
from chartkeeper.store.rows import as_dict


class ModelStore:
    """Loads the active model, remembering the parsed model per version."""

    def __init__(self) -> None:
        self._cached: tuple[str, Model] | None = None
        self._lock = threading.Lock()

    def active(self, connection: Connection) -> Model:
        """The active model (the built-in default when none has been trained)."""
        version = connection.execute(
            select(mpi_models.c.version).where(mpi_models.c.active.is_(True))
        ).scalar()
        if version is None:
            return default_model()
        cached = self._cached
        if cached is not None and cached[0] == version:
            return cached[1]
        text = connection.execute(
            select(mpi_models.c.model).where(mpi_models.c.version == version)
        ).scalar_one()
        model = Model.from_json(text)
        with self._lock:
            self._cached = (str(version), model)
        return model

    def save(self, connection: Connection, model: Model, records: int, created: int) -> None:
        """Store ``model`` and make it the active one."""
        connection.execute(update(mpi_models).values(active=False))
        connection.execute(
            insert(mpi_models).values(
                version=model.version,
                created=created,
                active=True,
                records=records,
                model=model.to_json(),
            )
        )

    def history(self, connection: Connection) -> list[dict[str, object]]:
        """Every stored model version, newest first."""
        rows = connection.execute(
            select(
                mpi_models.c.version,
                mpi_models.c.created,
                mpi_models.c.active,
                mpi_models.c.records,
            ).order_by(mpi_models.c.created.desc())
        )
        return [as_dict(row) for row in rows]
