"""Validation plans compiled from the fhir.resources R4B models, lazily per type and cached.

fhir.resources generated its pydantic models from the R4 StructureDefinitions, so the models'
field metadata *are* the definitions' data: for every element its JSON name (the field alias),
whether it repeats (a ``List`` annotation), its type (a fhir_core primitive, a datatype or
backbone model, or ``Resource`` for contained resources and Bundle entries), whether it is
mandatory (a required pydantic field, or ``element_required`` for primitives), its choice
group (``one_of_many``) and the ``_name`` sibling that carries a primitive's extensions.

We read that metadata once per type into plain objects that ``structure_check`` walks, instead
of running the pydantic models themselves: the models build an object per element and validate
each value through layers of wrappers, about ten times the cost of the walk. The field order is
kept, because the models report problems in that order and we report the same first problem.
"""

from __future__ import annotations

import importlib.util
import types
import typing
from dataclasses import dataclass, field
from functools import cache
from typing import Any

from fhir.resources.R4B import get_fhir_model_class
from fhir_core.constraints import FHIR_PRIMITIVES_MAPS
from fhir_core.types import FhirBase, FhirElementOrResourceBase

from chartkeeper.fhir.primitives import CHECKS, Check
from chartkeeper.fhir.searchparams import all_resource_types

#: What an element holds.
PRIMITIVE, COMPLEX, RESOURCE = 0, 1, 2
#: ``ElementPlan.mode``: the two frequent cases the walk handles inline, and all others.
SINGLE_PRIMITIVE, SINGLE_COMPLEX, OTHER = 0, 1, 2
#: fhir_core's extension object of a primitive (``_birthDate``).
_PRIMITIVE_EXTENSION = "FHIRPrimitiveExtension"
#: Field names of the pydantic models that are not elements (fhir_core's DSTU2 comments).
_NOT_ELEMENTS = frozenset({"fhir_comments", "resource_type"})


class CompileError(TypeError):
    """A model field whose annotation the plan compiler does not understand."""


@dataclass(slots=True, eq=False)
class ElementPlan:
    """One element of a type: how its JSON property is checked."""

    key: str
    order: int
    many: bool
    kind: int
    type_name: str
    check: Check | None = None
    target: ModelPlan | None = None
    required: bool = False
    choice: str | None = None
    #: a null may stand in the array (primitives and their ``_name`` extension arrays)
    nullable_items: bool = False
    mode: int = OTHER

    def __post_init__(self) -> None:
        if not self.many and self.choice is None:
            if self.kind == PRIMITIVE:
                self.mode = SINGLE_PRIMITIVE
            elif self.kind == COMPLEX:
                self.mode = SINGLE_COMPLEX


@dataclass(slots=True, eq=False)
class ModelPlan:
    """The elements of one type (datatype, backbone element or resource), compiled on first use.

    ``source`` is the dotted path of the fhir.resources model; the model module is imported only
    when the plan is first needed, as fhir.resources itself does.
    """

    source: str
    name: str = ""
    compiled: bool = False
    is_resource: bool = False
    elements: dict[str, ElementPlan] = field(default_factory=dict)
    #: JSON name (and pydantic field name) -> position among the model's fields, the order
    #: in which fhir.resources reports problems
    order: dict[str, int] = field(default_factory=dict)
    required_complex: tuple[ElementPlan, ...] = ()
    required_primitives: tuple[ElementPlan, ...] = ()
    #: (group, whether one member is mandatory), in field order
    choices: tuple[tuple[str, bool], ...] = ()
    #: arrays of complex elements or resources, where fhir.resources refuses a null first
    complex_arrays: tuple[str, ...] = ()
    #: keys the pydantic models accept although they are not elements (Python field names)
    not_elements: frozenset[str] = frozenset()
    #: for a primitive's extension object: at least one of these must be given
    needs_any: tuple[str, ...] = ()
    #: JSON name -> check, for the single (not repeating, not choice) primitive elements
    primitive_checks: dict[str, Check] = field(default_factory=dict)
    #: whether the object has mandatory or choice elements to check after its properties
    checks_after: bool = False

    def ready(self) -> ModelPlan:
        """This plan, compiled. (Two threads may both compile it the first time; they write
        the same values, and ``compiled`` is set last.)"""
        if not self.compiled:
            _compile(self, _import(self.source))
        return self


_PLANS: dict[str, ModelPlan] = {}


def _plan_for(source: str) -> ModelPlan:
    plan = _PLANS.get(source)
    if plan is None:
        plan = _PLANS[source] = ModelPlan(source)
    return plan


def _import(source: str) -> Any:
    module, _, name = source.rpartition(".")
    return getattr(importlib.import_module(module), name)


def has_model(resource_type: str) -> bool:
    """Whether fhir.resources has a model for the type, without importing it (importing all
    145 model modules costs seconds at start-up; they load on first use instead)."""
    return importlib.util.find_spec(f"fhir.resources.R4B.{resource_type.lower()}") is not None


@cache
def nested_resource_types() -> frozenset[str]:
    """The types a contained resource, Bundle entry or Parameters resource may have: every R4
    resource type that has a model (R4B-only types are refused, as at the top level).
    ``all_resource_types`` comes from the Patient CompartmentDefinition, which leaves out
    Parameters, no clinical record but a resource all the same."""
    return frozenset(t for t in (*all_resource_types(), "Parameters") if has_model(t))


_RESOURCE_PLANS: dict[str, ModelPlan] = {}


def resource_plan(resource_type: str) -> ModelPlan:
    """The compiled plan of a resource type (one of ``nested_resource_types``)."""
    plan = _RESOURCE_PLANS.get(resource_type)
    if plan is None:
        model = get_fhir_model_class(resource_type)
        plan = _plan_for(f"{model.__module__}.{model.__qualname__}").ready()
        _RESOURCE_PLANS[resource_type] = plan
    return plan


def _unwrap(annotation: Any) -> tuple[bool, Any]:
    """(repeats, element type) of ``Optional[List[Optional[X]]]`` and the like."""
    many = False
    while True:
        origin = typing.get_origin(annotation)
        if origin is typing.Union or origin is types.UnionType:
            args = [a for a in typing.get_args(annotation) if a is not type(None)]
            if len(args) != 1:
                raise CompileError(f"a union of several types: {annotation!r}")
            annotation = args[0]
        elif origin is list:
            many = True
            annotation = typing.get_args(annotation)[0]
        else:
            return many, annotation


def _element(key: str, order: int, info: Any) -> ElementPlan:
    many, inner = _unwrap(info.annotation)
    extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
    choice = extra.get("one_of_many")
    if isinstance(inner, type) and issubclass(inner, FhirBase):
        source = str(inner._model_klass)
        name = source.rpartition(".")[2]
        if issubclass(inner, FhirElementOrResourceBase):
            if name != "Resource":
                raise CompileError(f"{key}: an element of any type ({name})")
            return ElementPlan(key, order, many, RESOURCE, "Resource", required=info.is_required())
        return ElementPlan(
            key,
            order,
            many,
            COMPLEX,
            name,
            target=_plan_for(source),
            required=info.is_required(),
            choice=str(choice) if choice else None,
            nullable_items=name == _PRIMITIVE_EXTENSION,
        )
    try:
        type_name = FHIR_PRIMITIVES_MAPS[inner]
    except (KeyError, TypeError) as error:
        raise CompileError(f"{key}: unknown element type {inner!r}") from error
    return ElementPlan(
        key,
        order,
        many,
        PRIMITIVE,
        type_name,
        check=CHECKS[type_name],
        required=bool(extra.get("element_required")),
        choice=str(choice) if choice else None,
        nullable_items=True,
    )


def compile_model(model: Any) -> ModelPlan:
    """A fresh plan of a fhir.resources model class (the walk uses the cached ones)."""
    plan = ModelPlan(f"{model.__module__}.{model.__qualname__}")
    _compile(plan, model)
    return plan


def _compile(plan: ModelPlan, model: Any) -> None:
    """Fill ``plan`` from the fields of ``model``, in field order."""
    elements: dict[str, ElementPlan] = {}
    order: dict[str, int] = {}
    choices: dict[str, bool] = {}
    not_elements = set(_NOT_ELEMENTS)
    for position, (name, info) in enumerate(model.model_fields.items()):
        key = info.alias or name
        order.setdefault(name, position)  # fhir.resources reports those in field order too
        if key != name:
            not_elements.add(name)  # pydantic also takes the field name (populate_by_name)
        if name in _NOT_ELEMENTS:
            continue
        element = _element(key, position, info)
        elements[key] = element
        order[key] = position
        extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
        if element.choice is not None:
            required = extra.get("one_of_many_required") is True
            choices[element.choice] = choices.get(element.choice, False) or required
    plan.name = str(model.get_resource_type())
    plan.is_resource = bool(model.has_resource_base())
    if not plan.is_resource:
        not_elements.add("resourceType")
    plan.elements = elements
    plan.order = order
    plan.required_complex = tuple(
        e for e in elements.values() if e.required and e.kind != PRIMITIVE
    )
    plan.required_primitives = tuple(
        e for e in elements.values() if e.required and e.kind == PRIMITIVE
    )
    plan.choices = tuple(choices.items())
    plan.primitive_checks = {
        e.key: e.check for e in elements.values() if e.mode == SINGLE_PRIMITIVE and e.check
    }
    plan.checks_after = bool(plan.required_complex or plan.required_primitives or plan.choices)
    plan.complex_arrays = tuple(
        e.key for e in elements.values() if e.many and e.kind != PRIMITIVE and not e.nullable_items
    )
    plan.not_elements = frozenset(not_elements - set(elements))
    if plan.name == _PRIMITIVE_EXTENSION:
        plan.needs_any = ("id", "extension", "fhir_comments")
    plan.compiled = True
