"""Build Bundles of stored resources: searchset and history pages with their links."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

import orjson

from chartkeeper.core.clock import format_instant
from chartkeeper.core.errors import Issue
from chartkeeper.fhir.dates import from_micros
from chartkeeper.fhir.repository import StoredResource


def full_url(base: str, stored: StoredResource) -> str:
    """The absolute URL of a resource on this server."""
    return f"{base}/{stored.resource_type}/{stored.id}"


def page_links(
    url: str,
    items: list[tuple[str, str]],
    offset: int,
    count: int,
    next_cursor: str | None = None,
    more: bool = False,
) -> list[dict[str, str]]:
    """``self``, ``first``, ``previous`` (offset paging) and ``next`` links.

    ``next`` carries a keyset ``_cursor`` when given, else the next ``_offset`` when ``more``.
    """
    paging = ("_offset", "_count", "_getpagesoffset", "_cursor")
    kept = [(k, v) for k, v in items if k not in paging]

    def link(relation: str, *position: tuple[str, str]) -> dict[str, str]:
        query = urlencode([*kept, ("_count", str(count)), *position])
        return {"relation": relation, "url": f"{url}?{query}"}

    current = [(k, v) for k, v in items if k in ("_offset", "_cursor")]
    links = [link("self", *current), link("first")]
    if offset > 0 and not any(k == "_cursor" for k, _ in items):
        links.append(link("previous", ("_offset", str(max(0, offset - count)))))
    if next_cursor is not None:
        links.append(link("next", ("_cursor", next_cursor)))
    elif more and count > 0:
        links.append(link("next", ("_offset", str(offset + count))))
    return links


def outcome_entry(warnings: list[Issue]) -> dict[str, Any]:
    """A searchset entry with the OperationOutcome of ignored parameters."""
    issues = [
        {"severity": w.severity, "code": w.code or "informational", "diagnostics": w.diagnostics}
        for w in warnings
    ]
    return {
        "resource": {"resourceType": "OperationOutcome", "issue": issues},
        "search": {"mode": "outcome"},
    }


def bundle(bundle_type: str, entries: list[dict[str, Any]], **extra: Any) -> dict[str, Any]:
    """A Bundle dict of ``bundle_type`` with ``entries``."""
    result: dict[str, Any] = {"resourceType": "Bundle", "type": bundle_type, **extra}
    if entries:
        result["entry"] = entries
    return result


def history_entry(base: str, stored: StoredResource) -> dict[str, Any]:
    """One history Bundle entry: the version (or a deletion) with its request and response."""
    url = f"{stored.resource_type}/{stored.id}"
    entry: dict[str, Any] = {"fullUrl": f"{base}/{url}"}
    if stored.body is not None:
        entry["resource"] = orjson.loads(stored.body)
    method = stored.method if stored.method in ("POST", "PUT", "DELETE", "PATCH") else "PUT"
    entry["request"] = {"method": method, "url": url if method != "POST" else stored.resource_type}
    status = {"POST": "201 Created", "DELETE": "204 No Content"}.get(method, "200 OK")
    entry["response"] = {
        "status": status,
        "etag": f'W/"{stored.version_id}"',
        "lastModified": format_instant(from_micros(stored.last_updated)),
    }
    return entry
