"""capabilities: the CapabilityStatement, generated from what is implemented
(http://hl7.org/fhir/R4/http.html#capabilities)."""

from __future__ import annotations

from typing import Any

from chartkeeper import __version__
from chartkeeper.core.clock import format_instant
from chartkeeper.fhir.interactions.context import FhirContext, Result
from chartkeeper.fhir.search_values import is_searchable
from chartkeeper.fhir.searchparams import SearchParamRegistry
from chartkeeper.fhir.validation import storable_types

#: Type-level interactions every stored type supports.
TYPE_INTERACTIONS = (
    "read",
    "vread",
    "update",
    "patch",
    "delete",
    "history-instance",
    "history-type",
    "create",
    "search-type",
)
SYSTEM_INTERACTIONS = ("transaction", "batch", "search-system", "history-system")
#: Search parameters answered by the store itself rather than an index table.
SPECIAL_PARAMS = {"_text": "string", "_content": "string", "_has": "special"}
UNSEARCHABLE = {"_query", "_filter", "_list", "_type"}
OPERATIONS = (
    ("everything", "Patient", "http://hl7.org/fhir/OperationDefinition/Patient-everything"),
    ("validate", "Resource", "http://hl7.org/fhir/OperationDefinition/Resource-validate"),
)


def search_params(registry: SearchParamRegistry, resource_type: str) -> list[dict[str, Any]]:
    """The search parameters this server answers for ``resource_type``."""
    params = []
    for code, definition in sorted(registry.for_type(resource_type).items()):
        if code in UNSEARCHABLE or (definition.type == "special" and code not in SPECIAL_PARAMS):
            continue
        if not definition.expression and code not in SPECIAL_PARAMS and code != "_id":
            continue
        if code not in SPECIAL_PARAMS and not is_searchable(definition, registry):
            continue
        params.append({"name": code, "definition": definition.url, "type": definition.type})
    return params


def _resource(registry: SearchParamRegistry, resource_type: str) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "type": resource_type,
        "interaction": [{"code": code} for code in TYPE_INTERACTIONS],
        "versioning": "versioned-update",
        "readHistory": True,
        "updateCreate": True,
        "conditionalCreate": True,
        "conditionalUpdate": True,
        "conditionalDelete": "single",
        "searchInclude": ["*"],
        "searchRevInclude": ["*"],
        "searchParam": search_params(registry, resource_type),
    }
    operations = [
        {"name": name, "definition": url}
        for name, base, url in OPERATIONS
        if base in (resource_type, "Resource")
    ]
    if operations:
        entry["operation"] = operations
    return entry


def capability_statement(ctx: FhirContext) -> dict[str, Any]:
    """The server's CapabilityStatement as a dict."""
    types = sorted(storable_types())
    return {
        "resourceType": "CapabilityStatement",
        "status": "active",
        "date": format_instant(ctx.clock.now()),
        "kind": "instance",
        "software": {"name": "chartkeeper", "version": __version__},
        "implementation": {
            "description": "chartkeeper FHIR R4 server",
            "url": ctx.options.base_url,
        },
        "fhirVersion": "4.0.1",
        "format": ["json", "application/fhir+json"],
        "patchFormat": ["application/json-patch+json"],
        "rest": [
            {
                "mode": "server",
                "resource": [_resource(ctx.registry, t) for t in types],
                "interaction": [{"code": code} for code in SYSTEM_INTERACTIONS],
                "searchParam": search_params(ctx.registry, "Resource"),
            }
        ],
    }


def capabilities(ctx: FhirContext) -> Result:
    """GET [base]/metadata."""
    return Result(200, body=capability_statement(ctx))
