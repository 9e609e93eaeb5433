"""Workbench pages for break-the-glass: the emergency form on a refused chart, and the review."""

from __future__ import annotations

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from chartkeeper.core.errors import ChartkeeperError
from chartkeeper.privacy.actor import CLINICAL_ROLES
from chartkeeper.privacy.break_glass import DEFAULT_HOURS, BreakGlassStore, check_reviewer
from chartkeeper.web.auth import actor_of
from chartkeeper.web.page_forms import checked_form
from chartkeeper.web.workbench import page_context, render

QUEUE_PAGE = "/privacy/break-glass"


def _store(request: Request) -> BreakGlassStore:
    store: BreakGlassStore = request.app.state.services.break_glass
    return store


def offer_page(
    request: Request,
    patient_id: str,
    error: ChartkeeperError,
    reason: str = "",
    template: str = "break_glass_offer.html",
    **extra: object,
) -> Response:
    """The refusal page that offers break-the-glass (the chart's, or another page's)."""
    return render(
        template,
        error.status,
        **page_context(request),
        title="No access to this chart",
        error=error,
        patient_id=patient_id,
        reason=reason,
        hours=DEFAULT_HOURS,
        **extra,
    )


def refused_chart(request: Request, patient_id: str, error: ChartkeeperError) -> Response:
    """A refused chart: clinicians may break the glass; anyone else gets the usual error."""
    actor = actor_of(request)
    wants_page = "text/html" in request.headers.get("accept", "")
    if not wants_page or actor.kind != "user" or actor.role not in CLINICAL_ROLES:
        raise error
    return offer_page(request, patient_id, error)


async def declare(request: Request) -> Response:
    """``POST /patients/{id}/break-the-glass``: declare the emergency, then open the chart."""
    patient_id = request.path_params["id"]
    form = await checked_form(request)
    reason = str(form.get("reason", ""))
    actor = actor_of(request)
    try:
        await run_in_threadpool(_store(request).declare, actor, patient_id, reason)
    except ChartkeeperError as error:
        if error.status != 400:
            raise
        return offer_page(request, patient_id, error, reason)
    return RedirectResponse(f"/patients/{patient_id}", 303)


async def queue_page(request: Request) -> Response:
    """``GET /privacy/break-glass``: the grants waiting for the privacy officer's review."""
    check_reviewer(actor_of(request))
    grants = await run_in_threadpool(_store(request).queue, "pending")
    return render(
        "break_glass_queue.html",
        **page_context(request),
        title="Break-the-glass review",
        grants=grants,
    )


async def review(request: Request) -> Response:
    """``POST /privacy/break-glass/{grant_id}``: accept or refer one grant, back to the queue."""
    form = await checked_form(request)
    reviewer = actor_of(request)
    decision, note = str(form.get("decision", "")), str(form.get("note", ""))
    grant_id = request.path_params["grant_id"]
    await run_in_threadpool(_store(request).review, grant_id, reviewer, decision, note)
    return RedirectResponse(QUEUE_PAGE, 303)


def routes() -> list[BaseRoute]:
    """The break-the-glass pages."""
    return [
        Route("/patients/{id}/break-the-glass", declare, methods=["POST"]),
        Route(QUEUE_PAGE, queue_page, methods=["GET"]),
        Route(QUEUE_PAGE + "/{grant_id}", review, methods=["POST"]),
    ]
