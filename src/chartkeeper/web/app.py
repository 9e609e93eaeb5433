"""The ASGI application: FHIR API under /fhir, workbench under /, one error handler."""

from __future__ import annotations

import logging

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import Mount, Route

from chartkeeper.app import Services
from chartkeeper.core.errors import (
    ChartkeeperError,
    MethodNotAllowedError,
    NotFoundError,
)
from chartkeeper.web import fhir_api, workbench
from chartkeeper.web.responses import error_response, json_response

log = logging.getLogger("chartkeeper.web")


def _wants_html(request: Request) -> bool:
    return not request.url.path.startswith("/fhir") and "text/html" in request.headers.get(
        "accept", ""
    )


async def _chartkeeper_error(request: Request, error: Exception) -> Response:
    assert isinstance(error, ChartkeeperError)
    if _wants_html(request):
        return workbench.error_page(request, error)
    return error_response(error)


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
    app = Starlette(
        routes=[
            Route("/fhir", fhir_api.system, methods=["GET", "POST"]),
            Mount("/fhir", routes=fhir_api.routes()),
            *workbench.routes(),
        ],
        exception_handlers={
            ChartkeeperError: _chartkeeper_error,
            HTTPException: _http_error,
            Exception: _unexpected,
        },
    )
    app.state.services = services
    return app
