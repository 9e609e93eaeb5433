"""Short transactions on work tables (identity, billing), written the way the store writes.

SQLite takes one writer at a time (``BEGIN IMMEDIATE`` under the in-process writer lock), so a
write that reads a row and then changes it (a counter, a status) never races another;
PostgreSQL relies on the row locks ``UPDATE`` takes.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import Connection, Engine
from sqlalchemy.exc import IntegrityError, OperationalError

from chartkeeper.core.errors import BusyError, ConflictError
from chartkeeper.store.engine import WRITE_OPTION, WriterLock


class WorkDatabase:
    """An engine plus its writer lock. ``conflict`` (when given) is the 409 message a unique
    or key violation becomes: a concurrent change the caller may retry."""

    def __init__(self, engine: Engine, conflict: str | None = None) -> None:
        self.engine = engine
        self._writer = WriterLock(engine)
        self._conflict = conflict

    @contextmanager
    def write(self) -> Iterator[Connection]:
        """A write transaction, committed when the block ends without an error."""
        with self._writer:
            try:
                with (
                    self.engine.connect().execution_options(**{WRITE_OPTION: True}) as conn,
                    conn.begin(),
                ):
                    yield conn
            except IntegrityError as error:
                if self._conflict is None:
                    raise
                raise ConflictError(self._conflict) from error
            except OperationalError as error:
                if "locked" in str(error).lower() or "busy" in str(error).lower():
                    raise BusyError("The store is busy; retry shortly") from error
                raise

    @contextmanager
    def read(self) -> Iterator[Connection]:
        """A read transaction."""
        with self.engine.connect() as conn, conn.begin():
            yield conn
