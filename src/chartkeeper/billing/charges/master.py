"""The charge description master as capture reads it: the rows for a service, on a date.

The CDM is loaded as code set kind ``cdm`` (``chartkeeper.billing.codes.cdm``); capture needs
it the other way round, by the service performed rather than by charge code, so one version is
read whole into a ``ChargeMaster`` keyed by (system, code). ``RegistryChargeMaster`` picks the
version in force on the date of service, as every other code set lookup does.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date
from decimal import Decimal
from typing import Any, Protocol

from sqlalchemy import and_, select

from chartkeeper.billing.codes.model import CDM, CodeEntry
from chartkeeper.billing.codes.registry import CodeRegistry
from chartkeeper.store.code_schema import codes

#: NUBC accommodation revenue codes (room and board, 010X-021X) are billed in days.
PER_DAY_REVENUE = range(100, 220)


@dataclass(frozen=True, slots=True)
class CdmRow:
    """One billable line of the CDM: what it bills (HCPCS, revenue code) and for how much."""

    charge_code: str
    description: str
    service_system: str
    service_code: str
    hcpcs: str
    modifiers: tuple[str, ...]
    units: int
    revenue_code: str
    amount: Decimal

    @property
    def per_day(self) -> bool:
        """True for room and board: charged once per day of the stay."""
        return self.revenue_code.isdigit() and int(self.revenue_code) in PER_DAY_REVENUE

    @classmethod
    def from_code(cls, code: str, display: str, extra: dict[str, Any]) -> CdmRow:
        """A row from a registry entry (code = charge code, ``extra`` as the parser fills it)."""
        return cls(
            code,
            display,
            str(extra["service_system"]),
            str(extra["service_code"]),
            str(extra.get("hcpcs") or ""),
            tuple(extra.get("modifiers") or ()),
            int(extra.get("units") or 1),
            str(extra.get("revenue_code") or ""),
            Decimal(str(extra["amount"])),
        )


class ChargeMaster:
    """One CDM version in memory, by service; ``on`` returns itself whatever the date."""

    def __init__(self, version: str, rows: Iterable[CdmRow]) -> None:
        self.version = version
        self.rows = sorted(rows, key=lambda row: row.charge_code)
        self._by_service: dict[tuple[str, str], list[CdmRow]] = {}
        for row in self.rows:
            self._by_service.setdefault((row.service_system, row.service_code), []).append(row)

    @classmethod
    def from_entries(cls, version: str, entries: Iterable[CodeEntry]) -> ChargeMaster:
        """From parsed CDM entries (``codes.cdm.parse``)."""
        return cls(version, (CdmRow.from_code(e.code, e.display, e.extra) for e in entries))

    def rows_for(self, system: str, code: str) -> list[CdmRow]:
        """The lines a service produces, by charge code (none when the CDM does not price it)."""
        return list(self._by_service.get((system, code), ()))

    def on(self, day: date) -> ChargeMaster | None:
        """This version: a fixed master applies on every date."""
        return self


class ChargeMasterSource(Protocol):
    """Where capture finds the CDM version in force on a date of service."""

    def on(self, day: date) -> ChargeMaster | None:
        """The version in force on ``day``, or None when none is loaded for it."""
        ...


class RegistryChargeMaster:
    """The ``cdm`` versions of the code registry; each version read once and kept."""

    def __init__(self, registry: CodeRegistry) -> None:
        self.registry = registry
        self._lock = threading.Lock()
        self._cache: dict[tuple[str, int], ChargeMaster] = {}

    def on(self, day: date) -> ChargeMaster | None:
        """The version in force on ``day`` (reloaded when the version is loaded again)."""
        found = self.registry.version_on(CDM, day)
        if found is None:
            return None
        key = (found.version, found.loaded_at)
        with self._lock:
            master = self._cache.get(key)
            if master is None:
                master = ChargeMaster(found.version, self._rows(found.version))
                self._cache = {key: master, **self._cache}
        return master

    def _rows(self, version: str) -> list[CdmRow]:
        query = select(codes).where(and_(codes.c.kind == CDM, codes.c.version == version))
        with self.registry.engine.connect() as conn:
            return [
                CdmRow.from_code(row.code, row.display, json.loads(row.extra))
                for row in conn.execute(query)
            ]
