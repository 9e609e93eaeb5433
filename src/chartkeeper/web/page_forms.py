"""What the workbench's work-queue pages share: checked POST forms, paging, patient names."""

from __future__ import annotations

from starlette.datastructures import FormData
from starlette.requests import Request

from chartkeeper.core.errors import ChartkeeperError, ForbiddenError, UnauthorizedError
from chartkeeper.web import sessions
from chartkeeper.web.auth import current_session, fhir_context
from chartkeeper.web.chart_view import human_name


async def checked_form(request: Request) -> FormData:
    """The posted form of a signed-in session, once its CSRF token is right."""
    session = current_session(request)
    if session is None:
        raise UnauthorizedError("Sign in again to continue")
    form = await request.form()
    key: bytes = request.app.state.session_key
    if not sessions.csrf_ok(key, session, str(form.get("csrf", ""))):
        raise ForbiddenError("This form has expired; reload the page and try again")
    return form


def offset_of(request: Request) -> int:
    """The ``offset`` query parameter, 0 when absent or not a plain number."""
    raw = request.query_params.get("offset", "0")
    # isascii(): str.isdigit() also takes '²', which int() refuses
    return int(raw) if raw.isascii() and raw.isdigit() and len(raw) < 10 else 0


def patient_names(request: Request, patient_ids: set[str]) -> dict[str, str]:
    """'Family, Given' of each Patient the user may read (each read audited as usual)."""
    ctx = fhir_context(request)
    found: dict[str, str] = {}
    with ctx.repository.reading() as tx:
        tx.prefetch([("Patient", patient_id) for patient_id in patient_ids])
        for patient_id in sorted(patient_ids):
            try:
                stored = tx.read("Patient", patient_id)
            except ChartkeeperError:
                continue
            if stored is not None and not stored.deleted:
                found[patient_id] = human_name(stored.resource())
    return found
