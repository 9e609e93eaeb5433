"""The patient portal pages: "Who looked at my chart", in plain language."""

from __future__ import annotations

import base64
from dataclasses import dataclass
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from chartkeeper.core.errors import ForbiddenError
from chartkeeper.fhir.dates import from_micros
from chartkeeper.privacy.actor import Actor
from chartkeeper.privacy.audit.query import AuditEntry
from chartkeeper.web.audit_api import access_log_page
from chartkeeper.web.auth import actor_of, current_session
from chartkeeper.web.sessions import csrf_token
from chartkeeper.web.workbench import CSP, render

PAGE_SIZE = 50
SYSTEM_NAME = "chartkeeper system"
#: v3-ActReason purposes of use, in words.
PURPOSES = {
    "TREAT": "treatment",
    "ETREAT": "emergency treatment",
    "HPAYMT": "payment",
    "HOPERAT": "healthcare operations",
    "HRESCH": "research",
    "PATRQT": "your own request",
    "HMARKT": "marketing",
    "PUBHLTH": "public health",
    "LEGAL": "legal reasons",
}
#: subtype -> (what was done, what was tried), in words.
PHRASES = {
    "read": ("viewed your record", "tried to view your record"),
    "vread": ("viewed an earlier version of your record", "tried to view an earlier version"),
    "history-instance": ("viewed the history of your record", "tried to view its history"),
    "search-type": ("found your record in a search", "searched for your record"),
    "search-system": ("found your record in a search", "searched for your record"),
    "everything": ("opened your whole record", "tried to open your whole record"),
    "export": ("exported your record", "tried to export your record"),
    "access-log": ("looked at who accessed your record", "tried to see who accessed it"),
    "audit-search": ("searched the audit trail of your record", "tried to search its audit trail"),
    "audit-read": ("read an audit entry about your record", "tried to read an audit entry"),
    "create": ("added to your record", "tried to add to your record"),
    "update": ("updated your record", "tried to update your record"),
    "patch": ("updated your record", "tried to update your record"),
    "delete": ("deleted part of your record", "tried to delete part of your record"),
}
ACCESSED = ("accessed your record", "tried to access your record")


@dataclass(frozen=True)
class AccessRow:
    """One access, ready for the page."""

    who: str
    what: str
    day: str
    time: str
    purpose: str
    refused: bool
    sentence: str


def _requestor(event: dict[str, Any]) -> dict[str, Any]:
    for agent in event.get("agent", []):
        if agent.get("requestor"):
            found: dict[str, Any] = agent
            return found
    return {}


def _first_code(items: list[dict[str, Any]]) -> str | None:
    for item in items:
        for coding in item.get("coding", []):
            code = coding.get("code")
            if code:
                return str(code)
    return None


def _who(agent: dict[str, Any], organization: str | None) -> str:
    name = str(agent.get("who", {}).get("identifier", {}).get("value", ""))
    role = _first_code(agent.get("role", []))
    if name == "chartkeeper" and role == "admin":
        return SYSTEM_NAME
    kind = role.replace("_", " ") if role else "service"
    details = ", ".join(part for part in (kind, organization) if part)
    return f"{name} ({details})"


def _resource(event: dict[str, Any]) -> str:
    for entity in event.get("entity", []):
        if entity.get("role", {}).get("code") == "4":
            return str(entity.get("what", {}).get("reference", ""))
    return ""


def _query(event: dict[str, Any]) -> str:
    for entity in event.get("entity", []):
        if entity.get("query"):
            return base64.b64decode(entity["query"]).decode("utf-8", errors="replace")
    return ""


def _kind(event: dict[str, Any]) -> str:
    """The key of ``PHRASES`` for an event."""
    subtype = str(next((c.get("code") for c in event.get("subtype", [])), ""))
    resource = _resource(event)
    if event.get("type", {}).get("code") == "110106":
        return "export"
    if resource.endswith("/$access-log"):
        return "access-log"
    if resource.startswith("AuditEvent/"):
        return "audit-read"
    if _query(event).startswith("AuditEvent"):
        return "audit-search"
    if subtype == "operation":
        return "everything"
    return subtype


def access_row(entry: AuditEntry) -> AccessRow:
    """The plain-language row of one ledger entry."""
    event = entry.event
    agent = _requestor(event)
    moment = from_micros(entry.recorded_at)
    day, time = f"{moment.day} {moment:%b %Y}", f"{moment:%H:%M}"
    code = _first_code(agent.get("purposeOfUse", [])) or ""
    purpose = PURPOSES.get(code, code.lower() or "an unstated purpose")
    who = _who(agent, entry.organization)
    refused = event.get("outcome") != "0"
    done, tried = PHRASES.get(_kind(event), ACCESSED)
    what = f"{tried} but was refused" if refused else done
    sentence = f"{who} {what} on {day} at {time} UTC for {purpose}."
    return AccessRow(who, what, day, time, purpose, refused, sentence)


async def access_log(request: Request) -> Response:
    actor = actor_of(request)
    if actor.role != "patient" or not actor.patient_id:
        raise ForbiddenError("This page is for patients: it lists who opened their own record")
    raw = request.query_params.get("offset", "0")
    offset = int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 10 else 0
    _query, page = await run_in_threadpool(
        access_log_page, request, actor, actor.patient_id, str(PAGE_SIZE), str(offset)
    )
    rows = [access_row(entry) for entry in page.entries]
    session = current_session(request)
    key: bytes = request.app.state.session_key
    return render(
        "access_log.html",
        user=session.user if session else None,
        csrf=csrf_token(key, session),
        title="Who looked at my chart",
        rows=rows,
        total=page.total,
        previous=f"/portal/access-log?offset={max(0, offset - PAGE_SIZE)}" if offset else None,
        next=f"/portal/access-log?offset={offset + PAGE_SIZE}"
        if offset + len(rows) < page.total
        else None,
    )


def _own_patient(request: Request) -> tuple[Actor, str]:
    actor = actor_of(request)
    if actor.role != "patient" or not actor.patient_id:
        raise ForbiddenError("This page is for patients: it shows their own statement")
    return actor, actor.patient_id


async def statement(request: Request) -> Response:
    """``GET /portal/statement``: the signed-in patient's statement, in plain words."""
    actor, patient_id = _own_patient(request)
    billing = request.app.state.services.billing
    html = await run_in_threadpool(billing.statement, actor, patient_id, "html")
    headers = {"Content-Security-Policy": CSP, "X-Content-Type-Options": "nosniff"}
    return Response(html, media_type="text/html; charset=utf-8", headers=headers)


async def statement_pdf(request: Request) -> Response:
    """``GET /portal/statement.pdf``: the same statement as a PDF to print or keep."""
    actor, patient_id = _own_patient(request)
    billing = request.app.state.services.billing
    pdf = await run_in_threadpool(billing.statement, actor, patient_id, "pdf")
    headers = {"Content-Disposition": 'inline; filename="statement.pdf"'}
    return Response(pdf, media_type="application/pdf", headers=headers)


def routes() -> list[BaseRoute]:
    """The portal pages."""
    return [
        Route("/portal/access-log", access_log, methods=["GET"]),
        Route("/portal/statement", statement, methods=["GET"]),
        Route("/portal/statement.pdf", statement_pdf, methods=["GET"]),
    ]
