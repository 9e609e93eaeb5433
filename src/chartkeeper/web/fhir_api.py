"""The FHIR REST API routes (http://hl7.org/fhir/R4/http.html): thin handlers that parse HTTP,
call one interaction and shape the response."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from urllib.parse import parse_qsl

from starlette.concurrency import run_in_threadpool
from starlette.convertors import Convertor, register_url_convertor
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from chartkeeper.core.errors import InvalidError, MethodNotAllowedError, NotFoundError
from chartkeeper.fhir.interactions import (
    capabilities,
    create,
    delete,
    history,
    patch,
    read,
    search,
    transaction,
    update,
)
from chartkeeper.fhir.interactions.context import FhirContext
from chartkeeper.fhir.operations import everything, validate
from chartkeeper.web.auth import actor_of, fhir_context
from chartkeeper.web.mpi_api import registration_report
from chartkeeper.web.request_body import FORM_TYPE, PATCH_TYPES, json_body, media_type, raw_body
from chartkeeper.web.responses import prefer, result_response

Handler = Callable[[Request], Awaitable[Response]]


def _ctx(request: Request) -> FhirContext:
    """The FHIR context guarded for the caller (401 when nobody is signed in)."""
    return fhir_context(request)


def _open_ctx(request: Request) -> FhirContext:
    """The context of requests that touch no patient data (the CapabilityStatement)."""
    context: FhirContext = request.app.state.services.fhir
    return context


def _limit(request: Request) -> int:
    limit: int = request.app.state.services.settings.max_body_bytes
    return limit


def _query(request: Request) -> list[tuple[str, str]]:
    return parse_qsl(request.url.query, keep_blank_values=True)


def _strict(request: Request) -> bool:
    return prefer(request, "handling") == "strict"


async def _search_items(request: Request) -> list[tuple[str, str]]:
    """POST _search takes form parameters and the URL's query together."""
    items = _query(request)
    if request.method == "POST":
        if media_type(request) not in (FORM_TYPE, ""):
            raise InvalidError(f"POST _search takes {FORM_TYPE}")
        body = (await raw_body(request, _limit(request))).decode("utf-8", errors="replace")
        items += parse_qsl(body, keep_blank_values=True)
    return items


async def metadata(request: Request) -> Response:
    result = await run_in_threadpool(capabilities.capabilities, _open_ctx(request))
    return result_response(request, result)


async def system(request: Request) -> Response:
    if request.method == "POST":
        body = await json_body(request, _limit(request))
        wants = prefer(request, "return") == "representation"
        result = await run_in_threadpool(transaction.process, _ctx(request), body, wants)
        return result_response(request, result)
    items = _query(request)
    result = await run_in_threadpool(search.search, _ctx(request), None, items, _strict(request))
    return result_response(request, result)


async def system_search(request: Request) -> Response:
    items = await _search_items(request)
    result = await run_in_threadpool(search.search, _ctx(request), None, items, _strict(request))
    return result_response(request, result)


async def system_history(request: Request) -> Response:
    result = await run_in_threadpool(history.history, _ctx(request), None, None, _query(request))
    return result_response(request, result)


async def type_level(request: Request) -> Response:
    kind = request.path_params["type"]
    ctx = _ctx(request)
    query = request.url.query
    if request.method == "GET":
        items = _query(request)
        result = await run_in_threadpool(search.search, ctx, kind, items, _strict(request))
        return result_response(request, result)
    if request.method == "POST":
        body = await json_body(request, _limit(request))
        condition = request.headers.get("if-none-exist")
        result = await run_in_threadpool(create.create, ctx, kind, body, condition)
        if kind == "Patient":
            result = await run_in_threadpool(registration_report, request, kind, result)
        return result_response(request, result, write=True)
    if request.method == "PUT":
        if not query:
            raise MethodNotAllowedError("PUT on a type needs search criteria or an id")
        body = await json_body(request, _limit(request))
        if_match = request.headers.get("if-match")
        result = await run_in_threadpool(update.update, ctx, kind, None, body, if_match, query)
        return result_response(request, result, write=True)
    if not query:
        raise MethodNotAllowedError("DELETE on a type needs search criteria")
    result = await run_in_threadpool(delete.delete, ctx, kind, None, query)
    return result_response(request, result)


async def type_search(request: Request) -> Response:
    items = await _search_items(request)
    kind = request.path_params["type"]
    result = await run_in_threadpool(search.search, _ctx(request), kind, items, _strict(request))
    return result_response(request, result)


async def type_history(request: Request) -> Response:
    kind = request.path_params["type"]
    result = await run_in_threadpool(history.history, _ctx(request), kind, None, _query(request))
    return result_response(request, result)


async def type_operation(request: Request) -> Response:
    operation = request.path_params["operation"]
    if operation != "validate" or request.method != "POST":
        raise NotFoundError(f"Operation ${operation} is not supported here")
    actor_of(request)  # $validate stores nothing, but the API is for signed-in callers only
    body = await json_body(request, _limit(request))
    result = validate.validate_operation(request.path_params["type"], body)
    return result_response(request, result)


async def instance(request: Request) -> Response:
    kind, ident = request.path_params["type"], request.path_params["id"]
    ctx = _ctx(request)
    if request.method == "GET":
        if request.app.state.inline_reads:
            return result_response(request, read.read(ctx, kind, ident))
        return result_response(request, await run_in_threadpool(read.read, ctx, kind, ident))
    if request.method == "PUT":
        body = await json_body(request, _limit(request))
        if_match = request.headers.get("if-match")
        result = await run_in_threadpool(update.update, ctx, kind, ident, body, if_match)
        if kind == "Patient":
            result = await run_in_threadpool(registration_report, request, kind, result)
        return result_response(request, result, write=True)
    if request.method == "PATCH":
        operations = await json_body(request, _limit(request), PATCH_TYPES)
        if_match = request.headers.get("if-match")
        result = await run_in_threadpool(patch.patch, ctx, kind, ident, operations, if_match)
        return result_response(request, result, write=True)
    result = await run_in_threadpool(delete.delete, ctx, kind, ident)
    return result_response(request, result)


async def instance_operation(request: Request) -> Response:
    kind, ident = request.path_params["type"], request.path_params["id"]
    operation = request.path_params["operation"]
    if kind == "Patient" and operation == "everything":
        items = await _search_items(request) if request.method == "POST" else _query(request)
        result = await run_in_threadpool(everything.everything, _ctx(request), ident, items)
        return result_response(request, result)
    raise NotFoundError(f"Operation ${operation} is not supported on {kind}/{ident}")


async def instance_history(request: Request) -> Response:
    kind, ident = request.path_params["type"], request.path_params["id"]
    result = await run_in_threadpool(history.history, _ctx(request), kind, ident, _query(request))
    return result_response(request, result)


async def version(request: Request) -> Response:
    params = request.path_params
    result = await run_in_threadpool(
        read.vread, _ctx(request), params["type"], params["id"], params["vid"]
    )
    return result_response(request, result)


class _InstanceType(Convertor[str]):
    """A resource type name other than AuditEvent (whose routes are audit_api's)."""

    regex = r"(?!AuditEvent/)[A-Z][A-Za-z]{1,63}"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


class _Id(Convertor[str]):
    """A FHIR id (http://hl7.org/fhir/R4/datatypes.html#id): never ``_search``, ``$op`` ..."""

    regex = r"[A-Za-z0-9\-\.]{1,64}"

    def convert(self, value: str) -> str:
        return value

    def to_string(self, value: str) -> str:
        return value


register_url_convertor("fhir_instance_type", _InstanceType())
register_url_convertor("fhir_id", _Id())


def instance_routes() -> list[BaseRoute]:
    """``/fhir/{type}/{id}``, the API's busiest route, for the app to match before all others.

    Starlette tries routes in order; read by id would otherwise be tried against some twenty
    patterns first. The converters make it unambiguous: a FHIR id never starts with ``_`` or
    ``$``, and AuditEvent keeps its own read-only routes.
    """
    path = "/fhir/{type:fhir_instance_type}/{id:fhir_id}"
    return [Route(path, instance, methods=["GET", "PUT", "PATCH", "DELETE"])]


def routes() -> list[BaseRoute]:
    """The FHIR routes, most specific first (``$op`` and ``_history`` before ``{id}``)."""
    r: list[tuple[str, Handler, list[str]]] = [
        ("/metadata", metadata, ["GET"]),
        ("/", system, ["GET", "POST"]),
        ("/_search", system_search, ["POST"]),
        ("/_history", system_history, ["GET"]),
        ("/{type}", type_level, ["GET", "POST", "PUT", "DELETE"]),
        ("/{type}/_search", type_search, ["POST"]),
        ("/{type}/_history", type_history, ["GET"]),
        ("/{type}/${operation}", type_operation, ["GET", "POST"]),
        ("/{type}/{id}/${operation}", instance_operation, ["GET", "POST"]),
        ("/{type}/{id}/_history", instance_history, ["GET"]),
        ("/{type}/{id}/_history/{vid}", version, ["GET"]),
        ("/{type}/{id}", instance, ["GET", "PUT", "PATCH", "DELETE"]),
    ]
    return [Route(path, handler, methods=methods) for path, handler, methods in r]
