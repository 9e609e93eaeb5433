"""Fixtures shared by the whole test suite.

* ``shared_dir`` / ``require_shared``: the read-only test material in ``../shared`` beside the
  repository (present for developers and CI; a test that needs it skips cleanly without it).
* ``database_url``: runs a test once per supported store, ``test_x[sqlite]`` and
  ``test_x[postgresql]``. The PostgreSQL run gets a brand-new database of its own and skips when
  ``CHARTKEEPER_TEST_POSTGRES_URL`` is unset (``make test`` sets it; see docs/development.md).
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
SHARED_DIR = REPO_ROOT.parent / "shared"
E2E_DIR = Path(__file__).resolve().parent / "e2e"

POSTGRES_URL_ENV = "CHARTKEEPER_TEST_POSTGRES_URL"


def require_shared(*parts: str) -> Path:
    """Return ``../shared/<parts>``, or skip the calling test when it is not there."""
    path = SHARED_DIR.joinpath(*parts)
    if not path.exists():
        pytest.skip(f"../shared/{'/'.join(parts)} not present")
    return path


@pytest.fixture(scope="session")
def shared_dir() -> Path:
    """``../shared`` beside the repository; skips the test when it is missing."""
    return require_shared()


@pytest.fixture(name="require_shared")
def require_shared_fixture() -> Callable[..., Path]:
    """``require_shared("fhir-r4", "x.json")`` inside a test: the path, or a clean skip."""
    return require_shared


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Mark tests by what they need, so ``-m 'not e2e'`` / ``-m 'not shared'`` select well."""
    for item in items:
        if item.path.is_relative_to(E2E_DIR):
            item.add_marker(pytest.mark.e2e)
        fixtures = getattr(item, "fixturenames", ())
        if "shared_dir" in fixtures or "require_shared" in fixtures:
            item.add_marker(pytest.mark.shared)


# --- databases -----------------------------------------------------------------------------------


def _libpq_dsn(sqlalchemy_url: str, database: str) -> str:
    """A libpq/psycopg connection string for ``database`` on the server of a SQLAlchemy URL."""
    from sqlalchemy.engine import make_url

    url = make_url(sqlalchemy_url).set(drivername="postgresql", database=database)
    return url.render_as_string(hide_password=False)


@pytest.fixture(scope="session")
def postgres_server_url() -> str:
    """The ``CHARTKEEPER_TEST_POSTGRES_URL`` (a SQLAlchemy URL); skips when it is unset."""
    url = os.environ.get(POSTGRES_URL_ENV, "")
    if not url:
        pytest.skip(f"{POSTGRES_URL_ENV} is not set (make test sets it)")
    return url


@contextmanager
def _fresh_postgres_database(server_url: str) -> Iterator[str]:
    """Create an empty database on the server of ``server_url``; yield its URL; drop it.

    A database per test (rather than a schema, or cleaning tables) keeps tests independent and
    lets the code under test run its migrations exactly as in production.
    """
    import psycopg
    from psycopg import sql
    from sqlalchemy.engine import make_url

    admin_dsn = _libpq_dsn(server_url, make_url(server_url).database or "postgres")
    name = f"ck_{secrets.token_hex(6)}"
    with psycopg.connect(admin_dsn, autocommit=True, connect_timeout=10) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield make_url(server_url).set(database=name).render_as_string(hide_password=False)
    finally:
        _drop_database(admin_dsn, name)


def _drop_database(admin_dsn: str, name: str) -> None:
    """Drop a test database. FORCE ends a connection pool the test forgot to dispose; a
    backend of another role (e.g. one the server starts itself) can make FORCE refuse for a
    moment, so retry briefly, then leave it: the test cluster is disposable."""
    import time

    import psycopg
    from psycopg import sql

    statement = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
    for attempt in range(10):
        try:
            with psycopg.connect(admin_dsn, autocommit=True, connect_timeout=10) as conn:
                conn.execute(statement)
            return
        except psycopg.errors.InsufficientPrivilege:
            time.sleep(0.2 * (attempt + 1))


@pytest.fixture
def postgres_url(postgres_server_url: str) -> Iterator[str]:
    """A fresh, empty PostgreSQL database for one test; dropped afterwards."""
    with _fresh_postgres_database(postgres_server_url) as url:
        yield url


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A SQLite file URL in the test's own temporary directory."""
    return f"sqlite:///{tmp_path}/chartkeeper.db"


BACKENDS = ["sqlite", "postgresql"]


@pytest.fixture(params=BACKENDS)
def database_url(request: pytest.FixtureRequest) -> Iterator[str]:
    """A SQLAlchemy URL of an empty database; the test runs once per backend."""
    if request.param == "sqlite":
        yield str(request.getfixturevalue("sqlite_url"))
    else:
        yield str(request.getfixturevalue("postgres_url"))


@pytest.fixture(scope="module", params=BACKENDS)
def module_database_url(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[str]:
    """Like ``database_url``, but one database shared by a whole module (for costly loads).

    Request it as a fixture argument: being parametrized, it cannot be fetched with
    ``request.getfixturevalue`` from a fixture that does not list it.
    """
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path_factory.mktemp('db')}/chartkeeper.db"
    else:
        with _fresh_postgres_database(request.getfixturevalue("postgres_server_url")) as url:
            yield url
