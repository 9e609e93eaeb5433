"""Workbench pages of billing: the claim worklist with the scrubber's findings, one claim,
releasing clean claims, 837 batches, posting an 835, the denial queue, patient statements.

Every page calls ``services.billing`` as the signed-in user, so who may do what, the audit and
the refusals live in the service; a refusal the biller can act on (400, 409, 422) is shown on
the page with what they typed kept, not as an error page.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from chartkeeper.billing import statements
from chartkeeper.billing.claims.worklist import STATUSES
from chartkeeper.billing.service import BILLING_ROLES, Billing
from chartkeeper.core.errors import ChartkeeperError, ForbiddenError, UnauthorizedError
from chartkeeper.privacy.actor import Actor
from chartkeeper.web.auth import actor_of
from chartkeeper.web.page_forms import checked_form, offset_of, patient_names
from chartkeeper.web.workbench import CSP, page_context, render

HOME = "/workbench/billing"
PAGE_SIZE = 25
STATUS_LABELS = {
    "held": "Held by the scrubber",
    "clean": "Clean, ready to send",
    "released": "Sent, awaiting payment",
    "paid": "Paid",
    "partial": "Partly paid",
    "denied": "Denied",
    "reversed": "Payment reversed",
}
FILTERS = (*((s, STATUS_LABELS[s]) for s in STATUSES), ("all", "All claims"))
DENIAL_FILTERS = (
    ("open", "Open"),
    ("appealed", "Appealed"),
    ("corrected", "Corrected"),
    ("written_off", "Written off"),
    ("resolved", "Resolved"),
    ("all", "All"),
)
DENIAL_ACTIONS = (
    ("appealed", "Appealed"),
    ("corrected", "Corrected and resent"),
    ("written_off", "Written off"),
    ("resolved", "Resolved"),
)
DONE = {
    "released": "Released: the clean claims are in a new 837 file under Batches.",
    "scrubbed": "Scrubbed again with the current code sets and tables.",
    "denial": "Saved.",
}
PAGE_ERRORS = (ForbiddenError, UnauthorizedError)


def _billing(request: Request) -> Billing:
    billing: Billing = request.app.state.services.billing
    return billing


def _money(cents: int) -> str:
    return f"${cents / 100:,.2f}"


def _when(micros: int) -> str:
    return datetime.fromtimestamp(micros / 1_000_000, UTC).strftime("%Y-%m-%d %H:%M")


def _page(request: Request, template: str, status: int = 200, **context: Any) -> Response:
    # coders see the worklist too, but only billers are offered what billers alone may do
    sends = actor_of(request).role in BILLING_ROLES
    return render(
        template,
        status,
        **page_context(request),
        **context,
        sends=sends,
        flash=DONE.get(request.query_params.get("done", "")),
    )


def _pager(base: str, params: dict[str, str], offset: int, shown: int, total: int) -> Any:
    def url(at: int) -> str:
        return f"{base}?{urlencode({**params, 'offset': max(0, at)})}"

    return {
        "first": offset + 1 if shown else 0,
        "last": offset + shown,
        "previous": url(offset - PAGE_SIZE) if offset > 0 else None,
        "next": url(offset + PAGE_SIZE) if offset + shown < total else None,
    }


# -- the worklist -----------------------------------------------------------------------------


def _worklist_data(request: Request, actor: Actor) -> dict[str, Any]:
    billing = _billing(request)
    wanted = request.query_params.get("status", "held")
    key = wanted if wanted in STATUS_LABELS or wanted == "all" else "held"
    offset = offset_of(request)
    rows, total = billing.worklist_items(actor, None if key == "all" else key, PAGE_SIZE, offset)
    counts = billing.worklist.counts()
    names = patient_names(request, {row.patient_id for row in rows})
    claims = [
        {
            "claim_id": row.claim_id,
            "control_number": row.control_number,
            "patient_id": row.patient_id,
            "patient_name": names.get(row.patient_id, "(not visible)"),
            "payer_id": row.payer_id,
            "service_from": row.service_from,
            "service_to": row.service_to,
            "total": _money(row.total_cents),
            "status": row.status,
            "errors": sum(1 for f in row.findings if f.get("severity") == "error"),
            "warnings": sum(1 for f in row.findings if f.get("severity") == "warning"),
        }
        for row in rows
    ]
    return {
        "claims": claims,
        "counts": counts,
        "counts_total": sum(counts.values()),
        "total": total,
        "filter": key,
        "filter_label": dict(FILTERS)[key],
        "filters": FILTERS,
        "pager": _pager(HOME, {"status": key}, offset, len(rows), total),
    }


async def _worklist_response(
    request: Request, error: ChartkeeperError | None = None, status: int = 200
) -> Response:
    data = await run_in_threadpool(_worklist_data, request, actor_of(request))
    return _page(
        request, "billing_worklist.html", status, **data, title="Claims worklist", error=error
    )


async def worklist_page(request: Request) -> Response:
    """``GET /workbench/billing``: claims by status, held ones first."""
    return await _worklist_response(request)


async def release(request: Request) -> Response:
    """``POST /workbench/billing/release``: every clean claim into one 837 file."""
    await checked_form(request)
    try:
        await run_in_threadpool(_billing(request).release, actor_of(request), None)
    except PAGE_ERRORS:
        raise
    except ChartkeeperError as refused:
        return await _worklist_response(request, refused, refused.status)
    return RedirectResponse("/workbench/billing/batches?done=released", 303)


def _claim_data(request: Request, actor: Actor, claim_id: str) -> dict[str, Any]:
    billing = _billing(request)
    row = billing.worklist_claim(actor, claim_id)
    names = patient_names(request, {row.patient_id})
    view = billing.claim_view(actor, claim_id)
    findings = [
        {
            "severity": f.get("severity", ""),
            "rule": f.get("rule", ""),
            "where": f.get("expression") or f.get("location", ""),
            "message": f.get("message", ""),
            "hint": f.get("hint", ""),
        }
        for f in row.findings
    ]
    return {
        "row": row,
        "patient_name": names.get(row.patient_id, "(not visible)"),
        "total": _money(row.total_cents),
        "findings": findings,
        **view,
    }


async def claim_page(request: Request) -> Response:
    """``GET /workbench/billing/claims/{id}``: one claim, its lines and findings."""
    data = await run_in_threadpool(
        _claim_data, request, actor_of(request), request.path_params["id"]
    )
    title = f"Claim {data['row'].control_number}"
    return _page(request, "billing_claim.html", **data, title=title)


async def rescrub(request: Request) -> Response:
    """``POST /workbench/billing/claims/{id}/scrub``."""
    await checked_form(request)
    claim_id = request.path_params["id"]
    await run_in_threadpool(_billing(request).scrub, actor_of(request), claim_id)
    return RedirectResponse(f"{HOME}/claims/{claim_id}?done=scrubbed", 303)


# -- batches and remittances ------------------------------------------------------------------


async def batches_page(request: Request) -> Response:
    """``GET /workbench/billing/batches``."""
    found = await run_in_threadpool(_billing(request).batches, actor_of(request))
    shown = [
        {
            "batch_id": b.batch_id,
            "kind": b.kind,
            "control": f"{b.interchange_control:09d}",
            "claims": b.claim_count,
            "total": _money(b.total_cents),
            "created": _when(b.created),
        }
        for b in found
    ]
    return _page(request, "billing_batches.html", batches=shown, title="837 batches")


def _remittance_rows(request: Request, actor: Actor) -> list[dict[str, Any]]:
    return [
        {
            "payer": r.payer_name,
            "trace": r.trace_number,
            "date": r.payment_date or "",
            "paid": _money(r.payment_cents),
            "claims": r.claim_count,
            "unmatched": r.unmatched,
        }
        for r in _billing(request).remittances(actor)
    ]


async def _remittance_response(
    request: Request,
    *,
    text: str = "",
    report: list[tuple[str, str]] | None = None,
    error: ChartkeeperError | None = None,
    status: int = 200,
) -> Response:
    rows = await run_in_threadpool(_remittance_rows, request, actor_of(request))
    return _page(
        request,
        "billing_remittances.html",
        status,
        text=text,
        report=report,
        error=error,
        remittances=rows,
        title="Post a remittance",
    )


async def remittances_page(request: Request) -> Response:
    """``GET /workbench/billing/remittances``."""
    return await _remittance_response(request)


async def post_remittance(request: Request) -> Response:
    """``POST /workbench/billing/remittances``: post a pasted 835."""
    form = await checked_form(request)
    text = str(form.get("x12", ""))
    try:
        report = await run_in_threadpool(
            _billing(request).post_remittance, actor_of(request), text, "workbench"
        )
    except PAGE_ERRORS:
        raise
    except ChartkeeperError as refused:
        return await _remittance_response(request, text=text, error=refused, status=refused.status)
    return await _remittance_response(request, report=report.summary_lines())


# -- denials ----------------------------------------------------------------------------------


def _denial_data(request: Request, actor: Actor) -> dict[str, Any]:
    billing = _billing(request)
    wanted = request.query_params.get("state", "open")
    key = wanted if wanted in dict(DENIAL_FILTERS) else "open"
    offset = offset_of(request)
    rows, total = billing.denial_items(actor, None if key == "all" else key, PAGE_SIZE, offset)
    denials = [
        {
            "denial_id": r.denial_id,
            "claim_id": r.claim_id,
            "claim_label": r.control_number or r.claim_id,
            "line": None if r.line is None else r.line + 1,
            "group": r.group_code,
            "reason": r.reason_code,
            "remarks": " ".join(r.remarks),
            "explanation": billing.explain_adjustment(r.group_code, r.reason_code, r.amount_cents),
            "amount": _money(r.amount_cents),
            "state": r.state,
            "note": r.note,
        }
        for r in rows
    ]
    return {
        "denials": denials,
        "total": total,
        "filter": key,
        "filter_label": dict(DENIAL_FILTERS)[key] + " denials",
        "filters": DENIAL_FILTERS,
        "actions": DENIAL_ACTIONS,
        "pager": _pager(f"{HOME}/denials", {"state": key}, offset, len(rows), total),
    }


async def _denials_response(
    request: Request, error: ChartkeeperError | None = None, status: int = 200
) -> Response:
    data = await run_in_threadpool(_denial_data, request, actor_of(request))
    return _page(request, "billing_denials.html", status, **data, title="Denials", error=error)


async def denials_page(request: Request) -> Response:
    """``GET /workbench/billing/denials``."""
    return await _denials_response(request)


async def work_denial(request: Request) -> Response:
    """``POST /workbench/billing/denials/{id}``: move a denial on, with a note."""
    form = await checked_form(request)
    state, note = str(form.get("state", "")), str(form.get("note", ""))
    try:
        await run_in_threadpool(
            _billing(request).work_denial, actor_of(request), request.path_params["id"], state, note
        )
    except PAGE_ERRORS:
        raise
    except ChartkeeperError as refused:
        return await _denials_response(request, refused, refused.status)
    return RedirectResponse(f"{HOME}/denials?done=denial", 303)


# -- statements -------------------------------------------------------------------------------


async def statement_page(request: Request) -> Response:
    """``GET /statements/{patient}``: the patient's statement (the patient, or billing staff)."""
    rendered = await run_in_threadpool(
        _billing(request).statement, actor_of(request), request.path_params["id"], "html"
    )
    return render_statement(rendered)


def render_statement(html: Any) -> Response:
    """A statement page with the workbench's security headers."""
    headers = {"Content-Security-Policy": CSP, "X-Content-Type-Options": "nosniff"}
    return Response(html, media_type="text/html; charset=utf-8", headers=headers)


async def statement_css(_request: Request) -> Response:
    """``GET /billing/statement.css``: the statement's stylesheet (kept with the statements)."""
    headers = {"Cache-Control": "public, max-age=3600"}
    return Response(statements.statement_css(), media_type="text/css", headers=headers)


def routes() -> list[BaseRoute]:
    """The billing pages."""
    return [
        Route("/billing/statement.css", statement_css, methods=["GET"]),
        Route(HOME, worklist_page, methods=["GET"]),
        Route(f"{HOME}/release", release, methods=["POST"]),
        Route(f"{HOME}/claims/{{id}}", claim_page, methods=["GET"]),
        Route(f"{HOME}/claims/{{id}}/scrub", rescrub, methods=["POST"]),
        Route(f"{HOME}/batches", batches_page, methods=["GET"]),
        Route(f"{HOME}/remittances", remittances_page, methods=["GET"]),
        Route(f"{HOME}/remittances", post_remittance, methods=["POST"]),
        Route(f"{HOME}/denials", denials_page, methods=["GET"]),
        Route(f"{HOME}/denials/{{id}}", work_denial, methods=["POST"]),
        Route("/statements/{id}", statement_page, methods=["GET"]),
    ]
