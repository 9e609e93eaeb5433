"""Access tokens: ES256-signed JWTs that carry the actor and its SMART scopes, and the JWKS.

JWT (RFC 7519) signed with JWS ES256 (RFC 7515, RFC 7518 §3.4); claims as in SMART App Launch
v2 (https://hl7.org/fhir/smart-app-launch/app-launch.html#response-5): ``scope``, ``patient``
(launch context) and ``fhirUser``, plus chartkeeper's ``role``, ``kind`` and ``organization``.
Verification follows RFC 8725: the algorithm is fixed (never taken from the token), the key is
ours (by ``kid``), and issuer, audience and expiry are checked against the injected clock.
"""

from __future__ import annotations

import secrets
from datetime import timedelta
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec

from chartkeeper.core.clock import Clock
from chartkeeper.core.errors import UnauthorizedError
from chartkeeper.privacy.actor import ROLES, Actor
from chartkeeper.privacy.keys import public_jwk

ALGORITHM = "ES256"
DEFAULT_TTL = timedelta(hours=1)
MAX_TTL = timedelta(days=1)
#: Tokens issued a little in the future (clock skew between workers) are still accepted.
CLOCK_SKEW = timedelta(seconds=60)
MAX_TOKEN_LENGTH = 8192
_REQUIRED = ["iss", "sub", "aud", "exp", "iat", "jti"]
_TOKEN_KINDS = ("user", "client")  # the in-process SYSTEM actor never travels as a token
#: Verified tokens remembered (an ES256 verification costs ~100 µs, a third of a read's budget).
VERIFIED_CACHE_SIZE = 4096


def bearer_token(authorization: str | None) -> str | None:
    """The token of an ``Authorization: Bearer <token>`` header (RFC 6750 §2.1), else None."""
    if not authorization:
        return None
    scheme, _, token = authorization.strip().partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        return None
    return token.strip()


class TokenService:
    """Issues and verifies access tokens with the deployment's signing key."""

    def __init__(
        self,
        private_key: ec.EllipticCurvePrivateKey,
        clock: Clock,
        issuer: str,
        audience: str,
    ) -> None:
        self._private_key = private_key
        self._public_key = private_key.public_key()
        self._jwk = public_jwk(self._public_key)
        self._clock = clock
        self.issuer = issuer
        self.audience = audience  # the FHIR base URL, as SMART's ``aud`` parameter names it
        #: token -> (actor, exp, iat) of tokens whose signature and claims verified. A token is
        #: immutable and our tokens are stateless, so the only thing that can change for a
        #: remembered token is time: expiry is still checked on every use.
        self._verified: dict[str, tuple[Actor, float, float]] = {}

    @property
    def kid(self) -> str:
        """The id of the signing key (its RFC 7638 thumbprint)."""
        return str(self._jwk["kid"])

    def jwks(self) -> dict[str, Any]:
        """The JWK Set served at ``/.well-known/jwks.json``."""
        return {"keys": [dict(self._jwk)]}

    def issue_access_token(
        self,
        actor: Actor,
        scopes: frozenset[str] | set[str],
        ttl: timedelta = DEFAULT_TTL,
        client_id: str | None = None,
    ) -> str:
        """A signed access token for ``actor`` holding ``scopes``, valid for ``ttl``.

        ``client_id`` names the OAuth client the token was issued to (RFC 9068 §2.2).
        """
        if actor.kind not in _TOKEN_KINDS:
            raise ValueError(f"No tokens for actors of kind {actor.kind!r}")
        if not timedelta(0) < ttl <= MAX_TTL:
            raise ValueError(f"Token lifetime must be between 0 and {MAX_TTL}")
        now = int(self._clock.now().timestamp())
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "sub": actor.name,
            "aud": self.audience,
            "iat": now,
            "exp": now + int(ttl.total_seconds()),
            "jti": secrets.token_urlsafe(16),
            "scope": " ".join(sorted(scopes)),
            "kind": actor.kind,
        }
        optional = {
            "role": actor.role,
            "patient": actor.patient_id,
            "fhirUser": self.fhir_user(actor),
            "organization": actor.organization,
            "client_id": client_id,
        }
        claims.update({name: value for name, value in optional.items() if value})
        headers = {"kid": self.kid, "typ": "JWT"}
        return jwt.encode(claims, self._private_key, algorithm=ALGORITHM, headers=headers)

    def fhir_user(self, actor: Actor) -> str | None:
        """The absolute URL of the user's own resource (SMART ``fhirUser``), if linked."""
        if actor.role == "patient" and actor.patient_id:
            return f"{self.audience}/Patient/{actor.patient_id}"
        if actor.practitioner_id:
            return f"{self.audience}/Practitioner/{actor.practitioner_id}"
        return None

    def verify_access_token(self, token: str | None) -> Actor:
        """The actor of a valid token; ``UnauthorizedError`` saying what is wrong otherwise."""
        if not token:
            raise UnauthorizedError("No access token: send Authorization: Bearer <token>")
        known = self._verified.get(token)
        if known is not None:
            actor, expires, issued = known
            self._check_times({"exp": expires, "iat": issued})
            return actor
        self._check_header(token)
        claims = self._decode(token)
        self._check_times(claims)
        actor = self._actor(claims)
        if len(self._verified) >= VERIFIED_CACHE_SIZE:
            self._verified.clear()  # simpler than an LRU, and a full cache is rare
        self._verified[token] = (actor, claims["exp"], claims["iat"])
        return actor

    def _check_header(self, token: str) -> None:
        if len(token) > MAX_TOKEN_LENGTH:
            raise UnauthorizedError("Malformed access token: too long")
        try:
            header = jwt.get_unverified_header(token)
        except jwt.PyJWTError:
            raise UnauthorizedError("Malformed access token: not a signed JWT") from None
        if header.get("alg") != ALGORITHM:
            raise UnauthorizedError(
                f"Access token algorithm {header.get('alg')!r} is not accepted (only {ALGORITHM})"
            )
        if header.get("kid") != self.kid:
            raise UnauthorizedError("Access token was not signed with this server's current key")

    def _decode(self, token: str) -> dict[str, Any]:
        options: jwt.types.Options = {
            "require": _REQUIRED,
            "verify_exp": False,  # checked against the injected clock instead
            "verify_iat": False,
            "verify_nbf": False,
        }
        try:
            return jwt.decode(
                token,
                self._public_key,
                algorithms=[ALGORITHM],
                audience=self.audience,
                issuer=self.issuer,
                options=options,
            )
        except jwt.InvalidSignatureError:
            raise UnauthorizedError("Access token signature does not verify") from None
        except jwt.InvalidAudienceError:
            raise UnauthorizedError("Access token is for another audience") from None
        except jwt.InvalidIssuerError:
            raise UnauthorizedError("Access token was issued by another server") from None
        except jwt.MissingRequiredClaimError as error:
            raise UnauthorizedError(f"Access token lacks the {error.claim!r} claim") from None
        except jwt.PyJWTError:
            raise UnauthorizedError("Malformed access token") from None

    def _check_times(self, claims: dict[str, Any]) -> None:
        now = self._clock.now().timestamp()
        expires, issued = claims["exp"], claims["iat"]
        if not isinstance(expires, int | float) or not isinstance(issued, int | float):
            raise UnauthorizedError("Malformed access token: exp and iat must be numbers")
        if now >= expires:
            raise UnauthorizedError("Access token expired; get a new one")
        if issued > now + CLOCK_SKEW.total_seconds():
            raise UnauthorizedError("Access token is issued in the future")

    def _actor(self, claims: dict[str, Any]) -> Actor:
        kind, role, scope = claims.get("kind"), claims.get("role"), claims.get("scope", "")
        if kind not in _TOKEN_KINDS or (role is not None and role not in ROLES):
            raise UnauthorizedError("Malformed access token: unknown kind or role")
        if not isinstance(scope, str) or not isinstance(claims["sub"], str):
            raise UnauthorizedError("Malformed access token: scope and sub must be strings")
        return Actor(
            kind=str(kind),
            name=claims["sub"],
            role=role,
            patient_id=_text(claims.get("patient")),
            practitioner_id=self._practitioner(claims.get("fhirUser")),
            organization=_text(claims.get("organization")),
            scopes=frozenset(scope.split()),
        )

    def _practitioner(self, fhir_user: object) -> str | None:
        prefix = f"{self.audience}/Practitioner/"
        if isinstance(fhir_user, str) and fhir_user.startswith(prefix):
            return fhir_user[len(prefix) :]
        return None


def _text(value: object) -> str | None:
    return value if isinstance(value, str) and value else None
