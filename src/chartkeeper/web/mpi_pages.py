"""Workbench pages of the master patient index: the duplicate review queue, one pair side by
side with its explanation and the decision, merges (and unmerge), overlays, and batch jobs.

Every page calls ``services.mpi`` as the signed-in user, so the HIM-only rule, the audit and
the merge refusals live in the service; the pages only turn a refusal into a message the
technician can act on (409, 400) instead of an error page, and keep what they typed.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from chartkeeper.core.errors import (
    ChartkeeperError,
    ForbiddenError,
    InvalidError,
    NotFoundError,
    UnauthorizedError,
)
from chartkeeper.mpi.merge import identifier_conflicts
from chartkeeper.mpi.pairs import DECIDABLE, DECISIONS, QUEUED
from chartkeeper.mpi.service import MasterPatientIndex
from chartkeeper.privacy.actor import Actor
from chartkeeper.web.auth import actor_of
from chartkeeper.web.mpi_view import chart_card, differences, waterfall, when
from chartkeeper.web.page_forms import checked_form, offset_of, patient_names
from chartkeeper.web.responses import json_response
from chartkeeper.web.workbench import page_context, render

QUEUE = "/workbench/mpi"
MERGES = QUEUE + "/merges"
OVERLAYS = QUEUE + "/overlays"
PAGE_SIZE = 25
#: The queue's status filter: key, label, statuses shown.
FILTERS: tuple[tuple[str, str, tuple[str, ...]], ...] = (
    ("queued", "Open and deferred", QUEUED),
    ("open", "Open", ("open",)),
    ("deferred", "Deferred", ("deferred",)),
    ("linked", "Linked automatically", ("linked",)),
    ("merged", "Merged", ("merged",)),
    ("distinct", "Not the same person", ("distinct",)),
)
OVERLAY_STATUSES = ("open", "confirmed", "dismissed")
#: Jobs the workbench may start, and the page that shows their progress.
STARTABLE = {"dedupe": QUEUE, "train": QUEUE, "overlays": OVERLAYS}
#: What a page says after a successful POST (``?done=``): the redirect carries no patient data.
DONE = {
    "merged": "Merged. The duplicate's records now belong to the surviving chart; "
    "if this was wrong, undo it under Merges.",
    "distinct": "Marked as two different people: this pair will not be proposed again.",
    "deferred": "Deferred: the pair stays in the queue, marked deferred.",
    "unmerged": "Unmerged: both charts are back exactly as they were before the merge.",
    "confirmed": "Confirmed as an overlay: the chart needs splitting by hand.",
    "dismissed": "Dismissed: the chart holds one person.",
}
#: What each batch job is called on screen.
JOB_LABELS = {
    "dedupe": "Find duplicates",
    "train": "Retrain model",
    "overlays": "Scan for overlays",
    "reindex": "Re-index",
}
#: Refusals shown on the page itself (the user can fix them); others get the error page.
PAGE_ERRORS = (ForbiddenError, UnauthorizedError)


def _mpi(request: Request) -> MasterPatientIndex:
    mpi: MasterPatientIndex = request.app.state.services.mpi
    return mpi


def _job_panel(mpi: MasterPatientIndex, actor: Actor, job_id: str | None) -> dict[str, Any] | None:
    """The job to draw a progress bar for: the one asked for, else one still running."""
    if job_id:
        try:
            return mpi.job(actor, job_id).to_json()
        except NotFoundError:
            return None
    running = next((job for job in mpi.jobs.latest(10) if job.state == "running"), None)
    return running.to_json() if running else None


def _page(request: Request, template: str, status: int, **context: Any) -> Response:
    """An MPI page: the workbench frame, the after-POST message, the shared helpers."""
    return render(
        template,
        status,
        **page_context(request),
        **context,
        flash=DONE.get(request.query_params.get("done", "")),
        when=when,
        job_labels=JOB_LABELS,
    )


# -- the queue ----------------------------------------------------------------------------------


def _queue_data(request: Request, actor: Actor) -> dict[str, Any]:
    mpi = _mpi(request)
    wanted = request.query_params.get("status", "queued")
    key, label, statuses = next((f for f in FILTERS if f[0] == wanted), FILTERS[0])
    offset = offset_of(request)
    found, total = mpi.queue(actor, statuses, PAGE_SIZE, offset)
    ids = {pid for pair in found for pid in (pair.left_id, pair.right_id)}

    def page_url(at: int) -> str:
        return f"{QUEUE}?{urlencode({'status': key, 'offset': max(0, at)})}"

    return {
        "pairs": found,
        "names": patient_names(request, ids),
        "total": total,
        "filter": key,
        "filter_label": label,
        "filters": FILTERS,
        "pager": {
            "first": offset + 1 if found else 0,
            "last": offset + len(found),
            "previous": page_url(offset - PAGE_SIZE) if offset > 0 else None,
            "next": page_url(offset + PAGE_SIZE) if offset + len(found) < total else None,
        },
        "job": _job_panel(mpi, actor, request.query_params.get("job")),
        "jobs": [job.to_json() for job in mpi.jobs.latest(5)],
    }


async def _queue_response(
    request: Request, error: ChartkeeperError | None = None, status: int = 200
) -> Response:
    actor = actor_of(request)
    data = await run_in_threadpool(_queue_data, request, actor)
    return _page(
        request, "mpi_queue.html", status, **data, title="Duplicate review queue", error=error
    )


async def queue_page(request: Request) -> Response:
    """``GET /workbench/mpi``: candidate pairs, most probable first, and the batch jobs."""
    return await _queue_response(request)


async def start_job(request: Request) -> Response:
    """``POST /workbench/mpi/jobs``: start a batch job, then watch it on its page."""
    form = await checked_form(request)
    kind = str(form.get("kind", ""))
    if kind not in STARTABLE:
        error: ChartkeeperError = InvalidError(f"There is no job {kind!r} to start here")
        return await _queue_response(request, error, error.status)
    try:
        job_id = await run_in_threadpool(_mpi(request).start_job, actor_of(request), kind)
    except PAGE_ERRORS:
        raise
    except ChartkeeperError as refused:  # e.g. the same kind of job is already running
        if STARTABLE[kind] == OVERLAYS:
            return await _overlays_response(request, refused, refused.status)
        return await _queue_response(request, refused, refused.status)
    return RedirectResponse(f"{STARTABLE[kind]}?{urlencode({'job': job_id})}", 303)


async def job_status(request: Request) -> Response:
    """``GET /workbench/mpi/jobs/{id}``: the job's progress as JSON, for the progress bar."""
    actor = actor_of(request)
    job = await run_in_threadpool(_mpi(request).job, actor, request.path_params["id"])
    return json_response(job.to_json(), headers={"Cache-Control": "no-store"})


# -- one pair -----------------------------------------------------------------------------------


def _pair_data(request: Request, actor: Actor, pair_id: str) -> dict[str, Any]:
    mpi = _mpi(request)
    shown = mpi.side_by_side(actor, pair_id)
    pair = shown["pair"]
    left, right = (chart_card(chart) for chart in shown["charts"])
    patients = [chart.get("patient") for chart in shown["charts"]]
    conflicts = identifier_conflicts(*patients) if all(patients) else []
    return {
        "pair": pair,
        "decidable": pair.status in DECIDABLE,
        "left": left,
        "right": right,
        "differ": differences(left, right),
        "steps": waterfall(pair.explanation),
        "conflicts": conflicts,
        "is_lead": actor.name in mpi.settled.leads,
        "suggested": right.id if right.total > left.total else left.id,
    }


async def _pair_response(
    request: Request,
    pair_id: str,
    error: ChartkeeperError | None = None,
    typed: dict[str, str] | None = None,
) -> Response:
    actor = actor_of(request)
    data = await run_in_threadpool(_pair_data, request, actor, pair_id)
    typed = typed or {}
    return _page(
        request,
        "mpi_pair.html",
        error.status if error else 200,
        **data,
        title="Are these the same person?",
        error=error,
        typed=typed,
        survivor=typed.get("survivor") or data["suggested"],
    )


async def pair_page(request: Request) -> Response:
    """``GET /workbench/mpi/pairs/{id}``: both charts, the explanation, the decision form."""
    return await _pair_response(request, request.path_params["id"])


async def decide(request: Request) -> Response:
    """``POST /workbench/mpi/pairs/{id}``: merge, not the same person, or defer."""
    form = await checked_form(request)
    pair_id = request.path_params["id"]
    typed = {k: str(form.get(k, "")) for k in ("decision", "note", "survivor", "override")}
    decision, note = typed["decision"], typed["note"].strip() or None
    actor = actor_of(request)
    try:
        await run_in_threadpool(
            lambda: _mpi(request).decide(
                actor,
                pair_id,
                decision,
                note=note,
                survivor_id=typed["survivor"] or None,
                override=typed["override"] == "yes",
            )
        )
    except PAGE_ERRORS:
        raise
    except ChartkeeperError as error:  # a refused merge, a pair decided meanwhile
        return await _pair_response(request, pair_id, error, typed)
    return RedirectResponse(f"{QUEUE}?done={DECISIONS[decision]}", 303)


# -- merges -------------------------------------------------------------------------------------


async def _merges_response(request: Request, error: ChartkeeperError | None = None) -> Response:
    actor = actor_of(request)

    def load() -> dict[str, Any]:
        found = _mpi(request).merges(actor)
        ids = {m[k] for m in found for k in ("survivor_id", "duplicate_id")}
        return {"merges": found, "names": patient_names(request, ids)}

    data = await run_in_threadpool(load)
    status = error.status if error else 200
    return _page(request, "mpi_merges.html", status, **data, title="Merges", error=error)


async def merges_page(request: Request) -> Response:
    """``GET /workbench/mpi/merges``: the latest merges, each with its undo."""
    return await _merges_response(request)


async def unmerge(request: Request) -> Response:
    """``POST /workbench/mpi/merges/{id}/unmerge``: restore both charts as they were."""
    form = await checked_form(request)
    note = str(form.get("note", "")).strip() or None
    actor = actor_of(request)
    merge_id = request.path_params["id"]
    try:
        await run_in_threadpool(lambda: _mpi(request).unmerge(actor, merge_id, note=note))
    except PAGE_ERRORS:
        raise
    except ChartkeeperError as error:  # already undone, unknown merge
        return await _merges_response(request, error)
    return RedirectResponse(f"{MERGES}?done=unmerged", 303)


# -- overlays -----------------------------------------------------------------------------------


async def _overlays_response(
    request: Request, error: ChartkeeperError | None = None, status: int = 200
) -> Response:
    actor = actor_of(request)
    wanted = request.query_params.get("status", "open")
    shown = wanted if wanted in OVERLAY_STATUSES else "open"

    def load() -> dict[str, Any]:
        mpi = _mpi(request)
        found = mpi.overlays(actor, shown)
        return {
            "overlays": found,
            "names": patient_names(request, {flag["patient_id"] for flag in found}),
            "job": _job_panel(mpi, actor, request.query_params.get("job")),
        }

    data = await run_in_threadpool(load)
    return _page(
        request,
        "mpi_overlays.html",
        status,
        **data,
        title="Possible overlays",
        status_shown=shown,
        statuses=OVERLAY_STATUSES,
        error=error,
    )


async def overlays_page(request: Request) -> Response:
    """``GET /workbench/mpi/overlays``: charts that appear to hold two people."""
    return await _overlays_response(request)


async def decide_overlay(request: Request) -> Response:
    """``POST /workbench/mpi/overlays/{id}``: confirm (needs splitting) or dismiss a flag."""
    form = await checked_form(request)
    decision = str(form.get("decision", ""))
    note = str(form.get("note", "")).strip() or None
    actor = actor_of(request)
    flag_id = request.path_params["id"]
    try:
        await run_in_threadpool(
            lambda: _mpi(request).decide_overlay(actor, flag_id, decision, note)
        )
    except PAGE_ERRORS:
        raise
    except ChartkeeperError as error:
        return await _overlays_response(request, error, error.status)
    done = {"confirm": "confirmed", "dismiss": "dismissed"}[decision]
    return RedirectResponse(f"{OVERLAYS}?done={done}", 303)


def routes() -> list[BaseRoute]:
    """The MPI workbench pages."""
    return [
        Route(QUEUE, queue_page, methods=["GET"]),
        Route(QUEUE + "/jobs", start_job, methods=["POST"]),
        Route(QUEUE + "/jobs/{id}", job_status, methods=["GET"]),
        Route(QUEUE + "/pairs/{id}", pair_page, methods=["GET"]),
        Route(QUEUE + "/pairs/{id}", decide, methods=["POST"]),
        Route(MERGES, merges_page, methods=["GET"]),
        Route(MERGES + "/{id}/unmerge", unmerge, methods=["POST"]),
        Route(OVERLAYS, overlays_page, methods=["GET"]),
        Route(OVERLAYS + "/{id}", decide_overlay, methods=["POST"]),
    ]
