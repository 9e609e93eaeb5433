"""Resolve the search criteria of conditional create, update and delete.

http://hl7.org/fhir/R4/http.html#ccreate — criteria are a search query string; unknown
parameters are an error here, since ignoring one could match the wrong resource.
"""

from __future__ import annotations

from urllib.parse import parse_qsl

from chartkeeper.core.errors import InvalidError
from chartkeeper.fhir.interactions.context import FhirContext
from chartkeeper.fhir.repository import ResourceTransaction, StoredResource
from chartkeeper.fhir.search_parser import parse_search


def matches(
    ctx: FhirContext, tx: ResourceTransaction, resource_type: str, query: str, limit: int = 2
) -> list[StoredResource]:
    """Up to ``limit`` current resources of ``resource_type`` matching ``query``."""
    items = parse_qsl(query.lstrip("?"), keep_blank_values=True)
    if not items:
        raise InvalidError("Conditional criteria must not be empty")
    request = parse_search(resource_type, items, strict=True, registry=ctx.registry)
    request.count = limit
    request.offset = 0
    request.total = "none"
    return tx.search(request).matches
