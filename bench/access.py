"""Who the benchmarks read as: a backend-service client with read/search scopes, and its token."""

from __future__ import annotations

from datetime import timedelta

from chartkeeper.app import Services
from chartkeeper.fhir.interactions.context import FhirContext
from chartkeeper.privacy.actor import Actor

#: A SMART backend-service client (no role): its system/ scopes allow reading all patients.
READER = Actor(kind="client", name="chartkeeper-bench", scopes=frozenset({"system/*.rs"}))


def bearer_headers(services: Services) -> dict[str, str]:
    """An Authorization header the server over the same data directory accepts."""
    token = services.security.tokens.issue_access_token(
        READER, READER.scopes, ttl=timedelta(hours=2)
    )
    return {"Authorization": f"Bearer {token}"}


def reader_context(services: Services) -> FhirContext:
    """The guarded FHIR context of the benchmark reader (decided and audited like over HTTP)."""
    return services.for_actor(READER)
