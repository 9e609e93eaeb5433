"""Secrets at rest: argon2id for passwords and client secrets, SHA-256 for random tokens.

Argon2id with the RFC 9106 "second recommended option" (t=3, m=64 MiB, p=4): memory-hard, so a
stolen users table is costly to attack. Hashes made with older parameters are replaced at the
next successful sign-in. Refresh tokens and authorization codes are 256-bit random values, for
which a plain SHA-256 digest is enough (no dictionary to attack) and allows lookup by digest.
"""

from __future__ import annotations

import hashlib
import secrets

from argon2 import PasswordHasher, profiles
from argon2.exceptions import InvalidHashError, VerificationError

from chartkeeper.core.errors import InvalidError

MIN_PASSWORD_LENGTH = 12
#: Longer inputs are refused before hashing, so nobody makes the server hash megabytes.
MAX_SECRET_LENGTH = 1024
MIN_CLIENT_SECRET_LENGTH = 32


def default_hasher() -> PasswordHasher:
    """Argon2id with RFC 9106's low-memory recommended parameters."""
    return PasswordHasher.from_parameters(profiles.RFC_9106_LOW_MEMORY)


class SecretHasher:
    """Hash and verify passwords and client secrets; never keeps or logs them."""

    def __init__(self, hasher: PasswordHasher | None = None) -> None:
        self._hasher = hasher or default_hasher()
        self._dummy: str | None = None

    def hash(self, secret: str) -> str:
        """The argon2id PHC string of ``secret``."""
        return self._hasher.hash(secret)

    def verify(self, stored: str, secret: str) -> bool:
        """True when ``secret`` matches ``stored``; any malformed input is simply a mismatch."""
        if len(secret) > MAX_SECRET_LENGTH:
            return False
        try:
            return self._hasher.verify(stored, secret)
        except (VerificationError, InvalidHashError):
            return False

    def needs_rehash(self, stored: str) -> bool:
        """True when ``stored`` was made with other parameters than the current ones."""
        try:
            return self._hasher.check_needs_rehash(stored)
        except InvalidHashError:
            return True

    def burn(self, secret: str) -> None:
        """Spend the time of one verification, so refusals without a hash take as long."""
        if self._dummy is None:
            self._dummy = self._hasher.hash(secrets.token_urlsafe(16))
        self.verify(self._dummy, secret)


def check_new_password(password: str) -> None:
    """Refuse a new password that is too short (or absurdly long)."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidError(f"Passwords must have at least {MIN_PASSWORD_LENGTH} characters")
    if len(password) > MAX_SECRET_LENGTH:
        raise InvalidError(f"Passwords may have at most {MAX_SECRET_LENGTH} characters")


def check_client_secret(secret: str) -> None:
    """Refuse a chosen client secret too short to resist guessing."""
    if not MIN_CLIENT_SECRET_LENGTH <= len(secret) <= MAX_SECRET_LENGTH:
        raise InvalidError(
            f"Client secrets must have {MIN_CLIENT_SECRET_LENGTH} to {MAX_SECRET_LENGTH} "
            "characters; leave --secret out to have one generated"
        )


def new_secret() -> str:
    """A fresh 256-bit random secret, URL-safe."""
    return secrets.token_urlsafe(32)


def digest(token: str) -> str:
    """The SHA-256 hex digest under which a random token is stored."""
    return hashlib.sha256(token.encode("utf-8")).hexdigest()
