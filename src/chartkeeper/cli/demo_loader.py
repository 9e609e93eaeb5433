"""Load the generated demo hospital through the same transaction path as the API."""

from __future__ import annotations

import sys

import click

from chartkeeper.app import Services
from chartkeeper.demo import generate_hospital
from chartkeeper.fhir.interactions import transaction


def load_demo(services: Services, patients: int, seed: int) -> int:
    """Store the demo hospital; the number of resources written."""
    stored = 0
    bundles = generate_hospital(patients=patients, seed=seed)
    with click.progressbar(
        length=patients + 1, label="Creating demo hospital", show_pos=True, file=sys.stderr
    ) as bar:
        for bundle in bundles:
            result = transaction.process(services.fhir, bundle)
            stored += len((result.body or {}).get("entry", []))
            bar.update(1)
    return stored
