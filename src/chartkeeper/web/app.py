"""The ASGI application: FHIR API under /fhir, workbench under /, one error handler."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from urllib.parse import quote

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Mount, Route

from chartkeeper.app import Services
from chartkeeper.core import heap
from chartkeeper.core.errors import (
    ChartkeeperError,
    MethodNotAllowedError,
    NotFoundError,
    UnauthorizedError,
)
from chartkeeper.web import (
    audit_api,
    billing_api,
    billing_pages,
    break_glass_api,
    break_glass_pages,
    chart_search_api,
    clinician_api,
    explain_api,
    fhir_api,
    mpi_api,
    mpi_pages,
    portal,
    summary_api,
    terminology_api,
    workbench,
)
from chartkeeper.web.auth import auth_routes
from chartkeeper.web.oauth import oauth_routes
from chartkeeper.web.responses import error_response, json_response
from chartkeeper.web.sessions import load_session_key

log = logging.getLogger("chartkeeper.web")


def _wants_html(request: Request) -> bool:
    return not request.url.path.startswith("/fhir") and "text/html" in request.headers.get(
        "accept", ""
    )


async def _chartkeeper_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, ChartkeeperError)
    if _wants_html(request):
        if isinstance(error, UnauthorizedError):
            target = quote(
                request.url.path + (f"?{request.url.query}" if request.url.query else "")
            )
            return RedirectResponse(f"/signin?next={target}", 303)
        return workbench.error_page(request, error)
    response = error_response(error)
    if isinstance(error, UnauthorizedError):
        response.headers["WWW-Authenticate"] = 'Bearer realm="chartkeeper"'
    return response


async def _http_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, HTTPException)
    mapped: ChartkeeperError
    if error.status_code == 405:
        mapped = MethodNotAllowedError(f"{request.method} is not allowed on {request.url.path}")
    else:
        mapped = NotFoundError(f"No route for {request.method} {request.url.path}")
    if _wants_html(request):
        return workbench.error_page(request, mapped)
    return error_response(mapped)


async def _unexpected(request: Request, error: Exception) -> Response:
    """Last line of defence: log it, answer an OperationOutcome 500, never a stack trace."""
    log.exception("Unexpected error on %s %s", request.method, request.url.path, exc_info=error)
    outcome = {
        "resourceType": "OperationOutcome",
        "issue": [
            {"severity": "fatal", "code": "exception", "diagnostics": "Internal error; logged"}
        ],
    }
    return json_response(outcome, 500)


def create_app(services: Services) -> Starlette:
    """The ASGI app over ``services``."""

    @asynccontextmanager
    async def lifespan(_app: Starlette) -> AsyncIterator[None]:
        heap.settle()  # what start-up built stays: keep the collector off it
        yield
        services.ledger.close()  # write the buffered read entries before the process ends

    app = Starlette(
        lifespan=lifespan,
        routes=[
            *fhir_api.instance_routes(),  # read by id: the busiest route, matched first
            Route("/fhir", fhir_api.system, methods=["GET", "POST"]),
            *audit_api.routes(),  # AuditEvent and $access-log, before the generic /fhir
            *break_glass_api.routes(),  # $break-the-glass and the review API, before /fhir
            *mpi_api.routes(),  # $match, $merge, $unmerge and the MPI queue API, before /fhir
            *terminology_api.routes(),  # CodeSystem/$lookup, ValueSet/$expand..., before /fhir
            *billing_api.routes(),  # Claim/$scrub, Claim/{id}/$x12 and /api/billing, before /fhir
            *explain_api.routes(),  # $explain and the portal's explanations, before /fhir
            *summary_api.routes(),  # Patient/{id}/$summary and the emergency view, before /fhir
            Mount("/fhir", routes=fhir_api.routes()),
            *oauth_routes(),
            *auth_routes(),
            *clinician_api.routes(),  # /api/patients/{id}/summary
            *break_glass_pages.routes(),
            *chart_search_api.routes(),  # /api/patients/{id}/search and its workbench page
            *workbench.routes(),
            *mpi_pages.routes(),
            *billing_pages.routes(),
            *portal.routes(),
        ],
        exception_handlers={
            ChartkeeperError: _chartkeeper_error,
            HTTPException: _http_error,
            Exception: _unexpected,
        },
    )
    app.state.services = services
    # Reads by id on the embedded SQLite store run on the event loop itself: a point read of a
    # local file costs less than the hand-off to a worker thread and back, which was the
    # largest part of a read's cost (bench/RESULTS.md, section 2). PostgreSQL reads wait on
    # the network, so they keep to the thread pool.
    app.state.inline_reads = services.embedded
    app.state.security = services.security
    app.state.session_key = load_session_key(Path(services.settings.data_dir))
    return app
