"""The token endpoint's semantics, free of HTTP: who the client is and what token it gets.

RFC 6749 §4.1.3 (authorization code, with PKCE per RFC 7636), §4.4 (client credentials, as
SMART Backend Services use it), §6 (refresh, rotated per RFC 9700 §4.14.2), and the SMART App
Launch token response (https://hl7.org/fhir/smart-app-launch/app-launch.html#response-5).
Every refusal is an ``OAuthError`` carrying the RFC 6749 §5.2 error code.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import timedelta
from typing import Any

from chartkeeper.core.clock import Clock
from chartkeeper.core.errors import UnauthorizedError
from chartkeeper.privacy.actor import Actor
from chartkeeper.privacy.client_assertion import ASSERTION_TYPE, verify_client_assertion
from chartkeeper.privacy.clients import ClientRecord
from chartkeeper.privacy.grants import Grant, GrantStore, OAuthError
from chartkeeper.privacy.identity import IdentityStore
from chartkeeper.privacy.scopes import InvalidScopeError, ensure_within, narrow, parse_scopes
from chartkeeper.privacy.tokens import DEFAULT_TTL, TokenService

GRANT_TYPES = ("authorization_code", "client_credentials", "refresh_token")


@dataclass(frozen=True)
class ClientCredentials:
    """How the client presented itself at the token endpoint."""

    client_id: str | None = None
    secret: str | None = None
    assertion_type: str | None = None
    assertion: str | None = None
    via_basic: bool = False


@dataclass(frozen=True)
class TokenResponse:
    """A successful token response (RFC 6749 §5.1 plus SMART's ``patient``)."""

    access_token: str
    expires_in: int
    scope: str
    refresh_token: str | None = None
    patient: str | None = None

    def body(self) -> dict[str, Any]:
        """The JSON body."""
        body: dict[str, Any] = {
            "access_token": self.access_token,
            "token_type": "Bearer",
            "expires_in": self.expires_in,
            "scope": self.scope,
        }
        if self.refresh_token:
            body["refresh_token"] = self.refresh_token
        if self.patient:
            body["patient"] = self.patient
        return body


def _invalid_scope(error: InvalidScopeError) -> OAuthError:
    return OAuthError("invalid_scope", error.message)


class AuthorizationServer:
    """Authenticates clients and answers token requests."""

    def __init__(
        self,
        identity: IdentityStore,
        grants: GrantStore,
        tokens: TokenService,
        clock: Clock,
        token_endpoint: str,
        access_ttl: timedelta = DEFAULT_TTL,
    ) -> None:
        self.identity = identity
        self.grants = grants
        self.tokens = tokens
        self.clock = clock
        self.token_endpoint = token_endpoint
        self.access_ttl = access_ttl

    def authenticate_client(self, credentials: ClientCredentials) -> ClientRecord:
        """The client, proven by secret or assertion, or a public client named by its id."""
        if credentials.assertion is not None or credentials.assertion_type is not None:
            return self._by_assertion(credentials)
        if credentials.secret is not None:
            try:
                return self.identity.authenticate_client_secret(
                    credentials.client_id or "", credentials.secret
                )
            except UnauthorizedError as error:
                raise OAuthError("invalid_client", error.message, 401) from None
        client = self.identity.get_client(credentials.client_id or "")
        if client is None or client.disabled or not client.is_public:
            raise OAuthError("invalid_client", "Client authentication failed", 401)
        return client

    def _by_assertion(self, credentials: ClientCredentials) -> ClientRecord:
        if credentials.assertion_type != ASSERTION_TYPE or not credentials.assertion:
            raise OAuthError("invalid_request", f"client_assertion_type must be {ASSERTION_TYPE}")
        client = verify_client_assertion(
            credentials.assertion,
            self.identity,
            self.grants,
            self.token_endpoint,
            self.clock.now(),
        )
        if credentials.client_id not in (None, client.client_id):
            raise OAuthError("invalid_client", "client_id differs from the assertion issuer", 401)
        return client

    def token(self, client: ClientRecord, params: Mapping[str, str]) -> TokenResponse:
        """Answer a token request of an authenticated client."""
        grant_type = params.get("grant_type", "")
        if grant_type == "client_credentials":
            return self._client_credentials(client, params)
        if grant_type == "authorization_code":
            return self._authorization_code(client, params)
        if grant_type == "refresh_token":
            return self._refresh(client, params)
        raise OAuthError(
            "unsupported_grant_type", f"grant_type must be one of {', '.join(GRANT_TYPES)}"
        )

    def _client_credentials(self, client: ClientRecord, params: Mapping[str, str]) -> TokenResponse:
        if client.is_public:
            raise OAuthError("unauthorized_client", "Public clients cannot use client_credentials")
        requested = params.get("scope", "")
        try:
            parse_scopes(requested)
        except InvalidScopeError as error:
            raise _invalid_scope(error) from None
        granted = {s for s in narrow(requested, client.scopes) if s.startswith("system/")}
        if not granted:
            raise OAuthError(
                "invalid_scope",
                "None of the requested scopes is allowed for this client "
                "(client_credentials grants system/ scopes only)",
            )
        actor = Actor(
            kind="client", name=client.client_id, role=client.role, scopes=frozenset(granted)
        )
        return self._respond(actor, frozenset(granted), client)

    def _authorization_code(self, client: ClientRecord, params: Mapping[str, str]) -> TokenResponse:
        code, verifier = params.get("code", ""), params.get("code_verifier", "")
        if not code or not verifier:
            raise OAuthError("invalid_request", "code and code_verifier are required")
        now = self.clock.now()
        redirect_uri = params.get("redirect_uri", "")
        grant = self.grants.redeem_code(code, client.client_id, redirect_uri, verifier, now)
        actor = self._user(grant)
        refresh = None
        if "offline_access" in grant.scopes:
            refresh = self.grants.issue_refresh_token(grant, now)
        return self._respond(actor, grant.scopes, client, refresh)

    def _refresh(self, client: ClientRecord, params: Mapping[str, str]) -> TokenResponse:
        token = params.get("refresh_token", "")
        if not token:
            raise OAuthError("invalid_request", "refresh_token is required")
        requested = params.get("scope")
        narrowed: dict[str, frozenset[str]] = {}

        def check(grant: Grant) -> None:
            self._user(grant)
            try:
                narrowed["scopes"] = (
                    grant.scopes if requested is None else ensure_within(requested, grant.scopes)
                )
            except InvalidScopeError as error:
                raise _invalid_scope(error) from None

        now = self.clock.now()
        grant = self.grants.use_refresh_token(token, client.client_id, now, check)
        refresh = self.grants.issue_refresh_token(grant, now)
        return self._respond(self._user(grant), narrowed["scopes"], client, refresh)

    def _user(self, grant: Grant) -> Actor:
        try:
            return self.identity.user_actor(grant.user_name)
        except UnauthorizedError:
            raise OAuthError("invalid_grant", "The user of this grant is disabled") from None

    def _respond(
        self,
        actor: Actor,
        scopes: frozenset[str],
        client: ClientRecord,
        refresh: str | None = None,
    ) -> TokenResponse:
        access = self.tokens.issue_access_token(
            actor, scopes, self.access_ttl, client_id=client.client_id
        )
        patient = actor.patient_id if "launch/patient" in scopes else None
        return TokenResponse(
            access, int(self.access_ttl.total_seconds()), " ".join(sorted(scopes)), refresh, patient
        )
