"""The structure check of a resource on write: a walk of its JSON along compiled plans.

Why our own walker rather than the fhir.resources models: validation was half of ingest time,
and the models build an object per element; this walk reads each value once against plans
compiled from those same models (``structure_plans``) and is about ten times faster (14 µs
against 160 µs per Synthea resource, on one developer machine). It checks what the models
check: JSON objects, arrays and primitives where the definitions want them, unknown elements,
cardinality, mandatory elements, choice elements, primitive formats, resources inside
resources, and nulls as the models treat them (a null stands for an absent element, but not
inside an array of complex elements).

The first problem reported is the one fhir.resources reports first (the contract test
``tests/contract/test_validator_agrees.py`` holds us to that): within an object, problems of its
elements in the models' field order, then unknown properties in the order given; the mandatory
primitives, then the choice elements, only for an object without other problems. Since that
order costs a sort per object, the walk first runs unordered, and only for the rare invalid
resource runs again in order. Where the specification is stricter than fhir.resources we follow
the specification; those rules are named in ``findings``.
"""

from __future__ import annotations

from typing import Any

from chartkeeper.fhir.findings import (
    CHOICE,
    DEPTH,
    EMPTY_PRIMITIVE_EXTENSION,
    NULL_IN_ARRAY,
    REQUIRED,
    SPEC_JSON_TYPE,
    SPEC_NOT_AN_ELEMENT,
    SPEC_REQUIRED_EMPTY,
    SPEC_RESOURCE_TYPE,
    TYPE,
    UNKNOWN,
    Finding,
)
from chartkeeper.fhir.structure_plans import (
    COMPLEX,
    PRIMITIVE,
    SINGLE_COMPLEX,
    ElementPlan,
    ModelPlan,
    nested_resource_types,
    resource_plan,
)

#: Objects nested deeper than this are refused (as is a resource that exhausts Python's
#: stack). fhir.resources has no fixed limit of its own; see ``findings.DEPTH``.
MAX_DEPTH = 100
MAX_FINDINGS = 20
_LAST = 1 << 30


class _TooDeep(Exception):
    """Raised to abandon the walk of a resource nested beyond ``MAX_DEPTH``."""


def structure_findings(
    resource: dict[str, Any], resource_type: str, prefix: str = ""
) -> list[Finding]:
    """Every structural problem of ``resource`` (a JSON object of a known ``resource_type``),
    at most ``MAX_FINDINGS``, the first being the one fhir.resources would report first."""
    path = prefix or resource_type
    plan = resource_plan(resource_type)
    found: list[Finding] = []
    try:
        # The unordered pass only tells whether there is a problem: it does not even build the
        # paths of nested objects. Its findings are dropped; the ordered pass names them.
        _object(plan, resource, path, 1, found, False)
        if not found:
            return found
        found.clear()
        _object(plan, resource, path, 1, found, True)
    except (_TooDeep, RecursionError):
        return [Finding(path, DEPTH, "The resource is nested too deeply")]
    return found[:MAX_FINDINGS]


def _sorted_items(plan: ModelPlan, node: dict[str, Any]) -> list[tuple[str, Any]]:
    """The properties of ``node`` and its missing mandatory complex elements, in field order
    (properties that are not elements last, in the order given)."""
    items = list(node.items())
    items += ((e.key, None) for e in plan.required_complex if e.key not in node)
    order = plan.order
    return sorted(items, key=lambda item: order.get(item[0], _LAST))


def _object(  # noqa: C901 - the hot loop, flat on purpose: a call saved is saved per element
    plan: ModelPlan,
    node: dict[str, Any],
    path: str,
    depth: int,
    found: list[Finding],
    ordered: bool,
) -> None:
    """Check one JSON object against ``plan`` (single primitives, most of the values, take one
    dict look-up and one call)."""
    if depth > MAX_DEPTH:
        raise _TooDeep
    if not plan.compiled:
        plan.ready()
    start = len(found)
    if ordered and _type_names(plan, node, path, found):
        return
    if plan.needs_any and all(node.get(k) is None for k in plan.needs_any):
        message = "an extension object of a primitive needs an id or extensions"
        found.append(Finding(path, EMPTY_PRIMITIVE_EXTENSION, message))
        return
    items: Any = node.items()
    if ordered:
        if _nulls_in_arrays(plan, node, path, found):
            return
        items = _sorted_items(plan, node)
    checks = plan.primitive_checks
    elements = plan.elements
    counts: dict[str, int] | None = None
    for key, value in items:
        check = checks.get(key)
        if check is not None:
            problem = check(value)
            if problem is not None and value is not None:  # null: absent, as in fhir.resources
                _bad_primitive(problem, value, f"{path}.{key}", found)
            continue
        element = elements.get(key)
        if element is None:
            if key != "resourceType" or not plan.is_resource:
                rule = SPEC_NOT_AN_ELEMENT if key in plan.not_elements else UNKNOWN
                found.append(Finding(f"{path}.{key}", rule, f"is not an element of {plan.name}"))
        elif value is None:
            if element.required and element.kind != PRIMITIVE:
                _missing(element, node, path, found)
        elif element.mode == SINGLE_COMPLEX:
            if type(value) is dict:
                inner = f"{path}.{key}" if ordered else path  # see structure_findings
                _object(element.target, value, inner, depth + 1, found, ordered)  # type: ignore[arg-type]
            else:
                found.append(_not_an_object(element, value, f"{path}.{key}"))
        else:
            if element.choice is not None:
                if counts is None:
                    counts = {}
                counts[element.choice] = counts.get(element.choice, 0) + 1
            _other(element, node, key, value, path, depth, found, ordered)
    if plan.checks_after:
        _after(plan, node, path, found, start, counts, ordered)


def _after(
    plan: ModelPlan,
    node: dict[str, Any],
    path: str,
    found: list[Finding],
    start: int,
    counts: dict[str, int] | None,
    ordered: bool,
) -> None:
    """Mandatory elements and choice elements of an object whose properties were checked."""
    if not ordered:
        for element in plan.required_complex:
            if element.key not in node:
                _missing(element, node, path, found)
    if len(found) > start:
        return  # fhir.resources checks the rest only for an object without other problems
    for element in plan.required_primitives:
        value = node.get(element.key)
        if value is None or value == []:
            _required_primitive(element, node, path, found)
    if len(found) > start:
        return
    for group, required in plan.choices:
        given = counts.get(group, 0) if counts else 0
        if given > 1:
            found.append(Finding(path, CHOICE, f"only one type of {group}[x] may be given"))
            return
        if given == 0 and required:
            found.append(Finding(path, CHOICE, f"{group}[x] is required"))
            return


def _bad_primitive(problem: tuple[str, str], value: Any, path: str, found: list[Finding]) -> None:
    if type(value) is list:
        problem = TYPE, "does not repeat: give one value, not an array"
    found.append(Finding(path, *problem))


def _other(
    element: ElementPlan,
    node: dict[str, Any],
    key: str,
    value: Any,
    path: str,
    depth: int,
    found: list[Finding],
    ordered: bool,
) -> None:
    """An array, a choice element or a resource: the less frequent cases of ``_object``."""
    kind = element.kind
    where = f"{path}.{key}" if ordered else path  # see structure_findings
    if element.many:
        if type(value) is not list:
            found.append(Finding(where, TYPE, "must be a JSON array"))
        elif value:
            _array(element, value, where, depth, found, ordered)
        elif element.required and kind != PRIMITIVE:
            _missing(element, node, path, found)
    elif kind == PRIMITIVE:
        problem = element.check(value)  # type: ignore[misc]
        if problem is not None:
            _bad_primitive(problem, value, where, found)
    elif type(value) is dict:
        if kind == COMPLEX:
            _object(element.target, value, where, depth + 1, found, ordered)  # type: ignore[arg-type]
        else:
            _resource(value, where, depth, found, ordered)
    else:
        found.append(_not_an_object(element, value, where))


def _type_names(plan: ModelPlan, node: dict[str, Any], path: str, found: list[Finding]) -> bool:
    """A type name in an object where it is no element (``resourceType`` in a datatype,
    ``resource_type`` anywhere): fhir.resources looks at those before anything else."""
    start = len(found)
    for key in ("resource_type",) if plan.is_resource else ("resourceType", "resource_type"):
        if key in node and key not in plan.elements:
            message = f"is not an element of {plan.name}"
            found.append(Finding(f"{path}.{key}", SPEC_NOT_AN_ELEMENT, message))
    return len(found) > start


def _nulls_in_arrays(
    plan: ModelPlan, node: dict[str, Any], path: str, found: list[Finding]
) -> bool:
    """fhir.resources refuses a null in an array of complex elements before anything else."""
    start = len(found)
    for key in plan.complex_arrays:
        value = node.get(key)
        if type(value) is list and any(item is None for item in value):
            found.append(Finding(f"{path}.{key}", NULL_IN_ARRAY, "null is not allowed here"))
    return len(found) > start


def _missing(element: ElementPlan, node: dict[str, Any], path: str, found: list[Finding]) -> None:
    # fhir.resources takes null, and [] for an array, as a value of a mandatory complex element
    rule = SPEC_REQUIRED_EMPTY if element.key in node else REQUIRED
    found.append(Finding(f"{path}.{element.key}", rule, "is required"))


def _required_primitive(
    element: ElementPlan, node: dict[str, Any], path: str, found: list[Finding]
) -> None:
    """A mandatory primitive (null or absent) may be absent when its ``_name`` object carries
    extensions (extensibility.html#Special-Case)."""
    value = node.get(element.key)
    if value is None:
        extension = node.get("_" + element.key)
        if type(extension) is dict and extension.get("extension"):
            return
    rule = REQUIRED if value is None else SPEC_REQUIRED_EMPTY
    found.append(Finding(f"{path}.{element.key}", rule, "is required"))


def _array(
    element: ElementPlan,
    value: list[Any],
    path: str,
    depth: int,
    found: list[Finding],
    ordered: bool,
) -> None:
    kind = element.kind
    if kind == PRIMITIVE:
        check = element.check
        assert check is not None
        for index, item in enumerate(value):
            if item is not None:
                problem = check(item)
                if problem is not None:
                    found.append(Finding(f"{path}[{index}]", *problem))
        return
    for index, item in enumerate(value):
        if type(item) is dict:
            if kind == COMPLEX:
                assert element.target is not None
                inner = f"{path}[{index}]" if ordered else path  # see structure_findings
                _object(element.target, item, inner, depth + 1, found, ordered)
            else:
                _resource(item, f"{path}[{index}]", depth, found, ordered)
        elif item is None:
            if not element.nullable_items:
                found.append(Finding(path, NULL_IN_ARRAY, "null is not allowed here"))
        else:
            found.append(_not_an_object(element, item, f"{path}[{index}]"))


def _not_an_object(element: ElementPlan, value: Any, path: str) -> Finding:
    # pydantic parses a string as JSON for a complex element
    rule = SPEC_JSON_TYPE if type(value) is str else TYPE
    if type(value) is list:
        return Finding(path, rule, f"does not repeat: give one {element.type_name}, not an array")
    return Finding(path, rule, f"must be a JSON object ({element.type_name})")


def _resource(
    value: dict[str, Any], path: str, depth: int, found: list[Finding], ordered: bool
) -> None:
    resource_type = value.get("resourceType")
    if type(resource_type) is not str or resource_type not in nested_resource_types():
        message = "must name the R4 resource type of a resource inside another"
        found.append(Finding(f"{path}.resourceType", SPEC_RESOURCE_TYPE, message))
        return
    _object(resource_plan(resource_type), value, path, depth + 1, found, ordered)
