"""What the rules read: code sets and edit tables in memory, per version, plus payer settings.

The registry answers one code at a time from the database; a scrubber checking thousands of
claims a second cannot. ``ScrubContext`` copies each version a rule touches into a dict on
first use (keyed by kind, version and load time, so a reload is seen), and remembers which
version is in force on each date for as long as the registry trusts its list of versions.
"""

from __future__ import annotations

import bisect
import json
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from datetime import date
from decimal import Decimal
from typing import Any, Protocol, TypeVar

from sqlalchemy import and_, select

from chartkeeper.billing.codes.checks import Finding
from chartkeeper.billing.codes.model import CodeSetVersion
from chartkeeper.billing.codes.registry import VERSIONS_TTL_SECONDS, CodeRegistry, StoredCode
from chartkeeper.billing.scrub.screen import DiagnosisScreen
from chartkeeper.store.code_schema import codes

#: Medicare's limit: 12 months from the date of service (42 CFR 424.44(a)(1)).
MEDICARE_FILING_DAYS = 365
DEFAULT_CHARGE_CEILING = Decimal("100000.00")
#: Diagnosis lists whose check results are remembered (claims repeat the same lists).
FINDINGS_CACHE_SIZE = 50_000

T = TypeVar("T")


class DuplicateIndex(Protocol):
    """Claims already scrubbed or sent, by duplicate signature (``signature.claim_signature``)."""

    def find(self, signature: str, claim_id: str) -> str | None:
        """The id of another claim with ``signature`` than ``claim_id``, or None."""


class Table:
    """One version of one kind in memory; also a ``checks.CodeVersion`` for the coding checks."""

    def __init__(
        self, registry: CodeRegistry | None, found: CodeSetVersion | None, rows: dict[str, Any]
    ) -> None:
        self.registry = registry
        self.found = found
        self.kind = found.kind if found else ""
        self.version = found.version if found else None
        self.rows: dict[str, StoredCode] = rows
        self._sorted: list[str] | None = None
        self._memo: dict[str, Any] = {}
        self._lock = threading.Lock()

    def get(self, code: str) -> StoredCode | None:
        """The code in this version, or None."""
        return self.rows.get(code)

    def other_versions(self, code: str) -> list[str]:
        """Other loaded versions that hold ``code`` (asked of the database: a rare path)."""
        if self.registry is None:
            return []
        return [v for v in self.registry.versions_with(self.kind, code) if v != self.version]

    def children(self, code: str, limit: int) -> list[str]:
        """Some billable codes below ``code``, in code order."""
        if self._sorted is None:
            self._sorted = sorted(self.rows)
        ordered = self._sorted
        found: list[str] = []
        for at in range(bisect.bisect_right(ordered, code), len(ordered)):
            other = ordered[at]
            if not other.startswith(code) or len(found) >= limit:
                break
            if self.rows[other].billable:
                found.append(other)
        return found

    def derived(self, name: str, build: Callable[[Table], T]) -> T:
        """A structure a rule builds once per version (e.g. padded policy ranges)."""
        if name not in self._memo:
            with self._lock:
                if name not in self._memo:
                    self._memo[name] = build(self)
        result: T = self._memo[name]
        return result


EMPTY = Table(None, None, {})


def _read_rows(registry: CodeRegistry, found: CodeSetVersion) -> dict[str, StoredCode]:
    columns = (codes.c.code, codes.c.display, codes.c.billable, codes.c.extra)
    where = and_(codes.c.kind == found.kind, codes.c.version == found.version)
    rows: dict[str, StoredCode] = {}
    loads = json.loads
    kind, version = found.kind, found.version
    with registry.engine.connect() as conn:
        for code, display, billable, extra in conn.execute(select(*columns).where(where)):
            rows[code] = StoredCode(kind, version, code, display, bool(billable), loads(extra))
    return rows


class ScrubContext:
    """Code sets and tables by date of service, payer filing limits, price ceiling, duplicates.

    ``timely_filing`` maps a payer id (2010BB NM109) to its filing limit in days; payers not in
    it get ``default_filing_days`` (Medicare's 12 months).
    """

    def __init__(
        self,
        registry: CodeRegistry,
        *,
        timely_filing: Mapping[str, int] | None = None,
        default_filing_days: int = MEDICARE_FILING_DAYS,
        charge_ceiling: Decimal = DEFAULT_CHARGE_CEILING,
        duplicates: DuplicateIndex | None = None,
    ) -> None:
        self.registry = registry
        self.timely_filing = dict(timely_filing or {})
        self.default_filing_days = default_filing_days
        self.charge_ceiling = charge_ceiling
        self.duplicates = duplicates
        self._lock = threading.Lock()
        self._tables: dict[tuple[str, str, int], Table] = {}
        self._in_force: dict[tuple[str, date], Table] = {}
        self._in_force_at = time.monotonic()
        self._findings: dict[tuple[int, tuple[str, ...]], list[Finding]] = {}

    def refresh(self) -> None:
        """Forget which version is in force on each date (after loading a version in-process)."""
        self._in_force = {}
        self._in_force_at = time.monotonic()

    def filing_limit(self, payer_id: str) -> int:
        """The payer's timely filing limit in days."""
        return self.timely_filing.get(payer_id, self.default_filing_days)

    def refresh_if_stale(self) -> None:
        """``refresh`` when the registry's list of versions may have changed (another process)."""
        if time.monotonic() - self._in_force_at > VERSIONS_TTL_SECONDS:
            self.refresh()

    def table(self, kind: str, day: date) -> Table:
        """The version of ``kind`` in force on ``day`` (``EMPTY``, version None, when none is).

        Which version is in force is remembered until ``refresh``; the scrubber calls
        ``refresh_if_stale`` once per claim.
        """
        key = (kind, day)
        found = self._in_force.get(key)
        if found is None:
            found = self._load(self.registry.version_on(kind, day))
            self._in_force[key] = found
        return found

    def diagnosis_findings(self, table: Table, diagnoses: Sequence[str]) -> list[Finding]:
        """``checks.check_diagnoses`` on the version (through the screen), remembered per list."""
        key = (id(table), tuple(diagnoses))
        found = self._findings.get(key)
        if found is None:
            found = table.derived("screen", DiagnosisScreen).findings(diagnoses)
            if len(self._findings) >= FINDINGS_CACHE_SIZE:
                self._findings.clear()
            self._findings[key] = found
        return found

    def _load(self, found: CodeSetVersion | None) -> Table:
        if found is None:
            return EMPTY
        key = (found.kind, found.version, found.loaded_at)
        table = self._tables.get(key)
        if table is None:
            with self._lock:
                table = self._tables.get(key)
                if table is None:
                    table = Table(self.registry, found, _read_rows(self.registry, found))
                    for old in [k for k in self._tables if k[:2] == key[:2]]:
                        del self._tables[old]
                    self._tables[key] = table
                    self._findings.clear()
        return table
