"""Terminology over HTTP: ``CodeSystem/$lookup``, ``CodeSystem/$validate-code``,
``ValueSet/$expand`` for the loaded code sets (docs/billing.md).

GET takes the parameters in the query string, POST a Parameters body. Code sets are not
patient data, but the server answers signed-in callers only (``actor_of``), like every route.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from chartkeeper.billing.codes import terminology
from chartkeeper.billing.codes.registry import CodeRegistry
from chartkeeper.core.clock import format_instant
from chartkeeper.web.auth import actor_of
from chartkeeper.web.params import parameters
from chartkeeper.web.request_body import json_body
from chartkeeper.web.responses import json_response


def _registry(request: Request) -> CodeRegistry:
    """The services' registry: one per process, so its search indexes are built once."""
    registry: CodeRegistry = request.app.state.services.codes
    return registry


async def _params(request: Request) -> dict[str, str]:
    if request.method == "GET":
        return dict(request.query_params)
    limit: int = request.app.state.services.settings.max_body_bytes
    values = parameters(await json_body(request, limit))
    return {
        name: str(value).lower() if isinstance(value, bool) else str(value)
        for name, value in values.items()
    }


def _operation(run: Callable[[CodeRegistry, dict[str, str], date, str], dict[str, Any]]) -> Any:
    async def endpoint(request: Request) -> Response:
        actor_of(request)
        params = await _params(request)
        registry = _registry(request)
        now = request.app.state.services.clock.now()
        body = await run_in_threadpool(run, registry, params, now.date(), format_instant(now))
        return json_response(body)

    return endpoint


def _lookup(registry: CodeRegistry, params: dict[str, str], today: date, _now: str) -> Any:
    return terminology.lookup(registry, params, today)


def _validate(registry: CodeRegistry, params: dict[str, str], today: date, _now: str) -> Any:
    return terminology.validate_code(registry, params, today)


def routes() -> list[BaseRoute]:
    """The terminology operations (mounted before ``/fhir``, so they win)."""
    methods = ["GET", "POST"]
    return [
        Route("/fhir/CodeSystem/$lookup", _operation(_lookup), methods=methods),
        Route("/fhir/CodeSystem/$validate-code", _operation(_validate), methods=methods),
        Route("/fhir/ValueSet/$validate-code", _operation(_validate), methods=methods),
        Route("/fhir/ValueSet/$expand", _operation(terminology.expand), methods=methods),
    ]
