"""The MPI over HTTP: ``Patient/$match``, ``$merge`` and ``$unmerge``, and the review-queue API.

http://hl7.org/fhir/R4/patient-operation-match.html: the input Patient in ``resource``,
``onlyCertainMatches`` and ``count``; the answer a searchset Bundle whose entries carry
``search.score`` and the match-grade extension. ``$merge`` takes the parameter names of the
later FHIR Patient ``$merge`` (``source-patient`` folds into ``target-patient``), plus ``note``
and ``override``; ``$unmerge`` undoes the standing merge of ``source-patient``.
The queue API (``/api/mpi/...``) is plain JSON for the workbench and scripts.
"""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from starlette.concurrency import run_in_threadpool
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from chartkeeper.core.errors import InvalidError
from chartkeeper.core.ids import new_id
from chartkeeper.fhir.interactions.context import Result
from chartkeeper.mpi.merge import MergeOutcome
from chartkeeper.mpi.pairs import Pair
from chartkeeper.mpi.service import MasterPatientIndex, Match
from chartkeeper.web.auth import actor_of
from chartkeeper.web.params import parameters, query_int
from chartkeeper.web.request_body import json_body
from chartkeeper.web.responses import json_response

MATCH_GRADE = "http://hl7.org/fhir/StructureDefinition/match-grade"


def _mpi(request: Request) -> MasterPatientIndex:
    mpi: MasterPatientIndex = request.app.state.services.mpi
    return mpi


def _limit(request: Request) -> int:
    limit: int = request.app.state.services.settings.max_body_bytes
    return limit


def _base(request: Request) -> str:
    base: str = request.app.state.services.options.base_url
    return base


def _boolean(values: dict[str, Any], name: str) -> bool:
    value = values.get(name, False)
    if not isinstance(value, bool):
        raise InvalidError(f"'{name}' must be a valueBoolean", (name,))
    return value


def _count(values: dict[str, Any]) -> int | None:
    value = values.get("count")
    if value is None:
        return None
    if not isinstance(value, int) or isinstance(value, bool) or value < 1:
        raise InvalidError("'count' must be a positive valueInteger", ("count",))
    return min(value, 100)


def _patient_id(values: dict[str, Any], name: str) -> str:
    value = values.get(name)
    reference = value.get("reference") if isinstance(value, dict) else None
    if not isinstance(reference, str) or not reference.startswith("Patient/"):
        raise InvalidError(f"'{name}' must be a valueReference to Patient/[id]", (name,))
    return reference.removeprefix("Patient/").split("/", 1)[0]


def _note(values: dict[str, Any]) -> str | None:
    note = values.get("note")
    if note is not None and not isinstance(note, str):
        raise InvalidError("'note' must be a valueString", ("note",))
    return note


def match_bundle(base: str, found: list[Match]) -> dict[str, Any]:
    """The $match answer: a searchset Bundle, best first."""
    entries = [
        {
            "fullUrl": f"{base}/Patient/{match.resource['id']}",
            "resource": match.resource,
            "search": {
                "extension": [{"url": MATCH_GRADE, "valueCode": match.score.grade}],
                "mode": "match",
                "score": round(match.score.probability, 4),
            },
        }
        for match in found
    ]
    return {
        "resourceType": "Bundle",
        "id": new_id(),
        "type": "searchset",
        "total": len(entries),
        "entry": entries,
    }


async def match(request: Request) -> Response:
    """``POST /fhir/Patient/$match``."""
    actor = actor_of(request)
    values = parameters(await json_body(request, _limit(request)))
    resource = values.get("resource")
    if not isinstance(resource, dict):
        raise InvalidError("The 'resource' parameter (a Patient) is required", ("resource",))
    only_certain, count = _boolean(values, "onlyCertainMatches"), _count(values)
    found = await run_in_threadpool(
        _mpi(request).match, actor, resource, only_certain=only_certain, count=count
    )
    return json_response(match_bundle(_base(request), found))


def merge_parameters(outcome: MergeOutcome, message: str) -> dict[str, Any]:
    """What ``$merge`` and ``$unmerge`` answer."""
    return {
        "resourceType": "Parameters",
        "parameter": [
            {
                "name": "outcome",
                "resource": {
                    "resourceType": "OperationOutcome",
                    "issue": [
                        {"severity": "information", "code": "informational", "diagnostics": message}
                    ],
                },
            },
            {"name": "merge", "valueString": outcome.merge_id},
            {"name": "result", "valueReference": {"reference": f"Patient/{outcome.survivor_id}"}},
            {
                "name": "provenance",
                "valueReference": {"reference": f"Provenance/{outcome.provenance_id}"},
            },
            *(
                {"name": "changed", "valueReference": {"reference": reference}}
                for reference in outcome.changed
            ),
        ],
    }


async def merge(request: Request) -> Response:
    """``POST /fhir/Patient/$merge``: fold ``source-patient`` into ``target-patient``."""
    actor = actor_of(request)
    values = parameters(await json_body(request, _limit(request)))
    source, target = _patient_id(values, "source-patient"), _patient_id(values, "target-patient")
    outcome = await run_in_threadpool(
        lambda: _mpi(request).merge(
            actor,
            target,
            source,
            note=_note(values),
            override=_boolean(values, "override"),
        )
    )
    message = (
        f"Patient/{source} merged into Patient/{target}: "
        f"{len(outcome.changed) - 2} records re-pointed"
    )
    return json_response(merge_parameters(outcome, message))


async def unmerge(request: Request) -> Response:
    """``POST /fhir/Patient/$unmerge``: undo the standing merge of ``source-patient``."""
    actor = actor_of(request)
    values = parameters(await json_body(request, _limit(request)))
    source = _patient_id(values, "source-patient")
    outcome = await run_in_threadpool(
        lambda: _mpi(request).unmerge_patient(actor, source, note=_note(values))
    )
    message = f"Patient/{source} separated from Patient/{outcome.survivor_id} again"
    return json_response(merge_parameters(outcome, message))


# -- the review-queue API ------------------------------------------------------------------


def pair_json(pair: Pair) -> dict[str, Any]:
    """A pair for the API."""
    return asdict(pair)


async def queue(request: Request) -> Response:
    """``GET /api/mpi/pairs[?status=open,deferred&_count=&_offset=]``."""
    actor = actor_of(request)
    statuses = tuple(s for s in request.query_params.get("status", "open,deferred").split(",") if s)
    limit = query_int(request, "_count", 50, 1, 500)
    offset = query_int(request, "_offset", 0, 0, 10**9)
    found, total = await run_in_threadpool(_mpi(request).queue, actor, statuses, limit, offset)
    return json_response({"total": total, "pairs": [pair_json(p) for p in found]})


async def pair(request: Request) -> Response:
    """``GET /api/mpi/pairs/{id}``: the pair, both charts side by side, the explanation."""
    actor = actor_of(request)
    shown = await run_in_threadpool(_mpi(request).side_by_side, actor, request.path_params["id"])
    return json_response({"pair": pair_json(shown["pair"]), "charts": shown["charts"]})


async def decide(request: Request) -> Response:
    """``POST /api/mpi/pairs/{id}/decision`` with ``decision`` (merge, distinct, defer),
    ``note``, ``survivor`` (a Patient id, for merge) and ``override``."""
    actor = actor_of(request)
    body = await json_body(request, _limit(request))
    if not isinstance(body, dict):
        raise InvalidError("The body must be a JSON object with 'decision'", ("$",))
    decision, note, survivor = body.get("decision"), body.get("note"), body.get("survivor")
    override = body.get("override", False)
    if not isinstance(decision, str):
        raise InvalidError("'decision' must be merge, distinct or defer", ("decision",))
    if not isinstance(note, str | None) or not isinstance(survivor, str | None):
        raise InvalidError("'note' and 'survivor' must be strings", ("note",))
    if not isinstance(override, bool):
        raise InvalidError("'override' must be true or false", ("override",))
    done = await run_in_threadpool(
        lambda: _mpi(request).decide(
            actor,
            request.path_params["id"],
            decision,
            note=note,
            survivor_id=survivor,
            override=override,
        )
    )
    if "merge" in done:
        done = {**done, "merge": asdict(done["merge"])}
    return json_response(done)


async def merges(request: Request) -> Response:
    """``GET /api/mpi/merges``: the latest merges."""
    actor = actor_of(request)
    return json_response(await run_in_threadpool(_mpi(request).merges, actor))


async def start_job(request: Request) -> Response:
    """``POST /api/mpi/jobs`` with ``{"kind": "dedupe"}`` (or train, reindex, overlays)."""
    actor = actor_of(request)
    body = await json_body(request, _limit(request))
    kind = body.get("kind") if isinstance(body, dict) else None
    if not isinstance(kind, str):
        raise InvalidError("The body must be a JSON object with 'kind'", ("kind",))
    job_id = await run_in_threadpool(_mpi(request).start_job, actor, kind)
    return json_response({"id": job_id}, 202, {"Location": f"/api/mpi/jobs/{job_id}"})


async def job(request: Request) -> Response:
    """``GET /api/mpi/jobs/{id}``: a job's progress."""
    actor = actor_of(request)
    found = await run_in_threadpool(_mpi(request).job, actor, request.path_params["id"])
    return json_response(found.to_json())


async def overlays(request: Request) -> Response:
    """``GET /api/mpi/overlays``: charts flagged as possibly holding two people."""
    actor = actor_of(request)
    status = request.query_params.get("status", "open")
    return json_response(await run_in_threadpool(_mpi(request).overlays, actor, status))


def registration_report(request: Request, kind: str, result: Result) -> Result:
    """Tell whoever wrote a Patient about possible duplicates (``X-Possible-Duplicates``):
    those the caller may see, with their grade and probability."""
    location = result.headers.get("Location", "")
    if kind != "Patient" or result.status not in (200, 201) or "/Patient/" not in location:
        return result
    patient_id = location.rsplit("/Patient/", 1)[1].split("/", 1)[0]
    found = _mpi(request).reported_duplicates(actor_of(request), patient_id)
    if found:
        result.headers["X-Possible-Duplicates"] = ", ".join(
            f"Patient/{other}; grade={pair.grade}; probability={pair.probability:.3f}"
            for other, pair in found
        )
    return result


def routes() -> list[BaseRoute]:
    """The MPI routes (mounted before ``/fhir``, so the operations win)."""
    return [
        Route("/fhir/Patient/$match", match, methods=["POST"]),
        Route("/fhir/Patient/$merge", merge, methods=["POST"]),
        Route("/fhir/Patient/$unmerge", unmerge, methods=["POST"]),
        Route("/api/mpi/pairs", queue, methods=["GET"]),
        Route("/api/mpi/pairs/{id}", pair, methods=["GET"]),
        Route("/api/mpi/pairs/{id}/decision", decide, methods=["POST"]),
        Route("/api/mpi/merges", merges, methods=["GET"]),
        Route("/api/mpi/jobs", start_job, methods=["POST"]),
        Route("/api/mpi/jobs/{id}", job, methods=["GET"]),
        Route("/api/mpi/overlays", overlays, methods=["GET"]),
    ]
