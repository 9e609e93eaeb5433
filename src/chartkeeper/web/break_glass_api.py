"""The break-the-glass API: declare an emergency on a Patient, and the privacy officer's queue."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from chartkeeper.core.errors import InvalidError, NotFoundError
from chartkeeper.core.ids import is_valid_id
from chartkeeper.privacy.break_glass import (
    DEFAULT_HOURS,
    BreakGlassStore,
    Grant,
    check_reviewer,
)
from chartkeeper.web.auth import actor_of
from chartkeeper.web.request_body import json_body
from chartkeeper.web.responses import json_response

OPERATION_PATH = "/fhir/Patient/{id}/$break-the-glass"


def _store(request: Request) -> BreakGlassStore:
    store: BreakGlassStore = request.app.state.services.break_glass
    return store


def _limit(request: Request) -> int:
    limit: int = request.app.state.services.settings.max_body_bytes
    return limit


def _json(body: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(body), status, media_type="application/json")


def parse_parameters(body: Any) -> tuple[str, int]:
    """The ``reason`` (valueString) and ``hours`` (valueInteger) of a Parameters body."""
    if not isinstance(body, dict) or body.get("resourceType") != "Parameters":
        raise InvalidError("The body must be a Parameters resource", ("resourceType",))
    values: dict[str, Any] = {}
    for index, item in enumerate(body.get("parameter") or []):
        if not isinstance(item, dict):
            raise InvalidError("Each parameter must be an object", (f"parameter[{index}]",))
        values[str(item.get("name"))] = item.get("valueString", item.get("valueInteger"))
    reason, hours = values.get("reason"), values.get("hours", DEFAULT_HOURS)
    if not isinstance(reason, str):
        raise InvalidError("The 'reason' parameter (valueString) is required", ("reason",))
    if not isinstance(hours, int) or isinstance(hours, bool):
        raise InvalidError("The 'hours' parameter must be a valueInteger", ("hours",))
    return reason, hours


def grant_parameters(grant: Grant) -> dict[str, Any]:
    """The operation's answer: which grant, on which Patient, until when."""
    expires = grant.to_json()["expires"]
    return {
        "resourceType": "Parameters",
        "parameter": [
            {"name": "grant", "valueString": grant.id},
            {"name": "patient", "valueReference": {"reference": f"Patient/{grant.patient_id}"}},
            {"name": "expires", "valueInstant": expires},
            {"name": "review", "valueCode": grant.review_status},
        ],
    }


async def declare(request: Request) -> Response:
    """``POST /fhir/Patient/{id}/$break-the-glass``: an emergency grant for the caller."""
    patient_id = request.path_params["id"]
    actor = actor_of(request)
    if not is_valid_id(patient_id):
        raise NotFoundError(f"Patient/{patient_id} is not known")
    reason, hours = parse_parameters(await json_body(request, _limit(request)))
    grant = await run_in_threadpool(_store(request).declare, actor, patient_id, reason, hours)
    return json_response(grant_parameters(grant), 201)


async def queue(request: Request) -> Response:
    """``GET /api/break-glass/queue[?status=]``: the grants waiting for review."""
    check_reviewer(actor_of(request))
    status = request.query_params.get("status", "pending")
    grants = await run_in_threadpool(_store(request).queue, status)
    return _json([grant.to_json() for grant in grants])


async def review(request: Request) -> Response:
    """``POST /api/break-glass/{grant_id}/review``: accept or refer one grant."""
    reviewer = actor_of(request)
    check_reviewer(reviewer)
    body = await json_body(request, _limit(request))
    if not isinstance(body, dict):
        raise InvalidError("The body must be a JSON object with 'decision' and 'note'", ("$",))
    decision, note = body.get("decision"), body.get("note", "")
    if not isinstance(decision, str) or not isinstance(note, str | None):
        raise InvalidError("'decision' and 'note' must be strings", ("decision",))
    grant_id = request.path_params["grant_id"]
    store = _store(request)
    grant = await run_in_threadpool(store.review, grant_id, reviewer, decision, note or "")
    return _json(grant.to_json())


def routes() -> list[BaseRoute]:
    """The break-the-glass API routes (mounted before ``/fhir``, so they win)."""
    return [
        Route(OPERATION_PATH, declare, methods=["POST"]),
        Route("/api/break-glass/queue", queue, methods=["GET"]),
        Route("/api/break-glass/{grant_id}/review", review, methods=["POST"]),
    ]
