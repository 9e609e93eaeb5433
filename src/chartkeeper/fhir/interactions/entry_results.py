"""The response entries of a batch or transaction (``Bundle.entry.response``)."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl

import orjson

from chartkeeper.core.clock import format_instant
from chartkeeper.core.errors import ChartkeeperError, GoneError, NotFoundError
from chartkeeper.fhir.bundles import bundle, full_url
from chartkeeper.fhir.dates import from_micros
from chartkeeper.fhir.interactions.bundle_entries import EntryRequest
from chartkeeper.fhir.interactions.context import FhirContext
from chartkeeper.fhir.interactions.versioning import etag
from chartkeeper.fhir.outcome import from_error
from chartkeeper.fhir.repository import ResourceTransaction, StoredResource
from chartkeeper.fhir.search_parser import parse_search

STATUS_TEXT = {
    200: "200 OK",
    201: "201 Created",
    204: "204 No Content",
    400: "400 Bad Request",
    403: "403 Forbidden",
    404: "404 Not Found",
    405: "405 Method Not Allowed",
    409: "409 Conflict",
    410: "410 Gone",
    412: "412 Precondition Failed",
    422: "422 Unprocessable Entity",
}


def written_entry(
    ctx: FhirContext, stored: StoredResource, created: bool, return_resource: bool
) -> dict[str, Any]:
    """The response of a create, update or patch."""
    entry: dict[str, Any] = {
        "fullUrl": full_url(ctx.options.base_url, stored),
        "response": {
            "status": STATUS_TEXT[201 if created else 200],
            "location": f"{stored.resource_type}/{stored.id}/_history/{stored.version_id}",
            "etag": etag(stored.version_id),
            "lastModified": format_instant(from_micros(stored.last_updated)),
        },
    }
    if return_resource and stored.body is not None:
        entry["resource"] = orjson.loads(stored.body)
    return entry


def deleted_entry(version: int | None) -> dict[str, Any]:
    """The response of a delete."""
    response: dict[str, Any] = {"status": STATUS_TEXT[204]}
    if version:
        response["etag"] = etag(version)
    return {"response": response}


def error_entry(error: ChartkeeperError) -> dict[str, Any]:
    """A failed batch entry: its status and OperationOutcome."""
    status = STATUS_TEXT.get(error.status, f"{error.status}")
    return {"response": {"status": status, "outcome": from_error(error)}}


def get_entry(ctx: FhirContext, tx: ResourceTransaction, entry: EntryRequest) -> dict[str, Any]:
    """A read or search carried out inside the batch or transaction."""
    if entry.resource_id is None:
        items = parse_qsl(entry.query or "", keep_blank_values=True)
        request = parse_search(entry.resource_type, items, registry=ctx.registry)
        page = tx.search(request)
        entries = [
            {
                "fullUrl": full_url(ctx.options.base_url, m),
                "resource": m.resource(),
                "search": {"mode": "match"},
            }
            for m in page.matches
        ]
        result = bundle("searchset", entries, total=page.total)
        return {"resource": result, "response": {"status": STATUS_TEXT[200]}}
    stored = tx.read(entry.resource_type, entry.resource_id)
    if stored is None:
        raise NotFoundError(f"{entry.resource_type}/{entry.resource_id} is not known")
    if stored.deleted:
        raise GoneError(f"{entry.resource_type}/{entry.resource_id} was deleted")
    return {
        "resource": stored.resource(),
        "response": {"status": STATUS_TEXT[200], "etag": etag(stored.version_id)},
    }
