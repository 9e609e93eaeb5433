"""The compiled FHIRPath subset selects what a FHIRPath engine would, typed by the R4 model."""

from __future__ import annotations

from decimal import Decimal
from typing import Any

import pytest

from chartkeeper.fhir.fhirpath_lite import (
    compile_expression,
    guess_type,
    is_a,
    lookup,
    parse_reference,
)

OBSERVATION: dict[str, Any] = {
    "resourceType": "Observation",
    "id": "o1",
    "status": "final",
    "code": {"coding": [{"system": "http://loinc.org", "code": "8867-4"}]},
    "subject": {"reference": "Patient/p1"},
    "performer": [{"reference": "Group/g1"}, {"reference": "http://x/fhir/Patient/p2"}],
    "valueQuantity": {"value": 72, "unit": "/min"},
    "component": [
        {"code": {"text": "a"}, "valueString": "first"},
        {"code": {"text": "b"}, "valueQuantity": {"value": 1}},
    ],
    "extension": [
        {"url": "http://e/one", "valueCode": "x"},
        {"url": "http://e/two", "valueString": "y"},
    ],
}


def typed(expression: str, resource: dict[str, Any], context: str | None = None) -> list[Any]:
    program = compile_expression(expression, resource.get("resourceType", "Observation"), context)
    assert program.fast, program.reason
    return program.typed_values(resource)


def test_dotted_path_flattens_lists() -> None:
    assert typed("Observation.component.code.text", OBSERVATION) == [
        ("a", "string"),
        ("b", "string"),
    ]


def test_choice_element_collects_every_variant_with_its_type() -> None:
    assert typed("Observation.value", OBSERVATION) == [({"value": 72, "unit": "/min"}, "Quantity")]
    found = typed("Observation.component.value", OBSERVATION)
    assert sorted(found, key=str) == [("first", "string"), ({"value": 1}, "Quantity")]


@pytest.mark.parametrize(
    "expression",
    [
        "Observation.component.value.as(string)",
        "(Observation.component.value as string)",
        "Observation.component.value.ofType(string)",
        "Observation.component.value.as(String)",  # R4 writes value.as(DateTime) in composites
    ],
)
def test_casts_pick_one_choice_variant(expression: str) -> None:
    assert typed(expression, OBSERVATION) == [("first", "string")]


def test_cast_then_member() -> None:
    resource = {"resourceType": "Observation", "valueCodeableConcept": {"text": "pos"}}
    assert typed("(Observation.value as CodeableConcept).text", resource) == [("pos", "string")]


def test_union_keeps_only_this_types_paths() -> None:
    program = compile_expression("Patient.name | Practitioner.name", "Practitioner")
    assert [b.ops for b in program.branches] == [((0, "name"),)]
    assert program.branches[0].fhir_type == "HumanName"


def test_common_parameters_apply_to_every_type() -> None:
    resource = {"resourceType": "Condition", "id": "c1", "meta": {"lastUpdated": "2020-01-01"}}
    assert typed("Resource.id", resource) == [("c1", "string")]
    assert typed("Resource.meta.lastUpdated", resource) == [("2020-01-01", "instant")]


def test_where_resolve_is_filters_references_by_type() -> None:
    assert typed("Observation.performer.where(resolve() is Patient)", OBSERVATION) == [
        ({"reference": "http://x/fhir/Patient/p2"}, "Reference")
    ]
    assert typed("Observation.subject.where(resolve() is Group)", OBSERVATION) == []


def test_where_equality_filter() -> None:
    patient = {
        "resourceType": "Patient",
        "telecom": [{"system": "email", "value": "a@b"}, {"system": "phone", "value": "1"}],
    }
    assert typed("Patient.telecom.where(system='phone')", patient) == [
        ({"system": "phone", "value": "1"}, "ContactPoint")
    ]


def test_extension_by_url_then_value() -> None:
    assert typed("Observation.extension('http://e/two').value", OBSERVATION) == [("y", "string")]


def test_indexer_and_first() -> None:
    assert typed("Observation.performer[1].reference", OBSERVATION) == [
        ("http://x/fhir/Patient/p2", "string")
    ]
    assert typed("Observation.performer.first().reference", OBSERVATION) == [("Group/g1", "string")]


def test_exists_and_not_false_is_one_boolean() -> None:
    expression = "Patient.deceased.exists() and Patient.deceased != false"
    for extra, expected in [
        ({}, False),
        ({"deceasedBoolean": False}, False),
        ({"deceasedBoolean": True}, True),
        ({"deceasedDateTime": "2020"}, True),
    ]:
        assert typed(expression, {"resourceType": "Patient", **extra}) == [(expected, "boolean")]


def test_relative_expression_in_a_backbone_context() -> None:
    component = OBSERVATION["component"][1]
    assert typed("value.as(Quantity)", component, "Observation.component") == [
        ({"value": 1}, "Quantity")
    ]


def test_bare_path_on_the_resource() -> None:
    resource = {"resourceType": "InsurancePlan", "name": "n", "alias": ["a"]}
    assert typed("name | alias", resource) == [("n", "string"), ("a", "string")]


def test_recursive_backbone_defined_elsewhere() -> None:
    assert lookup("Questionnaire.item", "item") == [
        ("item", "BackboneElement", "Questionnaire.item")
    ]


def test_unsupported_shapes_fall_back_to_fhirpathpy() -> None:
    program = compile_expression("Observation.component.where(code.text.exists())", "Observation")
    assert not program.fast and program.reason
    found = program.typed_values(OBSERVATION)
    assert [value["code"]["text"] for value, _ in found] == ["a", "b"]


def test_fallback_resolve_knows_reference_types() -> None:
    program = compile_expression("Observation.subject.resolve().ofType(Patient)", "Observation")
    assert not program.fast
    assert program.typed_values(OBSERVATION) == [
        ({"resourceType": "Patient", "id": "p1"}, "Patient")
    ]


@pytest.mark.parametrize(
    ("ref", "expected"),
    [
        ("Patient/123", ("Patient", "123")),
        ("Patient/123/_history/2", ("Patient", "123")),
        ("https://x.org/fhir/Observation/a.b-c", ("Observation", "a.b-c")),
        ("urn:uuid:1f8e5a5c-0000-4000-8000-000000000000", None),
        ("#contained", None),
        (None, None),
    ],
)
def test_parse_reference(ref: str | None, expected: tuple[str, str] | None) -> None:
    assert parse_reference(ref) == expected


def test_is_a_follows_the_type_hierarchy() -> None:
    assert is_a("Age", "Quantity")
    assert is_a("dateTime", "DateTime")
    assert not is_a("Period", "Quantity")


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (True, "boolean"),
        (Decimal("1.5"), "decimal"),
        ("2020-01-02", "dateTime"),
        ("hello", "string"),
        ({"reference": "Patient/1"}, "Reference"),
        ({"coding": []}, "CodeableConcept"),
        ({"family": "X"}, "HumanName"),
        ({"start": "2020"}, "Period"),
        ({"value": 3, "unit": "mg"}, "Quantity"),
        ({"system": "phone", "value": "1"}, "ContactPoint"),
        ({"system": "urn:x", "value": "1"}, "Identifier"),
        ({"system": "urn:x", "code": "1"}, "Coding"),
    ],
)
def test_guess_type(value: object, expected: str) -> None:
    assert guess_type(value) == expected
