"""Service clients: registered applications, their allowed scopes and how they authenticate.

A client authenticates with a generated secret (``client_secret_basic`` / ``client_secret_post``,
stored as an argon2id hash), with a JWT signed by a key whose public half it registered
(``private_key_jwt``, RFC 7523, as SMART Backend Services require), or not at all for a public
app that signs users in through the authorization code flow with PKCE. Redirect URIs match
exactly (RFC 9700 §4.1.1).
"""

from __future__ import annotations

import json
import logging
import re
import secrets
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import jwt
from sqlalchemy import Row, select, update
from sqlalchemy.exc import IntegrityError

from chartkeeper.core.clock import Clock
from chartkeeper.core.errors import ConflictError, InvalidError, NotFoundError, UnauthorizedError
from chartkeeper.fhir.dates import from_micros, to_micros
from chartkeeper.privacy.actor import ROLES
from chartkeeper.privacy.credentials import SecretHasher, check_client_secret, new_secret
from chartkeeper.privacy.database import IdentityDatabase
from chartkeeper.privacy.scopes import check_grantable
from chartkeeper.store.identity_schema import service_clients

log = logging.getLogger("chartkeeper.identity")

CLIENT_REFUSED = "Client authentication failed"
#: Asymmetric algorithms accepted for client assertions, by key type (RFC 7518 §3.1).
EC_ALGORITHMS: dict[str, tuple[str, ...]] = {
    "P-256": ("ES256",),
    "P-384": ("ES384",),
    "P-521": ("ES512",),
}
RSA_ALGORITHMS: tuple[str, ...] = ("RS256", "RS384", "RS512", "PS256", "PS384", "PS512")
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 ._@-]{0,127}$")
_CLIENT_ID = re.compile(r"^[A-Za-z0-9_-]{1,64}$")  # what secrets.token_urlsafe makes
_LOOPBACK = {"127.0.0.1", "::1", "localhost"}
_PRIVATE_MEMBERS = {"d", "p", "q", "dp", "dq", "qi", "oth", "k"}


@dataclass(frozen=True)
class ClientRecord:
    """A registered client (never its secret hash)."""

    client_id: str
    name: str
    role: str | None  # the role its client_credentials tokens act in (None: no role)
    scopes: frozenset[str]
    redirect_uris: tuple[str, ...]
    auth_method: str  # client_secret_basic, private_key_jwt, none
    disabled: bool
    created: datetime

    @property
    def is_public(self) -> bool:
        """True for a client with no credentials of its own (PKCE-only)."""
        return self.auth_method == "none"


@dataclass(frozen=True)
class NewClient:
    """A freshly registered client and, once only, its generated secret."""

    client: ClientRecord
    secret: str | None


def _record(row: Row[Any]) -> ClientRecord:
    if row.secret_hash is not None:
        method = "client_secret_basic"
    elif row.jwks is not None:
        method = "private_key_jwt"
    else:
        method = "none"
    return ClientRecord(
        row.client_id,
        row.name,
        row.role,
        frozenset(row.scopes.split()),
        tuple(row.redirect_uris.split()),
        method,
        bool(row.disabled),
        from_micros(row.created),
    )


def allowed_algorithms(jwk: dict[str, Any]) -> tuple[str, ...]:
    """The signing algorithms a registered public key may be used with."""
    kty = jwk.get("kty")
    if kty == "EC":
        options = EC_ALGORITHMS.get(str(jwk.get("crv")), ())
    elif kty == "RSA":
        options = RSA_ALGORITHMS
    else:
        return ()
    named = jwk.get("alg")
    if named is None:
        return options
    return (str(named),) if named in options else ()


def check_jwks(jwks: dict[str, Any]) -> dict[str, Any]:
    """A JWK Set of public EC or RSA keys, as given or wrapped from a single JWK."""
    keys = jwks.get("keys") if "keys" in jwks else [jwks]
    if not isinstance(keys, list) or not keys:
        raise InvalidError("The JWKS holds no keys")
    for key in keys:
        if not isinstance(key, dict) or not allowed_algorithms(key):
            raise InvalidError("JWKS keys must be EC (P-256, P-384, P-521) or RSA public keys")
        if _PRIVATE_MEMBERS & set(key):
            raise InvalidError("The JWKS holds a private key; register only the public key")
        try:
            jwt.PyJWK(key, allowed_algorithms(key)[0])
        except jwt.PyJWTError as error:
            raise InvalidError(f"A JWKS key cannot be read: {error}") from None
    kids = [key.get("kid") for key in keys]
    if len(keys) > 1 and (None in kids or len(set(kids)) != len(kids)):
        raise InvalidError("Several JWKS keys need distinct `kid` values")
    return {"keys": keys}


def check_redirect_uri(uri: str) -> None:
    """An absolute https URI without fragment (plain http only on the loopback interface)."""
    parts = urlsplit(uri)
    loopback = parts.scheme == "http" and parts.hostname in _LOOPBACK
    if parts.fragment or not parts.netloc or not (parts.scheme == "https" or loopback):
        raise InvalidError(
            f"Redirect URI {uri!r} must be absolute https (or http on localhost), no fragment"
        )


def _check_registration(
    name: str,
    secret: str | None,
    jwks: dict[str, Any] | None,
    public: bool,
    redirect_uris: tuple[str, ...],
) -> None:
    if not _NAME.fullmatch(name):
        raise InvalidError("Client names are 1-128 letters, digits, spaces and . _ @ -")
    if sum((secret is not None, jwks is not None, public)) > 1:
        raise InvalidError("A client has a secret, a JWKS or neither (public), not several")
    if public and not redirect_uris:
        raise InvalidError("A public client needs at least one redirect URI")
    for uri in redirect_uris:
        check_redirect_uri(uri)
    if secret is not None:
        check_client_secret(secret)


class ClientRegistry:
    """The ``service_clients`` table."""

    def __init__(self, db: IdentityDatabase, clock: Clock, hasher: SecretHasher) -> None:
        self._db = db
        self._clock = clock
        self._hasher = hasher

    def add(
        self,
        name: str,
        scopes: str,
        *,
        secret: str | None = None,
        jwks: dict[str, Any] | None = None,
        redirect_uris: tuple[str, ...] = (),
        public: bool = False,
        role: str | None = None,
    ) -> NewClient:
        """Register a client: with a secret (given or generated), a JWKS, or public (PKCE)."""
        _check_registration(name, secret, jwks, public, redirect_uris)
        if role is not None and (role not in ROLES or role == "patient"):
            raise InvalidError(f"A client's role must be one of the staff roles, not {role!r}")
        allowed = check_grantable(scopes)
        if secret is None and jwks is None and not public:
            secret = new_secret()
        values = {
            "client_id": secrets.token_urlsafe(16),
            "name": name,
            "role": role,
            "secret_hash": self._hasher.hash(secret) if secret is not None else None,
            "jwks": json.dumps(check_jwks(jwks)) if jwks is not None else None,
            "scopes": " ".join(sorted(allowed)),
            "redirect_uris": " ".join(redirect_uris),
            "disabled": False,
            "created": to_micros(self._clock.now()),
        }
        try:
            with self._db.write() as conn:
                conn.execute(service_clients.insert().values(**values))
        except IntegrityError:
            raise ConflictError(f"A client named {name!r} already exists") from None
        log.info("Client %s registered as %s", name, values["client_id"])
        client = self.get(str(values["client_id"]))
        assert client is not None
        return NewClient(client, secret)

    def get(self, client_id: str) -> ClientRecord | None:
        """A registered client, or None."""
        row = self._row(client_id)
        return _record(row) if row is not None else None

    def list(self) -> list[ClientRecord]:
        """Every client, by name."""
        with self._db.read() as conn:
            rows = conn.execute(select(service_clients).order_by(service_clients.c.name)).all()
        return [_record(row) for row in rows]

    def disable(self, client_id: str) -> None:
        """Stop a client from getting tokens."""
        with self._db.write() as conn:
            result = conn.execute(
                update(service_clients)
                .where(service_clients.c.client_id == client_id)
                .values(disabled=True)
            )
        if result.rowcount == 0:
            raise NotFoundError(f"No client {client_id}")

    def authenticate_secret(self, client_id: str, secret: str) -> ClientRecord:
        """The active client whose secret this is; one generic refusal otherwise."""
        row = self._row(client_id)
        if row is None or row.disabled or row.secret_hash is None:
            self._hasher.burn(secret)
            raise UnauthorizedError(CLIENT_REFUSED)
        if not self._hasher.verify(row.secret_hash, secret):
            log.info("Client %s gave a wrong secret", client_id)
            raise UnauthorizedError(CLIENT_REFUSED)
        return _record(row)

    def public_key(self, client_id: str, kid: str | None) -> dict[str, Any] | None:
        """The public JWK of an active client matching ``kid`` (or its only key when no kid)."""
        row = self._row(client_id)
        if row is None or row.disabled or row.jwks is None:
            return None
        keys: list[dict[str, Any]] = json.loads(row.jwks)["keys"]
        if kid is None:
            return keys[0] if len(keys) == 1 else None
        return next((key for key in keys if key.get("kid") == kid), None)

    def _row(self, client_id: str) -> Row[Any] | None:
        if not _CLIENT_ID.fullmatch(client_id):
            return None  # never one of ours; and PostgreSQL refuses NUL in text
        with self._db.read() as conn:
            query = select(service_clients).where(service_clients.c.client_id == client_id)
            return conn.execute(query).first()
