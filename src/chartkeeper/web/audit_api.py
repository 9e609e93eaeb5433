"""The ledger through FHIR: AuditEvent search and read for auditors, and Patient $access-log."""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qsl, urlencode

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from chartkeeper.app import Services
from chartkeeper.core.errors import ForbiddenError, MethodNotAllowedError, NotFoundError
from chartkeeper.privacy.actor import Actor
from chartkeeper.privacy.audit import audit_event
from chartkeeper.privacy.audit.query import (
    AuditPage,
    AuditQuery,
    paging,
    parse_query,
    read_entry,
    search_ledger,
)
from chartkeeper.privacy.audit.query import (
    patient_id as checked_id,
)
from chartkeeper.privacy.guard import scope_refusal
from chartkeeper.web.auth import actor_of
from chartkeeper.web.responses import json_response

#: The roles that may search the ledger (besides the system actor).
AUDIT_ROLES = frozenset({"auditor", "privacy_officer"})
WRITE_METHODS = ["POST", "PUT", "PATCH", "DELETE"]
READ_ONLY = "AuditEvents are written by the server only"


def _services(request: Request) -> Services:
    services: Services = request.app.state.services
    return services


def _items(request: Request) -> list[tuple[str, str]]:
    return parse_qsl(request.url.query, keep_blank_values=True)


def record_access(
    request: Request,
    actor: Actor,
    *,
    subtype: str,
    outcome: str,
    patient_ids: list[str],
    what: str,
) -> None:
    """Audit one look at the ledger (buffered like every read)."""
    services = _services(request)
    action = "R" if subtype == "read" else "E"
    event = audit_event(
        action=action,
        subtype=subtype,
        outcome=outcome,
        actor=actor,
        patient_ids=patient_ids,
        resource=what if subtype != "search-type" else None,
        query=what if subtype == "search-type" else None,
        recorded=services.clock.now(),
        description=None if outcome == "0" else "refused: not allowed to read the audit ledger",
    )
    services.ledger.buffered().add(
        event, patient_ids=patient_ids, agent=actor.name, action=action, outcome=outcome
    )


def _check_scopes(actor: Actor) -> None:
    refusal = scope_refusal(actor, "search", "AuditEvent")
    if refusal is not None:
        raise ForbiddenError(f"Access to AuditEvent refused: {refusal.reason}")


def require_auditor(request: Request, patient_ids: list[str], what: str, subtype: str) -> Actor:
    """The caller, when an auditor, privacy officer or the system; 401/403 (audited) else."""
    actor = actor_of(request)
    if actor.kind != "system" and actor.role not in AUDIT_ROLES:
        record_access(
            request, actor, subtype=subtype, outcome="4", patient_ids=patient_ids, what=what
        )
        role = actor.role or "a service client without a role"
        raise ForbiddenError(
            f"Only auditors and privacy officers may search the audit ledger, not {role}"
        )
    _check_scopes(actor)
    return actor


def searchset(request: Request, page: AuditPage, count: int, offset: int) -> dict[str, Any]:
    """A searchset Bundle of the page's AuditEvents, with self/previous/next links."""
    bundle: dict[str, Any] = {
        "resourceType": "Bundle",
        "type": "searchset",
        "total": page.total,
        "link": _links(request, page.total, count, offset),
        "entry": [
            {
                "fullUrl": str(request.base_url) + f"fhir/AuditEvent/{entry.seq}",
                "resource": entry.event,
                "search": {"mode": "match"},
            }
            for entry in page.entries
        ],
    }
    return bundle


def _links(request: Request, total: int, count: int, offset: int) -> list[dict[str, str]]:
    kept = [(k, v) for k, v in _items(request) if k not in ("_count", "_offset")]

    def url(at: int) -> str:
        query = urlencode([*kept, ("_count", str(count)), ("_offset", str(at))])
        return f"{request.url.replace(query='')}?{query}"

    links = [{"relation": "self", "url": url(offset)}]
    if offset > 0:
        links.append({"relation": "previous", "url": url(max(0, offset - count))})
    if offset + count < total:
        links.append({"relation": "next", "url": url(offset + count)})
    return links


async def search(request: Request) -> Response:
    if request.method != "GET" and not request.url.path.endswith("/_search"):
        raise MethodNotAllowedError(READ_ONLY)
    items = _items(request)
    if request.method == "POST":
        body = (await request.body()).decode("utf-8", errors="replace")
        items += parse_qsl(body, keep_blank_values=True)
    query = parse_query(items)
    patients = [query.patient] if query.patient else []
    what = "AuditEvent?" + urlencode(items)
    actor = require_auditor(request, patients, what, "search-type")
    page = await run_in_threadpool(search_ledger, _services(request).engine, query)
    record_access(
        request, actor, subtype="search-type", outcome="0", patient_ids=patients, what=what
    )
    return json_response(searchset(request, page, query.count, query.offset))


async def read(request: Request) -> Response:
    if request.method != "GET":
        raise MethodNotAllowedError(READ_ONLY)
    ident = request.path_params["id"]
    what = f"AuditEvent/{ident}"
    actor = require_auditor(request, [], what, "read")
    usable = ident.isascii() and ident.isdigit() and len(ident) < 19
    found = (
        await run_in_threadpool(read_entry, _services(request).engine, int(ident))
        if usable
        else None
    )
    if found is None:
        raise NotFoundError(f"AuditEvent/{ident} does not exist")
    entry, patient_ids = found
    record_access(request, actor, subtype="read", outcome="0", patient_ids=patient_ids, what=what)
    return json_response(entry.event)


async def other(request: Request) -> Response:
    if request.method != "GET":
        raise MethodNotAllowedError(READ_ONLY)
    raise NotFoundError(f"{request.url.path} is not supported on AuditEvent")


def may_see_access_log(actor: Actor, patient_id: str) -> bool:
    """A patient their own; a privacy officer (or the system) anyone's."""
    if actor.kind == "system" or actor.role == "privacy_officer":
        return True
    return actor.role == "patient" and actor.patient_id == patient_id


def access_log_page(
    request: Request, actor: Actor, patient_id: str, count: str | None, offset: str | None
) -> tuple[AuditQuery, AuditPage]:
    """Who accessed ``patient_id``'s record (not the patient), checked and audited."""
    what = f"Patient/{checked_id(patient_id)}/$access-log"
    if not may_see_access_log(actor, patient_id):
        record_access(
            request, actor, subtype="operation", outcome="4", patient_ids=[patient_id], what=what
        )
        raise ForbiddenError(
            "Only the patient themselves or a privacy officer may see who accessed this record"
        )
    _check_scopes(actor)
    size, start = paging(count, offset)
    query = AuditQuery(patient=patient_id, hide_own=True, count=size, offset=start)
    page = search_ledger(_services(request).engine, query)
    record_access(
        request, actor, subtype="operation", outcome="0", patient_ids=[patient_id], what=what
    )
    return query, page


async def access_log(request: Request) -> Response:
    actor = actor_of(request)
    patient_id = request.path_params["id"]
    params = request.query_params
    query, page = await run_in_threadpool(
        access_log_page, request, actor, patient_id, params.get("_count"), params.get("_offset")
    )
    return json_response(searchset(request, page, query.count, query.offset))


def routes() -> list[BaseRoute]:
    """The AuditEvent and $access-log routes: mount them before the generic ``/fhir`` routes."""
    every = ["GET", *WRITE_METHODS]
    return [
        Route("/fhir/AuditEvent", search, methods=every),
        Route("/fhir/AuditEvent/_search", search, methods=["POST"]),
        Route("/fhir/AuditEvent/{id}", read, methods=every),
        Route("/fhir/AuditEvent/{rest:path}", other, methods=every),
        Route("/fhir/Patient/{id}/$access-log", access_log, methods=["GET"]),
    ]
