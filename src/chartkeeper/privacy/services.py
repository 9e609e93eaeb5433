"""The security services an entry point needs, built once: identity, grants, tokens, OAuth."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import Engine

from chartkeeper.core.clock import Clock
from chartkeeper.privacy.actor import Actor
from chartkeeper.privacy.authorize import Authorizer
from chartkeeper.privacy.credentials import SecretHasher
from chartkeeper.privacy.grants import GrantStore
from chartkeeper.privacy.identity import IdentityStore
from chartkeeper.privacy.keys import key_path, load_or_create_signing_key
from chartkeeper.privacy.oauth_server import AuthorizationServer
from chartkeeper.privacy.tokens import TokenService, bearer_token


@dataclass(frozen=True)
class SecurityEndpoints:
    """The URLs the security services speak of, all derived from the public base URL."""

    base_url: str  # issuer of tokens (``iss``)
    fhir_base: str  # audience of tokens (``aud``)
    authorize: str
    token: str
    jwks: str

    @classmethod
    def from_base_url(cls, base_url: str) -> SecurityEndpoints:
        """The endpoints under ``base_url`` (e.g. http://127.0.0.1:8000)."""
        base = base_url.rstrip("/")
        return cls(
            base,
            f"{base}/fhir",
            f"{base}/oauth/authorize",
            f"{base}/oauth/token",
            f"{base}/.well-known/jwks.json",
        )


@dataclass
class SecurityServices:
    """Identity, grants, tokens and the OAuth endpoints' semantics, over one database."""

    identity: IdentityStore
    grants: GrantStore
    tokens: TokenService
    oauth: AuthorizationServer
    authorizer: Authorizer
    endpoints: SecurityEndpoints
    key_file: Path
    clock: Clock

    def actor_from_authorization(self, authorization: str | None) -> Actor:
        """The actor of an ``Authorization: Bearer`` header; ``UnauthorizedError`` otherwise."""
        return self.tokens.verify_access_token(bearer_token(authorization))


def build_security(
    engine: Engine,
    data_dir: Path,
    clock: Clock,
    base_url: str,
    hasher: SecretHasher | None = None,
) -> SecurityServices:
    """The security services for a deployment; creates the signing key on first run."""
    endpoints = SecurityEndpoints.from_base_url(base_url)
    key = load_or_create_signing_key(Path(data_dir).resolve())
    identity = IdentityStore(engine, clock, hasher)
    grants = GrantStore(engine)
    tokens = TokenService(key, clock, issuer=endpoints.base_url, audience=endpoints.fhir_base)
    oauth = AuthorizationServer(identity, grants, tokens, clock, endpoints.token)
    authorizer = Authorizer(identity, grants, clock, endpoints.base_url, endpoints.fhir_base)
    return SecurityServices(
        identity,
        grants,
        tokens,
        oauth,
        authorizer,
        endpoints,
        key_path(Path(data_dir).resolve()),
        clock,
    )
