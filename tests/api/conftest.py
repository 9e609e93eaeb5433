"""Fixtures for API tests: the real ASGI app over a real database, with a fixed clock."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from starlette.testclient import TestClient

from chartkeeper.app import Services, build_services
from chartkeeper.core.clock import FixedClock
from chartkeeper.core.settings import load_settings
from chartkeeper.privacy.actor import Actor
from chartkeeper.web.app import create_app

FHIR_JSON = {"content-type": "application/fhir+json"}


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(datetime(2026, 1, 15, 9, 30, tzinfo=UTC))


@pytest.fixture
def services(database_url: str, tmp_path: Path, clock: FixedClock) -> Iterator[Services]:
    settings = load_settings(
        {"data_dir": str(tmp_path), "database_url": database_url, "max_body_bytes": 200_000},
        environ={},
    )
    built = build_services(settings, clock=clock)
    yield built
    built.close()


#: What the API tests act as: a backend service client allowed everything by its scopes.
INTEGRATION = Actor(kind="client", name="test-integration", scopes=frozenset({"system/*.cruds"}))


def bearer(services: Services, actor: Actor = INTEGRATION) -> dict[str, str]:
    """An Authorization header with a real token for ``actor``."""
    token = services.security.tokens.issue_access_token(actor, actor.scopes)
    return {"authorization": f"Bearer {token}"}


@pytest.fixture
def client(services: Services) -> Iterator[TestClient]:
    app = create_app(services)
    with TestClient(app, raise_server_exceptions=True, headers=bearer(services)) as test_client:
        yield test_client


@pytest.fixture
def anonymous(services: Services) -> Iterator[TestClient]:
    """A client with no credentials."""
    with TestClient(create_app(services), raise_server_exceptions=True) as test_client:
        yield test_client


def post(client: TestClient, path: str, body: Any, **headers: str) -> Any:
    """POST JSON with the FHIR media type."""
    return client.post(path, json=body, headers={**FHIR_JSON, **headers})


def put(client: TestClient, path: str, body: Any, **headers: str) -> Any:
    """PUT JSON with the FHIR media type."""
    return client.put(path, json=body, headers={**FHIR_JSON, **headers})


def patient(
    family: str = "Smith", given: str = "Anna", birth: str = "1980-02-03", **extra: Any
) -> dict[str, Any]:
    """A small valid Patient."""
    return {
        "resourceType": "Patient",
        "name": [{"family": family, "given": [given]}],
        "birthDate": birth,
        "gender": "female",
        **extra,
    }
