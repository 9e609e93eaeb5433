"""Load the generated demo hospital through the same transaction path as the API, and give it
one demo user per role."""

from __future__ import annotations

import sys
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import click

from chartkeeper.app import Services
from chartkeeper.core import heap
from chartkeeper.core.errors import ChartkeeperError
from chartkeeper.demo import generate_hospital
from chartkeeper.fhir.interactions import transaction
from chartkeeper.privacy.actor import ROLES

#: Demo accounts: user name = role, password as below (documented in the README; demo only).
DEMO_PASSWORD = "riverside-{role}"  # noqa: S105 - documented demo-only passwords


@dataclass
class DemoLoad:
    """What the demo load stored, and who the demo users are linked to."""

    stored: int = 0
    general_practitioners: Counter[str] = field(default_factory=Counter)
    first_patient: str | None = None
    users: list[tuple[str, str, str]] = field(default_factory=list)  # name, role, password


def _remember(load: DemoLoad, bundle: dict[str, Any]) -> None:
    for entry in bundle.get("entry", []):
        resource = entry.get("resource", {})
        if resource.get("resourceType") != "Patient":
            continue
        load.first_patient = load.first_patient or resource.get("id")
        for practitioner in resource.get("generalPractitioner", []):
            reference = str(practitioner.get("reference", ""))
            if reference.startswith("Practitioner/"):
                load.general_practitioners[reference.split("/", 1)[1]] += 1


#: Patient Bundles stored per transaction: one commit per ten patients rather than per patient
#: (a commit costs about as much as storing a small chart; 1,000 patients load ~20% faster).
PATIENTS_PER_TRANSACTION = 10


def load_demo(services: Services, patients: int, seed: int) -> DemoLoad:
    """Store the demo hospital and its users."""
    load = DemoLoad()
    bundles = generate_hospital(patients=patients, seed=seed)
    with click.progressbar(
        length=patients + 1, label="Creating demo hospital", show_pos=True, file=sys.stderr
    ) as bar:
        for number, (bundle, parts) in enumerate(_merged(bundles, PATIENTS_PER_TRANSACTION)):
            result = transaction.process(services.fhir, bundle)
            load.stored += len((result.body or {}).get("entry", []))
            _remember(load, bundle)
            bar.update(parts)
            if number == 0:
                heap.settle(bulk=True)  # the first Bundle loaded the plans every later one reuses
    _add_users(services, load)
    return load


def _merged(bundles: Iterator[dict[str, Any]], size: int) -> Iterator[tuple[dict[str, Any], int]]:
    """The hospital's Bundle alone, then the patients' transaction Bundles ``size`` at a time
    as one transaction (their fullUrls are distinct urn:uuids), each with how many it holds."""
    first = next(bundles, None)
    if first is None:
        return
    yield first, 1
    group: list[dict[str, Any]] = []
    for bundle in bundles:
        group.append(bundle)
        if len(group) == size:
            yield _one_transaction(group), len(group)
            group = []
    if group:
        yield _one_transaction(group), len(group)


def _one_transaction(group: list[dict[str, Any]]) -> dict[str, Any]:
    entries = [entry for bundle in group for entry in bundle.get("entry", [])]
    return {"resourceType": "Bundle", "type": "transaction", "entry": entries}


def _links(role: str, load: DemoLoad) -> dict[str, str]:
    busiest = load.general_practitioners.most_common(1)
    if role in ("physician", "nurse", "external_provider") and busiest:
        return {"practitioner_id": busiest[0][0]}
    if role == "patient" and load.first_patient:
        return {"patient_id": load.first_patient}
    return {}


def _add_users(services: Services, load: DemoLoad) -> None:
    identity = services.security.identity
    for role in ROLES:
        password = DEMO_PASSWORD.format(role=role)
        try:
            identity.get_user(role)
        except ChartkeeperError:
            identity.add_user(role, role, password, **_links(role, load))
        load.users.append((role, role, password))
