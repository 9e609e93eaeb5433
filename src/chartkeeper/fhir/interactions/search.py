"""search: type and system level, GET and POST _search (http://hl7.org/fhir/R4/search.html)."""

from __future__ import annotations

from typing import Any

import orjson

from chartkeeper.fhir.bundles import bundle, full_url, outcome_entry, page_links
from chartkeeper.fhir.interactions.context import FhirContext, Result
from chartkeeper.fhir.repository import SearchPage, StoredResource
from chartkeeper.fhir.search_controls import encode_cursor
from chartkeeper.fhir.search_parser import parse_search
from chartkeeper.fhir.search_request import SearchRequest
from chartkeeper.fhir.summary import shape
from chartkeeper.fhir.validation import require_resource_type


def run_search(ctx: FhirContext, request: SearchRequest) -> SearchPage:
    """Matches, total and includes of a parsed search, in one read transaction."""
    with ctx.repository.reading() as tx:
        page = tx.search(request)
        if request.include:
            page.included.extend(tx.include(page.matches, request.include, reverse=False))
        if request.revinclude:
            page.included.extend(tx.include(page.matches, request.revinclude, reverse=True))
    return page


def _entry(
    ctx: FhirContext, stored: StoredResource, mode: str, request: SearchRequest, raw: bool
) -> dict[str, Any]:
    resource: Any = orjson.Fragment(stored.body or "{}")  # served as stored, not re-parsed
    if not raw or request.summary not in (None, "false") or request.elements:
        resource = shape(orjson.loads(stored.body or "{}"), request.summary, request.elements)
    return {
        "fullUrl": full_url(ctx.options.base_url, stored),
        "resource": resource,
        "search": {"mode": mode},
    }


def search(
    ctx: FhirContext,
    resource_type: str | None,
    items: list[tuple[str, str]],
    strict: bool = False,
    raw: bool = True,
) -> Result:
    """A searchset Bundle for ``items`` (the query as ordered name/value pairs).

    With ``raw`` the entries' resources are the stored JSON as ``orjson.Fragment`` (for the
    wire); without, they are dicts (for callers that read them).
    """
    if resource_type:
        require_resource_type(resource_type)
    request = parse_search(
        resource_type,
        items,
        strict=strict,
        registry=ctx.registry,
        default_count=ctx.options.default_page_size,
        max_count=ctx.options.max_page_size,
    )
    page = run_search(ctx, request)
    entries = [_entry(ctx, m, "match", request, raw) for m in page.matches]
    entries += [_entry(ctx, i, "include", request, raw) for i in page.included]
    if request.warnings:
        entries.append(outcome_entry(request.warnings))
    base = ctx.options.base_url
    url = f"{base}/{resource_type}" if resource_type else base
    count = request.count if request.count is not None else ctx.options.default_page_size
    cursor = encode_cursor(page.next_cursor) if page.next_cursor is not None else None
    links = page_links(url, items, request.offset, count, next_cursor=cursor)
    extra: dict[str, Any] = {"link": links}
    if page.total is not None:
        extra = {"total": page.total, **extra}
    return Result(200, body=bundle("searchset", entries, **extra))
