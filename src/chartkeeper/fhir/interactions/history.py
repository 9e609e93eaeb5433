"""history: instance, type and system (http://hl7.org/fhir/R4/http.html#history)."""

from __future__ import annotations

from chartkeeper.core.errors import InvalidError, NotFoundError
from chartkeeper.fhir.bundles import bundle, history_entry, page_links
from chartkeeper.fhir.dates import parse_date_range
from chartkeeper.fhir.interactions.context import FhirContext, Result
from chartkeeper.fhir.repository import HistoryQuery
from chartkeeper.fhir.validation import require_resource_type


def _int(items: dict[str, str], name: str, default: int) -> int:
    raw = items.get(name)
    if raw is None:
        return default
    # ASCII digits only (str.isdigit() also takes '²', which int() refuses), and few enough
    # that the value fits a SQL bigint.
    if not (raw.isascii() and raw.isdigit()) or len(raw.lstrip("0")) > 18:
        message = f"{name} must be a non-negative integer below 10^18, not '{raw[:40]}'"
        raise InvalidError(message, (name,))
    return int(raw)


def history(
    ctx: FhirContext,
    resource_type: str | None,
    resource_id: str | None,
    items: list[tuple[str, str]],
) -> Result:
    """A history Bundle, newest first, paged with ``_count`` and ``_offset``."""
    if resource_type:
        require_resource_type(resource_type)
    params = dict(items)
    since = parse_date_range(params["_since"])[0] if params.get("_since") else None
    at = parse_date_range(params["_at"])[1] if params.get("_at") else None
    count = min(_int(params, "_count", ctx.options.default_page_size), ctx.options.max_page_size)
    offset = _int(params, "_offset", 0)
    query = HistoryQuery(resource_type, resource_id, since, at, count, offset)
    with ctx.repository.reading() as tx:
        if resource_type and resource_id and tx.read(resource_type, resource_id) is None:
            raise NotFoundError(f"{resource_type}/{resource_id} is not known")
        versions, total = tx.history(query)
    base = ctx.options.base_url
    path = "/".join(p for p in (resource_type, resource_id) if p)
    url = f"{base}/{path}/_history" if path else f"{base}/_history"
    links = page_links(url, items, offset, count, more=offset + len(versions) < total)
    entries = [history_entry(base, v) for v in versions]
    return Result(200, body=bundle("history", entries, total=total, link=links))
