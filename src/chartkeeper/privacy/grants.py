"""OAuth grants held by the server: authorization codes, refresh tokens, seen assertion ids.

Authorization codes live 60 seconds and are single-use; presenting a used code again revokes
the refresh tokens issued from it (RFC 6749 §4.1.2). Refresh tokens rotate on every use; a used
one presented again means it leaked, so its whole family is revoked (RFC 9700 §4.14.2). Client
assertion ``jti`` values are remembered until the assertion expires, so none is accepted twice
(RFC 7523 §3). Only SHA-256 digests of codes and tokens are stored.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import logging
import re
import secrets
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, delete, select, update
from sqlalchemy.exc import IntegrityError

from chartkeeper.core.errors import ChartkeeperError
from chartkeeper.fhir.dates import to_micros
from chartkeeper.privacy.credentials import digest
from chartkeeper.privacy.database import IdentityDatabase
from chartkeeper.store.identity_schema import authorization_codes, client_assertions, refresh_tokens

log = logging.getLogger("chartkeeper.oauth")

CODE_TTL = timedelta(seconds=60)
REFRESH_TOKEN_TTL = timedelta(days=30)
#: RFC 7636 §4.1: 43 to 128 characters of the unreserved set.
PKCE_VALUE = re.compile(r"^[A-Za-z0-9._~-]{43,128}$")


class OAuthError(ChartkeeperError):
    """An OAuth 2.0 error response (RFC 6749 §5.2): ``error`` code, description, HTTP status."""

    status = 400
    issue_code = "login"
    exit_code = 77

    def __init__(self, error: str, description: str, status: int = 400) -> None:
        super().__init__(description)
        self.error = error
        self.status = status

    def body(self) -> dict[str, str]:
        """The JSON error response body."""
        return {"error": self.error, "error_description": self.message}


@dataclass(frozen=True)
class Grant:
    """What a code or refresh token was issued for."""

    client_id: str
    user_name: str
    scopes: frozenset[str]
    family_id: str


def pkce_challenge(verifier: str) -> str:
    """The S256 code challenge of a PKCE verifier (RFC 7636 §4.2)."""
    hashed = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(hashed).rstrip(b"=").decode("ascii")


def _invalid_grant(description: str) -> OAuthError:
    return OAuthError("invalid_grant", description)


class GrantStore:
    """The grant tables in the store's database."""

    def __init__(self, engine: Engine) -> None:
        self._db = IdentityDatabase(engine)

    def create_code(
        self, grant: Grant, redirect_uri: str, code_challenge: str, now: datetime
    ) -> str:
        """A fresh single-use authorization code for ``grant``."""
        code = secrets.token_urlsafe(32)
        with self._db.write() as conn:
            conn.execute(
                authorization_codes.insert().values(
                    code_hash=digest(code),
                    client_id=grant.client_id,
                    redirect_uri=redirect_uri,
                    user_name=grant.user_name,
                    scopes=" ".join(sorted(grant.scopes)),
                    code_challenge=code_challenge,
                    expires=to_micros(now + CODE_TTL),
                    used=False,
                )
            )
        return code

    def redeem_code(
        self, code: str, client_id: str, redirect_uri: str, verifier: str, now: datetime
    ) -> Grant:
        """The grant of a valid code, which is used up; ``invalid_grant`` otherwise."""
        code_hash = digest(code)
        with self._db.write() as conn:
            row = conn.execute(
                select(authorization_codes).where(authorization_codes.c.code_hash == code_hash)
            ).first()
            if row is None:
                raise _invalid_grant("Unknown authorization code")
            if row.used:
                revoked = self._revoke_family(conn, code_hash)
                log.warning("Authorization code reused; %d refresh tokens revoked", revoked)
            else:
                conn.execute(
                    update(authorization_codes)
                    .where(authorization_codes.c.code_hash == code_hash)
                    .values(used=True)
                )
        if row.used:
            raise _invalid_grant("Authorization code was already used")
        _check_code(row, client_id, redirect_uri, verifier, now)
        return Grant(row.client_id, row.user_name, frozenset(row.scopes.split()), code_hash)

    def issue_refresh_token(self, grant: Grant, now: datetime) -> str:
        """A fresh refresh token in the family of ``grant``."""
        token = secrets.token_urlsafe(32)
        with self._db.write() as conn:
            conn.execute(
                refresh_tokens.insert().values(
                    token_hash=digest(token),
                    family_id=grant.family_id,
                    client_id=grant.client_id,
                    user_name=grant.user_name,
                    scopes=" ".join(sorted(grant.scopes)),
                    issued=to_micros(now),
                    expires=to_micros(now + REFRESH_TOKEN_TTL),
                    revoked=False,
                )
            )
        return token

    def use_refresh_token(
        self, token: str, client_id: str, now: datetime, check: Callable[[Grant], None]
    ) -> Grant:
        """The grant of a valid refresh token, which is revoked (rotation); else invalid_grant.

        ``check`` runs before the token is used up and may refuse (then the token stays valid).
        """
        token_hash = digest(token)
        with self._db.write() as conn:
            row = conn.execute(
                select(refresh_tokens).where(refresh_tokens.c.token_hash == token_hash)
            ).first()
            if row is not None and row.revoked:
                revoked = self._revoke_family(conn, row.family_id)
                log.warning("Used refresh token presented again; %d revoked", revoked)
        if row is None or row.client_id != client_id:
            raise _invalid_grant("Unknown refresh token")
        if row.revoked:
            raise _invalid_grant("Refresh token was already used or revoked; sign in again")
        if row.expires <= to_micros(now):
            raise _invalid_grant("Refresh token expired; sign in again")
        grant = Grant(row.client_id, row.user_name, frozenset(row.scopes.split()), row.family_id)
        check(grant)
        with self._db.write() as conn:
            used = conn.execute(
                update(refresh_tokens)
                .where(refresh_tokens.c.token_hash == token_hash, ~refresh_tokens.c.revoked)
                .values(revoked=True)
            )
        if used.rowcount != 1:  # another request used it in between
            raise _invalid_grant("Refresh token was already used or revoked; sign in again")
        return grant

    def revoke_user(self, user_name: str) -> int:
        """Revoke every refresh token of a user (e.g. when disabled); how many were live."""
        with self._db.write() as conn:
            result = conn.execute(
                update(refresh_tokens)
                .where(refresh_tokens.c.user_name == user_name, ~refresh_tokens.c.revoked)
                .values(revoked=True)
            )
            return int(result.rowcount)

    def remember_assertion(
        self, client_id: str, jti: str, expires: datetime, now: datetime
    ) -> None:
        """Record a client assertion's ``jti``; ``invalid_client`` if it was seen before."""
        try:
            with self._db.write() as conn:
                conn.execute(
                    delete(client_assertions).where(client_assertions.c.expires < to_micros(now))
                )
                conn.execute(
                    client_assertions.insert().values(
                        client_id=client_id, jti=jti, expires=to_micros(expires)
                    )
                )
        except IntegrityError:
            raise OAuthError(
                "invalid_client", "Client assertion jti was already used (replay)", 401
            ) from None

    @staticmethod
    def _revoke_family(conn: Connection, family_id: str) -> int:
        result = conn.execute(
            update(refresh_tokens)
            .where(refresh_tokens.c.family_id == family_id, ~refresh_tokens.c.revoked)
            .values(revoked=True)
        )
        return int(result.rowcount)


def _check_code(row: Any, client_id: str, redirect_uri: str, verifier: str, now: datetime) -> None:
    if row.client_id != client_id:
        raise _invalid_grant("Authorization code was issued to another client")
    if row.expires <= to_micros(now):
        raise _invalid_grant("Authorization code expired (they live 60 seconds)")
    if row.redirect_uri != redirect_uri:
        raise _invalid_grant("redirect_uri differs from the one of the authorization request")
    if not PKCE_VALUE.fullmatch(verifier):
        raise _invalid_grant("code_verifier must be 43-128 characters of A-Z a-z 0-9 - . _ ~")
    if not hmac.compare_digest(pkce_challenge(verifier), row.code_challenge):
        raise _invalid_grant("code_verifier does not match the code_challenge (PKCE S256)")
