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
#: Canonical base of the definitions chartkeeper makes up itself.
LOCAL_CANONICAL = "https://chartkeeper.example.org/fhir"
#: (name, resource type or "Resource" for every type, definition, documentation)
OPERATIONS = (
    (
        "everything",
        "Patient",
        "http://hl7.org/fhir/OperationDefinition/Patient-everything",
        "[base]/Patient/[id]/$everything (GET, or POST with a form): the Patient, its "
        "compartment and what they refer to (_since, _type, _count, _offset), filtered by the "
        "caller's access.",
    ),
    (
        "summary",
        "Patient",
        "http://hl7.org/fhir/uv/ips/OperationDefinition/summary",
        "[base]/Patient/[id]/$summary (GET, or POST with an empty body or a Parameters): the "
        "International Patient Summary as a document Bundle (problems, medications, allergies, "
        "and the recommended sections the record holds, each with narrative), filtered by the "
        "caller's access and audited.",
    ),
    (
        "access-log",
        "Patient",
        f"{LOCAL_CANONICAL}/OperationDefinition/Patient-access-log",
        "GET [base]/Patient/[id]/$access-log[?_count=&_offset=]: who accessed this patient's "
        "record (a searchset Bundle of AuditEvents from the audit ledger, newest first, "
        "without the patient's own accesses); for the patient themselves or a privacy officer.",
    ),
    (
        "break-the-glass",
        "Patient",
        f"{LOCAL_CANONICAL}/OperationDefinition/Patient-break-the-glass",
        "POST [base]/Patient/[id]/$break-the-glass with a Parameters body (reason: valueString, "
        "hours: valueInteger, 1 to 12): a clinician's emergency access to this one chart, "
        "audited and reviewed by the privacy officer; answers 201 with the grant.",
    ),
    (
        "match",
        "Patient",
        "http://hl7.org/fhir/OperationDefinition/Patient-match",
        "POST [base]/Patient/$match with a Parameters body (resource: the Patient to look for, "
        "onlyCertainMatches, count): the master patient index's candidates the caller may see, "
        "best first, each with search.score and the match-grade extension (docs/mpi.md).",
    ),
    (
        "merge",
        "Patient",
        f"{LOCAL_CANONICAL}/OperationDefinition/Patient-merge",
        "POST [base]/Patient/$merge with a Parameters body (source-patient, target-patient as "
        "valueReference; note; override): folds the source Patient into the target in one "
        "transaction, with a Provenance; HIM technicians only (docs/mpi.md).",
    ),
    (
        "unmerge",
        "Patient",
        f"{LOCAL_CANONICAL}/OperationDefinition/Patient-unmerge",
        "POST [base]/Patient/$unmerge with a Parameters body (source-patient; note): undoes "
        "the standing merge of that Patient exactly, from its Provenance; HIM technicians only.",
    ),
    (
        "coding-check",
        "Encounter",
        f"{LOCAL_CANONICAL}/OperationDefinition/Encounter-coding-check",
        "GET [base]/Encounter/[id]/$coding-check: the ICD-10-CM coding checks and Medicare Code "
        "Editor edits of the encounter's diagnoses, principal first, as an OperationOutcome "
        "whose issues name their rule and the Encounter.diagnosis they are about.",
    ),
    (
        "scrub",
        "Claim",
        f"{LOCAL_CANONICAL}/OperationDefinition/Claim-scrub",
        "GET [base]/Claim/[id]/$scrub (recorded in the claim worklist) or POST [base]/Claim/$scrub "
        "with a Claim (not stored): the claim scrubber's findings as an OperationOutcome, each "
        "with its rule id, the element as FHIRPath and the fix (docs/billing.md).",
    ),
    (
        "x12",
        "Claim",
        f"{LOCAL_CANONICAL}/OperationDefinition/Claim-x12",
        "GET [base]/Claim/[id]/$x12: the claim as an X12 005010 837P or 837I "
        "(application/edi-x12), refused with the reason while the scrubber holds it.",
    ),
    (
        "lookup",
        "CodeSystem",
        "http://hl7.org/fhir/OperationDefinition/CodeSystem-lookup",
        "[base]/CodeSystem/$lookup (GET, or POST with Parameters: system, code, date): display "
        "and properties of an ICD-10-CM, ICD-10-PCS or HCPCS code in the version in force on "
        "the date (docs/billing.md).",
    ),
    (
        "validate-code",
        "CodeSystem",
        "http://hl7.org/fhir/OperationDefinition/CodeSystem-validate-code",
        "[base]/CodeSystem/$validate-code (system, code, display, date): whether the code is "
        "valid on the date.",
    ),
    (
        "validate-code",
        "ValueSet",
        "http://hl7.org/fhir/OperationDefinition/ValueSet-validate-code",
        "[base]/ValueSet/$validate-code (url: a code system's implicit value set, code, "
        "display, date).",
    ),
    (
        "expand",
        "ValueSet",
        "http://hl7.org/fhir/OperationDefinition/ValueSet-expand",
        "[base]/ValueSet/$expand (url: a code system's implicit value set, e.g. "
        "http://hl7.org/fhir/sid/icd-10-cm?fhir_vs; filter, count, offset, date): codes "
        "searched by title and inclusion terms.",
    ),
    (
        "validate",
        "Resource",
        "http://hl7.org/fhir/OperationDefinition/Resource-validate",
        "POST [base]/[type]/$validate with a resource or a Parameters body.",
    ),
)
#: Operations on the whole server (rest.operation): (name, definition, documentation).
SYSTEM_OPERATIONS = (
    (
        "explain",
        f"{LOCAL_CANONICAL}/OperationDefinition/explain",
        "POST [base]/$explain with Parameters holding one of reference (Type/id), resource or "
        "text, or GET [base]/[type]/[id]/$explain: the record in plain words for a patient "
        "(Parameters: text, original, grade of both by Flesch-Kincaid and Coleman-Liau, one "
        "span per explained phrase with its offsets in the original, flags for what was left "
        "as written). A record the caller may not see answers 404 (docs/explain.md).",
    ),
)
#: AuditEvents are served from the audit ledger, read-only: only these interactions and these
#: search parameters (docs/audit.md). Writing one through the API answers 405.
LEDGER_INTERACTIONS = ("read", "search-type")
LEDGER_PARAMS = ("action", "agent", "date", "outcome", "patient")
#: The ledger's ``agent`` is the user or client name, matched exactly (not R4's reference).
LEDGER_AGENT = {
    "name": "agent",
    "type": "string",
    "documentation": "The user or client name, matched exactly.",
}
#: SMART App Launch: the OAuth endpoints beside the FHIR base (chartkeeper.web.oauth).
SMART_SERVICE = "http://terminology.hl7.org/CodeSystem/restful-security-service"
OAUTH_URIS = "http://fhir-registry.smarthealthit.org/StructureDefinition/oauth-uris"


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


def _ledger_resource(registry: SearchParamRegistry) -> dict[str, Any]:
    """AuditEvent: read and searched from the audit ledger, never written through the API."""
    definitions = registry.for_type("AuditEvent")
    params = [
        LEDGER_AGENT
        if code == "agent"
        else {"name": code, "definition": definitions[code].url, "type": definitions[code].type}
        for code in LEDGER_PARAMS
    ]
    return {
        "type": "AuditEvent",
        "documentation": (
            "Served from the tamper-evident audit ledger (its entries' seq is the id) to auditors "
            "and privacy officers; written by the server only (create, update, patch and delete "
            "answer 405). Paging: _count (at most 500) and _offset; newest first."
        ),
        "interaction": [{"code": code} for code in LEDGER_INTERACTIONS],
        "versioning": "no-version",
        "readHistory": False,
        "updateCreate": False,
        "conditionalCreate": False,
        "conditionalUpdate": False,
        "conditionalDelete": "not-supported",
        "searchParam": params,
    }


def _resource(registry: SearchParamRegistry, resource_type: str) -> dict[str, Any]:
    if resource_type == "AuditEvent":
        return _ledger_resource(registry)
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
        {"name": name, "definition": url, "documentation": documentation}
        for name, base, url, documentation in OPERATIONS
        if base in (resource_type, "Resource")
    ]
    if operations:
        entry["operation"] = operations
    return entry


def security(fhir_base: str) -> dict[str, Any]:
    """``rest.security``: SMART on FHIR (OAuth 2.0 bearer tokens), with the endpoints."""
    base = fhir_base.rstrip("/").removesuffix("/fhir")
    return {
        "extension": [
            {
                "url": OAUTH_URIS,
                "extension": [
                    {"url": "authorize", "valueUri": f"{base}/oauth/authorize"},
                    {"url": "token", "valueUri": f"{base}/oauth/token"},
                ],
            }
        ],
        "cors": False,
        "service": [
            {
                "coding": [{"system": SMART_SERVICE, "code": "SMART-on-FHIR"}],
                "text": "OAuth 2.0 bearer tokens (SMART App Launch and Backend Services)",
            }
        ],
        "description": (
            "Every request but GET /metadata needs an Authorization: Bearer token (ES256 JWT, "
            f"SMART v1/v2 scopes); discovery at {base}/.well-known/smart-configuration, keys at "
            f"{base}/.well-known/jwks.json. The caller's role, treatment relationships, the "
            "patient's compartment, sensitivity labels and Consents decide what it sees; a "
            "refused read of an existing record answers 404, like a missing one. Every access "
            "is recorded in the audit ledger (AuditEvent)."
        ),
    }


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
                "security": security(ctx.options.base_url),
                "resource": [_resource(ctx.registry, t) for t in types],
                "interaction": [{"code": code} for code in SYSTEM_INTERACTIONS],
                "searchParam": search_params(ctx.registry, "Resource"),
                "operation": [
                    {"name": name, "definition": url, "documentation": documentation}
                    for name, url, documentation in SYSTEM_OPERATIONS
                ],
            }
        ],
    }


def capabilities(ctx: FhirContext) -> Result:
    """GET [base]/metadata."""
    return Result(200, body=capability_statement(ctx))
