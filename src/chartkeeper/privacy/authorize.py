"""The authorization endpoint's semantics, free of HTTP: check the request, issue the code.

RFC 6749 §4.1.1-4.1.2 and §4.1.2.1 (errors before the redirect URI is trusted are shown, never
redirected), PKCE S256 only (RFC 7636; RFC 9700 §2.1.1), the ``iss`` response parameter
(RFC 9207), and SMART's standalone launch (``aud`` must be this FHIR server:
https://hl7.org/fhir/smart-app-launch/app-launch.html#obtain-authorization-code).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlencode, urlsplit, urlunsplit

from chartkeeper.core.clock import Clock
from chartkeeper.privacy.actor import Actor
from chartkeeper.privacy.clients import ClientRecord
from chartkeeper.privacy.grants import PKCE_VALUE, Grant, GrantStore, OAuthError
from chartkeeper.privacy.identity import IdentityStore
from chartkeeper.privacy.scopes import InvalidScopeError, narrow, parse_scopes

#: The request parameters the approval form carries back unchanged.
REQUEST_FIELDS = (
    "response_type",
    "client_id",
    "redirect_uri",
    "scope",
    "state",
    "code_challenge",
    "code_challenge_method",
    "aud",
)


class AuthorizationError(OAuthError):
    """A refused authorization request; redirected to the client when its URI is trusted."""

    def __init__(
        self, error: str, description: str, redirect_uri: str | None = None, state: str = ""
    ) -> None:
        super().__init__(error, description, 400)
        self.redirect_uri = redirect_uri
        self.state = state

    def location(self, issuer: str) -> str | None:
        """Where to send the browser, or None when the error must be shown instead."""
        if self.redirect_uri is None:
            return None
        params = {"error": self.error, "error_description": self.message, "iss": issuer}
        if self.state:
            params["state"] = self.state
        return with_query(self.redirect_uri, params)


@dataclass(frozen=True)
class AuthorizationRequest:
    """A checked authorization request."""

    client: ClientRecord
    redirect_uri: str
    scope: str
    state: str
    code_challenge: str
    fields: dict[str, str]  # the original parameters, for the approval form


def with_query(uri: str, params: Mapping[str, str]) -> str:
    """``uri`` with ``params`` added to its query, keeping the query it had (RFC 6749 §3.1.2)."""
    parts = urlsplit(uri)
    query = parse_qsl(parts.query, keep_blank_values=True) + list(params.items())
    return urlunsplit(parts._replace(query=urlencode(query)))


def grantable(request: AuthorizationRequest, actor: Actor) -> frozenset[str]:
    """The scopes this user can grant this client: requested ∩ allowed, minus what the user
    cannot give (system/ scopes; patient/ scopes and launch/patient without a patient)."""
    kept = set()
    for scope in narrow(request.scope, request.client.scopes):
        if scope.startswith("system/"):
            continue
        if (scope.startswith("patient/") or scope == "launch/patient") and not actor.patient_id:
            continue
        kept.add(scope)
    return frozenset(kept)


class Authorizer:
    """Checks authorization requests and turns an approval into a code."""

    def __init__(
        self, identity: IdentityStore, grants: GrantStore, clock: Clock, issuer: str, aud: str
    ) -> None:
        self.identity = identity
        self.grants = grants
        self.clock = clock
        self.issuer = issuer
        self.aud = aud

    def check(self, params: Mapping[str, str]) -> AuthorizationRequest:
        """The request, or an ``AuthorizationError`` (redirectable once the URI is trusted)."""
        client = self.identity.get_client(params.get("client_id", ""))
        if client is None or client.disabled:
            raise AuthorizationError("invalid_request", "Unknown or disabled client_id")
        redirect_uri = params.get("redirect_uri", "")
        if redirect_uri not in client.redirect_uris:
            raise AuthorizationError(
                "invalid_request", "redirect_uri is not registered for this client"
            )
        state = params.get("state", "")
        self._check_parameters(params, redirect_uri, state)
        request = AuthorizationRequest(
            client,
            redirect_uri,
            params.get("scope", ""),
            state,
            params.get("code_challenge", ""),
            {name: params.get(name, "") for name in REQUEST_FIELDS},
        )
        if not narrow(request.scope, client.scopes):
            raise AuthorizationError(
                "invalid_scope", "None of the requested scopes is allowed", redirect_uri, state
            )
        return request

    def _check_parameters(self, params: Mapping[str, str], redirect_uri: str, state: str) -> None:
        def refuse(error: str, description: str) -> AuthorizationError:
            return AuthorizationError(error, description, redirect_uri, state)

        if params.get("response_type") != "code":
            raise refuse("unsupported_response_type", "response_type must be code")
        if not state:
            raise refuse("invalid_request", "state is required")
        if params.get("code_challenge_method") != "S256":
            raise refuse("invalid_request", "PKCE is required: code_challenge_method=S256")
        if not PKCE_VALUE.fullmatch(params.get("code_challenge", "")):
            raise refuse("invalid_request", "code_challenge must be a base64url S256 challenge")
        if params.get("aud", "").rstrip("/") != self.aud:
            raise refuse("invalid_request", f"aud must be this FHIR server: {self.aud}")
        try:
            parse_scopes(params.get("scope", ""))
        except InvalidScopeError as error:
            raise refuse("invalid_scope", error.message) from None

    def approve(self, request: AuthorizationRequest, actor: Actor) -> str:
        """The redirect carrying a fresh code for what ``actor`` approved."""
        scopes = grantable(request, actor)
        if not scopes:
            raise AuthorizationError(
                "invalid_scope",
                "None of the requested scopes can be granted by this user",
                request.redirect_uri,
                request.state,
            )
        grant = Grant(request.client.client_id, actor.name, scopes, family_id="")
        code = self.grants.create_code(
            grant, request.redirect_uri, request.code_challenge, self.clock.now()
        )
        params = {"code": code, "state": request.state, "iss": self.issuer}
        return with_query(request.redirect_uri, params)

    def deny(self, request: AuthorizationRequest) -> str:
        """The redirect telling the client the user said no."""
        error = AuthorizationError(
            "access_denied", "The user denied the request", request.redirect_uri, request.state
        )
        location = error.location(self.issuer)
        assert location is not None
        return location
