"""Store one new version of a resource: validate, stamp meta, index, write."""

from __future__ import annotations

from typing import Any

import orjson

from chartkeeper.core.errors import InvalidError
from chartkeeper.fhir.dates import to_micros
from chartkeeper.fhir.indexing import extract_index
from chartkeeper.fhir.interactions.context import FhirContext
from chartkeeper.fhir.interactions.versioning import stamp
from chartkeeper.fhir.repository import ResourceTransaction, StoredResource
from chartkeeper.fhir.validation import element, validate


def check_body(resource: Any, resource_type: str, prefix: str = "") -> dict[str, Any]:
    """The body must be a JSON object of the type named by the URL."""
    if not isinstance(resource, dict):
        raise InvalidError("The request body must be a JSON object (a FHIR resource)", ("$",))
    given = resource.get("resourceType")
    if given != resource_type:
        raise InvalidError(
            f"resourceType '{given}' does not match the URL's type '{resource_type}'",
            (element(prefix, resource_type, "resourceType"),),
        )
    return resource


def persist(
    ctx: FhirContext,
    tx: ResourceTransaction,
    resource: dict[str, Any],
    previous: StoredResource | None,
    method: str,
    prefix: str = "",
) -> StoredResource:
    """Write ``resource`` (its ``id`` set) as the version after ``previous``."""
    version_id = previous.version_id + 1 if previous else 1
    last_updated = to_micros(ctx.clock.now())
    if ctx.prepare is not None:
        ctx.prepare(resource)
    stamp(resource, version_id, last_updated)
    resource = _ordered(resource)
    if ctx.options.validate_on_write:
        validate(resource, prefix)
    index = extract_index(resource, ctx.registry)
    patient_id = index.patient_ids[0] if index.patient_ids else None
    stored = StoredResource(
        resource_type=resource["resourceType"],
        id=resource["id"],
        version_id=version_id,
        last_updated=last_updated,
        deleted=False,
        body=orjson.dumps(resource).decode(),
        method=method,
    )
    return tx.write(stored, index, patient_id, replaces=previous is not None)


def persist_deletion(
    ctx: FhirContext, tx: ResourceTransaction, previous: StoredResource
) -> StoredResource:
    """Write a deletion marker as the version after ``previous`` (history is kept)."""
    stored = StoredResource(
        resource_type=previous.resource_type,
        id=previous.id,
        version_id=previous.version_id + 1,
        last_updated=to_micros(ctx.clock.now()),
        deleted=True,
        body=None,
        method="DELETE",
    )
    # the deletion keeps its compartment, so access to it is decided like the record it was
    return tx.write(stored, None, previous.patient_id)


def _ordered(resource: dict[str, Any]) -> dict[str, Any]:
    """resourceType, id and meta first, as readers expect; the rest in the client's order."""
    head: dict[str, Any] = {k: resource[k] for k in ("resourceType", "id", "meta") if k in resource}
    return {**head, **{k: v for k, v in resource.items() if k not in head}}
