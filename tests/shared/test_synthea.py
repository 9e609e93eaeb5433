"""The 520 Synthea bundles of ../shared load with zero errors, and per-patient searches return
exactly the counts of its manifest.csv (skips cleanly where ../shared is absent)."""

from __future__ import annotations

import csv
import json
import tarfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import make_url

from chartkeeper.app import Services, build_services
from chartkeeper.core.settings import load_settings
from chartkeeper.fhir.interactions import search, transaction

SYNTHEA = Path(__file__).resolve().parents[2].parent / "shared" / "data" / "synthea" / "r4"
#: resource type → the search parameter that links it to its patient
PATIENT_PARAM = {
    "Encounter": "patient",
    "Condition": "patient",
    "Observation": "patient",
    "Procedure": "patient",
    "MedicationRequest": "patient",
    "Immunization": "patient",
    "DiagnosticReport": "patient",
    "CarePlan": "patient",
    "Goal": "patient",
    "AllergyIntolerance": "patient",
    "ImagingStudy": "patient",
    "Claim": "patient",
    "ExplanationOfBenefit": "patient",
}

pytestmark = [pytest.mark.shared, pytest.mark.slow]


def _bundles(parts: list[Path]) -> Iterator[tuple[str, dict[str, Any]]]:
    for part in parts:
        with tarfile.open(part, "r:xz") as archive:
            for member in archive:
                handle = archive.extractfile(member)
                if handle is not None:
                    yield Path(member.name).name, json.load(handle)


@pytest.fixture(scope="module")
def loaded(
    module_database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Services, list[dict[str, str]], list[str]]]:
    if not (SYNTHEA / "manifest.csv").is_file():
        pytest.skip("../shared/data/synthea is not present")
    database_url = module_database_url
    parts = sorted(SYNTHEA.glob("synthea_r4_part*.tar.xz"))
    if make_url(database_url).get_backend_name() != "sqlite":
        parts = parts[:1]  # PostgreSQL runs one part (104 patients) to keep CI short
    folder = tmp_path_factory.mktemp("synthea")
    settings = load_settings({"data_dir": str(folder), "database_url": database_url}, environ={})
    services = build_services(settings)
    failures: list[str] = []
    loaded_files: set[str] = set()
    for name, bundle in _bundles(parts):
        result = transaction.process(services.fhir, bundle)
        statuses = [e["response"]["status"] for e in (result.body or {}).get("entry", [])]
        failures += [f"{name}: {s}" for s in statuses if not s.startswith("201")]
        loaded_files.add(name)
    with (SYNTHEA / "manifest.csv").open() as handle:
        manifest = [row for row in csv.DictReader(handle) if row["file"] in loaded_files]
    yield services, manifest, failures
    services.close()


def _count(services: Services, resource_type: str, params: list[tuple[str, str]]) -> int:
    result = search.search(
        services.fhir, resource_type, [*params, ("_summary", "count")], raw=False
    )
    total: int = (result.body or {})["total"]
    return total


def _server_id(services: Services, row: dict[str, str]) -> str:
    """The id this server gave the bundle's Patient (POST assigns new ids), found by MRN."""
    result = search.search(services.fhir, "Patient", [("identifier", row["mrn"])], raw=False)
    entries = (result.body or {}).get("entry", [])
    assert len(entries) == 1, f"{row['file']}: MRN {row['mrn']} matches {len(entries)} patients"
    identifier: str = entries[0]["resource"]["id"]
    return identifier


def test_every_synthea_bundle_loads_without_error(loaded: Any) -> None:
    _services, manifest, failures = loaded
    assert manifest, "no bundles were loaded"
    assert failures == []


def test_per_patient_searches_match_the_manifest(loaded: Any) -> None:
    services, manifest, _failures = loaded
    mismatches = []
    for row in manifest:
        patient = _server_id(services, row)
        for resource_type, param in PATIENT_PARAM.items():
            expected = int(row[resource_type])
            found = _count(services, resource_type, [(param, f"Patient/{patient}")])
            if found != expected:
                mismatches.append(f"{row['file']} {resource_type}: {found} != {expected}")
    assert mismatches == []


def test_patients_are_found_by_family_and_birthdate(loaded: Any) -> None:
    services, manifest, _failures = loaded
    for row in manifest[:50]:
        params = [("family", row["family"]), ("birthdate", row["birthDate"])]
        result = search.search(services.fhir, "Patient", params, raw=False)
        ids = [e["resource"]["id"] for e in (result.body or {}).get("entry", [])]
        assert _server_id(services, row) in ids
