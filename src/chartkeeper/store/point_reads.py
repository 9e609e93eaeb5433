"""Reads of one row by key on plain DB-API connections, outside SQLAlchemy.

A read by id is the API's most frequent request and its cheapest query (~20 µs in SQLite).
Through SQLAlchemy the same read costs ~10 times that: a pool checkout, a BEGIN, statement
execution machinery, COMMIT and check-in. A single ``SELECT`` is atomic by itself in both
stores (autocommit), so a transaction that has done nothing but point reads needs none of that:
these connections run in autocommit mode and only ever run this module's own statements (a
resource or version by key; the access decision's look-ups of one patient's Consents and of a
clinician's treatment relationships).

The idle connections are kept on a small stack (at most ``max_idle``); a burst beyond that
opens extra connections and closes them afterwards, so the number kept is bounded however large
the server's thread pool is.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Engine

from chartkeeper.store.engine import configure_sqlite, is_sqlite, placeholder
from chartkeeper.store.rows import STORED_COLUMNS

_COLUMNS = ", ".join(STORED_COLUMNS)
#: Page cache of each point-read connection (SQLite): they read a handful of pages per call,
#: and the OS page cache holds the file anyway; a small cache keeps resident memory flat.
POINT_CACHE_KIB = 2048


def point_reader(engine: Engine) -> PointReader | None:
    """A point reader for ``engine``, or None where a second connection would not see the same
    data (an in-memory SQLite database)."""
    database = engine.url.database
    if is_sqlite(engine) and (not database or database == ":memory:"):
        return None
    return PointReader(engine)


class PointReader:
    """Single-statement reads: ``resources`` by (type, id), ``history`` by (type, id, version),
    one compartment's bodies of a type, and the patients referring to a target."""

    def __init__(self, engine: Engine, max_idle: int = 16) -> None:
        self._engine = engine
        self._max_idle = max_idle
        self._idle: list[Any] = []
        self._lock = threading.Lock()
        mark = placeholder(engine.dialect)
        # constant text: only the driver's placeholder style differs, values are bound
        self.current_sql = (
            f"SELECT {_COLUMNS} FROM resources WHERE res_type = {mark} AND res_id = {mark}"  # noqa: S608
        )
        self.version_sql = (
            f"SELECT {_COLUMNS}, method FROM history "  # noqa: S608
            f"WHERE res_type = {mark} AND res_id = {mark} AND version_id = {mark}"
        )
        self.compartment_sql = (
            f"SELECT body FROM resources WHERE patient_id = {mark} AND res_type = {mark} "  # noqa: S608
            f"AND deleted = {mark}"
        )
        self._mark = mark
        self._connect: Callable[[], Any] = self._connector()

    def referring_sql(self, sources: int) -> str:
        """Patients whose records of given (type, parameter) pairs refer to one target."""
        mark = self._mark
        pairs = " OR ".join([f"(res_type = {mark} AND param = {mark})"] * sources)
        return (
            "SELECT DISTINCT patient_id FROM idx_reference "  # noqa: S608 (placeholders only)
            f"WHERE target_type = {mark} AND target_id = {mark} AND patient_id IS NOT NULL "
            f"AND ({pairs})"
        )

    def _connector(self) -> Callable[[], Any]:
        engine = self._engine
        cargs, cparams = engine.dialect.create_connect_args(engine.url)
        dbapi = engine.dialect.loaded_dbapi
        if is_sqlite(engine):

            def sqlite_connection() -> Any:
                connection = dbapi.connect(*cargs, **{**cparams, "check_same_thread": False})
                configure_sqlite(connection, cache_kib=POINT_CACHE_KIB)
                return connection

            return sqlite_connection

        def postgres_connection() -> Any:
            connection = dbapi.connect(*cargs, **cparams)
            connection.autocommit = True
            return connection

        return postgres_connection

    @contextmanager
    def _connection(self) -> Iterator[Any]:
        with self._lock:
            connection = self._idle.pop() if self._idle else None
        if connection is None:
            connection = self._connect()
        try:
            yield connection
        except BaseException:
            connection.close()  # its state is unknown after an error: never reuse it
            raise
        with self._lock:
            if len(self._idle) < self._max_idle:
                self._idle.append(connection)
                return
        connection.close()

    def one(self, sql: str, params: tuple[Any, ...]) -> tuple[Any, ...] | None:
        """The first row of ``sql`` (one of this reader's statements), or None.

        A kept connection the server has since dropped (a PostgreSQL restart) fails once and is
        replaced: the read is tried again on a new connection, as the pool's pre-ping would.
        """
        dbapi = self._engine.dialect.loaded_dbapi
        for attempt in (1, 2):
            try:
                with self._connection() as connection:
                    cursor = connection.cursor()
                    try:
                        cursor.execute(sql, params)
                        row: tuple[Any, ...] | None = cursor.fetchone()
                    finally:
                        cursor.close()
                return row
            except (dbapi.OperationalError, dbapi.InterfaceError):
                if attempt == 2 or is_sqlite(self._engine):
                    raise
        raise AssertionError("unreachable")

    def all(self, sql: str, params: tuple[Any, ...]) -> list[tuple[Any, ...]]:
        """Every row of ``sql`` (one of this reader's statements)."""
        with self._connection() as connection:
            cursor = connection.cursor()
            try:
                cursor.execute(sql, params)
                rows: list[tuple[Any, ...]] = cursor.fetchall()
            finally:
                cursor.close()
        return rows

    def close(self) -> None:
        """Close the idle connections (before the engine is disposed)."""
        with self._lock:
            idle, self._idle = self._idle, []
        for connection in idle:
            connection.close()
