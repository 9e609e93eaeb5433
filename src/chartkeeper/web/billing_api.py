"""Billing over HTTP: Claim operations on the FHIR API and the biller's JSON API.

FHIR (before the generic ``/fhir`` mount):

- ``GET /fhir/Claim/{id}/$scrub``: scrub a stored Claim, record it in the worklist, answer the
  OperationOutcome (issues carry the rule id in ``details.coding``, the element in
  ``expression``, the fix in ``diagnostics``); ``POST /fhir/Claim/$scrub`` with a Claim (or a
  Parameters with ``resource``) scrubs without storing anything.
- ``GET /fhir/Claim/{id}/$x12``: the claim as an X12 837 (``application/edi-x12``).

JSON (``/api/billing/...``) for the workbench and scripts: charge capture and claim building
for an encounter, the worklist, release, batches, remittance posting, denials, statements, and
coding help (code suggestions from text, MS-DRG grouping). The service decides who may.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from chartkeeper.billing.service import Billing
from chartkeeper.core.errors import InvalidError
from chartkeeper.web.auth import actor_of
from chartkeeper.web.params import parameters, query_int
from chartkeeper.web.request_body import json_body, text_body
from chartkeeper.web.responses import json_response

X12_MEDIA_TYPE = "application/edi-x12"


def _billing(request: Request) -> Billing:
    billing: Billing = request.app.state.services.billing
    return billing


def _limit(request: Request) -> int:
    limit: int = request.app.state.services.settings.max_body_bytes
    return limit


# -- FHIR operations --------------------------------------------------------------------------


async def scrub_stored(request: Request) -> Response:
    """``GET /fhir/Claim/{id}/$scrub``."""
    actor = actor_of(request)
    done = await run_in_threadpool(_billing(request).scrub, actor, request.path_params["id"])
    return json_response(done.outcome)


async def scrub_posted(request: Request) -> Response:
    """``POST /fhir/Claim/$scrub`` with a Claim, or Parameters whose ``resource`` is one."""
    actor = actor_of(request)
    body = await json_body(request, _limit(request))
    if isinstance(body, dict) and body.get("resourceType") == "Parameters":
        body = parameters(body).get("resource")
    outcome = await run_in_threadpool(_billing(request).scrub_resource, actor, body)
    return json_response(outcome)


async def x12(request: Request) -> Response:
    """``GET /fhir/Claim/{id}/$x12``: one claim as an 837 (no control number is used up)."""
    actor = actor_of(request)
    text = await run_in_threadpool(_billing(request).x12_preview, actor, request.path_params["id"])
    return Response(text, media_type=X12_MEDIA_TYPE)


async def coding_check(request: Request) -> Response:
    """``GET /fhir/Encounter/{id}/$coding-check``: the coding checks of its diagnoses."""
    actor = actor_of(request)
    outcome = await run_in_threadpool(
        _billing(request).check_encounter_coding, actor, request.path_params["id"]
    )
    return json_response(outcome)


# -- charge capture and claims ----------------------------------------------------------------


async def capture(request: Request) -> Response:
    """``POST /api/billing/encounters/{id}/charges``: ChargeItems for the encounter's services."""
    actor = actor_of(request)
    found = await run_in_threadpool(_billing(request).capture, actor, request.path_params["id"])
    return json_response(
        {
            "created": [f"ChargeItem/{item['id']}" for item in found.created],
            "existing": [f"ChargeItem/{item['id']}" for item in found.existing],
            "unmatched": [asdict(u) for u in found.unmatched],
        },
        201 if found.created else 200,
    )


async def claim(request: Request) -> Response:
    """``POST /api/billing/encounters/{id}/claim``: build the Claim, then scrub it."""
    actor = actor_of(request)
    billing = _billing(request)
    built = await run_in_threadpool(billing.build_claim, actor, request.path_params["id"])
    scrubbed = await run_in_threadpool(billing.scrub, actor, built.claim["id"])
    return json_response(
        {
            "claim": f"Claim/{built.claim['id']}",
            "notes": built.notes,
            "status": scrubbed.status,
            "outcome": scrubbed.outcome,
        },
        201,
    )


def _worklist_row(row: Any) -> dict[str, Any]:
    out = asdict(row)
    out["total"] = f"{row.total_cents / 100:.2f}"
    return out


async def worklist(request: Request) -> Response:
    """``GET /api/billing/claims[?status=held&_count=&_offset=]``."""
    actor = actor_of(request)
    status = request.query_params.get("status") or None
    limit = query_int(request, "_count", 50, 1, 500)
    offset = query_int(request, "_offset", 0, 0, 10**9)
    rows, total = await run_in_threadpool(
        _billing(request).worklist_items, actor, status, limit, offset
    )
    return json_response({"total": total, "claims": [_worklist_row(r) for r in rows]})


async def worklist_claim(request: Request) -> Response:
    """``GET /api/billing/claims/{id}``: one worklist row with its findings."""
    actor = actor_of(request)
    row = await run_in_threadpool(
        _billing(request).worklist_claim, actor, request.path_params["id"]
    )
    return json_response(_worklist_row(row))


async def release(request: Request) -> Response:
    """``POST /api/billing/release`` with ``{"claims": [ids]}`` (omitted: every clean claim)."""
    actor = actor_of(request)
    # a chunked body has no Content-Length: ignoring it would release every clean claim
    chunked = "chunked" in request.headers.get("transfer-encoding", "").lower()
    has_body = chunked or request.headers.get("content-length", "0") not in ("", "0")
    body = await json_body(request, _limit(request)) if has_body else {}
    if not isinstance(body, dict):
        raise InvalidError("The body must be a JSON object", ("$",))
    claims = body.get("claims")
    if claims is not None and (
        not isinstance(claims, list) or not all(isinstance(c, str) for c in claims)
    ):
        raise InvalidError("'claims' must be a list of Claim ids", ("claims",))
    batch = await run_in_threadpool(_billing(request).release, actor, claims)
    return json_response(asdict(batch), 201)


async def batches(request: Request) -> Response:
    """``GET /api/billing/batches``."""
    actor = actor_of(request)
    found = await run_in_threadpool(_billing(request).batches, actor)
    return json_response({"batches": [asdict(b) for b in found]})


async def batch_x12(request: Request) -> Response:
    """``GET /api/billing/batches/{id}/x12``: the 837 file as it was sent."""
    actor = actor_of(request)
    text = await run_in_threadpool(_billing(request).batch_x12, actor, request.path_params["id"])
    name = f"837-{request.path_params['id']}.x12"
    headers = {"Content-Disposition": f'attachment; filename="{name}"'}
    return Response(text, media_type=X12_MEDIA_TYPE, headers=headers)


# -- remittance and denials -------------------------------------------------------------------


async def post_remittance(request: Request) -> Response:
    """``POST /api/billing/remittances[?source=name]`` with the 835 file as the body."""
    actor = actor_of(request)
    text = await text_body(request, _limit(request))
    source = request.query_params.get("source") or "upload"
    report = await run_in_threadpool(_billing(request).post_remittance, actor, text, source)
    return json_response(report.as_json(), 201 if report.posted else 200)


async def denials(request: Request) -> Response:
    """``GET /api/billing/denials[?state=open&_count=&_offset=]``."""
    actor = actor_of(request)
    state = request.query_params.get("state", "open") or None
    limit = query_int(request, "_count", 50, 1, 500)
    offset = query_int(request, "_offset", 0, 0, 10**9)
    rows, total = await run_in_threadpool(
        _billing(request).denial_items, actor, state, limit, offset
    )
    return json_response({"total": total, "denials": [asdict(r) for r in rows]})


async def work_denial(request: Request) -> Response:
    """``POST /api/billing/denials/{id}`` with ``{"state": ..., "note": ...}``."""
    actor = actor_of(request)
    body = await json_body(request, _limit(request))
    if not isinstance(body, dict):
        raise InvalidError("The body must be a JSON object with 'state' and 'note'", ("$",))
    state, note = body.get("state"), body.get("note", "")
    if not isinstance(state, str) or not isinstance(note, str):
        raise InvalidError("'state' and 'note' must be strings", ("state",))
    row = await run_in_threadpool(
        _billing(request).work_denial, actor, request.path_params["id"], state, note
    )
    return json_response(asdict(row))


# -- statements and coding help ---------------------------------------------------------------


async def statement(request: Request) -> Response:
    """``GET /api/billing/statements/{patient}[?format=html|pdf|json]``."""
    actor = actor_of(request)
    wanted = request.query_params.get("format", "html")
    if wanted not in ("html", "pdf", "json"):
        raise InvalidError("format must be html, pdf or json", ("format",))
    billing, patient_id = _billing(request), request.path_params["id"]
    rendered = await run_in_threadpool(billing.statement, actor, patient_id, wanted)
    if wanted == "json":
        return json_response(rendered)
    if wanted == "pdf":
        headers = {"Content-Disposition": f'inline; filename="statement-{patient_id}.pdf"'}
        return Response(rendered, media_type="application/pdf", headers=headers)
    return Response(rendered, media_type="text/html; charset=utf-8")


async def suggest(request: Request) -> Response:
    """``POST /api/coding/suggest`` with ``{"text": ...}`` or ``{"condition": "Condition/id"}``,
    and optionally ``"date": "YYYY-MM-DD"`` and ``"count": n``."""
    actor = actor_of(request)
    body = await json_body(request, _limit(request))
    if not isinstance(body, dict):
        raise InvalidError("The body must be a JSON object with 'text' or 'condition'", ("$",))
    text, condition = body.get("text"), body.get("condition")
    if (text is None) == (condition is None):
        raise InvalidError("Give exactly one of 'text' and 'condition'", ("text",))
    if text is not None and not isinstance(text, str):
        raise InvalidError("'text' must be a string", ("text",))
    if condition is not None and not (
        isinstance(condition, str) and condition.startswith("Condition/")
    ):
        raise InvalidError("'condition' must be a reference Condition/[id]", ("condition",))
    count, on = body.get("count", 5), body.get("date")
    if not isinstance(count, int) or isinstance(count, bool) or not 1 <= count <= 50:
        raise InvalidError("'count' must be an integer from 1 to 50", ("count",))
    if on is not None and not isinstance(on, str):
        raise InvalidError("'date' must be a date YYYY-MM-DD", ("date",))
    billing = _billing(request)
    if isinstance(condition, str):
        found = await run_in_threadpool(
            billing.suggest_for_condition, actor, condition.removeprefix("Condition/"), on, count
        )
    else:
        found = await run_in_threadpool(billing.suggest_codes, actor, str(text), on, count)
    return json_response({"suggestions": found})


async def drg(request: Request) -> Response:
    """``POST /api/coding/drg`` with an inpatient stay (see docs/billing-drg-suggest.md)."""
    actor = actor_of(request)
    body = await json_body(request, _limit(request))
    result = await run_in_threadpool(_billing(request).group_drg, actor, body)
    return json_response(result)


def routes() -> list[BaseRoute]:
    """The billing routes; the FHIR ones go before the generic ``/fhir`` mount."""
    return [
        Route("/fhir/Claim/$scrub", scrub_posted, methods=["POST"]),
        Route("/fhir/Claim/{id}/$scrub", scrub_stored, methods=["GET"]),
        Route("/fhir/Claim/{id}/$x12", x12, methods=["GET"]),
        Route("/fhir/Encounter/{id}/$coding-check", coding_check, methods=["GET"]),
        Route("/api/billing/encounters/{id}/charges", capture, methods=["POST"]),
        Route("/api/billing/encounters/{id}/claim", claim, methods=["POST"]),
        Route("/api/billing/claims", worklist, methods=["GET"]),
        Route("/api/billing/claims/{id}", worklist_claim, methods=["GET"]),
        Route("/api/billing/release", release, methods=["POST"]),
        Route("/api/billing/batches", batches, methods=["GET"]),
        Route("/api/billing/batches/{id}/x12", batch_x12, methods=["GET"]),
        Route("/api/billing/remittances", post_remittance, methods=["POST"]),
        Route("/api/billing/denials", denials, methods=["GET"]),
        Route("/api/billing/denials/{id}", work_denial, methods=["POST"]),
        Route("/api/billing/statements/{id}", statement, methods=["GET"]),
        Route("/api/coding/suggest", suggest, methods=["POST"]),
        Route("/api/coding/drg", drg, methods=["POST"]),
    ]
