"""The workbench pages: patient search and the chart, server-rendered with Jinja2."""

from __future__ import annotations

from importlib import resources as package_files
from typing import Any
from urllib.parse import urlencode

from jinja2 import Environment, FileSystemLoader, select_autoescape
from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import HTMLResponse, RedirectResponse, Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from chartkeeper.billing.service import BILLING_ROLES, CODING_ROLES
from chartkeeper.core.errors import ChartkeeperError, ForbiddenError, NotFoundError
from chartkeeper.fhir.interactions import search
from chartkeeper.fhir.interactions.context import FhirContext
from chartkeeper.mpi.service import MPI_ROLES
from chartkeeper.summary.clinician import ClinicianSummary, build_summary, read_record
from chartkeeper.web.auth import current_session, fhir_context
from chartkeeper.web.chart_view import SECTIONS, Chart, build_chart, human_name
from chartkeeper.web.sessions import csrf_token

_ROOT = package_files.files("chartkeeper.web")
_templates = Environment(
    loader=FileSystemLoader(str(_ROOT.joinpath("templates"))),
    autoescape=select_autoescape(["html"]),
)
_templates.globals["human_name"] = human_name
SEARCH_FIELDS = (("name", "Name"), ("birthdate", "Birth date"), ("identifier", "MRN or identifier"))
PAGE_SIZE = 25
CSP = "default-src 'self'; style-src 'self'; img-src 'self' data:; frame-ancestors 'none'"


def render(template: str, status: int = 200, **context: Any) -> HTMLResponse:
    """A page with the security headers every page carries."""
    html = _templates.get_template(template).render(**context)
    headers = {"Content-Security-Policy": CSP, "X-Content-Type-Options": "nosniff"}
    return HTMLResponse(html, status, headers=headers)


def error_page(request: Request, error: ChartkeeperError) -> Response:
    """An error as a page that says what went wrong and what to do."""
    return render("error.html", error.status, error=error, title="Something went wrong")


def _ctx(request: Request) -> FhirContext:
    """The signed-in user's guarded context (401 → the sign-in page)."""
    return fhir_context(request)


def page_context(request: Request) -> dict[str, Any]:
    """What every signed-in page shows: who is signed in, the sign-out form's token, and
    which work queues the navigation offers (duplicates to HIM technicians, billing to coders
    and billers): the user's role is looked up once."""
    session = current_session(request)
    key: bytes = request.app.state.session_key
    role = _role(request, session.user) if session is not None else None
    return {
        "user": session.user if session else None,
        "csrf": csrf_token(key, session),
        "nav_mpi": role in MPI_ROLES,
        "nav_billing": role in BILLING_ROLES | CODING_ROLES,
    }


def _role(request: Request, name: str) -> str | None:
    try:
        role: str | None = request.app.state.services.security.identity.user_actor(name).role
    except ChartkeeperError:
        return None
    return role


async def home(_request: Request) -> Response:
    return RedirectResponse("/patients", 302)


def _patient_rows(bundle: dict[str, Any]) -> list[dict[str, Any]]:
    return [
        e["resource"]
        for e in bundle.get("entry", [])
        if e.get("resource", {}).get("resourceType") == "Patient"
    ]


async def patients(request: Request) -> Response:
    filled = {k: request.query_params.get(k, "").strip() for k, _ in SEARCH_FIELDS}
    items = [(k, v) for k, v in filled.items() if v]
    raw_offset = request.query_params.get("offset", "0")
    # isascii(): str.isdigit() also takes '²', which int() refuses
    usable = raw_offset.isascii() and raw_offset.isdigit() and len(raw_offset) < 10
    offset = int(raw_offset) if usable else 0
    items += [("_count", str(PAGE_SIZE)), ("_offset", str(offset)), ("_sort", "family,given")]
    context = _ctx(request)
    result = await run_in_threadpool(search.search, context, "Patient", items, False, False)
    bundle = result.body or {}
    total = int(bundle.get("total", 0))
    rows = _patient_rows(bundle)
    pager = {
        "first": offset + 1 if rows else 0,
        "last": offset + len(rows),
        "previous": _page_url(filled, offset - PAGE_SIZE) if offset > 0 else None,
        "next": _page_url(filled, offset + PAGE_SIZE) if offset + len(rows) < total else None,
    }
    return render(
        "patients.html",
        **page_context(request),
        title="Find a patient",
        fields=SEARCH_FIELDS,
        filled=filled,
        patients=rows,
        total=total,
        searched=any(filled.values()),
        pager=pager,
    )


def _page_url(filled: dict[str, str], offset: int) -> str:
    query = urlencode([*((k, v) for k, v in filled.items() if v), ("offset", max(0, offset))])
    return f"/patients?{query}"


def _load_chart(ctx: FhirContext, patient_id: str) -> tuple[Chart, ClinicianSummary]:
    """The full sections and the clinician summary, from one guarded (audited) read."""
    record = read_record(ctx, patient_id, types=None)
    return build_chart(record.patient, record.resources), build_summary(record)


async def chart(request: Request) -> Response:
    patient_id = request.path_params["id"]
    try:
        chart_data, summary = await run_in_threadpool(_load_chart, _ctx(request), patient_id)
    except (NotFoundError, ForbiddenError) as error:
        from chartkeeper.web.break_glass_pages import refused_chart  # it imports this module

        return refused_chart(request, patient_id, error)
    return render(
        "chart.html",
        **page_context(request),
        title=f"Chart of {human_name(chart_data.patient)}",
        chart=chart_data,
        summary=summary,
        sections=SECTIONS,
    )


def routes() -> list[BaseRoute]:
    """The workbench routes and its static files."""
    static = StaticFiles(directory=str(_ROOT.joinpath("static")))
    return [
        Route("/", home),
        Route("/patients", patients),
        Route("/patients/{id}", chart),
        Mount("/static", static, name="static"),
    ]
