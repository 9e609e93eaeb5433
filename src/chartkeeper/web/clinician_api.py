"""The clinician summary over HTTP: ``GET /api/patients/{id}/summary`` (plain JSON, not a FHIR
operation, so the CapabilityStatement does not list it).

The caller is whoever the bearer token or workbench session says; the summary is read through
their guarded context, so it is decided and audited like a FHIR read: an unknown patient and
one they may not see are both 404 with an OperationOutcome.
"""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from chartkeeper.summary.clinician import clinician_summary
from chartkeeper.web.auth import fhir_context
from chartkeeper.web.responses import json_response


async def summary(request: Request) -> Response:
    """``GET /api/patients/{id}/summary``."""
    context = fhir_context(request)
    found = await run_in_threadpool(clinician_summary, context, request.path_params["id"])
    return json_response(found.to_json())


def routes() -> list[BaseRoute]:
    """The clinician summary API."""
    return [Route("/api/patients/{id}/summary", summary, methods=["GET"])]
