"""The Synthea R4 test data: transaction Bundles from the tar.xz parts, and the manifest."""

from __future__ import annotations

import csv
import tarfile
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from common import synthea_dir


@dataclass(frozen=True)
class RawBundle:
    """One patient's transaction Bundle as stored in the archive (JSON bytes, parsed per use)."""

    name: str
    part: str
    data: bytes


@dataclass
class PatientFacts:
    """What the searches need about one patient: manifest values plus codes seen in its data."""

    source_id: str
    family: str
    birth_date: str
    entries: int
    part: str
    server_id: str = ""
    loinc_codes: list[str] = field(default_factory=list)


def parts(quick: bool) -> list[Path]:
    """The archives to use: part 1 only for ``--quick``, else all five."""
    found = sorted(synthea_dir().glob("synthea_r4_part*.tar.xz"))
    return found[:1] if quick else found


def read_bundles(paths: list[Path]) -> list[RawBundle]:
    """Every ``.json`` member of the archives, in archive order."""
    bundles: list[RawBundle] = []
    for path in paths:
        with tarfile.open(path, "r:xz") as archive:
            for member in archive:
                if not member.isfile() or not member.name.endswith(".json"):
                    continue
                handle = archive.extractfile(member)
                if handle is not None:
                    bundles.append(RawBundle(Path(member.name).name, path.name, handle.read()))
    return bundles


def manifest() -> dict[str, PatientFacts]:
    """The manifest's patients by their id in the source Bundles."""
    facts: dict[str, PatientFacts] = {}
    with (synthea_dir() / "manifest.csv").open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            facts[row["patient_id"]] = PatientFacts(
                source_id=row["patient_id"],
                family=row["family"],
                birth_date=row["birthDate"],
                entries=int(row["entries"]),
                part=row["chunk"],
            )
    return facts


def patient_source_id(bundle: dict[str, Any]) -> str | None:
    """The id the Patient resource carries in the source Bundle."""
    for entry in bundle.get("entry") or []:
        resource = entry.get("resource") or {}
        if resource.get("resourceType") == "Patient":
            return str(resource.get("id"))
    return None


def loinc_codes(bundle: dict[str, Any]) -> list[str]:
    """The distinct LOINC codes of the Bundle's Observations, in first-seen order."""
    seen: dict[str, None] = {}
    for entry in bundle.get("entry") or []:
        resource = entry.get("resource") or {}
        if resource.get("resourceType") != "Observation":
            continue
        for coding in (resource.get("code") or {}).get("coding") or []:
            if coding.get("system") == "http://loinc.org" and coding.get("code"):
                seen.setdefault(str(coding["code"]), None)
    return list(seen)
