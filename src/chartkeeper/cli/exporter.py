"""``chartkeeper export``: current resources as NDJSON, one file per type (Bulk Data layout)."""

from __future__ import annotations

from pathlib import Path
from typing import IO

from chartkeeper.app import Services
from chartkeeper.fhir.validation import require_resource_type


def export_ndjson(services: Services, directory: Path, types: list[str]) -> dict[str, int]:
    """Write ``<Type>.ndjson`` files into ``directory``; the count written per type."""
    for kind in types:
        require_resource_type(kind)
    directory.mkdir(parents=True, exist_ok=True)
    counts: dict[str, int] = {}
    handles: dict[str, IO[str]] = {}
    try:
        with services.fhir.repository.reading() as tx:
            wanted_types: list[str | None] = list(types) if types else [None]
            for wanted in wanted_types:
                for stored in tx.iterate(wanted):
                    kind = stored.resource_type
                    if kind not in handles:
                        handles[kind] = (directory / f"{kind}.ndjson").open("w", encoding="utf-8")
                    handles[kind].write((stored.body or "") + "\n")
                    counts[kind] = counts.get(kind, 0) + 1
    finally:
        for handle in handles.values():
            handle.close()
    return counts
