"""The compiled structure check (``validation_issues``) and the fhir.resources models
(``reference_issues``) agree on whether a resource is valid and on the element its first issue
names: on Synthea's resources (../shared, skipped without it), on the demo generator's, and on
mutations of those that hypothesis draws (wrong types, bad dates, unknown elements, two values
of a choice element, missing mandatory elements, empty strings, nulls, arrays for single values
and the reverse, deep nesting, resources inside resources).

Where they differ, the first finding of the check must be one of the documented rules where we
follow the R4 specification rather than fhir.resources (``findings.SPEC_RULES``), or the
models must have raised (they raise KeyError, AttributeError or TypeError on some malformed
input) while the check refused the resource.
"""

from __future__ import annotations

import copy
import json
import tarfile
from collections import Counter
from collections.abc import Iterator
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chartkeeper.demo import generate_hospital
from chartkeeper.fhir.findings import DEPTH, SPEC_RULES
from chartkeeper.fhir.structure_check import structure_findings
from chartkeeper.fhir.structure_plans import (
    COMPLEX,
    PRIMITIVE,
    RESOURCE,
    ElementPlan,
    ModelPlan,
    nested_resource_types,
    resource_plan,
)
from chartkeeper.fhir.validation import reference_issues, validation_issues
from tests.conftest import require_shared

Resource = dict[str, Any]
EXPLAINED = SPEC_RULES | {DEPTH}


def outcome(resource: Resource, prefix: str = "") -> str:
    """'valid' or 'invalid' when the two agree, else the documented reason they differ; fails
    the test for an unexplained difference."""
    ours = validation_issues(resource, prefix)
    try:
        theirs = reference_issues(resource, prefix)
    except (AttributeError, KeyError, TypeError) as error:
        assert ours, f"fhir.resources raised {error!r}; the check must refuse the resource"
        return "fhir.resources raised"
    if bool(ours) == bool(theirs) and (not ours or ours[0].expression == theirs[0].expression):
        return "invalid" if ours else "valid"
    found = structure_findings(resource, resource["resourceType"], prefix)
    assert found and found[0].rule in EXPLAINED, (
        f"ours: {[i.diagnostics for i in ours[:3]]}\ntheirs: {[i.diagnostics for i in theirs[:3]]}"
    )
    return found[0].rule


def _entries(bundle: Resource) -> Iterator[tuple[str, Resource]]:
    for index, entry in enumerate(bundle.get("entry", [])):
        yield f"Bundle.entry[{index}].resource", entry["resource"]


# --- (a) Synthea ----------------------------------------------------------------------------------


def _synthea_sample(folder: Path, per_part: int = 2) -> Iterator[Resource]:
    """The loose Bundles and the first ``per_part`` of every archive (reading further into an
    .xz archive means decompressing all of it)."""
    for path in sorted([*folder.glob("*.json"), *folder.glob("samples/*.json")]):
        yield json.loads(path.read_bytes())
    for part in sorted(folder.glob("synthea_r4_part*.tar.xz")):
        with tarfile.open(part, "r:xz") as archive:
            taken = 0
            for member in archive:
                handle = archive.extractfile(member)
                if handle is not None:
                    yield json.load(handle)
                    taken += 1
                    if taken == per_part:
                        break


@pytest.mark.shared
def test_synthea_resources_are_valid_to_both() -> None:
    folder = require_shared("data", "synthea", "r4")
    tally: Counter[str] = Counter()
    for bundle in _synthea_sample(folder):
        for prefix, resource in _entries(bundle):
            tally[outcome(resource, prefix)] += 1
    assert tally["valid"] > 1000
    assert set(tally) == {"valid"}, tally


# --- (b) the demo generator ----------------------------------------------------------------------


@cache
def demo_resources() -> tuple[Resource, ...]:
    return tuple(r for b in generate_hospital(patients=6, seed=11) for _, r in _entries(b))


def test_demo_resources_are_valid_to_both() -> None:
    tally = Counter(outcome(r) for r in demo_resources())
    assert set(tally) == {"valid"}, tally
    assert tally["valid"] > 200


# --- (c) mutations -------------------------------------------------------------------------------

#: Resources inside resources, primitive extensions and choice elements, beside the demo's.
HAND_MADE: tuple[Resource, ...] = (
    {
        "resourceType": "Observation",
        "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": "8302-2"}]},
        "valueQuantity": {"value": 180.5, "unit": "cm"},
        "effectiveDateTime": "2020-01-01T10:00:00Z",
        "component": [{"code": {"text": "a"}, "valueString": "x"}],
        "contained": [
            {
                "resourceType": "Patient",
                "id": "p1",
                "name": [
                    {
                        "family": "X",
                        "given": ["A", None],
                        "_given": [None, {"extension": [{"url": "http://x", "valueCode": "a"}]}],
                    }
                ],
                "_birthDate": {"extension": [{"url": "http://x", "valueCode": "unknown"}]},
            },
            {
                "resourceType": "Parameters",
                "parameter": [
                    {"name": "a", "resource": {"resourceType": "Patient", "active": True}},
                    {"name": "b", "part": [{"name": "c", "valueString": "x"}]},
                ],
            },
            {
                "resourceType": "Bundle",
                "type": "collection",
                "entry": [
                    {"resource": {"resourceType": "Condition", "subject": {"reference": "#"}}}
                ],
            },
        ],
    },
    {
        "resourceType": "MedicationRequest",
        "status": "active",
        "intent": "order",
        "medicationCodeableConcept": {"text": "x"},
        "subject": {"reference": "Patient/1"},
        "dosageInstruction": [
            {
                "timing": {"repeat": {"frequency": 1, "period": 1.0, "periodUnit": "d"}},
                "doseAndRate": [{"doseQuantity": {"value": 1}}],
            }
        ],
        "_status": {"id": "s"},
    },
)

PRIMITIVE_VALUES: dict[str, list[Any]] = {
    "boolean": [True, False, "true", 1, 0, "yes", 2],
    "integer": [0, -1, 2**31, -(2**31) - 1, 1.0, 1.5, "1", True],
    "unsignedInt": [0, 1, -1, 2**31 - 1, 1.0, "0", False],
    "positiveInt": [1, 0, -1, 2**31, 1.0, "1", True],
    "decimal": [0, 1.5, -2, 1e20, "1.5", True, "x"],
    "string": ["a", "", " ", "\u00a0", "a\u00a0", "a\nb", "\x0b", 1],
    "markdown": ["a", "", " ", 1],
    "xhtml": ['<div xmlns="http://www.w3.org/1999/xhtml">x</div>', "", 1],
    "code": ["final", "a b", "a  b", " a", "a ", "", "a\u00a0b", "a\n", 1, "a\u00a0\u00a0b"],
    "id": ["a", "a" * 64, "a" * 65, "a" * 256, "a b", "", "é", 1],
    "uri": ["http://x", "", "a b", "urn:oid:1.2", "\u00a0", 1, "x\ty"],
    "url": ["http://x", "", "a b", "Patient/1", 1, True],
    "canonical": ["http://x|1.0", "", "a b"],
    "oid": ["urn:oid:1.2.3", "urn:oid:3.1", "1.2.3", "urn:oid:1.02"],
    # only version 4: fhir.resources wants it (see test_validation_plan.py)
    "uuid": [
        "urn:uuid:0a1b2c3d-0000-4000-8000-000000000000",
        "0a1b2c3d-0000-4000-8000-000000000000",
        "urn:uuid:0A1B2C3D-0000-4000-8000-000000000000",
    ],
    "base64Binary": ["aGVsbG8=", "aGVs bG8=", "", "2020-02-30", "a", "aGVsbG8"],
    "date": ["2020", "2020-02", "2020-02-29", "2021-02-29", "2020-13", "0000", 0, "2020-1-1"],
    "dateTime": [
        "2020",
        "2020-01-01T10:00:00Z",
        "2020-01-01T10:00:00",
        "2020-01-01T10:00Z",
        "2020-01-01T23:59:60+14:00",
        "2020-01-01T10:00:00+14:01",
        "2021-02-29T00:00:00Z",
        "2020-06-31",
        0,
        1.5,
    ],
    "instant": ["2020-01-01T10:00:00Z", "2020-01-01", "2020-01-01T10:00:00", 0],
    "time": ["10:00:00", "24:00:00", "10:00", "10:00:60", "10:00:00.5", 0, "10:00:00Z"],
}
JUNK: list[Any] = [1, 1.5, True, "x", "", None, [], {}, [None], [{}], {"a": 1}, '{"text":"x"}']
NESTED: list[Any] = [
    {"resourceType": "Patient", "id": "x"},
    {"resourceType": "Spaceship"},
    {"id": "x"},
    {"resourceType": "Resource"},
    {"resourceType": "Citation"},
    {"resourceType": "Patient", "gender": 1},
    {"resourceType": 5},
]
NOT_ELEMENTS = ["favouriteColour", "fhir_comments", "resource_type", "_nope", "class_fhir"]


def _objects(node: Resource, plan: ModelPlan, out: list[tuple[Resource, ModelPlan]]) -> None:
    """Every JSON object of the resource with the plan of its type."""
    plan.ready()
    out.append((node, plan))
    for key, value in node.items():
        element = plan.elements.get(key)
        if element is None or element.kind == PRIMITIVE:
            continue
        for item in value if isinstance(value, list) else [value]:
            if not isinstance(item, dict):
                continue
            if element.kind == COMPLEX and element.target is not None:
                _objects(item, element.target, out)
            elif item.get("resourceType") in nested_resource_types():
                _objects(item, resource_plan(item["resourceType"]), out)


@st.composite
def element_values(draw: st.DrawFn, element: ElementPlan, depth: int = 0) -> Any:
    """A value for ``element``: of its type (valid or not), or junk; an array or not."""

    def one() -> Any:
        if draw(st.integers(0, 9)) == 0:
            return copy.deepcopy(draw(st.sampled_from(JUNK)))
        if element.kind == PRIMITIVE:
            return draw(st.sampled_from(PRIMITIVE_VALUES[element.type_name]))
        if element.kind == RESOURCE:
            return copy.deepcopy(draw(st.sampled_from(NESTED)))
        target = element.target.ready() if element.target else None
        value: Resource = {}
        if target is not None and depth < 2 and target.elements:
            keys = sorted(target.elements)
            for key in draw(st.lists(st.sampled_from(keys), max_size=3, unique=True)):
                value[key] = draw(element_values(target.elements[key], depth + 1))
        return value

    if element.many and draw(st.integers(0, 4)) > 0:
        return [one() for _ in range(draw(st.integers(0, 2)))]
    return one()


@st.composite
def mutated(draw: st.DrawFn) -> Resource:
    resource = copy.deepcopy(draw(st.sampled_from([*HAND_MADE, *demo_resources()[:40]])))
    for _ in range(draw(st.integers(1, 3))):
        objects: list[tuple[Resource, ModelPlan]] = []
        _objects(resource, resource_plan(resource["resourceType"]), objects)
        node, plan = draw(st.sampled_from(objects))
        operation = draw(
            st.sampled_from(["set", "set", "set", "delete", "wrap", "choice", "name", "nest"])
        )
        keys = [k for k in node if k != "resourceType"]
        if operation == "set":
            element = draw(st.sampled_from(sorted(plan.elements.values(), key=lambda e: e.key)))
            node[element.key] = draw(element_values(element))
        elif operation == "delete" and keys:
            del node[draw(st.sampled_from(keys))]
        elif operation == "wrap" and keys:
            key = draw(st.sampled_from(keys))
            value = node[key]
            node[key] = value[0] if isinstance(value, list) and value else [value]
        elif operation == "choice" and plan.choices:
            group = draw(st.sampled_from([g for g, _ in plan.choices]))
            members = sorted(e.key for e in plan.elements.values() if e.choice == group)
            for key in draw(st.lists(st.sampled_from(members), min_size=1, max_size=2)):
                node[key] = draw(element_values(plan.elements[key]))
        elif operation == "name":
            names = NOT_ELEMENTS if plan.is_resource else [*NOT_ELEMENTS, "resourceType"]
            node[draw(st.sampled_from(names))] = draw(
                st.sampled_from(["a", 1, {"id": "x"}, plan.name])
            )
        elif operation == "nest" and "extension" in plan.elements:
            extension: Resource = {"url": "http://x", "valueString": "a"}
            for _ in range(draw(st.sampled_from([1, 5, 40, 300]))):
                extension = {"url": "http://x", "extension": [extension]}
            node["extension"] = [extension]
    return resource


MUTATIONS: Counter[str] = Counter()


@settings(
    max_examples=600,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(mutated())
def test_mutated_resources_get_the_same_verdict_and_first_element(resource: Resource) -> None:
    MUTATIONS[outcome(resource)] += 1


def test_the_mutations_reached_both_verdicts() -> None:
    """Run after the property above (same module, file order): it must not have been vacuous."""
    if not MUTATIONS:
        pytest.skip("the mutation property did not run in this session")
    assert MUTATIONS["valid"] > 20 and MUTATIONS["invalid"] > 100, MUTATIONS


@pytest.mark.parametrize("prefix", ["", "Bundle.entry[7].resource"])
def test_a_handful_of_classic_mistakes_agree_with_the_prefix(prefix: str) -> None:
    patient: Resource = {"resourceType": "Patient", "name": [{"given": ["Anna"]}]}
    for change in (
        {"birthDate": "1990-13-45"},
        {"favouriteColour": "blue"},
        {"name": [{"given": "Anna"}]},
        {"name": {"family": "x"}},
        {"deceasedBoolean": True, "deceasedDateTime": "2020"},
        {"gender": ""},
        {"contact": [None]},
        {"contained": [{"resourceType": "Observation", "status": "final"}]},
    ):
        assert outcome({**patient, **change}, prefix) == "invalid"
