"""batch and transaction (http://hl7.org/fhir/R4/http.html#transaction).

A transaction is atomic: every entry is carried out in one database transaction, in the spec's
order (DELETE, POST, PUT/PATCH, GET), after ids are assigned and references rewritten; any
failure rolls all of it back and names the entry. A batch carries out each entry on its own.
"""

from __future__ import annotations

import base64
import binascii
from typing import Any

import orjson

from chartkeeper.core.errors import ChartkeeperError, InvalidError, PreconditionFailedError
from chartkeeper.core.ids import new_id
from chartkeeper.fhir.bundles import bundle
from chartkeeper.fhir.interactions import conditional
from chartkeeper.fhir.interactions.bundle_entries import ORDER, EntryRequest, parse_bundle
from chartkeeper.fhir.interactions.context import FhirContext, Result
from chartkeeper.fhir.interactions.create import create_in
from chartkeeper.fhir.interactions.delete import conditional_delete_in, delete_in
from chartkeeper.fhir.interactions.entry_results import (
    deleted_entry,
    error_entry,
    get_entry,
    written_entry,
)
from chartkeeper.fhir.interactions.patch import patch_in
from chartkeeper.fhir.interactions.references import rewrite
from chartkeeper.fhir.interactions.update import update_in
from chartkeeper.fhir.repository import ResourceTransaction
from chartkeeper.fhir.validation import require_resource_type


def process(ctx: FhirContext, body: Any, return_resources: bool = False) -> Result:
    """POST [base] with a batch or transaction Bundle."""
    bundle_type, entries = parse_bundle(body)
    if bundle_type == "transaction":
        responses = _transaction(ctx, entries, return_resources)
    else:
        responses = [_batch_entry(ctx, e, return_resources) for e in entries]
    return Result(200, body=bundle(f"{bundle_type}-response", responses))


def _batch_entry(ctx: FhirContext, entry: EntryRequest, return_resources: bool) -> dict[str, Any]:
    if entry.method == "INVALID":
        assert isinstance(entry.resource, ChartkeeperError)
        return error_entry(entry.resource)
    try:
        require_resource_type(entry.resource_type)  # as a transaction does, before any query
        if entry.method in ("GET", "HEAD"):
            with ctx.repository.reading() as tx:
                return get_entry(ctx, tx, entry)
        with ctx.repository.transaction() as tx:
            ids = _assign_ids(ctx, tx, [entry])
            return _write(ctx, tx, entry, ids, return_resources)
    except ChartkeeperError as error:
        return error_entry(error)


def _transaction(
    ctx: FhirContext, entries: list[EntryRequest], return_resources: bool
) -> list[dict[str, Any]]:
    _check_unique_full_urls(entries)
    results: dict[int, dict[str, Any]] = {}
    with ctx.repository.transaction() as tx:
        current: EntryRequest | None = None
        try:
            for entry in entries:
                current = entry
                require_resource_type(entry.resource_type)
            tx.prefetch(_targets(entries))
            ids = _assign_ids(ctx, tx, entries)
            mapping = _mapping(entries, ids)
            for entry in sorted(entries, key=lambda e: ORDER[e.method]):
                current = entry
                if isinstance(entry.resource, dict):
                    rewrite(entry.resource, mapping, lambda r: _resolve(ctx, tx, r))
                results[entry.index] = _write(ctx, tx, entry, ids, return_resources)
        except ChartkeeperError as error:
            raise _located(error, current) from None
    return [results[e.index] for e in entries]


def _located(error: ChartkeeperError, entry: EntryRequest | None) -> ChartkeeperError:
    if entry is None or error.message.startswith("Bundle.entry"):
        return error
    error.message = f"{entry.where}: {error.message}"
    if not error.expression:
        error.expression = (entry.where,)
    return error


def _check_unique_full_urls(entries: list[EntryRequest]) -> None:
    seen: set[str] = set()
    for entry in entries:
        if entry.full_url and entry.method in ("POST", "PUT"):
            if entry.full_url in seen:
                raise InvalidError(
                    f"{entry.where}.fullUrl '{entry.full_url}' appears twice in the transaction",
                    (f"{entry.where}.fullUrl",),
                )
            seen.add(entry.full_url)


def _assign_ids(
    ctx: FhirContext, tx: ResourceTransaction, entries: list[EntryRequest]
) -> dict[int, str]:
    """The id each POST/PUT entry will have: new, matched by its condition, or from its URL."""
    ids: dict[int, str] = {}
    for entry in entries:
        if entry.method == "POST":
            found = []
            if entry.if_none_exist:
                found = conditional.matches(ctx, tx, entry.resource_type, entry.if_none_exist)
            ids[entry.index] = found[0].id if len(found) == 1 else new_id()
        elif entry.method == "PUT" and entry.resource_id:
            ids[entry.index] = entry.resource_id
        elif entry.method == "PUT" and entry.query:
            found = conditional.matches(ctx, tx, entry.resource_type, entry.query)
            if len(found) > 1:  # as PUT [type]?criteria alone (http.html#cond-update)
                raise PreconditionFailedError(
                    f"{entry.where}: conditional update criteria '{entry.query}' match more "
                    f"than one {entry.resource_type}",
                    (f"{entry.where}.request.url",),
                )
            if len(found) == 1:
                ids[entry.index] = found[0].id
            elif not found:
                given = entry.resource.get("id") if isinstance(entry.resource, dict) else None
                ids[entry.index] = given if isinstance(given, str) else new_id()
    return ids


def _targets(entries: list[EntryRequest]) -> list[tuple[str, str]]:
    """The resources that entries name by id (their current versions will be read)."""
    return [
        (e.resource_type, e.resource_id)
        for e in entries
        if e.resource_id and e.method in ("PUT", "PATCH", "DELETE")
    ]


def _mapping(entries: list[EntryRequest], ids: dict[int, str]) -> dict[str, str]:
    return {
        e.full_url: f"{e.resource_type}/{ids[e.index]}"
        for e in entries
        if e.full_url and e.index in ids
    }


def _resolve(ctx: FhirContext, tx: ResourceTransaction, reference: str) -> str | None:
    resource_type, _, query = reference.partition("?")
    require_resource_type(resource_type)
    found = conditional.matches(ctx, tx, resource_type, query)
    return f"{resource_type}/{found[0].id}" if len(found) == 1 else None


def _write(
    ctx: FhirContext,
    tx: ResourceTransaction,
    entry: EntryRequest,
    ids: dict[int, str],
    return_resources: bool,
) -> dict[str, Any]:
    prefix = f"{entry.where}.resource"
    if entry.method == "POST":
        stored, created = create_in(
            ctx,
            tx,
            entry.resource_type,
            entry.resource,
            entry.if_none_exist,
            prefix,
            assigned_id=ids[entry.index],
        )
        return written_entry(ctx, stored, created, return_resources)
    if entry.method == "PUT":
        if entry.resource_id is None and entry.query is None:
            raise InvalidError(f"{entry.where}.request.url must name an id or criteria for PUT")
        stored, created = update_in(
            ctx, tx, entry.resource_type, ids[entry.index], entry.resource, entry.if_match, prefix
        )
        return written_entry(ctx, stored, created, return_resources)
    if entry.method == "PATCH":
        return _patch(ctx, tx, entry, return_resources)
    if entry.method == "DELETE":
        if entry.resource_id:
            version = delete_in(ctx, tx, entry.resource_type, entry.resource_id)
        else:
            version = conditional_delete_in(ctx, tx, entry.resource_type, entry.query or "")
        return deleted_entry(version)
    return get_entry(ctx, tx, entry)


def _patch(
    ctx: FhirContext, tx: ResourceTransaction, entry: EntryRequest, return_resources: bool
) -> dict[str, Any]:
    if entry.resource_id is None:
        raise InvalidError(f"{entry.where}.request.url must name the resource to patch")
    operations = entry.resource
    if isinstance(operations, dict) and operations.get("resourceType") == "Binary":
        operations = _binary_json(operations)
    stored = patch_in(ctx, tx, entry.resource_type, entry.resource_id, operations, entry.if_match)
    return written_entry(ctx, stored, False, return_resources)


def _binary_json(binary: dict[str, Any]) -> Any:
    """The JSON Patch carried in a Binary resource, as transactions send it."""
    try:
        return orjson.loads(base64.b64decode(str(binary.get("data", "")), validate=True))
    except (binascii.Error, orjson.JSONDecodeError, ValueError):
        raise InvalidError("The Binary's data is not a base64 JSON Patch") from None
