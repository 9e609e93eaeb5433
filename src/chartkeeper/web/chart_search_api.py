"""Chart search over HTTP: ``GET /api/patients/{id}/search?q=…&limit=`` (JSON) and the
workbench page ``GET /patients/{id}/search?q=`` (docs/chart-search.md).

Both call ``summary.chart_search.search_chart`` with the caller's guarded context, so a patient
the caller may not see answers 404 and every search is audited.
"""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from chartkeeper.core.errors import ForbiddenError, InvalidError, NotFoundError
from chartkeeper.summary.chart_search import (
    DEFAULT_LIMIT,
    MAX_LIMIT,
    ChartHit,
    ChartResults,
    search_chart,
)
from chartkeeper.web.auth import fhir_context
from chartkeeper.web.responses import json_response
from chartkeeper.web.workbench import page_context, render


def _limit(request: Request) -> int:
    raw = request.query_params.get("limit", str(DEFAULT_LIMIT))
    # isascii(): str.isdigit() also takes '²', which int() refuses
    if not (raw.isascii() and raw.isdigit() and len(raw) < 6) or not 1 <= int(raw) <= MAX_LIMIT:
        raise InvalidError(f"limit must be a whole number from 1 to {MAX_LIMIT}")
    return int(raw)


def results_json(results: ChartResults) -> dict[str, Any]:
    """The JSON body: the terms as understood, the total, and each hit with its snippet."""
    return {
        "patient": f"Patient/{results.patient_id}",
        "query": results.query.text,
        "terms": [{"typed": t.typed, "variants": list(t.variants)} for t in results.query.terms],
        "total": results.total,
        "results": [
            {
                "reference": hit.reference,
                "type": hit.resource_type,
                "date": hit.date,
                "title": hit.title,
                "score": round(hit.score, 6),
                "snippet": {
                    "text": hit.snippet.text,
                    "highlights": [list(pair) for pair in hit.snippet.highlights],
                },
            }
            for hit in results.hits
        ],
    }


async def search_api(request: Request) -> Response:
    """The JSON answer; ``q`` is required (an empty one finds nothing)."""
    if "q" not in request.query_params:
        raise InvalidError("q is required: the words to look for in the chart")
    limit = _limit(request)
    context = fhir_context(request)
    results = await run_in_threadpool(
        search_chart, context, request.path_params["id"], request.query_params["q"], limit
    )
    return json_response(results_json(results))


def marked_parts(hit: ChartHit) -> list[tuple[str, bool]]:
    """The snippet cut into (text, highlighted) pieces, for ``<mark>`` in an escaped template."""
    parts: list[tuple[str, bool]] = []
    position = 0
    text = hit.snippet.text
    for start, end in hit.snippet.highlights:
        parts += [(text[position:start], False), (text[start:end], True)]
        position = end
    parts.append((text[position:], False))
    return [(part, marked) for part, marked in parts if part]


async def search_page(request: Request) -> Response:
    """The workbench page: a search box, then the ranked hits with their marked snippets."""
    patient_id = request.path_params["id"]
    text = request.query_params.get("q", "")
    context = fhir_context(request)
    try:
        results = await run_in_threadpool(search_chart, context, patient_id, text, DEFAULT_LIMIT)
    except (NotFoundError, ForbiddenError) as error:
        from chartkeeper.web.break_glass_pages import refused_chart  # it imports workbench

        return refused_chart(request, patient_id, error)
    return render(
        "chart_search.html",
        **page_context(request),
        title="Search the chart",
        patient_id=patient_id,
        text=text,
        results=results,
        hits=[(hit, marked_parts(hit)) for hit in results.hits],
    )


def routes() -> list[BaseRoute]:
    """The chart search API and page."""
    return [
        Route("/api/patients/{id}/search", search_api),
        Route("/patients/{id}/search", search_page),
    ]
