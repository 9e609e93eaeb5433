"""Identity tables: local users, service clients and the OAuth grants issued to them.

Secrets never reach these tables in clear: passwords and client secrets are argon2id hashes,
refresh tokens and authorization codes are SHA-256 digests of high-entropy random values. Times
are epoch microseconds UTC, as everywhere in the store. Migration 0003 creates these tables.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Boolean, Column, Index, Integer, String, Table, Text

from chartkeeper.store.schema import metadata

users = Table(
    "users",
    metadata,
    Column("name", String(128), primary_key=True),
    Column("role", String(32), nullable=False),
    Column("patient_id", String(64), nullable=True),  # required when role is "patient"
    Column("practitioner_id", String(64), nullable=True),  # clinicians only
    Column("organization", String(256), nullable=True),
    Column("password_hash", Text, nullable=False),  # argon2id, PHC string format
    Column("failed_attempts", Integer, nullable=False, default=0),
    Column("locked_until", BigInteger, nullable=True),
    Column("disabled", Boolean, nullable=False, default=False),
    Column("created", BigInteger, nullable=False),
    Column("updated", BigInteger, nullable=False),
)

service_clients = Table(
    "service_clients",
    metadata,
    Column("client_id", String(64), primary_key=True),
    Column("name", String(128), nullable=False, unique=True),
    Column("role", String(32), nullable=True),  # the role its system tokens act in, if any
    Column("secret_hash", Text, nullable=True),  # argon2id; NULL for key or public clients
    Column("jwks", Text, nullable=True),  # JSON JWK Set of public keys for private_key_jwt
    Column("scopes", Text, nullable=False),  # space-separated allowed scopes
    Column("redirect_uris", Text, nullable=False, default=""),  # space-separated, exact match
    Column("disabled", Boolean, nullable=False, default=False),
    Column("created", BigInteger, nullable=False),
)

refresh_tokens = Table(
    "refresh_tokens",
    metadata,
    Column("token_hash", String(64), primary_key=True),  # SHA-256 hex of the token
    Column("family_id", String(64), nullable=False),  # every rotation of one grant
    Column("client_id", String(64), nullable=False),
    Column("user_name", String(128), nullable=False),
    Column("scopes", Text, nullable=False),
    Column("issued", BigInteger, nullable=False),
    Column("expires", BigInteger, nullable=False),
    Column("revoked", Boolean, nullable=False, default=False),
    Index("ix_refresh_tokens_family", "family_id"),
)

authorization_codes = Table(
    "authorization_codes",
    metadata,
    Column("code_hash", String(64), primary_key=True),  # SHA-256 hex of the code
    Column("client_id", String(64), nullable=False),
    Column("redirect_uri", Text, nullable=False),
    Column("user_name", String(128), nullable=False),
    Column("scopes", Text, nullable=False),
    Column("code_challenge", String(128), nullable=False),  # PKCE S256
    Column("expires", BigInteger, nullable=False),
    Column("used", Boolean, nullable=False, default=False),
)

client_assertions = Table(
    "client_assertions",
    metadata,
    Column("client_id", String(64), primary_key=True),
    Column("jti", String(255), primary_key=True),  # seen until ``expires``, then forgotten
    Column("expires", BigInteger, nullable=False),
    Index("ix_client_assertions_expires", "expires"),
)

IDENTITY_TABLES: tuple[Table, ...] = (
    users,
    service_clients,
    refresh_tokens,
    authorization_codes,
    client_assertions,
)
