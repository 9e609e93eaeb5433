"""What is still to happen and who looks after the patient: pending orders and referrals, code
status, advance directives and the care team of the clinician summary."""

from __future__ import annotations

from dataclasses import dataclass

from chartkeeper.summary.chart_elements import (
    Json,
    any_codes,
    author_of,
    code_of,
    codes,
    concept_text,
    date_of,
    dicts,
    instant,
    local_reference,
    quantity_text,
    references,
)
from chartkeeper.summary.clinician_items import Entry, is_disproved, newest_first, reference_of

#: http://hl7.org/fhir/R4/valueset-request-status.html: orders not yet done or given up.
PENDING = {"active", "draft", "on-hold"}
#: Statuses of a report, observation or procedure that fulfil the order they are based on.
FULFILLING = {"final", "amended", "corrected", "appended", "completed"}
#: Task statuses after which a referral is closed (http://hl7.org/fhir/R4/valueset-task-status.html).
TASK_CLOSED = {"completed", "cancelled", "rejected", "failed", "entered-in-error"}
#: SNOMED CT 3457005 "Patient referral", the ServiceRequest category of a referral.
REFERRAL_CATEGORY = "3457005"
#: LOINC 100822-6 "Cardiopulmonary resuscitation orders" carries the code status.
CODE_STATUS_CODES = {"100822-6"}
#: http://terminology.hl7.org/CodeSystem/consentscope "adr": advance directive consents.
DIRECTIVE_SCOPE = "adr"
#: LOINC 42348-3 "Advance directives" and 75320-2 "Advance directive" documents.
DIRECTIVE_DOCUMENTS = {"42348-3", "75320-2"}


@dataclass(frozen=True)
class Referral:
    """A referral to another service or organization; open until done, cancelled or its Task
    is closed."""

    reference: str
    title: str
    date: str
    author: str
    status: str
    performer: str
    open: bool
    task: str = ""
    task_status: str = ""


def _performers(request: Json, names: dict[str, str]) -> str:
    shown = []
    for performer in dicts(request.get("performer")):
        ref = local_reference(performer)
        shown.append(str(performer.get("display") or names.get(ref, ref)))
    return ", ".join(s for s in shown if s)


def is_referral(request: Json, home: str) -> bool:
    """A ServiceRequest is a referral when its category says so, or when it asks an
    organization other than the patient's managing organization (``home``) to perform it."""
    if REFERRAL_CATEGORY in any_codes(request.get("category")):
        return True
    texts = [concept_text(c).lower() for c in dicts(request.get("category"))]
    if any("referral" in t for t in texts):
        return True
    organizations = {
        r for r in references(request.get("performer")) if r.startswith("Organization/")
    }
    return bool(home) and bool(organizations - {home})


def fulfilled_orders(resources: list[Json]) -> set[str]:
    """The ``ServiceRequest/id`` that a final report, observation or completed procedure is
    ``basedOn``."""
    return {
        ref
        for resource in resources
        if resource.get("resourceType") in ("DiagnosticReport", "Observation", "Procedure")
        and code_of(resource, "status") in FULFILLING
        for ref in references(resource.get("basedOn"))
    }


def pending_orders(
    requests: list[Json], fulfilled: set[str], home: str, names: dict[str, str]
) -> list[Entry]:
    """Active, draft or held ServiceRequests (not referrals) that nothing has fulfilled yet."""
    found = [
        Entry(
            reference=reference_of(request),
            title=concept_text(request.get("code")),
            date=date_of(request),
            author=author_of(request, names),
            status=code_of(request, "status"),
            detail=_performers(request, names),
        )
        for request in requests
        if code_of(request, "status") in PENDING
        and reference_of(request) not in fulfilled
        and not is_referral(request, home)
    ]
    return newest_first(found)


def _tasks_by_focus(tasks: list[Json]) -> dict[str, Json]:
    """The newest Task about each resource (its ``focus``)."""
    latest: dict[str, Json] = {}
    for task in sorted(tasks, key=lambda t: instant(date_of(t))):
        focus = local_reference(task.get("focus"))
        if focus and code_of(task, "status") != "entered-in-error":
            latest[focus] = task
    return latest


def referrals(
    requests: list[Json], tasks: list[Json], fulfilled: set[str], home: str, names: dict[str, str]
) -> list[Referral]:
    """Referrals, open ones first, then newest first; a Task about one tracks its progress."""
    tracking = _tasks_by_focus(tasks)
    found = []
    for request in requests:
        if not is_referral(request, home) or is_disproved(request):
            continue
        reference = reference_of(request)
        task = tracking.get(reference, {})
        is_open = code_of(request, "status") in PENDING and reference not in fulfilled
        found.append(
            Referral(
                reference=reference,
                title=concept_text(request.get("code")),
                date=date_of(request),
                author=author_of(request, names),
                status=code_of(request, "status"),
                performer=_performers(request, names) or author_of(task, names),
                open=is_open and code_of(task, "status") not in TASK_CLOSED,
                task=reference_of(task) if task else "",
                task_status=code_of(task, "status"),
            )
        )
    return sorted(newest_first(found), key=lambda r: not r.open)


def code_status(observations: list[Json], names: dict[str, str]) -> Entry | None:
    """The newest code status Observation (LOINC 100822-6), if any."""
    found = [
        o
        for o in observations
        if codes(o.get("code")) & CODE_STATUS_CODES
        and code_of(o, "status") not in ("entered-in-error", "cancelled")
    ]
    if not found:
        return None
    latest = max(found, key=lambda o: instant(date_of(o)))
    return Entry(
        reference=reference_of(latest),
        title=concept_text(latest.get("code")),
        date=date_of(latest),
        author=author_of(latest, names),
        status=code_of(latest, "status"),
        detail=quantity_text(latest),
    )


def is_code_status(resource: Json) -> bool:
    """Whether a resource is a code status Observation."""
    return resource.get("resourceType") == "Observation" and bool(
        codes(resource.get("code")) & CODE_STATUS_CODES
    )


def _is_directive(resource: Json) -> bool:
    kind = resource.get("resourceType")
    if kind == "Consent":
        return DIRECTIVE_SCOPE in codes(resource.get("scope"))
    if kind == "DocumentReference":
        usable = code_of(resource, "status") not in ("superseded", "entered-in-error")
        return usable and bool(codes(resource.get("type")) & DIRECTIVE_DOCUMENTS)
    return False


def advance_directives(resources: list[Json], names: dict[str, str]) -> list[Entry]:
    """Advance directive Consents (scope ``adr``) and documents, newest first."""
    found = []
    for resource in resources:
        if not _is_directive(resource) or is_disproved(resource):
            continue
        kind_of = "category" if resource.get("resourceType") == "Consent" else "type"
        concepts = resource.get(kind_of)
        concept = concepts[0] if isinstance(concepts, list) and concepts else concepts
        found.append(
            Entry(
                reference=reference_of(resource),
                title=concept_text(concept) or "Advance directive",
                date=date_of(resource),
                author=author_of(resource, names),
                status=code_of(resource, "status"),
                detail=str(resource.get("description") or ""),
            )
        )
    return newest_first(found)
