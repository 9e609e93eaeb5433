"""FHIR transaction Bundles whose entries PUT each resource at its own id (idempotent loads)."""

from __future__ import annotations

from collections.abc import Iterable

from .fhirdata import Resource


def entry(resource: Resource) -> Resource:
    """A transaction entry: ``urn:uuid`` fullUrl and a PUT to ``Type/id``."""
    rtype, rid = resource["resourceType"], resource["id"]
    return {
        "fullUrl": f"urn:uuid:{rid}",
        "resource": resource,
        "request": {"method": "PUT", "url": f"{rtype}/{rid}"},
    }


def transaction(resources: Iterable[Resource]) -> Resource:
    """A transaction Bundle of ``resources``."""
    return {"resourceType": "Bundle", "type": "transaction", "entry": [entry(r) for r in resources]}
