"""Parse the entries of a batch or transaction Bundle into requests we can carry out."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from chartkeeper.core.errors import InvalidError

METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE")
#: Transaction processing order (http://hl7.org/fhir/R4/http.html#trules).
ORDER = {"DELETE": 0, "POST": 1, "PUT": 2, "PATCH": 2, "GET": 3, "HEAD": 3}


@dataclass
class EntryRequest:
    """One entry's request: method, target, query, resource and conditions."""

    index: int
    method: str
    resource_type: str
    resource_id: str | None
    query: str | None
    url: str
    full_url: str | None
    resource: Any
    if_match: str | None
    if_none_exist: str | None

    @property
    def where(self) -> str:
        """The entry's path for error messages."""
        return f"Bundle.entry[{self.index}]"


def _split_url(url: str, where: str) -> tuple[str, str | None, str | None]:
    try:
        parts = urlsplit(url)
    except ValueError as error:  # e.g. 'http://[abc': an unterminated IPv6 host
        raise InvalidError(
            f"{where}.request.url '{url}' is not a valid URL: {error}", (f"{where}.request.url",)
        ) from None
    path = parts.path.strip("/")
    segments = [s for s in path.split("/") if s]
    if not segments:
        raise InvalidError(
            f"{where}.request.url '{url}' names no resource type", (f"{where}.request.url",)
        )
    resource_type = segments[0]
    resource_id = segments[1] if len(segments) > 1 else None
    return resource_type, resource_id, parts.query or None


def parse_entry(index: int, entry: Any) -> EntryRequest:
    """The request of ``Bundle.entry[index]``, or ``InvalidError`` naming what is wrong."""
    where = f"Bundle.entry[{index}]"
    if not isinstance(entry, dict):
        raise InvalidError(f"{where} must be a JSON object", (where,))
    request = entry.get("request")
    if not isinstance(request, dict):
        raise InvalidError(
            f"{where}.request is required in a batch or transaction", (f"{where}.request",)
        )
    method = request.get("method")
    if method not in METHODS:
        raise InvalidError(
            f"{where}.request.method must be one of {', '.join(METHODS)}",
            (f"{where}.request.method",),
        )
    url = request.get("url")
    if not isinstance(url, str) or not url:
        raise InvalidError(f"{where}.request.url is required", (f"{where}.request.url",))
    resource_type, resource_id, query = _split_url(url, where)
    resource = entry.get("resource")
    if method in ("POST", "PUT") and not isinstance(resource, dict):
        raise InvalidError(f"{where}.resource is required for {method}", (f"{where}.resource",))
    for key in ("ifMatch", "ifNoneExist"):
        if not isinstance(request.get(key), str | None):
            raise InvalidError(
                f"{where}.request.{key} must be a string", (f"{where}.request.{key}",)
            )
    full_url = entry.get("fullUrl")
    return EntryRequest(
        index=index,
        method=method,
        resource_type=resource_type,
        resource_id=resource_id,
        query=query,
        url=url,
        full_url=full_url if isinstance(full_url, str) else None,
        resource=resource,
        if_match=request.get("ifMatch"),
        if_none_exist=request.get("ifNoneExist"),
    )


def parse_bundle(body: Any) -> tuple[str, list[EntryRequest]]:
    """The Bundle's type (batch or transaction) and its parsed entries."""
    if not isinstance(body, dict) or body.get("resourceType") != "Bundle":
        raise InvalidError(
            "POST to the base URL takes a Bundle of type batch or transaction", ("Bundle",)
        )
    bundle_type = body.get("type")
    if bundle_type not in ("batch", "transaction"):
        raise InvalidError(
            f"Bundle.type must be batch or transaction, not {bundle_type!r}", ("Bundle.type",)
        )
    entries = body.get("entry") or []
    if not isinstance(entries, list):
        raise InvalidError("Bundle.entry must be an array", ("Bundle.entry",))
    return bundle_type, [
        parse_entry(i, e) for i, e in enumerate(entries)
    ] if bundle_type == "transaction" else [_lenient(i, e) for i, e in enumerate(entries)]


def _lenient(index: int, entry: Any) -> EntryRequest:
    """In a batch an unparseable entry fails alone; mark it for an error response later."""
    try:
        return parse_entry(index, entry)
    except InvalidError as error:
        return EntryRequest(
            index, "INVALID", "", None, None, str(error.message), None, error, None, None
        )
