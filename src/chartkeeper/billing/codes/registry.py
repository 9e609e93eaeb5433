"""The code registry: effective-dated code set versions in the database, looked up by date.

Every load is one version of one kind with the dates it is in force; a check or a lookup for a
date of service uses the version in force on that date (the latest-starting one when several
cover it, so a later load supersedes an open-ended earlier one). Loading a version again
replaces it whole, in one transaction.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import date
from typing import Any

from sqlalchemy import Engine, and_, delete, insert, select

from chartkeeper.billing.codes.model import CodeEntry, CodeSetVersion
from chartkeeper.billing.codes.search import SearchIndex
from chartkeeper.core import heap
from chartkeeper.core.clock import Clock, SystemClock
from chartkeeper.core.errors import InvalidError
from chartkeeper.store.code_schema import code_sets, codes
from chartkeeper.store.engine import WRITE_OPTION

BATCH = 5000
#: How long the list of versions is trusted before the database is asked again (another
#: process may have loaded a new version).
VERSIONS_TTL_SECONDS = 5.0

Progress = Callable[[int, int], None]


@dataclass(frozen=True, slots=True)
class StoredCode:
    """A code as found in one version of its code set."""

    kind: str
    version: str
    code: str
    display: str
    billable: bool
    extra: dict[str, Any]


def _version(row: Any) -> CodeSetVersion:
    end = date.fromisoformat(row.effective_to) if row.effective_to else None
    return CodeSetVersion(
        row.kind,
        row.version,
        date.fromisoformat(row.effective_from),
        end,
        row.loaded_at,
        row.source,
        row.count,
    )


def _unique(entries: Iterable[CodeEntry]) -> list[CodeEntry]:
    seen: dict[str, CodeEntry] = {}
    for entry in entries:
        seen.setdefault(entry.code, entry)
    return list(seen.values())


class CodeRegistry:
    """Code sets in the database, with a search index per version built on first use."""

    def __init__(self, engine: Engine, clock: Clock | None = None) -> None:
        self.engine = engine
        self.clock = clock or SystemClock()
        self._lock = threading.Lock()
        self._versions: tuple[float, list[CodeSetVersion]] | None = None
        self._indexes: dict[tuple[str, str, int], SearchIndex] = {}

    def load(
        self,
        kind: str,
        entries: Iterable[CodeEntry],
        version: str,
        effective: tuple[date, date | None],
        source: str,
        progress: Progress | None = None,
    ) -> CodeSetVersion:
        """Store ``entries`` as ``version`` of ``kind``, replacing a previous load of it."""
        start, end = effective
        if end is not None and end < start:
            raise InvalidError("effective-to is before effective-from")
        rows = _unique(entries)
        if not rows:
            raise InvalidError("The file holds no codes")
        loaded_at = int(self.clock.now().timestamp() * 1_000_000)
        writer = self.engine.connect().execution_options(**{WRITE_OPTION: True})
        with writer as conn, conn.begin():
            where = and_(codes.c.kind == kind, codes.c.version == version)
            conn.execute(delete(codes).where(where))
            conn.execute(
                delete(code_sets).where(
                    and_(code_sets.c.kind == kind, code_sets.c.version == version)
                )
            )
            for done in range(0, len(rows), BATCH):
                batch = rows[done : done + BATCH]
                conn.execute(insert(codes), [_row(kind, version, e) for e in batch])
                if progress:
                    progress(done + len(batch), len(rows))
            conn.execute(
                insert(code_sets),
                [
                    {
                        "kind": kind,
                        "version": version,
                        "effective_from": start.isoformat(),
                        "effective_to": end.isoformat() if end else None,
                        "loaded_at": loaded_at,
                        "source": source,
                        "count": len(rows),
                    }
                ],
            )
        self._versions = None
        with self._lock:
            for key in [k for k in self._indexes if k[:2] == (kind, version)]:
                del self._indexes[key]
        return CodeSetVersion(kind, version, start, end, loaded_at, source, len(rows))

    def versions(self, kind: str | None = None) -> list[CodeSetVersion]:
        """Loaded versions, by kind then start date."""
        cached = self._versions
        if cached is None or time.monotonic() - cached[0] > VERSIONS_TTL_SECONDS:
            with self.engine.connect() as conn:
                found = [_version(r) for r in conn.execute(select(code_sets))]
            found.sort(key=lambda v: (v.kind, v.effective_from, v.version))
            cached = (time.monotonic(), found)
            self._versions = cached
        return [v for v in cached[1] if kind is None or v.kind == kind]

    def version_on(self, kind: str, day: date) -> CodeSetVersion | None:
        """The version of ``kind`` in force on ``day``, or None when none is loaded for it."""
        covering = [v for v in self.versions(kind) if v.covers(day)]
        return max(covering, key=lambda v: (v.effective_from, v.loaded_at), default=None)

    def lookup(self, kind: str, code: str, version: str) -> StoredCode | None:
        """One code of one version (``code`` as stored: no dot, upper case)."""
        with self.engine.connect() as conn:
            row = conn.execute(
                select(codes).where(
                    and_(codes.c.kind == kind, codes.c.version == version, codes.c.code == code)
                )
            ).first()
        return _stored(row) if row else None

    def versions_with(self, kind: str, code: str) -> list[str]:
        """The versions of ``kind`` that hold ``code``."""
        query = select(codes.c.version).where(and_(codes.c.kind == kind, codes.c.code == code))
        with self.engine.connect() as conn:
            return sorted(conn.execute(query).scalars())

    def index(self, found: CodeSetVersion) -> SearchIndex:
        """The search index of one version, built from the database on first use."""
        key = (found.kind, found.version, found.loaded_at)
        index = self._indexes.get(key)
        if index is None:
            with self._lock:
                index = self._indexes.get(key)
                if index is None:
                    index = SearchIndex(self._all(found.kind, found.version))
                    stale = [k for k in self._indexes if k[:2] == key[:2]]
                    for old in stale:
                        del self._indexes[old]
                    self._indexes[key] = index
                    heap.settle()  # the index lives as long as the process: off the collector
        return index

    def on(self, kind: str, day: date) -> VersionView:
        """The version of ``kind`` in force on ``day``, for the coding checks."""
        return VersionView(self, kind, self.version_on(kind, day))

    def _all(self, kind: str, version: str) -> list[StoredCode]:
        query = select(codes).where(and_(codes.c.kind == kind, codes.c.version == version))
        with self.engine.connect() as conn:
            return [_stored(row) for row in conn.execute(query)]


class VersionView:
    """One version of one kind as the coding checks read it (``checks.CodeVersion``)."""

    def __init__(self, registry: CodeRegistry, kind: str, found: CodeSetVersion | None) -> None:
        self.registry = registry
        self.kind = kind
        self.found = found
        self.version = found.version if found else None
        self._cache: dict[str, StoredCode | None] = {}

    def get(self, code: str) -> StoredCode | None:
        """The code in this version, or None."""
        if self.version is None:
            return None
        if code not in self._cache:
            self._cache[code] = self.registry.lookup(self.kind, code, self.version)
        return self._cache[code]

    def other_versions(self, code: str) -> list[str]:
        """Other loaded versions that hold ``code``."""
        return [v for v in self.registry.versions_with(self.kind, code) if v != self.version]

    def children(self, code: str, limit: int) -> list[str]:
        """Some billable codes below ``code``, in code order."""
        if self.found is None:
            return []
        index = self.registry.index(self.found)
        return [h.code for h in index.search(code, limit, billable_only=True).hits]


def _row(kind: str, version: str, entry: CodeEntry) -> dict[str, Any]:
    return {
        "kind": kind,
        "version": version,
        "code": entry.code,
        "display": entry.display,
        "billable": entry.billable,
        "extra": json.dumps(entry.extra, separators=(",", ":")),
    }


def _stored(row: Any) -> StoredCode:
    return StoredCode(
        row.kind, row.version, row.code, row.display, bool(row.billable), json.loads(row.extra)
    )
