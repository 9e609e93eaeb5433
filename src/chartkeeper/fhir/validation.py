"""Validation on write against the R4 structure.

The structure is that of the fhir.resources R4B models (pydantic models generated from the
StructureDefinitions), but we do not run the models on write: they took half of ingest time.
``structure_check`` walks the resource along plans compiled from the models' metadata, about
ten times faster, and reports the same first problem; the models stay as the reference it is
tested against (``reference_issues``). Problems become OperationOutcome issues whose
``expression`` points at the element (``Patient.birthDate``, ``Patient.name[0].given``).
"""

from __future__ import annotations

import re
from functools import cache
from typing import Any

# The R4B models of fhir.resources are the R4-compatible ones (the package root is R5).
import orjson
from fhir.resources.R4B import get_fhir_model_class

from chartkeeper.core.errors import InvalidError, Issue, NotFoundError
from chartkeeper.core.ids import is_valid_id
from chartkeeper.fhir.findings import DEPTH
from chartkeeper.fhir.reference_targets import reference_target_issues
from chartkeeper.fhir.searchparams import all_resource_types
from chartkeeper.fhir.structure_check import structure_findings
from chartkeeper.fhir.structure_plans import has_model

MAX_ISSUES = 20
NOT_STORED = frozenset({"Parameters", "OperationOutcome", "Bundle"})


@cache
def _model(resource_type: str) -> Any:
    try:
        return get_fhir_model_class(resource_type)
    except (KeyError, ValueError, AttributeError):
        return None


def is_resource_type(resource_type: str) -> bool:
    """True for an R4 resource type that can be stored (R4B-only types are refused)."""
    return resource_type in storable_types()


@cache
def storable_types() -> frozenset[str]:
    """Every R4 resource type (from the R4 Patient CompartmentDefinition, which lists all 145)
    that has a validating model, less those that are never stored on their own.

    18 R4 types (MedicinalProduct*, Substance* details, *EvidenceSynthesis) were replaced in
    R4B and have no model in fhir.resources; they are refused rather than stored unvalidated.
    """
    known = {t for t in all_resource_types() if has_model(t)}
    return frozenset(known - NOT_STORED)


def require_resource_type(resource_type: str) -> None:
    """Raise ``NotFoundError`` for a name that is not an R4 resource type."""
    if not is_resource_type(resource_type):
        raise NotFoundError(f"Unknown resource type '{resource_type}'")


def element(prefix: str, resource_type: str, name: str) -> str:
    """The FHIRPath of element ``name`` of a resource at ``prefix`` (default: its type)."""
    return f"{prefix or resource_type}.{name}"


def _path(resource_type: str, location: tuple[Any, ...], prefix: str) -> str:
    text = prefix or resource_type
    for part in location:
        if isinstance(part, int):
            text += f"[{part}]"
        elif part not in _NOT_ELEMENTS:
            text += f".{part}"
    return text


#: Parts of a pydantic error location that are no element: validator wrappers, and fhir_core's
#: "root" for a complex element that is not a JSON object (``Observation.code.root``).
_NOT_ELEMENTS = frozenset({"function-after", "function-before", "function-wrap", "root"})


def _message(error: dict[str, Any]) -> str:
    """pydantic's message without its prefix; never the offending value (it may be PHI)."""
    message = str(error.get("msg", "invalid"))
    return message.removeprefix("Value error, ").removeprefix("Assertion failed, ")


def _envelope_issues(resource: Any, prefix: str) -> list[Issue] | None:
    """The problems that stop validation before the structure: not an object, an unknown
    resourceType, an invalid id."""
    if not isinstance(resource, dict):
        return [Issue("A resource must be a JSON object", (prefix or "$",))]
    resource_type = resource.get("resourceType")
    if not isinstance(resource_type, str) or not is_resource_type(resource_type):
        where = element(prefix, "Resource", "resourceType")
        return [Issue(f"Unknown resourceType {resource_type!r}", (where,))]
    resource_id = resource.get("id")
    if resource_id is not None and not (isinstance(resource_id, str) and is_valid_id(resource_id)):
        where = element(prefix, resource_type, "id")
        return [Issue("id must be 1-64 characters of A-Z a-z 0-9 - .", (where,))]
    return None


def validation_issues(resource: Any, prefix: str = "") -> list[Issue]:
    """Every structural problem of ``resource``; an empty list when it is valid.

    ``prefix`` is the path of the resource itself, e.g. ``Bundle.entry[3].resource`` for an
    entry; by default the resource type.
    """
    early = _envelope_issues(resource, prefix)
    if early is not None:
        return early
    resource_type = resource["resourceType"]
    findings = structure_findings(resource, resource_type, prefix)
    if findings:
        return [
            Issue(f.message if f.rule == DEPTH else f"{f.path}: {f.message}", (f.path,))
            for f in findings[:MAX_ISSUES]
        ]
    return _control_characters(resource, resource_type, prefix) or reference_target_issues(
        resource, prefix
    )


def reference_issues(resource: Any, prefix: str = "") -> list[Issue]:
    """``validation_issues`` with the fhir.resources models checking the structure: the
    reference that ``structure_check`` is tested against (tests/contract), not used on writes.

    It lets through exceptions other than ``ValueError`` that the models raise for some
    malformed input (KeyError for an unknown contained resourceType, AttributeError for a url
    that is not a string); ``structure_check`` refuses those resources.
    """
    early = _envelope_issues(resource, prefix)
    if early is not None:
        return early
    resource_type = resource["resourceType"]
    try:
        _model(resource_type).model_validate(resource)
    except RecursionError:  # the models validate nested elements recursively
        return [Issue("The resource is nested too deeply", (prefix or resource_type,))]
    except ValueError as error:
        errors = getattr(error, "errors", None)
        if errors is None:
            return [Issue(str(error), (prefix or resource_type,))]
        return [
            Issue(
                f"{_path(resource_type, tuple(e['loc']), prefix)}: {_message(e)}",
                (_path(resource_type, tuple(e["loc"]), prefix),),
            )
            for e in errors()[:MAX_ISSUES]
        ]
    return _control_characters(resource, resource_type, prefix) or reference_target_issues(
        resource, prefix
    )


_CONTROL = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f]")


#: A control character as orjson escapes it (\b, \f or \u00XX), after an even number of
#: backslashes so that a literal backslash followed by "b" is not mistaken for one.
_ESCAPED_CONTROL = re.compile(rb"(?<!\\)(?:\\\\)*\\(?:b|f|u00(?:0[0-8bcefBCEF]|1[0-9a-fA-F]))")


def _control_characters(resource: dict[str, Any], resource_type: str, prefix: str) -> list[Issue]:
    """datatypes.html#string: no character below U+0020 but tab, CR and LF (the models let
    them through, and PostgreSQL cannot store NUL at all).

    One regular-expression scan of the serialized resource finds the rare offender; only then
    is the resource walked to name the element.
    """
    serialized = orjson.dumps(resource)
    if b"\\" not in serialized or not _ESCAPED_CONTROL.search(serialized):
        return []  # (the regular expression is slow to rule out, a backslash rare)
    issues: list[Issue] = []
    stack: list[tuple[tuple[Any, ...], Any]] = [((), resource)]
    while stack and len(issues) < MAX_ISSUES:
        location, node = stack.pop()
        if isinstance(node, str) and _CONTROL.search(node):
            where = _path(resource_type, location, prefix)
            message = f"{where}: strings may not contain control characters (below U+0020)"
            issues.append(Issue(message, (where,)))
        elif isinstance(node, dict):
            stack.extend(((*location, k), v) for k, v in reversed(node.items()))
        elif isinstance(node, list):
            stack.extend(((*location, i), v) for i, v in reversed(list(enumerate(node))))
    return issues


def validate(resource: Any, prefix: str = "") -> None:
    """Raise ``InvalidError`` listing every structural problem of ``resource``."""
    issues = validation_issues(resource, prefix)
    if issues:
        raise InvalidError(issues[0].diagnostics, issues[0].expression, issues)
