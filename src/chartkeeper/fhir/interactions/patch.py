"""patch with JSON Patch (http://hl7.org/fhir/R4/http.html#patch, RFC 6902)."""

from __future__ import annotations

import copy
from typing import Any

import jsonpatch

from chartkeeper.core.errors import InvalidError, UnprocessableError
from chartkeeper.fhir.interactions.context import FhirContext, Result
from chartkeeper.fhir.interactions.read import found
from chartkeeper.fhir.interactions.versioning import check_if_match, headers_for
from chartkeeper.fhir.interactions.write import persist
from chartkeeper.fhir.repository import ResourceTransaction, StoredResource
from chartkeeper.fhir.validation import require_resource_type


def apply_patch(current: dict[str, Any], operations: Any) -> dict[str, Any]:
    """The resource after the JSON Patch; id and type may not change."""
    if not isinstance(operations, list):
        raise InvalidError("A JSON Patch body must be a JSON array of operations", ("$",))
    try:
        patched = jsonpatch.JsonPatch(operations).apply(copy.deepcopy(current))
    except (jsonpatch.JsonPatchException, jsonpatch.JsonPointerException) as error:
        raise UnprocessableError(f"The JSON Patch could not be applied: {error}") from None
    except (TypeError, KeyError, ValueError, AttributeError) as error:
        raise InvalidError(f"The JSON Patch is malformed: {error}") from None
    except RecursionError:  # jsonpatch deep-copies values recursively
        raise InvalidError("The JSON Patch is nested too deeply", ("$",)) from None
    if not isinstance(patched, dict):
        raise UnprocessableError("The JSON Patch must leave a resource (a JSON object)")
    if patched.get("resourceType") != current["resourceType"] or patched.get("id") != current["id"]:
        raise UnprocessableError("A patch may not change the resource's type or id")
    return patched


def patch_in(
    ctx: FhirContext,
    tx: ResourceTransaction,
    resource_type: str,
    resource_id: str,
    operations: Any,
    if_match: str | None = None,
) -> StoredResource:
    """Patch inside an open transaction."""
    current = found(resource_type, resource_id, tx.read(resource_type, resource_id))
    check_if_match(if_match, current)
    patched = apply_patch(current.resource(), operations)
    return persist(ctx, tx, patched, current, "PATCH")


def patch(
    ctx: FhirContext,
    resource_type: str,
    resource_id: str,
    operations: Any,
    if_match: str | None = None,
) -> Result:
    """PATCH [base]/[type]/[id] with ``application/json-patch+json``."""
    require_resource_type(resource_type)
    with ctx.repository.transaction() as tx:
        stored = patch_in(ctx, tx, resource_type, resource_id, operations, if_match)
    return Result(200, body_text=stored.body, headers=headers_for(stored, ctx.options.base_url))
