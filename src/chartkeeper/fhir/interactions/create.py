"""create and conditional create (http://hl7.org/fhir/R4/http.html#create)."""

from __future__ import annotations

from typing import Any

from chartkeeper.core.errors import PreconditionFailedError
from chartkeeper.core.ids import new_id
from chartkeeper.fhir.interactions import conditional
from chartkeeper.fhir.interactions.context import FhirContext, Result
from chartkeeper.fhir.interactions.versioning import headers_for
from chartkeeper.fhir.interactions.write import check_body, persist
from chartkeeper.fhir.repository import ResourceTransaction, StoredResource
from chartkeeper.fhir.validation import require_resource_type


def create_in(
    ctx: FhirContext,
    tx: ResourceTransaction,
    resource_type: str,
    resource: Any,
    if_none_exist: str | None = None,
    prefix: str = "",
    assigned_id: str | None = None,
) -> tuple[StoredResource, bool]:
    """Create inside an open transaction; returns the stored version and whether it is new.

    With ``If-None-Exist``: one match → that resource, unchanged (200); several → 412.
    """
    body = check_body(resource, resource_type, prefix)
    if if_none_exist:
        found = conditional.matches(ctx, tx, resource_type, if_none_exist)
        if len(found) > 1:
            raise PreconditionFailedError(
                f"If-None-Exist criteria '{if_none_exist}' match more than one {resource_type}"
            )
        if found:
            return found[0], False
    body["id"] = assigned_id or new_id()
    return persist(ctx, tx, body, None, "POST", prefix), True


def create(
    ctx: FhirContext, resource_type: str, resource: Any, if_none_exist: str | None = None
) -> Result:
    """POST [base]/[type]: a new resource with a server-assigned id (201)."""
    require_resource_type(resource_type)
    with ctx.repository.transaction() as tx:
        stored, created = create_in(ctx, tx, resource_type, resource, if_none_exist)
    headers = headers_for(stored, ctx.options.base_url)
    return Result(201 if created else 200, body_text=stored.body, headers=headers)
