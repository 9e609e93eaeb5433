"""delete and conditional delete (http://hl7.org/fhir/R4/http.html#delete).

Deleting keeps the history; a later read answers 410 Gone. Deleting what is already deleted
or was never stored succeeds (idempotent), as the spec allows.
"""

from __future__ import annotations

from chartkeeper.core.errors import PreconditionFailedError
from chartkeeper.fhir.interactions import conditional
from chartkeeper.fhir.interactions.context import FhirContext, Result
from chartkeeper.fhir.interactions.versioning import etag
from chartkeeper.fhir.interactions.write import persist_deletion
from chartkeeper.fhir.repository import ResourceTransaction
from chartkeeper.fhir.validation import require_resource_type


def delete_in(
    ctx: FhirContext, tx: ResourceTransaction, resource_type: str, resource_id: str
) -> int | None:
    """Delete inside an open transaction; the deletion's version number, if one was made."""
    tx.intend("delete", resource_type, resource_id)
    previous = tx.read(resource_type, resource_id)
    if previous is None or previous.deleted:
        return None
    return persist_deletion(ctx, tx, previous).version_id


def conditional_delete_in(
    ctx: FhirContext, tx: ResourceTransaction, resource_type: str, query: str
) -> int | None:
    """DELETE [type]?criteria: zero or one match is deleted; several → 412."""
    tx.intend("delete", resource_type)
    found = conditional.matches(ctx, tx, resource_type, query)
    if len(found) > 1:
        raise PreconditionFailedError(
            f"Conditional delete criteria '{query}' match more than one {resource_type}"
        )
    return delete_in(ctx, tx, resource_type, found[0].id) if found else None


def delete(
    ctx: FhirContext, resource_type: str, resource_id: str | None, query: str | None = None
) -> Result:
    """DELETE: 204 No Content, with the deletion's ETag when one was made."""
    require_resource_type(resource_type)
    with ctx.repository.transaction() as tx:
        if resource_id is None:
            version = conditional_delete_in(ctx, tx, resource_type, query or "")
        else:
            version = delete_in(ctx, tx, resource_type, resource_id)
    headers = {"ETag": etag(version)} if version else {}
    return Result(204, headers=headers)
