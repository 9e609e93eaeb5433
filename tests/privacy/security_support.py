"""Shared set-up for the identity, token and OAuth tests: real services over a real database."""

from __future__ import annotations

import base64
import hashlib
import secrets
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path

from argon2 import PasswordHasher

from chartkeeper.app import build_services
from chartkeeper.core.clock import FixedClock
from chartkeeper.core.settings import load_settings
from chartkeeper.privacy.credentials import SecretHasher
from chartkeeper.privacy.services import SecurityServices, build_security

BASE_URL = "https://ehr.example.org"
FHIR_BASE = f"{BASE_URL}/fhir"
TOKEN_URL = f"{BASE_URL}/oauth/token"
START = datetime(2026, 1, 15, 9, 30, tzinfo=UTC)
PASSWORD = "correct horse battery staple"  # synthetic test credential


def fast_hasher() -> SecretHasher:
    """Real argon2id with small parameters, so tests that hash a lot stay quick."""
    return SecretHasher(PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1))


@contextmanager
def security_services(
    database_url: str, data_dir: Path, clock: FixedClock, hasher: SecretHasher | None = None
) -> Iterator[SecurityServices]:
    """Migrated store plus security services, as the composition root will build them."""
    settings = load_settings(
        {"data_dir": str(data_dir), "database_url": database_url, "base_url": BASE_URL},
        environ={},
    )
    services = build_services(settings, clock=clock)
    try:
        yield build_security(
            services.engine, data_dir, clock, BASE_URL, hasher=hasher or fast_hasher()
        )
    finally:
        services.close()


def pkce_pair() -> tuple[str, str]:
    """A fresh PKCE verifier and its S256 challenge."""
    verifier = secrets.token_urlsafe(48)
    digest = hashlib.sha256(verifier.encode()).digest()
    return verifier, base64.urlsafe_b64encode(digest).rstrip(b"=").decode()
