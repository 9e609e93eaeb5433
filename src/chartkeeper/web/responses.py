"""FHIR HTTP responses: JSON bodies, ``Prefer`` handling and errors as OperationOutcome."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.requests import Request
from starlette.responses import Response

from chartkeeper.core.errors import ChartkeeperError
from chartkeeper.fhir.interactions.context import Result
from chartkeeper.fhir.outcome import from_error, information

FHIR_JSON = "application/fhir+json; charset=utf-8"


def json_response(body: Any, status: int = 200, headers: dict[str, str] | None = None) -> Response:
    """A FHIR JSON response."""
    return Response(orjson.dumps(body), status, headers=headers, media_type=FHIR_JSON)


def error_response(error: ChartkeeperError) -> Response:
    """The OperationOutcome response of an error."""
    return json_response(from_error(error), error.status)


def prefer(request: Request, name: str) -> str | None:
    """The value of one ``Prefer`` token (``return``, ``handling``)."""
    for part in request.headers.get("prefer", "").split(";"):
        for token in part.split(","):
            key, _, value = token.strip().partition("=")
            if key.strip().lower() == name:
                return value.strip().strip('"').lower()
    return None


def result_response(request: Request, result: Result, write: bool = False) -> Response:
    """An interaction's result as HTTP; writes honour ``Prefer: return=``."""
    headers = dict(result.headers)
    if result.status == 204:
        return Response(status_code=204, headers=headers)
    if write:
        wanted = prefer(request, "return")
        if wanted == "minimal":
            return Response(status_code=result.status, headers=headers)
        if wanted == "operationoutcome":
            message = f"Stored with status {result.status}"
            return json_response(information(message), result.status, headers)
    if result.body_text is not None:
        return Response(result.body_text, result.status, headers=headers, media_type=FHIR_JSON)
    return json_response(result.body, result.status, headers)
