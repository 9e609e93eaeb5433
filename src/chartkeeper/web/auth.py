"""Who is calling: bearer tokens for the API, a session cookie for the workbench; sign-in and
sign-out pages; the FHIR context bound to the caller.

Anonymous requests for patient data get 401. Sign-in, failed sign-in and sign-out are audited.
"""

from __future__ import annotations

import secrets
import time
from typing import Any
from urllib.parse import quote

from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from chartkeeper.core.errors import ChartkeeperError, UnauthorizedError
from chartkeeper.fhir.interactions.context import FhirContext
from chartkeeper.privacy.actor import Actor
from chartkeeper.privacy.audit import audit_event
from chartkeeper.web import sessions

LOGIN_COOKIE = "chartkeeper_login"


def _services(request: Request) -> Any:
    return request.app.state.services


def _key(request: Request) -> bytes:
    key: bytes = request.app.state.session_key
    return key


def current_session(request: Request) -> sessions.Session | None:
    """The workbench session of this request, if any."""
    now = int(time.time())
    return sessions.decode(_key(request), request.cookies.get(sessions.COOKIE), now)


def actor_of(request: Request) -> Actor:
    """The authenticated actor: a bearer token, else a workbench session; 401 otherwise."""
    services = _services(request)
    header = request.headers.get("authorization")
    if header:
        actor: Actor = services.security.actor_from_authorization(header)
        return actor
    session = current_session(request)
    if session is not None:
        try:
            found: Actor = services.security.identity.user_actor(session.user)
        except ChartkeeperError:
            raise UnauthorizedError("Your session has ended; sign in again") from None
        return found
    raise UnauthorizedError("Sign in, or send an Authorization: Bearer token")


def fhir_context(request: Request) -> FhirContext:
    """The FHIR context guarded for this request's actor."""
    context: FhirContext = _services(request).for_actor(actor_of(request))
    return context


def _audit_sign_in(request: Request, name: str, outcome: str, subtype: str) -> None:
    services = _services(request)
    who = Actor(kind="user", name=name or "(blank)", source_address=_address(request))
    event = audit_event(
        action="E",
        subtype=subtype,
        outcome=outcome,
        actor=who,
        patient_ids=[],
        recorded=services.clock.now(),
    )
    services.ledger.append_now(event, patient_ids=[], agent=who.name, action="E", outcome=outcome)


def _address(request: Request) -> str | None:
    return request.client.host if request.client else None


def _safe_next(target: str | None) -> str:
    """Only local paths, so the sign-in page is no open redirect."""
    if target and target.startswith("/") and not target.startswith("//"):
        return target
    return "/patients"


async def sign_in_page(request: Request) -> Response:
    from chartkeeper.web.workbench import render

    nonce = secrets.token_hex(16)
    token = sessions.csrf_token(_key(request), sessions.Session("", 0, 0, nonce), "sign-in")
    response = render(
        "signin.html",
        title="Sign in",
        csrf=token,
        next=_safe_next(request.query_params.get("next")),
        error=request.query_params.get("error"),
    )
    response.set_cookie(LOGIN_COOKIE, nonce, max_age=600, httponly=True, samesite="strict")
    return response


async def sign_in(request: Request) -> Response:
    form = await request.form()
    name = str(form.get("name", "")).strip()
    password = str(form.get("password", ""))
    target = _safe_next(str(form.get("next", "")))
    nonce = request.cookies.get(LOGIN_COOKIE, "")
    pre_session = sessions.Session("", 0, 0, nonce)
    if not nonce or not sessions.csrf_ok(
        _key(request), pre_session, str(form.get("csrf", "")), "sign-in"
    ):
        return RedirectResponse("/signin?error=expired", 303)
    services = _services(request)
    try:
        services.security.identity.authenticate(name, password, services.clock.now())
    except ChartkeeperError:
        _audit_sign_in(request, name, "4", "login")
        return RedirectResponse(f"/signin?error=failed&next={quote(target)}", 303)
    _audit_sign_in(request, name, "0", "login")
    session = sessions.new_session(name, int(time.time()))
    response = RedirectResponse(target, 303)
    response.set_cookie(
        sessions.COOKIE,
        sessions.encode(_key(request), session),
        max_age=sessions.MAX_AGE_SECONDS,
        httponly=True,
        samesite="lax",
        secure=request.url.scheme == "https",
    )
    response.delete_cookie(LOGIN_COOKIE)
    return response


async def sign_out(request: Request) -> Response:
    session = current_session(request)
    form = await request.form()
    if session is not None and sessions.csrf_ok(_key(request), session, str(form.get("csrf"))):
        _audit_sign_in(request, session.user, "0", "logout")
    response = RedirectResponse("/signin", 303)
    response.delete_cookie(sessions.COOKIE)
    return response


def auth_routes() -> list[BaseRoute]:
    """The sign-in and sign-out routes."""
    return [
        Route("/signin", sign_in_page, methods=["GET"]),
        Route("/signin", sign_in, methods=["POST"]),
        Route("/signout", sign_out, methods=["POST"]),
    ]
