"""Read and check FHIR request bodies: size limit, media type, JSON syntax."""

from __future__ import annotations

from typing import Any

import orjson
from starlette.requests import Request

from chartkeeper.core.errors import InvalidError, TooLargeError, UnsupportedMediaError

JSON_TYPES = ("application/fhir+json", "application/json", "application/json+fhir")
PATCH_TYPES = ("application/json-patch+json",)
FORM_TYPE = "application/x-www-form-urlencoded"


def media_type(request: Request) -> str:
    """The request's media type without parameters, lower-cased."""
    return request.headers.get("content-type", "").split(";")[0].strip().lower()


async def raw_body(request: Request, limit: int) -> bytes:
    """The body, refusing more than ``limit`` bytes with 413 (streamed, never all buffered)."""
    declared = request.headers.get("content-length")
    if declared and declared.isdigit() and int(declared) > limit:
        raise TooLargeError(f"The request body is larger than the limit of {limit} bytes")
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise TooLargeError(f"The request body is larger than the limit of {limit} bytes")
        chunks.append(chunk)
    return b"".join(chunks)


async def _checked_bytes(
    request: Request, limit: int, accepted: tuple[str, ...], expected: str
) -> bytes:
    """The body of an accepted media type (415 otherwise), not empty (400)."""
    kind = media_type(request)
    if kind not in accepted:
        raise UnsupportedMediaError(
            f"Content-Type must be one of {', '.join(accepted)}, not '{kind or 'none'}'"
        )
    data = await raw_body(request, limit)
    if not data.strip():
        raise InvalidError(f"The request body is empty; {expected} was expected", ("$",))
    return data


async def json_body(request: Request, limit: int, accepted: tuple[str, ...] = JSON_TYPES) -> Any:
    """The parsed JSON body; 415 for another media type, 400 for malformed JSON."""
    data = await _checked_bytes(request, limit, accepted, "a JSON resource")
    try:
        return orjson.loads(data)
    except orjson.JSONDecodeError as error:
        raise InvalidError(f"The request body is not valid JSON: {error}", ("$",)) from None


#: Media types accepted for an X12 file body.
X12_TYPES = ("application/edi-x12", "text/plain", "application/octet-stream")


async def text_body(request: Request, limit: int, accepted: tuple[str, ...] = X12_TYPES) -> str:
    """A text body (an X12 file): 415 for another media type, 400 when empty or not text."""
    data = await _checked_bytes(request, limit, accepted, "an X12 file")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise InvalidError(
            f"The body is not text: byte {error.start} cannot be read as UTF-8", ("$",)
        ) from None
