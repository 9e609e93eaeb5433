"""The structure check compiled from the fhir.resources models (``structure_plans``,
``structure_check``, ``primitives``): plans for every model, the rules of each primitive, the
paths and messages of the issues, and each place where we follow the R4 specification rather
than fhir.resources (asserting both what the models do and what we do)."""

from __future__ import annotations

import importlib
import pkgutil
from typing import Any

import pytest
from fhir.resources import R4B
from fhir.resources.R4B import get_fhir_model_class
from fhir_core import types as core_types
from fhir_core.fhirabstractmodel import FHIRAbstractModel
from hypothesis import given, settings
from hypothesis import strategies as st

from chartkeeper.fhir import findings, primitives
from chartkeeper.fhir.structure_check import MAX_DEPTH, structure_findings
from chartkeeper.fhir.structure_plans import (
    PRIMITIVE,
    compile_model,
    nested_resource_types,
    resource_plan,
)
from chartkeeper.fhir.validation import (
    is_resource_type,
    reference_issues,
    storable_types,
    validation_issues,
)

Resource = dict[str, Any]


def _models() -> list[type[FHIRAbstractModel]]:
    """Every model of a FHIR type (not the abstract bases of fhir_core and fhir.resources)."""
    classes: set[type[FHIRAbstractModel]] = set()
    for info in pkgutil.iter_modules(R4B.__path__):
        module = importlib.import_module(f"fhir.resources.R4B.{info.name}")
        classes.update(
            value
            for value in vars(module).values()
            if isinstance(value, type)
            and issubclass(value, FHIRAbstractModel)
            and value.__name__ not in ("FHIRAbstractModel", "FHIRResourceModel")
        )
    return sorted(classes, key=lambda c: (c.__module__, c.__qualname__))


def _first(resource: Resource, prefix: str = "") -> tuple[str, ...] | None:
    issues = validation_issues(resource, prefix)
    return issues[0].expression if issues else None


def _rule(resource: Resource) -> str | None:
    found = structure_findings(resource, resource["resourceType"])
    return found[0].rule if found else None


def _reference_first(resource: Resource) -> tuple[str, ...] | None:
    issues = reference_issues(resource)
    return issues[0].expression if issues else None


def _patient(**extra: Any) -> Resource:
    return {"resourceType": "Patient", "name": [{"family": "Smith", "given": ["Anna"]}], **extra}


def _observation(**extra: Any) -> Resource:
    return {"resourceType": "Observation", "status": "final", "code": {"text": "x"}, **extra}


def _extension(kind: str, value: Any) -> Resource:
    return _patient(extension=[{"url": "http://example.org/x", f"value{kind}": value}])


# --- plans -------------------------------------------------------------------------------------


def test_every_fhir_resources_model_compiles_to_a_plan() -> None:
    models = _models()
    assert len(models) > 600
    for model in models:
        # raises CompileError for an annotation it does not understand
        assert compile_model(model).compiled


def test_every_nested_resource_type_has_a_plan_and_every_storable_type_is_nested() -> None:
    assert storable_types() < nested_resource_types()
    assert {"Bundle", "Parameters", "OperationOutcome"} < nested_resource_types()
    for resource_type in sorted(nested_resource_types()):
        plan = resource_plan(resource_type)
        assert plan.is_resource and "id" in plan.elements and "meta" in plan.elements


def test_mandatory_and_choice_elements_come_in_the_order_the_models_check_them() -> None:
    """The plan derives them from field metadata; the models' after-validators use their own
    lists (``get_required_fields``, ``get_one_of_many_fields``): the orders must be the same,
    since the first of several problems must be the same."""
    for model in _models():
        plan = compile_model(model)
        required = [key for key, _ in model.get_required_fields(None)]  # type: ignore[arg-type]
        assert [e.key for e in plan.required_primitives] == required, model
        groups = list(model.get_one_of_many_fields(None))  # type: ignore[arg-type]
        assert [group for group, _ in plan.choices] == groups, model


def test_a_plan_reads_cardinality_types_and_extension_siblings_from_the_model() -> None:
    plan = resource_plan("Patient")
    name, birth, extension = (
        plan.elements["name"],
        plan.elements["birthDate"],
        plan.elements["_birthDate"],
    )
    assert name.many and name.kind != PRIMITIVE and name.type_name == "HumanName"
    assert not birth.many and birth.kind == PRIMITIVE and birth.type_name == "date"
    assert extension.type_name == "FHIRPrimitiveExtension"
    assert plan.elements["deceasedBoolean"].choice == "deceased"
    observation = resource_plan("Observation")
    assert [e.key for e in observation.required_complex] == ["code"]
    assert [e.key for e in observation.required_primitives] == ["status"]
    assert "class_fhir" in resource_plan("Encounter").not_elements


# --- primitives ---------------------------------------------------------------------------------

VALID = {
    "boolean": [True, False],
    "integer": [0, -2147483648, 2147483647],
    "unsignedInt": [0, 2147483647],
    "positiveInt": [1, 2147483647],
    "decimal": [0, -1.5, 1e20, 3],
    "string": ["a", " ", "a\nb", "\t", "a\u00a0b"],
    "markdown": ["# a", " "],
    "code": ["final", "a b", "en-US", "a\u00a0b"],
    "id": ["a", "A-b.9", "a" * 64],
    "uri": ["http://x", "urn:oid:1.2", "Patient/1", "#p1"],
    "url": ["http://x", "Patient/1"],
    "canonical": ["http://x|1.0"],
    "oid": ["urn:oid:1.2.3", "urn:oid:2.0"],
    "uuid": ["urn:uuid:0a1b2c3d-0000-4000-8000-000000000000"],
    "base64Binary": ["aGVsbG8=", "aGVs\nbG8=", "a/b+"],
    "date": ["2020", "2020-02", "2020-02-29", "0001-01-01", "2000-02-29"],
    "dateTime": [
        "2020",
        "2020-01-01",
        "2020-01-01T10:00:00Z",
        "2020-01-01T10:00:00.123456789-13:59",
        "2016-12-31T23:59:60+14:00",
    ],
    "instant": ["2020-01-01T10:00:00Z", "2020-01-01T10:00:00.5+01:00"],
    "time": ["10:00:00", "23:59:60", "00:00:00.25"],
}
INVALID = {
    "boolean": ["x", 2, [True]],
    "integer": [2147483648, -2147483649, 1.5, "x"],
    "unsignedInt": [-1],
    "positiveInt": [0, -1],
    "decimal": ["x", True, [1]],
    "string": ["", "\u00a0", "\x0b", 1, ["a"]],
    "code": ["", " a", "a ", "a  b", "a\n", "a\u00a0\u00a0b", 1],
    "id": ["", "a b", "é", "a" * 256, 1],
    "oid": ["1.2.3", "urn:oid:3.1", "urn:oid:1.02"],
    "date": [
        "2021-02-29",
        "2020-04-31",
        "1900-02-29",
        "2020-13",
        "0000",
        "2020-1-01",
        "2020-01-01\n",
    ],
    "dateTime": ["2020-01-01T10:00:00", "2020-01-01T10:00Z", "2020-01-01T24:00:00Z", "2021-02-29"],
    "instant": ["2020-01-01", "2020-01-01T10:00:00", "2020-04-31T10:00:00Z"],
    "time": ["24:00:00", "10:00", "10:00:00Z", "1:00:00"],
}


@pytest.mark.parametrize(("kind", "value"), [(k, v) for k, values in VALID.items() for v in values])
def test_a_valid_primitive_passes_here_and_in_fhir_resources(kind: str, value: Any) -> None:
    assert primitives.CHECKS[kind](value) is None
    extension = _extension(kind[0].upper() + kind[1:], value)
    assert _first(extension) is None
    if kind != "uuid":
        assert _reference_first(extension) is None


@pytest.mark.parametrize(
    ("kind", "value"), [(k, v) for k, values in INVALID.items() for v in values]
)
def test_an_invalid_primitive_fails_here_and_in_fhir_resources(kind: str, value: Any) -> None:
    problem = primitives.CHECKS[kind](value)
    assert problem is not None and problem[0] not in findings.SPEC_RULES
    extension = _extension(kind[0].upper() + kind[1:], value)
    where = f"Patient.extension[0].value{kind[0].upper()}{kind[1:]}"
    assert _first(extension) == (where,)
    assert _reference_first(extension) == (where,)


DATEISH = st.text(alphabet="0123456789-:T.Z+ ", max_size=30)


@settings(max_examples=500, deadline=None)
@given(st.one_of(DATEISH, st.sampled_from(VALID["dateTime"] + INVALID["dateTime"])))
def test_the_restated_date_patterns_match_what_fhir_core_matches(text: str) -> None:
    for ours, theirs in (
        (primitives._DATE, core_types.Date.pattern),
        (primitives._DATETIME, core_types.DateTime.pattern),
        (primitives._INSTANT, core_types.Instant.pattern),
    ):
        assert bool(ours.fullmatch(text)) == bool(theirs.fullmatch(text))


def _model_accepts(kind: str, value: Any) -> bool:
    extension = {"url": "http://example.org/x", f"value{kind}": value}
    try:
        get_fhir_model_class("Extension").model_validate(extension)
    except ValueError:
        return False
    return True


@settings(max_examples=300, deadline=None)
@given(st.text(alphabet=st.sampled_from("ab \t\n\r\x0b\x0c\x1c\x85\xa0\u2003\u3000"), max_size=6))
def test_string_and_code_read_whitespace_as_pydantic_core_does(text: str) -> None:
    """pydantic-core runs these patterns with Rust's regex: ``\\s`` is Unicode White_Space
    (not U+001C..U+001F, unlike Python's) and ``$`` is the end of the text."""
    assert (primitives.check_string(text) is None) == _model_accepts("String", text)
    assert (primitives.check_code(text) is None) == _model_accepts("Code", text)
    if text:  # uri: no White_Space at all (U+001C is none, though Python's isspace says so)
        white_space = any(c.isspace() for c in text.replace("\x1c", ""))
        assert (primitives.CHECKS["uri"](text) is None) == (not white_space)


# --- where we follow the specification rather than fhir.resources ------------------------------

SPEC_CASES = [
    # (why, resource, expression, rule)
    ("boolean as a string", _patient(active="true"), "Patient.active", findings.SPEC_JSON_TYPE),
    ("boolean as a number", _patient(active=1), "Patient.active", findings.SPEC_JSON_TYPE),
    (
        "integer as a string",
        _patient(multipleBirthInteger="2"),
        "Patient.multipleBirthInteger",
        findings.SPEC_JSON_TYPE,
    ),
    (
        "integer as a boolean",
        _patient(multipleBirthInteger=True),
        "Patient.multipleBirthInteger",
        findings.SPEC_JSON_TYPE,
    ),
    (
        "integer with a fraction part",
        _patient(multipleBirthInteger=2.0),
        "Patient.multipleBirthInteger",
        findings.SPEC_JSON_TYPE,
    ),
    (
        "decimal as a string",
        _observation(valueQuantity={"value": "1.5"}),
        "Observation.valueQuantity.value",
        findings.SPEC_JSON_TYPE,
    ),
    (
        "dateTime as a timestamp",
        _observation(effectiveDateTime=1),
        "Observation.effectiveDateTime",
        findings.SPEC_JSON_TYPE,
    ),
    (
        "complex element as a JSON string",
        _observation(code='{"text": "x"}'),
        "Observation.code",
        findings.SPEC_JSON_TYPE,
    ),
    ("empty uri", _patient(implicitRules=""), "Patient.implicitRules", findings.SPEC_EMPTY_STRING),
    (
        "uri with a space",
        _patient(identifier=[{"system": "urn:my system"}]),
        "Patient.identifier[0].system",
        findings.SPEC_URI_WHITESPACE,
    ),
    (
        "url that is not a string (fhir.resources raises AttributeError)",
        _extension("Url", 5),
        "Patient.extension[0].valueUrl",
        findings.TYPE,
    ),
    (
        "uuid without urn:uuid:",
        _extension("Uuid", "0a1b2c3d-0000-4000-8000-000000000000"),
        "Patient.extension[0].valueUuid",
        findings.SPEC_UUID,
    ),
    (
        "base64 with characters outside the alphabet",
        _extension("Base64Binary", "2020-02-30"),
        "Patient.extension[0].valueBase64Binary",
        findings.SPEC_BASE64,
    ),
    (
        "id of 65 characters",
        _observation(contained=[{"resourceType": "Patient", "id": "a" * 65}]),
        "Observation.contained[0].id",
        findings.SPEC_ID_LENGTH,
    ),
    (
        "resourceType inside a datatype",
        _observation(code={"resourceType": "CodeableConcept", "text": "x"}),
        "Observation.code.resourceType",
        findings.SPEC_NOT_AN_ELEMENT,
    ),
    (
        "a Python field name",
        _patient(birthDate__ext={"id": "x"}),
        "Patient.birthDate__ext",
        findings.SPEC_NOT_AN_ELEMENT,
    ),
    (
        "DSTU2 comments",
        _patient(fhir_comments="x"),
        "Patient.fhir_comments",
        findings.SPEC_NOT_AN_ELEMENT,
    ),
    (
        "mandatory element as null",
        _observation(code=None),
        "Observation.code",
        findings.SPEC_REQUIRED_EMPTY,
    ),
    (
        "mandatory array empty",
        {"resourceType": "DocumentReference", "status": "current", "content": []},
        "DocumentReference.content",
        findings.SPEC_REQUIRED_EMPTY,
    ),
    (
        "contained resource without resourceType",
        _observation(contained=[{"id": "x"}]),
        "Observation.contained[0].resourceType",
        findings.SPEC_RESOURCE_TYPE,
    ),
    (
        "contained resource of an abstract type",
        _observation(contained=[{"resourceType": "DomainResource"}]),
        "Observation.contained[0].resourceType",
        findings.SPEC_RESOURCE_TYPE,
    ),
    (
        "contained resource of an R4B-only type",
        _observation(contained=[{"resourceType": "Citation", "status": "active"}]),
        "Observation.contained[0].resourceType",
        findings.SPEC_RESOURCE_TYPE,
    ),
]


@pytest.mark.parametrize(
    ("why", "resource", "where", "rule"), SPEC_CASES, ids=[c[0] for c in SPEC_CASES]
)
def test_where_fhir_resources_is_lenient_we_follow_the_specification(
    why: str, resource: Resource, where: str, rule: str
) -> None:
    assert rule in findings.SPEC_RULES or "AttributeError" in why
    try:
        reference = reference_issues(resource)
    except (AttributeError, KeyError, TypeError):
        reference = []  # fhir.resources fails on it rather than refusing it
    assert reference == []
    assert _first(resource) == (where,)
    assert _rule(resource) == rule


def test_a_contained_resource_of_an_unknown_type_is_refused_where_fhir_resources_raises() -> None:
    resource = _observation(contained=[{"resourceType": "Spaceship"}])
    with pytest.raises(KeyError):
        reference_issues(resource)
    assert _first(resource) == ("Observation.contained[0].resourceType",)


def test_a_uuid_of_another_version_is_valid_though_fhir_resources_wants_version_4() -> None:
    resource = _extension("Uuid", "urn:uuid:0a1b2c3d-0000-1000-8000-000000000000")
    assert _first(resource) is None
    assert _reference_first(resource) == ("Patient.extension[0].valueUuid",)


# --- paths and messages ------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("resource", "where"),
    [
        (_patient(birthDate="1990-13-45"), "Patient.birthDate"),
        (_patient(favouriteColour="blue"), "Patient.favouriteColour"),
        ({"resourceType": "Patient", "name": [{"given": "Anna"}]}, "Patient.name[0].given"),
        ({"resourceType": "Patient", "name": [{"given": ["Anna", 5]}]}, "Patient.name[0].given[1]"),
        ({"resourceType": "Patient", "name": {"family": "x"}}, "Patient.name"),
        ({"resourceType": "Patient", "name": [None]}, "Patient.name"),
        (_patient(gender=["female"]), "Patient.gender"),
        (
            _patient(managingOrganization=[{"reference": "Organization/1"}]),
            "Patient.managingOrganization",
        ),
        (_patient(deceasedBoolean=True, deceasedDateTime="2020"), "Patient"),
        ({"resourceType": "Observation", "code": {"text": "x"}}, "Observation.status"),
        ({"resourceType": "Observation", "status": "final"}, "Observation.code"),
        (_observation(component=[{"valueString": "x"}]), "Observation.component[0].code"),
        (_patient(extension=[{"valueString": "x"}]), "Patient.extension[0].url"),
        (_patient(_birthDate={}), "Patient._birthDate"),
        (
            _patient(contained=[{"resourceType": "Patient", "gender": 5}]),
            "Patient.contained[0].gender",
        ),
        # fhir.resources reports the properties of an object in field order, not as given
        (_patient(name=[{"given": 5}], birthDate="x"), "Patient.birthDate"),
        (_patient(zzz=1, active=5), "Patient.active"),
    ],
)
def test_the_first_issue_names_the_element_as_fhir_resources_does(
    resource: Resource, where: str
) -> None:
    assert _first(resource) == (where,)
    assert _reference_first(resource) == (where,)


def test_a_bundle_entry_is_named_from_the_prefix() -> None:
    prefix = "Bundle.entry[3].resource"
    issues = validation_issues(_patient(birthDate="x"), prefix)
    assert issues[0].expression == (f"{prefix}.birthDate",)
    assert issues[0].diagnostics.startswith(f"{prefix}.birthDate: ")


def test_a_required_primitive_may_be_an_extension_alone() -> None:
    absent = {"extension": [{"url": "http://x", "valueCode": "unknown"}]}
    assert _first(_observation(status=None, _status=absent)) is None
    assert _first(_observation(status=None, _status={"id": "s"})) == ("Observation.status",)


def test_primitive_arrays_may_hold_nulls_matched_by_extensions() -> None:
    name = {"family": "Smith", "given": [None, "Anna"], "_given": [{"id": "g0"}, None]}
    assert _first({"resourceType": "Patient", "name": [name]}) is None


def test_nulls_and_empty_objects_are_taken_as_fhir_resources_takes_them() -> None:
    assert _first(_patient(birthDate=None, address=None, maritalStatus={})) is None
    assert _first(_patient(telecom=[])) is None


@pytest.mark.parametrize("depth", [10, MAX_DEPTH - 5])
def test_nesting_within_the_limit_is_valid(depth: int) -> None:
    extension: Resource = {"url": "http://x", "valueString": "a"}
    for _ in range(depth):
        extension = {"url": "http://x", "extension": [extension]}
    resource = _patient(extension=[extension])
    assert _first(resource) is None
    assert _reference_first(resource) is None


def test_nesting_beyond_the_limit_is_refused_in_one_issue() -> None:
    extension: Resource = {"url": "http://x", "valueString": "a"}
    for _ in range(300):
        extension = {"url": "http://x", "extension": [extension]}
    issues = validation_issues(_patient(extension=[extension]))
    assert len(issues) == 1 and "nested too deeply" in issues[0].diagnostics
    assert issues[0].expression == ("Patient",)


SECRET = "Zq7-secret-value"


@pytest.mark.parametrize(
    "resource",
    [
        _patient(birthDate=SECRET),
        _patient(gender=f"{SECRET}  x"),
        _patient(active=SECRET),
        _patient(**{SECRET: 1}),
        _patient(implicitRules=f"{SECRET} x"),
        _observation(code=SECRET),
        _extension("Uuid", SECRET),
        _extension("Base64Binary", f"{SECRET}!"),
        _extension("Integer", SECRET),
    ],
)
def test_messages_never_quote_the_value(resource: Resource) -> None:
    issues = validation_issues(resource)
    assert issues
    for issue in issues:
        # the name of an unknown element is quoted (it is not a value); its value is not
        assert SECRET not in issue.diagnostics.replace(f".{SECRET}", "")


def test_at_most_twenty_issues_are_reported() -> None:
    resource = _patient(**{f"x{i}": i for i in range(50)})
    assert len(validation_issues(resource)) == 20


def test_envelope_checks_come_first() -> None:
    assert validation_issues([1])[0].expression == ("$",)
    assert validation_issues({"resourceType": "Spaceship"})[0].expression == (
        "Resource.resourceType",
    )
    assert validation_issues(_patient(id="a b"))[0].expression == ("Patient.id",)
    assert not is_resource_type("Bundle")
