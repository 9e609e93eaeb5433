"""OAuth 2.0 and SMART endpoints over HTTP: token, authorize, discovery and the JWKS.

The semantics live in ``chartkeeper.privacy`` (``oauth_server``, ``authorize``); this module
parses form bodies and headers, renders the sign-in page and shapes RFC 6749 responses. The
security services come from ``request.app.state.security`` (a ``SecurityServices``).
"""

from __future__ import annotations

import base64
import binascii
import secrets
from typing import Any
from urllib.parse import parse_qsl, unquote_plus

import orjson
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from chartkeeper.core.errors import UnauthorizedError
from chartkeeper.privacy.authorize import AuthorizationError, AuthorizationRequest
from chartkeeper.privacy.grants import OAuthError
from chartkeeper.privacy.oauth_server import ClientCredentials
from chartkeeper.privacy.scopes import GRANTABLE_SPECIAL, describe, narrow
from chartkeeper.privacy.services import SecurityServices
from chartkeeper.web.workbench import render

MAX_FORM_BYTES = 64 * 1024
CSRF_COOKIE = "chartkeeper_oauth_csrf"
NO_STORE = {"Cache-Control": "no-store", "Pragma": "no-cache"}


def oauth_routes() -> list[BaseRoute]:
    """The routes to mount at the application root."""
    return [
        Route("/oauth/token", token, methods=["POST"]),
        Route("/oauth/authorize", authorize, methods=["GET", "POST"]),
        Route("/.well-known/smart-configuration", smart_configuration, methods=["GET"]),
        Route("/.well-known/jwks.json", jwks, methods=["GET"]),
    ]


def _security(request: Request) -> SecurityServices:
    security: SecurityServices = request.app.state.security
    return security


def _json(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    return Response(orjson.dumps(body), status, headers=headers, media_type="application/json")


async def _form(request: Request) -> dict[str, str]:
    """A form-encoded body, each parameter at most once (RFC 6749 §3.2)."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip().lower()
    if content_type != "application/x-www-form-urlencoded":
        raise OAuthError("invalid_request", "Send application/x-www-form-urlencoded")
    body = b""
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_FORM_BYTES:
            raise OAuthError("invalid_request", "Request body too large")
    try:
        pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True)
    except UnicodeDecodeError:
        raise OAuthError("invalid_request", "The body is not UTF-8") from None
    return _unique(pairs)


def _unique(pairs: list[tuple[str, str]]) -> dict[str, str]:
    params: dict[str, str] = {}
    for name, value in pairs:
        if name in params:
            raise OAuthError("invalid_request", f"Parameter {name} is given more than once")
        params[name] = value
    return params


def _credentials(request: Request, params: dict[str, str]) -> ClientCredentials:
    """Client credentials from HTTP Basic (RFC 6749 §2.3.1) or the form, never both."""
    header = request.headers.get("authorization", "")
    scheme, _, encoded = header.partition(" ")
    if scheme.lower() != "basic":
        return ClientCredentials(
            params.get("client_id"),
            params.get("client_secret"),
            params.get("client_assertion_type"),
            params.get("client_assertion"),
        )
    if "client_secret" in params or "client_assertion" in params:
        raise OAuthError("invalid_request", "Use one client authentication method, not two")
    try:
        decoded = base64.b64decode(encoded.strip(), validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        raise OAuthError("invalid_client", "Malformed HTTP Basic credentials", 401) from None
    client_id, colon, secret = decoded.partition(":")
    client_id, secret = unquote_plus(client_id), unquote_plus(secret)
    if not colon or params.get("client_id", client_id) != client_id:
        raise OAuthError("invalid_client", "Malformed HTTP Basic credentials", 401)
    return ClientCredentials(client_id, secret, via_basic=True)


def _oauth_error(error: OAuthError) -> Response:
    headers = dict(NO_STORE)
    if error.status == 401:
        headers["WWW-Authenticate"] = 'Basic realm="chartkeeper"'
    return _json(error.body(), error.status, headers)


async def token(request: Request) -> Response:
    """``POST /oauth/token`` (RFC 6749 §3.2)."""
    security = _security(request)
    try:
        params = await _form(request)
        credentials = _credentials(request, params)

        def exchange() -> dict[str, Any]:
            client = security.oauth.authenticate_client(credentials)
            return security.oauth.token(client, params).body()

        body = await run_in_threadpool(exchange)
    except OAuthError as error:
        return _oauth_error(error)
    return _json(body, 200, NO_STORE)


# --- authorization endpoint --------------------------------------------------------------------


def _page(
    security: SecurityServices,
    status: int,
    *,
    request: AuthorizationRequest | None = None,
    problem: str | None = None,
    name: str = "",
) -> Response:
    csrf_token = secrets.token_urlsafe(32)
    lines = [describe(s) for s in sorted(_offered(request))] if request else []
    response = render(
        "authorize.html",
        status,
        title="Sign in to approve" if request else "Authorization refused",
        request=request,
        problem=problem,
        name=name,
        scope_lines=lines,
        csrf_token=csrf_token,
    )
    response.headers.update({**NO_STORE, "X-Frame-Options": "DENY"})
    secure = security.endpoints.base_url.startswith("https://")
    response.set_cookie(
        CSRF_COOKIE, csrf_token, path="/oauth/", httponly=True, samesite="strict", secure=secure
    )
    return response


def _offered(request: AuthorizationRequest) -> frozenset[str]:
    """What the page offers: requested ∩ allowed for the client, without system/ scopes."""
    scopes = narrow(request.scope, request.client.scopes)
    return frozenset(s for s in scopes if not s.startswith("system/"))


def _refused(security: SecurityServices, error: AuthorizationError) -> Response:
    location = error.location(security.endpoints.base_url)
    if location is None:
        return _page(security, 400, problem=error.message)
    return RedirectResponse(location, 303, headers=NO_STORE)


async def _params(request: Request) -> dict[str, str]:
    if request.method == "GET":
        return _unique(request.query_params.multi_items())
    return await _form(request)


async def authorize(request: Request) -> Response:
    """``GET``/``POST /oauth/authorize``: the sign-in and approval page, then the redirect."""
    security = _security(request)
    try:
        params = await _params(request)
        checked = await run_in_threadpool(security.authorizer.check, params)
    except AuthorizationError as error:
        return _refused(security, error)
    except OAuthError as error:
        return _page(security, 400, problem=error.message)
    if request.method == "GET":
        return _page(security, 200, request=checked)
    sent = params.get("csrf_token", "").encode()
    if not secrets.compare_digest(sent, request.cookies.get(CSRF_COOKIE, "\0").encode()):
        return _page(security, 403, request=checked, problem="The form expired; try again.")
    if params.get("action") == "deny":
        return RedirectResponse(security.authorizer.deny(checked), 303, headers=NO_STORE)
    return await _approve(security, checked, params)


async def _approve(
    security: SecurityServices, checked: AuthorizationRequest, params: dict[str, str]
) -> Response:
    name, password = params.get("name", ""), params.get("password", "")

    def sign_in_and_approve() -> str:
        actor = security.identity.authenticate(name, password, security.clock.now())
        return security.authorizer.approve(checked, actor)

    try:
        location = await run_in_threadpool(sign_in_and_approve)
    except UnauthorizedError as error:
        return _page(security, 401, request=checked, problem=error.message, name=name)
    except AuthorizationError as error:
        return _refused(security, error)
    response = RedirectResponse(location, 303, headers=NO_STORE)
    response.delete_cookie(CSRF_COOKIE, path="/oauth/")
    return response


# --- discovery ---------------------------------------------------------------------------------


#: The static part of the SMART configuration document.
SMART_CAPABILITIES: dict[str, list[str]] = {
    "grant_types_supported": ["authorization_code", "client_credentials", "refresh_token"],
    "token_endpoint_auth_methods_supported": [
        "client_secret_basic",
        "client_secret_post",
        "private_key_jwt",
        "none",
    ],
    "token_endpoint_auth_signing_alg_values_supported": ["ES256", "ES384", "RS256", "RS384"],
    "scopes_supported": [
        *sorted(GRANTABLE_SPECIAL),
        "patient/*.cruds",
        "user/*.cruds",
        "system/*.cruds",
        "patient/*.read",
        "user/*.read",
        "system/*.read",
    ],
    "response_types_supported": ["code"],
    "code_challenge_methods_supported": ["S256"],
    "capabilities": [
        "launch-standalone",
        "client-public",
        "client-confidential-symmetric",
        "client-confidential-asymmetric",
        "context-standalone-patient",
        "permission-offline",
        "permission-patient",
        "permission-user",
        "permission-v1",
        "permission-v2",
        "authorize-post",
    ],
}


async def smart_configuration(request: Request) -> Response:
    """``GET /.well-known/smart-configuration`` (SMART App Launch v2 discovery).

    https://hl7.org/fhir/smart-app-launch/conformance.html
    """
    endpoints = _security(request).endpoints
    body = {
        "issuer": endpoints.base_url,
        "jwks_uri": endpoints.jwks,
        "authorization_endpoint": endpoints.authorize,
        "token_endpoint": endpoints.token,
        **SMART_CAPABILITIES,
    }
    return _json(body)


async def jwks(request: Request) -> Response:
    """``GET /.well-known/jwks.json``: the public key that verifies our access tokens."""
    return _json(_security(request).tokens.jwks(), headers={"Cache-Control": "max-age=300"})
