"""Read FHIR files for ``chartkeeper import``: resources, Bundles and NDJSON, one unit at a time.

Each unit is carried out in its own database transaction (a transaction Bundle is atomic), so an
import killed midway leaves every unit either wholly stored or not at all.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from chartkeeper.app import Services
from chartkeeper.core.errors import ChartkeeperError, InvalidError
from chartkeeper.fhir.interactions import create, transaction, update

SUFFIXES = (".json", ".ndjson")
NDJSON_CHUNK = 200


@dataclass
class ImportReport:
    """What an import stored and refused (with the reason for each refusal)."""

    stored: dict[str, int] = field(default_factory=dict)
    refused: list[str] = field(default_factory=list)

    def count(self, resource_type: str, n: int = 1) -> None:
        self.stored[resource_type] = self.stored.get(resource_type, 0) + n


def find_files(paths: list[Path]) -> list[Path]:
    """The importable files under ``paths`` (directories are searched recursively)."""
    files: list[Path] = []
    for path in paths:
        if path.is_dir():
            files.extend(sorted(p for p in path.rglob("*") if p.suffix in SUFFIXES))
        else:
            files.append(path)
    return files


def units(path: Path) -> Iterator[tuple[str, Any]]:
    """(where, body) for each unit of a file: the whole JSON file, or NDJSON chunks."""
    if path.suffix == ".ndjson":
        chunk: list[Any] = []
        with path.open(encoding="utf-8") as handle:
            for number, line in enumerate(handle, 1):
                if not line.strip():
                    continue
                try:
                    chunk.append((number, json.loads(line)))
                except json.JSONDecodeError as error:
                    yield f"{path}:{number}", InvalidError(f"not valid JSON: {error}")
                    continue
                if len(chunk) >= NDJSON_CHUNK:
                    yield str(path), chunk
                    chunk = []
        if chunk:
            yield str(path), chunk
        return
    try:
        yield str(path), json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as error:
        yield str(path), InvalidError(f"not valid JSON: {error}")


def _store_resource(services: Services, resource: Any) -> str:
    if not isinstance(resource, dict) or not isinstance(resource.get("resourceType"), str):
        raise InvalidError("not a FHIR resource (no resourceType)")
    kind = resource["resourceType"]
    if resource.get("id"):
        update.update(services.fhir, kind, str(resource["id"]), resource)
    else:
        create.create(services.fhir, kind, resource)
    return str(kind)


def _store_bundle(services: Services, bundle: dict[str, Any], report: ImportReport) -> None:
    if bundle.get("type") in ("transaction", "batch"):
        result = transaction.process(services.fhir, bundle)
        entries = (result.body or {}).get("entry", [])
        for request_entry, response in zip(bundle.get("entry") or [], entries, strict=False):
            status = str(response.get("response", {}).get("status", ""))
            kind = str((request_entry.get("resource") or {}).get("resourceType", "?"))
            if status.startswith("2"):
                report.count(kind)
            else:
                report.refused.append(f"{kind}: {status}")
        return
    for entry in bundle.get("entry") or []:
        report.count(_store_resource(services, entry.get("resource")))


def import_unit(services: Services, where: str, body: Any, report: ImportReport) -> None:
    """Store one unit, recording what was stored or why it was refused."""
    if isinstance(body, ChartkeeperError):
        report.refused.append(f"{where}: {body.message}")
        return
    try:
        if isinstance(body, list):
            for number, resource in body:
                try:
                    report.count(_store_resource(services, resource))
                except ChartkeeperError as error:
                    report.refused.append(f"{where}:{number}: {error.message}")
        elif isinstance(body, dict) and body.get("resourceType") == "Bundle":
            _store_bundle(services, body, report)
        else:
            report.count(_store_resource(services, body))
    except ChartkeeperError as error:
        report.refused.append(f"{where}: {error.message}")
