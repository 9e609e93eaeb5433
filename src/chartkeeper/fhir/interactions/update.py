"""update, update-as-create and conditional update (http://hl7.org/fhir/R4/http.html#update)."""

from __future__ import annotations

from typing import Any

from chartkeeper.core.errors import InvalidError, PreconditionFailedError
from chartkeeper.core.ids import is_valid_id, new_id
from chartkeeper.fhir.interactions import conditional
from chartkeeper.fhir.interactions.context import FhirContext, Result
from chartkeeper.fhir.interactions.versioning import check_if_match, headers_for
from chartkeeper.fhir.interactions.write import check_body, persist
from chartkeeper.fhir.repository import ResourceTransaction, StoredResource
from chartkeeper.fhir.validation import element, require_resource_type


def update_in(
    ctx: FhirContext,
    tx: ResourceTransaction,
    resource_type: str,
    resource_id: str,
    resource: Any,
    if_match: str | None = None,
    prefix: str = "",
) -> tuple[StoredResource, bool]:
    """Update inside an open transaction; returns the stored version and whether it is new."""
    body = check_body(resource, resource_type, prefix)
    if not is_valid_id(resource_id):
        raise InvalidError(
            f"'{resource_id}' is not a valid resource id", (element(prefix, resource_type, "id"),)
        )
    if "id" not in body:
        raise InvalidError(
            "The resource must carry its id on update", (element(prefix, resource_type, "id"),)
        )
    if body.get("id") != resource_id:
        raise InvalidError(
            f"The resource id '{body.get('id')}' does not match the URL's id '{resource_id}'",
            (element(prefix, resource_type, "id"),),
        )
    previous = tx.read(resource_type, resource_id)
    check_if_match(if_match, previous)
    stored = persist(ctx, tx, body, previous, "PUT", prefix)
    return stored, previous is None or previous.deleted


def conditional_update_in(
    ctx: FhirContext,
    tx: ResourceTransaction,
    resource_type: str,
    query: str,
    resource: Any,
    if_match: str | None = None,
    prefix: str = "",
) -> tuple[StoredResource, bool]:
    """PUT [type]?criteria: none → create, one → update it, several → 412."""
    body = check_body(resource, resource_type, prefix)
    found = conditional.matches(ctx, tx, resource_type, query)
    if len(found) > 1:
        raise PreconditionFailedError(
            f"Conditional update criteria '{query}' match more than one {resource_type}"
        )
    if found:
        target = found[0].id
        if body.get("id") not in (None, target):
            raise InvalidError(
                f"The resource id '{body.get('id')}' differs from the matched {resource_type}",
                (element(prefix, resource_type, "id"),),
            )
    else:
        target = body.get("id") or new_id()
    body["id"] = target
    return update_in(ctx, tx, resource_type, target, body, if_match, prefix)


def update(
    ctx: FhirContext,
    resource_type: str,
    resource_id: str | None,
    resource: Any,
    if_match: str | None = None,
    query: str | None = None,
) -> Result:
    """PUT [base]/[type]/[id] or PUT [base]/[type]?criteria; 201 when it created."""
    require_resource_type(resource_type)
    with ctx.repository.transaction() as tx:
        if resource_id is None:
            stored, created = conditional_update_in(
                ctx, tx, resource_type, query or "", resource, if_match
            )
        else:
            stored, created = update_in(ctx, tx, resource_type, resource_id, resource, if_match)
    headers = headers_for(stored, ctx.options.base_url)
    return Result(201 if created else 200, body_text=stored.body, headers=headers)
