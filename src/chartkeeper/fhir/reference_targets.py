"""Check that references point at resource types the element allows.

fhir.resources validates structure and datatypes but not reference targets; its models do
carry each Reference element's allowed types (``enum_reference_types``, from the
StructureDefinitions), so we compile, once per type, the paths to the Reference elements and
walk only those (http://hl7.org/fhir/R4/references.html#Reference).
"""

from __future__ import annotations

import re
import typing
from dataclasses import dataclass
from functools import cache
from typing import Any

from fhir.resources.R4B import get_fhir_model_class

from chartkeeper.core.errors import Issue

MAX_DEPTH = 6
#: Elements whose references may point anywhere, or that hold whole resources.
SKIPPED = frozenset({"extension", "modifierExtension", "contained"})
_TYPED = re.compile(r"^(?:https?://.*/)?([A-Z][A-Za-z]+)/[A-Za-z0-9\-.]{1,64}(?:/_history/.+)?$")


@dataclass(frozen=True)
class Step:
    """One element on the way to Reference elements: its JSON key, and either the types it
    may refer to (a Reference element) or the plan of its children."""

    key: str
    allowed: frozenset[str] | None
    children: tuple[Step, ...]


def _model_name(annotation: Any) -> str | None:
    """The FHIR type name inside an annotation like ``Optional[List[abc.XType]]``."""
    for arg in typing.get_args(annotation) or (annotation,):
        inner = typing.get_args(arg)
        candidate = inner[0] if inner else arg
        name = getattr(candidate, "__name__", "")
        if name.endswith("Type") and name[:1].isupper():
            return name[: -len("Type")]
    return None


@cache
def plan(type_name: str, depth: int = 0) -> tuple[Step, ...]:
    """The steps from an element of ``type_name`` to every Reference element below it."""
    try:
        model = get_fhir_model_class(type_name)
    except (KeyError, ValueError, AttributeError):
        return ()
    steps: list[Step] = []
    for name, field in model.model_fields.items():
        key = field.alias or name
        extra = field.json_schema_extra if isinstance(field.json_schema_extra, dict) else {}
        allowed = extra.get("enum_reference_types")
        if key in SKIPPED:
            continue
        if isinstance(allowed, list) and allowed and "Resource" not in allowed:
            steps.append(Step(key, frozenset(str(a) for a in allowed), ()))
            continue
        child = _model_name(field.annotation)
        if child and child not in ("Reference", "Resource") and depth < MAX_DEPTH:
            children = plan(child, depth + 1)
            if children:
                steps.append(Step(key, None, children))
    return tuple(steps)


def _walk(node: Any, steps: tuple[Step, ...], path: str, issues: list[Issue]) -> None:
    for step in steps:
        value = node.get(step.key)
        if value is None:
            continue
        items = value if isinstance(value, list) else [value]
        for index, item in enumerate(items):
            where = f"{path}.{step.key}" + (f"[{index}]" if isinstance(value, list) else "")
            if not isinstance(item, dict):
                continue
            if step.allowed is None:
                _walk(item, step.children, where, issues)
            else:
                _check(item, step.allowed, where, issues)


def _check(
    reference: dict[str, Any], allowed: frozenset[str], where: str, issues: list[Issue]
) -> None:
    text = reference.get("reference")
    if not isinstance(text, str):
        return
    match = _TYPED.match(text)
    if match and match.group(1) not in allowed:
        names = ", ".join(sorted(allowed))
        issues.append(
            Issue(
                f"{where} refers to a {match.group(1)} resource; it may refer to {names}", (where,)
            )
        )


def reference_target_issues(resource: dict[str, Any], prefix: str = "") -> list[Issue]:
    """One issue per reference that points at a type its element does not allow."""
    resource_type = str(resource.get("resourceType", ""))
    issues: list[Issue] = []
    _walk(resource, plan(resource_type), prefix or resource_type, issues)
    return issues
