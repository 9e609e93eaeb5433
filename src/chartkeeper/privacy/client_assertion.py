"""``private_key_jwt`` client authentication: a JWT the client signs with its registered key.

RFC 7523 §2.2 and §3, as profiled by SMART Backend Services
(https://hl7.org/fhir/smart-app-launch/backend-services.html#authenticating-to-the-token-endpoint):
``iss`` = ``sub`` = client id, ``aud`` = the token endpoint URL, ``exp`` at most five minutes
ahead, ``jti`` never seen before. The algorithm must suit the registered key (never ``none``
nor HMAC), and is never taken on the token's word alone (RFC 8725 §3.1).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import jwt

from chartkeeper.privacy.clients import ClientRecord, allowed_algorithms
from chartkeeper.privacy.grants import GrantStore, OAuthError
from chartkeeper.privacy.identity import IdentityStore

ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
MAX_ASSERTION_LIFETIME = timedelta(minutes=5)
_SKEW = timedelta(seconds=60)


def _refuse(description: str) -> OAuthError:
    return OAuthError("invalid_client", description, 401)


def _unverified(assertion: str) -> tuple[dict[str, Any], dict[str, Any]]:
    try:
        header = jwt.get_unverified_header(assertion)
        claims = jwt.decode(assertion, options={"verify_signature": False})
    except jwt.PyJWTError:
        raise _refuse("client_assertion is not a signed JWT") from None
    return header, claims


def verify_client_assertion(
    assertion: str,
    identity: IdentityStore,
    grants: GrantStore,
    token_endpoint: str,
    now: datetime,
) -> ClientRecord:
    """The client that signed ``assertion``; ``invalid_client`` (401) for any flaw."""
    header, unverified = _unverified(assertion)
    client_id = unverified.get("iss")
    client = identity.get_client(client_id) if isinstance(client_id, str) else None
    if client is None or client.disabled or client.auth_method != "private_key_jwt":
        raise _refuse("client_assertion names no active private_key_jwt client")
    jwk = identity.client_public_key(client.client_id, header.get("kid"))
    if jwk is None:
        raise _refuse("No registered public key matches the client_assertion kid")
    algorithm = header.get("alg")
    if algorithm not in allowed_algorithms(jwk):
        raise _refuse(f"client_assertion algorithm {algorithm!r} does not suit the registered key")
    claims = _decode(assertion, jwk, str(algorithm), client.client_id, token_endpoint)
    expires = _check_lifetime(claims, now)
    jti = claims["jti"]
    if not isinstance(jti, str) or not 0 < len(jti) <= 255 or not jti.isprintable():
        raise _refuse("client_assertion jti must be 1-255 printable characters")
    grants.remember_assertion(client.client_id, jti, expires, now)
    return client


def _decode(
    assertion: str, jwk: dict[str, Any], algorithm: str, client_id: str, token_endpoint: str
) -> dict[str, Any]:
    options: jwt.types.Options = {
        "require": ["iss", "sub", "aud", "exp", "jti"],
        "verify_exp": False,  # checked against the injected clock
        "verify_iat": False,
        "verify_nbf": False,
    }
    try:
        key = jwt.PyJWK(jwk, algorithm).key
        return jwt.decode(
            assertion,
            key,
            algorithms=[algorithm],
            audience=token_endpoint,
            issuer=client_id,
            subject=client_id,
            options=options,
        )
    except jwt.InvalidSignatureError:
        raise _refuse("client_assertion signature does not verify") from None
    except jwt.InvalidAudienceError:
        raise _refuse(f"client_assertion aud must be the token endpoint {token_endpoint}") from None
    except jwt.MissingRequiredClaimError as error:
        raise _refuse(f"client_assertion lacks the {error.claim!r} claim") from None
    except jwt.PyJWTError:
        raise _refuse("client_assertion is invalid (iss and sub must be the client id)") from None


def _check_lifetime(claims: dict[str, Any], now: datetime) -> datetime:
    exp = claims["exp"]
    if not isinstance(exp, int | float):
        raise _refuse("client_assertion exp must be a number")
    expires = datetime.fromtimestamp(exp, UTC)
    if expires <= now:
        raise _refuse("client_assertion expired")
    if expires > now + MAX_ASSERTION_LIFETIME + _SKEW:
        raise _refuse("client_assertion exp must be at most five minutes ahead")
    return expires
