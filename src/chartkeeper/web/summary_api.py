"""The emergency summary: ``Patient/{id}/$summary`` (an IPS document) and the workbench's
one-screen emergency view built from the same summary.

- ``GET``/``POST /fhir/Patient/{id}/$summary``: the International Patient Summary
  (http://hl7.org/fhir/uv/ips/OperationDefinition-summary.html) as a document Bundle. An
  unknown patient, or one the caller may not see, is the 404 of a read of a missing record.
  A POST may carry a Parameters resource; none of its parameters change the document yet.
- ``GET /patients/{id}/emergency``: code status, allergies (criticality and reaction first),
  active problems, active medications with their sig, the latest vital signs and key labs
  with abnormal flags, care team and contacts; every line links to its source record. A
  clinician without a treatment relationship is offered break-the-glass here, and lands back
  on this view once the grant is declared; the grant and every look under it are audited.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import orjson
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import BaseRoute, Route

from chartkeeper.core.clock import format_instant
from chartkeeper.core.errors import (
    ChartkeeperError,
    ForbiddenError,
    InvalidError,
    NotFoundError,
    UnsupportedMediaError,
)
from chartkeeper.fhir.interactions.context import FhirContext
from chartkeeper.privacy.actor import CLINICAL_ROLES
from chartkeeper.privacy.break_glass import BreakGlassStore
from chartkeeper.summary.chart_elements import concept_text, when
from chartkeeper.summary.ips import (
    PatientSummary,
    build_document,
    read_record,
    summarise,
)
from chartkeeper.summary.ips_sections import Resource, is_code_status, medication_name, reactions
from chartkeeper.summary.narrative import (
    abnormal_flag,
    dosage_text,
    status_code,
    value_text,
)
from chartkeeper.web.auth import actor_of, fhir_context
from chartkeeper.web.break_glass_pages import offer_page
from chartkeeper.web.chart_view import human_name
from chartkeeper.web.page_forms import checked_form
from chartkeeper.web.request_body import JSON_TYPES, media_type, raw_body
from chartkeeper.web.responses import json_response
from chartkeeper.web.workbench import page_context, render

#: Read beside the IPS types for the view's care-team card.
VIEW_TYPES = ("CareTeam",)
KEY_LABS = 12


@dataclass
class Line:
    """One line of the emergency view, linked to its source record."""

    reference: str
    title: str
    detail: str = ""
    date: str = ""
    flag: str = ""


@dataclass
class EmergencyView:
    """What the one-screen view shows, most urgent first."""

    patient: Resource
    code_status: Line | None = None
    allergies: list[Line] = field(default_factory=list)
    allergy_note: str = ""
    problems: list[Line] = field(default_factory=list)
    problem_note: str = ""
    medications: list[Line] = field(default_factory=list)
    medication_note: str = ""
    vitals: list[Line] = field(default_factory=list)
    labs: list[Line] = field(default_factory=list)
    contacts: list[Line] = field(default_factory=list)


def _ref(resource: Resource) -> str:
    return f"{resource.get('resourceType')}/{resource.get('id')}"


def _listed(summary: PatientSummary, key: str) -> tuple[list[Resource], str]:
    content = summary.section(key)
    if content is None:
        return [], ""
    return content.resources, content.empty_text


def _observation_line(o: Resource) -> Line:
    title = concept_text(o.get("code"))
    value = value_text(o) if o.get("resourceType") == "Observation" else "report"
    observed = when(o, "effectiveDateTime", "effectivePeriod", "issued")[:10]
    return Line(_ref(o), title, value, observed, abnormal_flag(o))


def _allergy_line(a: Resource) -> Line:
    critical = "High criticality" if a.get("criticality") == "high" else ""
    return Line(_ref(a), concept_text(a.get("code")), reactions(a), "", critical)


def _held(medication: Resource) -> str:
    return "On hold" if medication.get("status") == "on-hold" else ""


def _contacts(summary: PatientSummary) -> list[Line]:
    patient = summary.patient
    lines: list[Line] = []
    for contact in patient.get("contact") or []:
        name = contact.get("name") or {}
        who = name.get("text") or " ".join(
            [*(g for g in name.get("given") or [] if isinstance(g, str)), name.get("family", "")]
        )
        relation = ", ".join(concept_text(r) for r in contact.get("relationship") or [])
        phones = ", ".join(str(t.get("value", "")) for t in contact.get("telecom") or [])
        lines.append(Line(_ref(patient), who.strip() or "Contact", relation, phones))
    for doctor in patient.get("generalPractitioner") or []:
        label = str(doctor.get("display") or doctor.get("reference") or "")
        lines.append(Line(_ref(patient), label, "GP"))  # as the Patient record names them
    own = _ref(patient)
    for team in summary.extra.get("CareTeam", []):
        if team.get("status") not in (None, "active", "proposed"):
            continue
        for member in team.get("participant") or []:
            target = member.get("member") or {}
            if target.get("reference") == own:
                continue  # the patient as a member of their own care team
            role = ", ".join(concept_text(r) for r in member.get("role") or [])
            label = str(target.get("display") or target.get("reference") or "")
            lines.append(Line(_ref(team), label, role or "Care team"))
    return lines


def emergency_view(summary: PatientSummary) -> EmergencyView:
    """The view of a summary: the same selection as the IPS document, shaped for a screen."""
    view = EmergencyView(summary.patient)
    directives, _ = _listed(summary, "advance_directives")
    orders = [d for d in directives if is_code_status(d)]
    if orders:
        view.code_status = _observation_line(orders[0])
    allergies, view.allergy_note = _listed(summary, "allergies")
    view.allergies = [_allergy_line(a) for a in allergies]
    problems, view.problem_note = _listed(summary, "problems")
    view.problems = [
        Line(_ref(p), concept_text(p.get("code")), status_code(p.get("clinicalStatus")),
             when(p, "onsetDateTime", "onsetPeriod", "recordedDate")[:10])
        for p in problems
    ]  # fmt: skip
    medications, view.medication_note = _listed(summary, "medications")
    view.medications = [
        Line(_ref(m), medication_name(m), dosage_text(m), "", _held(m)) for m in medications
    ]
    vitals, _ = _listed(summary, "vital_signs")
    view.vitals = [_observation_line(o) for o in vitals]
    results, _ = _listed(summary, "results")
    labs = [_observation_line(o) for o in results if o.get("resourceType") == "Observation"]
    view.labs = sorted(labs, key=lambda line: not line.flag)[:KEY_LABS]  # abnormal first
    view.contacts = _contacts(summary)
    return view


# -- the FHIR operation ------------------------------------------------------------------------


def _document(ctx: FhirContext, patient_id: str) -> Resource:
    patient, record, medications = read_record(ctx, patient_id)
    summary = summarise(patient, record, medications)
    return build_document(summary, ctx.options.base_url, format_instant(ctx.clock.now()))


async def _check_parameters(request: Request) -> None:
    """A POST may be empty or carry a Parameters resource (none of whose parameters changes
    the document yet)."""
    if request.method != "POST":
        return
    limit: int = request.app.state.services.settings.max_body_bytes
    data = await raw_body(request, limit)
    if not data.strip():
        return
    if media_type(request) not in JSON_TYPES:
        raise UnsupportedMediaError(f"A $summary body is JSON: one of {', '.join(JSON_TYPES)}")
    try:
        body = orjson.loads(data)
    except orjson.JSONDecodeError as error:
        raise InvalidError(f"The request body is not valid JSON: {error}", ("$",)) from None
    if not isinstance(body, dict) or body.get("resourceType") != "Parameters":
        raise InvalidError("A $summary body must be a Parameters resource", ("$",))


async def summary_operation(request: Request) -> Response:
    """``GET``/``POST /fhir/Patient/{id}/$summary``: the IPS document Bundle."""
    ctx = fhir_context(request)
    await _check_parameters(request)
    document = await run_in_threadpool(_document, ctx, request.path_params["id"])
    return json_response(document)


# -- the workbench view ------------------------------------------------------------------------


def _load_view(ctx: FhirContext, patient_id: str) -> EmergencyView:
    patient, record, medications = read_record(ctx, patient_id, VIEW_TYPES)
    return emergency_view(summarise(patient, record, medications))


def _offer(
    request: Request, patient_id: str, error: ChartkeeperError, reason: str = ""
) -> Response:
    return offer_page(request, patient_id, error, reason, template="emergency.html", view=None)


async def emergency_page(request: Request) -> Response:
    """``GET /patients/{id}/emergency``: the one-screen emergency view."""
    patient_id = request.path_params["id"]
    try:
        view = await run_in_threadpool(_load_view, fhir_context(request), patient_id)
    except (NotFoundError, ForbiddenError) as error:
        actor = actor_of(request)
        wants_page = "text/html" in request.headers.get("accept", "")
        if not wants_page or actor.kind != "user" or actor.role not in CLINICAL_ROLES:
            raise
        return _offer(request, patient_id, error)
    return render(
        "emergency.html",
        **page_context(request),
        title=f"Emergency view of {human_name(view.patient)}",
        view=view,
        patient_id=patient_id,
    )


async def declare(request: Request) -> Response:
    """``POST /patients/{id}/emergency/break-the-glass``: declare, then back to the view."""
    patient_id = request.path_params["id"]
    form = await checked_form(request)
    reason = str(form.get("reason", ""))
    store: BreakGlassStore = request.app.state.services.break_glass
    try:
        await run_in_threadpool(store.declare, actor_of(request), patient_id, reason)
    except ChartkeeperError as error:
        if error.status != 400:
            raise
        return _offer(request, patient_id, error, reason)
    return RedirectResponse(f"/patients/{patient_id}/emergency", 303)


def routes() -> list[BaseRoute]:
    """``$summary`` (before the generic ``/fhir`` mount) and the emergency view's pages."""
    return [
        Route("/fhir/Patient/{id}/$summary", summary_operation, methods=["GET", "POST"]),
        Route("/patients/{id}/emergency", emergency_page, methods=["GET"]),
        Route("/patients/{id}/emergency/break-the-glass", declare, methods=["POST"]),
    ]
