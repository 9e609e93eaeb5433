"""read and vread (http://hl7.org/fhir/R4/http.html#read, #vread)."""

from __future__ import annotations

from chartkeeper.core.errors import GoneError, NotFoundError
from chartkeeper.fhir.interactions.context import FhirContext, Result
from chartkeeper.fhir.interactions.versioning import headers_for
from chartkeeper.fhir.repository import StoredResource
from chartkeeper.fhir.validation import require_resource_type


def found(resource_type: str, resource_id: str, stored: StoredResource | None) -> StoredResource:
    """The stored resource, or 404 (never stored) / 410 (deleted)."""
    if stored is None:
        raise NotFoundError(f"{resource_type}/{resource_id} is not known")
    if stored.deleted:
        raise GoneError(f"{resource_type}/{resource_id} was deleted")
    return stored


def read(ctx: FhirContext, resource_type: str, resource_id: str) -> Result:
    """The current version; the stored JSON is served as is."""
    require_resource_type(resource_type)
    with ctx.repository.reading() as tx:
        stored = found(resource_type, resource_id, tx.read(resource_type, resource_id))
    return Result(200, body_text=stored.body, headers=headers_for(stored))


def vread(ctx: FhirContext, resource_type: str, resource_id: str, version: str) -> Result:
    """One version by number; a deleted version answers 410."""
    require_resource_type(resource_type)
    # ASCII digits that fit a SQL bigint: str.isdigit() also takes '²', which int() refuses.
    if not (version.isascii() and version.isdigit()) or len(version.lstrip("0")) > 18:
        raise NotFoundError(f"{resource_type}/{resource_id} has no version '{version[:40]}'")
    with ctx.repository.reading() as tx:
        stored = tx.vread(resource_type, resource_id, int(version))
    if stored is None:
        raise NotFoundError(f"{resource_type}/{resource_id} has no version {version}")
    if stored.deleted:
        raise GoneError(f"{resource_type}/{resource_id} version {version} is a deletion")
    return Result(200, body_text=stored.body, headers=headers_for(stored))
