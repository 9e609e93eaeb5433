"""Engines for the two supported stores, with the settings each needs.

SQLite (embedded default): WAL journal, foreign keys, a busy timeout, and one writer at a time
(``BEGIN IMMEDIATE`` under an in-process lock) so concurrent requests never deadlock.
PostgreSQL (production): psycopg 3 with a connection pool.
"""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path
from typing import Any

import psycopg
from sqlalchemy import Engine, create_engine, event
from sqlalchemy import exc as sa_exc
from sqlalchemy.engine import make_url

WRITE_OPTION = "chartkeeper_write"


#: What the database raises when two transactions collide (a unique key both wrote, a
#: serialization failure, a deadlock), through SQLAlchemy or from a driver cursor used directly.
CONFLICT_ERRORS: tuple[type[Exception], ...] = (
    sa_exc.IntegrityError,
    sa_exc.OperationalError,
    sqlite3.IntegrityError,
    sqlite3.OperationalError,
    psycopg.errors.IntegrityError,
    psycopg.errors.SerializationFailure,
    psycopg.errors.DeadlockDetected,
)


def is_sqlite(engine: Engine) -> bool:
    """True for the embedded SQLite store."""
    return engine.dialect.name == "sqlite"


def placeholder(dialect: Any) -> str:
    """The driver's positional placeholder, for statements run on DB-API cursors directly
    (``?``: sqlite3; ``%s``: psycopg)."""
    return "?" if dialect.paramstyle == "qmark" else "%s"


def make_engine(url: str) -> Engine:
    """An engine for ``url`` configured for chartkeeper's access pattern."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return _sqlite_engine(url)
    return create_engine(url, pool_size=10, max_overflow=10, pool_pre_ping=True)


def _sqlite_engine(url: str) -> Engine:
    database = make_url(url).database
    if database and database != ":memory:":
        Path(database).parent.mkdir(parents=True, exist_ok=True)
    engine = create_engine(url, connect_args={"check_same_thread": False, "timeout": 30})

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        configure_sqlite(dbapi_connection)

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        write = connection.get_execution_options().get(WRITE_OPTION, False)
        connection.exec_driver_sql("BEGIN IMMEDIATE" if write else "BEGIN")

    return engine


#: Page cache per pooled SQLite connection; no memory map (each connection would map the file
#: again, and a pool of them counted as resident memory many times over).
SQLITE_CACHE_KIB = 16384


def configure_sqlite(dbapi_connection: Any, cache_kib: int = SQLITE_CACHE_KIB) -> None:
    """Set chartkeeper's pragmas on a new sqlite3 connection (we emit BEGIN ourselves)."""
    dbapi_connection.isolation_level = None
    cursor = dbapi_connection.cursor()
    for pragma in (
        "journal_mode=WAL",
        "synchronous=NORMAL",
        "foreign_keys=ON",
        "busy_timeout=30000",
        f"cache_size=-{int(cache_kib)}",
        # checkpoint the WAL into the database every 64 MiB rather than 4 MiB: a Bundle's
        # index pages are then written back once per many commits (ingest ~12% faster)
        "wal_autocheckpoint=16384",
        "temp_store=MEMORY",
    ):
        cursor.execute(f"PRAGMA {pragma}")
    cursor.close()


class WriterLock:
    """Serializes writers inside one process (SQLite allows one writer at a time)."""

    def __init__(self, engine: Engine) -> None:
        self._lock: threading.Lock | None = threading.Lock() if is_sqlite(engine) else None

    def acquire(self, blocking: bool = True) -> bool:
        """Take the lock (``blocking=False``: only if free now); always True on PostgreSQL."""
        return self._lock.acquire(blocking) if self._lock is not None else True

    def release(self) -> None:
        if self._lock is not None:
            self._lock.release()

    def __enter__(self) -> None:
        if self._lock is not None:
            self._lock.acquire()

    def __exit__(self, *_exc: object) -> None:
        if self._lock is not None:
            self._lock.release()
