"""Baseline app: a bare Starlette read-by-id handler over chartkeeper's SQLite file."""

from __future__ import annotations

import os
import sqlite3
import threading

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Route

FHIR_JSON = "application/fhir+json"
QUERY = "SELECT body FROM resources WHERE res_type = ? AND res_id = ?"
CACHE_SIZE = -65536  # the page cache and mmap settings chartkeeper's engine used when written
MMAP_SIZE = 268435456
_local = threading.local()


def _connection() -> sqlite3.Connection:
    """One connection per threadpool thread, with WAL and the same cache settings."""
    conn: sqlite3.Connection | None = getattr(_local, "conn", None)
    if conn is None:
        conn = sqlite3.connect(os.environ["BARE_READ_DB"], check_same_thread=False)
        for pragma in ("journal_mode=WAL", f"cache_size={CACHE_SIZE}", f"mmap_size={MMAP_SIZE}"):
            conn.execute(f"PRAGMA {pragma}")
        _local.conn = conn
    return conn


def read(request: Request) -> Response:
    """GET /fhir/{type}/{id}: the stored JSON as is (sync, so it runs in the threadpool)."""
    params = request.path_params
    row = _connection().execute(QUERY, (params["type"], params["id"])).fetchone()
    if row is None or row[0] is None:
        return Response(b'{"resourceType":"OperationOutcome"}', 404, media_type=FHIR_JSON)
    return Response(row[0], media_type=FHIR_JSON)


app = Starlette(routes=[Route("/fhir/{type}/{id}", read, methods=["GET"])])
