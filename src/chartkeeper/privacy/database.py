"""Short write transactions on the identity tables, the way the store writes (one SQLite writer)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import OperationalError

from chartkeeper.core.errors import BusyError
from chartkeeper.store.engine import WRITE_OPTION, WriterLock


class IdentityDatabase:
    """An engine plus the writer lock; ``write()`` runs ``BEGIN IMMEDIATE`` on SQLite."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._writer = WriterLock(engine)

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """A connection inside a write transaction, committed on success."""
        with self._writer:
            try:
                with (
                    self.engine.connect().execution_options(**{WRITE_OPTION: True}) as conn,
                    conn.begin(),
                ):
                    yield conn
            except OperationalError as error:
                if "locked" in str(error).lower() or "busy" in str(error).lower():
                    raise BusyError("The store is busy; retry shortly") from error
                raise

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A connection inside a read transaction."""
        with self.engine.connect() as conn, conn.begin():
            yield conn
