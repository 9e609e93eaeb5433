"""Users, tokens and a small hospital for the access-control API tests."""

from __future__ import annotations

from typing import Any

from starlette.testclient import TestClient

from chartkeeper.app import Services
from chartkeeper.privacy.actor import Actor
from tests.api.conftest import bearer, patient, put

PASSWORD = "correct horse battery"


def user(services: Services, name: str, role: str, **links: str) -> dict[str, str]:
    """A new user's bearer header (scopes as wide as the role allows)."""
    services.security.identity.add_user(name, role, PASSWORD, **links)
    return token(services, name)


def token(services: Services, name: str) -> dict[str, str]:
    """A fresh token for an existing user (tokens live an hour; tests that move the clock
    past that need a new one)."""
    actor = services.security.identity.user_actor(name)
    scopes = frozenset({"patient/*.rs"} if actor.role == "patient" else {"user/*.cruds"})
    return bearer(services, Actor(**{**actor.__dict__, "scopes": scopes}))


def observation(ident: str, subject: str) -> dict[str, Any]:
    """A heart-rate Observation of Patient ``subject``."""
    return {
        "resourceType": "Observation",
        "id": ident,
        "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": "8867-4"}]},
        "subject": {"reference": f"Patient/{subject}"},
        "valueQuantity": {"value": 70, "unit": "/min"},
    }


def build_hospital(client: TestClient) -> None:
    """Patients pa and pb with one Observation each; Practitioner doc treats pa.

    The two are plainly different people, so registering pb reports no possible duplicate
    (which would be an audited look at pa)."""
    people = {"pa": ("Anna", "1980-02-03"), "pb": ("Boris", "1957-11-21")}
    for ident, (given, birth) in people.items():
        body = patient(id=ident, family=f"Fam{ident}", given=given, birth=birth)
        put(client, f"/fhir/Patient/{ident}", body)
        put(client, f"/fhir/Observation/o-{ident}", observation(f"o-{ident}", ident))
    put(client, "/fhir/Practitioner/doc", {"resourceType": "Practitioner", "id": "doc"})
    care_team = {
        "resourceType": "CareTeam",
        "id": "ct-a",
        "subject": {"reference": "Patient/pa"},
        "participant": [{"member": {"reference": "Practitioner/doc"}}],
    }
    put(client, "/fhir/CareTeam/ct-a", care_team)
