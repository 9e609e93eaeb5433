"""Plain-language explanations over HTTP: ``$explain`` on the FHIR API and the portal pages.

- ``POST /fhir/$explain`` with Parameters holding one of ``reference`` (valueReference or
  valueString ``Type/id``), ``resource`` or ``text``; ``GET /fhir/{type}/{id}/$explain``
  explains a stored record. Both answer Parameters (see ``summary.explain.to_parameters``).
- ``GET /portal/explain``: the signed-in patient's notes, problems, results and medicines;
  ``GET /portal/explain/{type}/{id}``: one of them in plain words beside the original, every
  explained phrase marked in both.
"""

from __future__ import annotations

from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from chartkeeper.core.errors import ForbiddenError
from chartkeeper.language.model import Explanation, Span
from chartkeeper.privacy.actor import Actor
from chartkeeper.summary.explain import PORTAL_GROUPS, Explainer, portal_items, to_parameters
from chartkeeper.web.auth import actor_of, current_session
from chartkeeper.web.params import parameters
from chartkeeper.web.request_body import json_body
from chartkeeper.web.responses import json_response
from chartkeeper.web.sessions import csrf_token
from chartkeeper.web.workbench import render


def _explainer(request: Request) -> Explainer:
    explainer: Explainer = request.app.state.services.explainer
    return explainer


async def explain_posted(request: Request) -> Response:
    """``POST /fhir/$explain``."""
    actor = actor_of(request)
    limit: int = request.app.state.services.settings.max_body_bytes
    params = parameters(await json_body(request, limit))
    done = await run_in_threadpool(_explainer(request).explain, actor, params)
    return json_response(to_parameters(done))


async def explain_stored(request: Request) -> Response:
    """``GET /fhir/{type}/{id}/$explain``."""
    actor = actor_of(request)
    reference = f"{request.path_params['type']}/{request.path_params['id']}"
    done = await run_in_threadpool(_explainer(request).explain_reference, actor, reference)
    return json_response(to_parameters(done))


def _patient(request: Request) -> tuple[Actor, str]:
    actor = actor_of(request)
    if actor.role != "patient" or not actor.patient_id:
        raise ForbiddenError("This page is for patients: it explains their own record")
    return actor, actor.patient_id


def _page(request: Request, template: str, **context: Any) -> Response:
    session = current_session(request)
    key: bytes = request.app.state.session_key
    return render(
        template, user=session.user if session else None, csrf=csrf_token(key, session), **context
    )


async def portal_list(request: Request) -> Response:
    """``GET /portal/explain``: what the patient can have explained."""
    actor, patient_id = _patient(request)
    ctx = request.app.state.services.for_actor(actor)
    groups = await run_in_threadpool(portal_items, ctx, patient_id)
    shown = [(heading, groups[kind]) for kind, heading in PORTAL_GROUPS]
    return _page(request, "portal_explain.html", title="Your record in plain words", groups=shown)


def marked(text: str, spans: list[tuple[int, int, str]]) -> list[tuple[str, str | None]]:
    """``text`` cut into (piece, tooltip) parts: a tooltip marks an explained phrase. The
    template escapes every piece and wraps the marked ones in ``<mark>``."""
    parts: list[tuple[str, str | None]] = []
    at = 0
    for start, end, tip in sorted(spans):
        if start < at or end <= start:
            continue  # overlapping spans: the first one wins
        parts += [(text[at:start], None), (text[start:end], tip)]
        at = end
    parts.append((text[at:], None))
    return [(piece, tip) for piece, tip in parts if piece]


def _explained_ranges(found: Explanation) -> list[tuple[int, int, str]]:
    """Where each span's words landed in the explanation (first occurrence after the last)."""
    ranges: list[tuple[int, int, str]] = []
    at = 0
    for span in sorted(found.spans, key=lambda s: s.start):
        where = found.text.find(span.explained, at) if span.explained else -1
        if where >= 0:
            ranges.append((where, where + len(span.explained), span.original))
            at = where + len(span.explained)
    return ranges


def _original_ranges(spans: tuple[Span, ...]) -> list[tuple[int, int, str]]:
    return [(s.start, s.end, s.explained) for s in spans]


async def portal_one(request: Request) -> Response:
    """``GET /portal/explain/{type}/{id}``: one record in plain words beside the original."""
    actor, _patient_id = _patient(request)
    reference = f"{request.path_params['type']}/{request.path_params['id']}"
    done = await run_in_threadpool(_explainer(request).explain_reference, actor, reference)
    found = done.explanation
    unknown = [f.split(":", 1)[1] for f in found.flags if f.startswith("unknown-abbreviation:")]
    return _page(
        request,
        "portal_explanation.html",
        title="In plain words",
        reference=reference,
        original=marked(found.original, _original_ranges(found.spans)),
        explained=marked(found.text, _explained_ranges(found)),
        grade_before=found.grade_original.flesch_kincaid,
        grade_after=found.grade_explained.flesch_kincaid,
        unknown=unknown,
        not_english="not-english" in found.flags,
        empty=not found.original.strip(),
    )


def routes() -> list[BaseRoute]:
    """The ``$explain`` operation (before the generic ``/fhir`` mount) and the portal pages."""
    return [
        Route("/fhir/$explain", explain_posted, methods=["POST"]),
        Route("/fhir/{type}/{id}/$explain", explain_stored, methods=["GET"]),
        Route("/portal/explain", portal_list, methods=["GET"]),
        Route("/portal/explain/{type}/{id}", portal_one, methods=["GET"]),
    ]
