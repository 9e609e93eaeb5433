"""Unit tests for parsing FHIR search queries into SearchRequest (R4 search.html)."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chartkeeper.core.errors import ChartkeeperError, InvalidError, Issue, NotSupportedError
from chartkeeper.fhir.dates import parse_date_range
from chartkeeper.fhir.search_parser import parse_search
from chartkeeper.fhir.search_request import (
    CompositeValue,
    Criterion,
    DateValue,
    Include,
    NumberValue,
    QuantityValue,
    ReferenceValue,
    SearchRequest,
    SortKey,
    StringValue,
    TokenValue,
    UriValue,
)
from chartkeeper.fhir.search_values import (
    component_types,
    number_range,
    split_unescaped,
    unescape,
)
from chartkeeper.fhir.searchparams import SearchParamDef, SearchParamRegistry, load_registry

REG = load_registry()


def param(resource_type: str, code: str) -> SearchParamDef:
    found = REG.lookup(resource_type, code)
    assert found is not None, (resource_type, code)
    return found


def criteria(resource_type: str | None, *items: tuple[str, str]) -> list[Criterion]:
    return parse_search(resource_type, list(items)).criteria


def one(resource_type: str | None, name: str, value: str) -> Criterion:
    found = criteria(resource_type, (name, value))
    assert len(found) == 1
    return found[0]


def values(resource_type: str | None, name: str, value: str) -> list[object]:
    return list(one(resource_type, name, value).values)


def invalid(resource_type: str | None, name: str, value: str) -> InvalidError:
    with pytest.raises(InvalidError) as caught:
        parse_search(resource_type, [(name, value)])
    assert type(caught.value) is InvalidError
    return caught.value


def not_supported(resource_type: str | None, name: str, value: str) -> NotSupportedError:
    with pytest.raises(NotSupportedError) as caught:
        parse_search(resource_type, [(name, value)])
    return caught.value


def date(prefix: str, text: str) -> DateValue:
    low, high = parse_date_range(text)
    return DateValue(prefix, low, high)


# --- escaping (search.html#escaping) --------------------------------------------------------------


def test_split_unescaped_keeps_escapes_in_parts() -> None:
    assert split_unescaped(r"a\,b,c", ",") == [r"a\,b", "c"]
    assert split_unescaped(r"a\\,b", ",") == [r"a\\", "b"]
    assert split_unescaped("a,,b,", ",") == ["a", "", "b", ""]
    assert split_unescaped("trailing\\", ",") == ["trailing\\"]


def test_unescape_only_the_four_escaped_characters() -> None:
    assert unescape(r"a\,b\$c\|d\\e") == "a,b$c|d\\e"
    assert unescape(r"a\nb") == r"a\nb"


def test_comma_separates_or_values_unless_escaped() -> None:
    assert values("Patient", "family", r"a\,b,c") == [
        StringValue("a,b", "a,b"),
        StringValue("c", "c"),
    ]


def test_escaped_pipe_and_backslash_in_token() -> None:
    assert values("Patient", "identifier", r"a\|b") == [TokenValue(None, "a|b")]
    assert values("Patient", "identifier", r"s\\|c") == [TokenValue("s\\", "c")]


def test_empty_or_parts_are_dropped() -> None:
    assert values("Patient", "family", "a,,b,") == [StringValue("a", "a"), StringValue("b", "b")]


# --- string (search.html#string) ------------------------------------------------------------------


def test_string_value_is_normalized() -> None:
    assert one("Patient", "name", "Zoë  Müller") == Criterion(
        "name", "string", param("Patient", "name"), None, [StringValue("Zoë  Müller", "zoe muller")]
    )


@pytest.mark.parametrize("modifier", ["exact", "contains"])
def test_string_modifiers(modifier: str) -> None:
    assert one("Patient", f"family:{modifier}", "Eve") == Criterion(
        "family", "string", param("Patient", "family"), modifier, [StringValue("Eve", "eve")]
    )


def test_string_unknown_modifier_is_invalid() -> None:
    error = invalid("Patient", "family:not", "x")
    assert error.message == "Unknown modifier ':not' for the string parameter 'family'"
    assert error.expression == ("family:not",)


# --- :missing (search.html#modifiers) -------------------------------------------------------------


@pytest.mark.parametrize(
    ("resource_type", "code", "kind"),
    [
        ("Patient", "family", "string"),
        ("Patient", "gender", "token"),
        ("Patient", "general-practitioner", "reference"),
        ("Patient", "birthdate", "date"),
        ("RiskAssessment", "probability", "number"),
        ("Observation", "value-quantity", "quantity"),
        ("ValueSet", "url", "uri"),
        ("Observation", "code-value-quantity", "composite"),
    ],
)
@pytest.mark.parametrize(("text", "expected"), [("true", True), ("false", False)])
def test_missing_for_every_type(
    resource_type: str, code: str, kind: str, text: str, expected: bool
) -> None:
    assert one(resource_type, f"{code}:missing", text) == Criterion(
        code, kind, param(resource_type, code), "missing", [], missing=expected
    )


@pytest.mark.parametrize("text", ["yes", "True", "true,false", "1"])
def test_missing_needs_true_or_false(text: str) -> None:
    error = invalid("Patient", "birthdate:missing", text)
    assert error.message == (
        f"Invalid value '{text}' for search parameter 'birthdate:missing': expected true or false"
    )


# --- token (search.html#token) --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("http://loinc.org|1234-5", TokenValue("http://loinc.org", "1234-5")),
        ("|1234-5", TokenValue("", "1234-5")),
        ("http://loinc.org|", TokenValue("http://loinc.org", None)),
        ("1234-5", TokenValue(None, "1234-5")),
    ],
)
def test_token_forms(text: str, expected: TokenValue) -> None:
    assert one("Observation", "code", text) == Criterion(
        "code", "token", param("Observation", "code"), None, [expected]
    )


@pytest.mark.parametrize("text", ["|", "a|b|c"])
def test_malformed_token_is_invalid(text: str) -> None:
    error = invalid("Observation", "code", text)
    assert error.message.startswith(f"Invalid value '{text}' for search parameter 'code': ")


def test_token_not() -> None:
    assert one("Patient", "gender:not", "male") == Criterion(
        "gender", "token", param("Patient", "gender"), "not", [TokenValue(None, "male")]
    )


def test_token_text_gives_string_values() -> None:
    assert values("Observation", "code:text", "Héart Rate") == [
        StringValue("Héart Rate", "heart rate")
    ]


def test_token_of_type_gives_type_and_value() -> None:
    assert values("Patient", "identifier:of-type", "http://terminology.hl7.org/v2|MR|446") == [
        CompositeValue(TokenValue("http://terminology.hl7.org/v2", "MR"), TokenValue(None, "446"))
    ]


@pytest.mark.parametrize("text", ["MR|446", "s||446", "s|MR|"])
def test_token_of_type_needs_three_parts(text: str) -> None:
    invalid("Patient", "identifier:of-type", text)


@pytest.mark.parametrize("modifier", ["in", "not-in", "above", "below"])
def test_token_terminology_modifiers_are_not_supported(modifier: str) -> None:
    error = not_supported("Observation", f"code:{modifier}", "http://vs")
    assert error.expression == (f"code:{modifier}",)


def test_token_unknown_modifier() -> None:
    invalid("Observation", "code:exact", "x")


# --- reference (search.html#reference) ------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Patient/123", ReferenceValue("Patient", "123")),
        ("123", ReferenceValue(None, "123")),
        (
            "http://example.org/fhir/Patient/123",
            ReferenceValue("Patient", "123", "http://example.org/fhir/Patient/123"),
        ),
        ("urn:uuid:0c3151bd-1cbf", ReferenceValue(None, None, "urn:uuid:0c3151bd-1cbf")),
        (
            "http://example.org/fhir/Patient/1/_history/2",
            ReferenceValue(None, None, "http://example.org/fhir/Patient/1/_history/2"),
        ),
    ],
)
def test_reference_forms(text: str, expected: ReferenceValue) -> None:
    assert one("Observation", "subject", text) == Criterion(
        "subject", "reference", param("Observation", "subject"), None, [expected]
    )


def test_reference_type_modifier_sets_the_target_type() -> None:
    assert one("Observation", "subject:Patient", "123,Patient/7") == Criterion(
        "subject",
        "reference",
        param("Observation", "subject"),
        "Patient",
        [ReferenceValue("Patient", "123"), ReferenceValue("Patient", "7")],
    )


def test_reference_type_modifier_must_be_a_target() -> None:
    error = invalid("Observation", "subject:Practitioner", "1")
    assert error.message == "'Practitioner' is not a target type of 'subject'"


def test_reference_type_modifier_conflicting_with_value() -> None:
    invalid("Observation", "subject:Patient", "Group/1")


def test_reference_value_type_must_be_a_target() -> None:
    error = invalid("Observation", "subject", "Practitioner/1")
    assert "Practitioner is not a target type" in error.message


@pytest.mark.parametrize("text", ["a b", "Patient/", "/1", "patient/1", "Patient/1/2"])
def test_malformed_reference_is_invalid(text: str) -> None:
    invalid("Observation", "subject", text)


@pytest.mark.parametrize("modifier", ["identifier", "above", "below"])
def test_reference_unsupported_modifiers(modifier: str) -> None:
    not_supported("Observation", f"subject:{modifier}", "x")


def test_reference_unknown_modifier() -> None:
    invalid("Observation", "subject:exact", "x")


# --- date (search.html#date, #prefix) -------------------------------------------------------------


@pytest.mark.parametrize("prefix", ["eq", "ne", "gt", "lt", "ge", "le", "sa", "eb", "ap"])
def test_date_prefixes(prefix: str) -> None:
    assert one("Patient", "birthdate", f"{prefix}2020-03-04") == Criterion(
        "birthdate", "date", param("Patient", "birthdate"), None, [date(prefix, "2020-03-04")]
    )


def test_date_defaults_to_eq_and_keeps_precision_range() -> None:
    assert values("Patient", "birthdate", "2020,2020-03-04T10:00:00Z") == [
        DateValue("eq", 1577836800000000, 1609459199999999),
        DateValue("eq", 1583316000000000, 1583316000999999),
    ]


def test_invalid_date_names_the_parameter() -> None:
    error = invalid("Patient", "birthdate", "notadate")
    assert error.message.startswith(
        "Invalid value 'notadate' for search parameter 'birthdate': 'notadate' is not a valid date"
    )
    assert error.expression == ("birthdate",)


@pytest.mark.parametrize("text", ["gt", "0001-01-01T00:00+01:00", "٢٠٢٠", "2020-13"])
def test_out_of_range_or_malformed_dates_are_invalid(text: str) -> None:
    invalid("Patient", "birthdate", text)


def test_date_unknown_modifier() -> None:
    invalid("Patient", "birthdate:exact", "2020")


# --- number (search.html#number) ------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("100", (100.0, 99.5, 100.5)),
        ("100.00", (100.0, 99.995, 100.005)),
        ("1e2", (100.0, 50.0, 150.0)),
        ("1.0e2", (100.0, 95.0, 105.0)),
        ("-5", (-5.0, -5.5, -4.5)),
        ("0.5", (0.5, 0.45, 0.55)),
        (".5", (0.5, 0.45, 0.55)),
        ("+3", (3.0, 2.5, 3.5)),
    ],
)
def test_number_range_from_significant_figures(
    text: str, expected: tuple[float, float, float]
) -> None:
    assert number_range(text) == pytest.approx(expected)


@pytest.mark.parametrize("text", ["", "abc", "1e", "1e99999", "1e400", "nan", "inf", "1,0", "--1"])
def test_bad_numbers(text: str) -> None:
    with pytest.raises(InvalidError):
        number_range(text)


@pytest.mark.parametrize("prefix", ["eq", "ne", "gt", "lt", "ge", "le", "sa", "eb", "ap"])
def test_number_prefixes(prefix: str) -> None:
    assert values("RiskAssessment", "probability", f"{prefix}0.8") == [
        NumberValue(prefix, 0.8, 0.75, 0.85)
    ]


def test_number_default_prefix_and_invalid() -> None:
    assert values("RiskAssessment", "probability", "100") == [NumberValue("eq", 100, 99.5, 100.5)]
    error = invalid("RiskAssessment", "probability", "xx1")
    assert error.message == (
        "Invalid value 'xx1' for search parameter 'probability': "
        "expected a number such as 100, -2.5 or 1e2"
    )


# --- quantity (search.html#quantity) --------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "5.4|http://unitsofmeasure.org|mg",
            QuantityValue("eq", 5.4, 5.35, 5.45, "http://unitsofmeasure.org", "mg"),
        ),
        ("le5.4||mg", QuantityValue("le", 5.4, 5.35, 5.45, None, "mg")),
        ("gt5.4", QuantityValue("gt", 5.4, 5.35, 5.45, None, None)),
        ("5.4|http://s|", QuantityValue("eq", 5.4, 5.35, 5.45, "http://s", None)),
    ],
)
def test_quantity_forms(text: str, expected: QuantityValue) -> None:
    assert one("Observation", "value-quantity", text) == Criterion(
        "value-quantity", "quantity", param("Observation", "value-quantity"), None, [expected]
    )


@pytest.mark.parametrize("text", ["5.4|mg", "5.4|a|b|c", "mg", "|s|c"])
def test_malformed_quantity(text: str) -> None:
    invalid("Observation", "value-quantity", text)


# --- uri (search.html#uri) ------------------------------------------------------------------------


@pytest.mark.parametrize("modifier", [None, "below", "above"])
def test_uri_modifiers(modifier: str | None) -> None:
    name = "url" if modifier is None else f"url:{modifier}"
    assert one("ValueSet", name, "http://acme.org/fhir/ValueSet/x") == Criterion(
        "url",
        "uri",
        param("ValueSet", "url"),
        modifier,
        [UriValue("http://acme.org/fhir/ValueSet/x")],
    )


def test_uri_unknown_modifier() -> None:
    invalid("ValueSet", "url:exact", "http://x")


# --- composite (search.html#composite) ------------------------------------------------------------


@pytest.mark.parametrize(
    ("code", "text", "second"),
    [
        (
            "code-value-quantity",
            "http://loinc.org|8480-6$gt150|http://unitsofmeasure.org|mm[Hg]",
            QuantityValue("gt", 150, 149.5, 150.5, "http://unitsofmeasure.org", "mm[Hg]"),
        ),
        (
            "code-value-concept",
            "http://loinc.org|8480-6$http://snomed|1",
            TokenValue("http://snomed", "1"),
        ),
        ("code-value-date", "http://loinc.org|8480-6$ge2020", date("ge", "2020")),
        (
            "code-value-string",
            "http://loinc.org|8480-6$Hi Thére",
            StringValue("Hi Thére", "hi there"),
        ),
        (
            "component-code-value-quantity",
            "http://loinc.org|8480-6$150",
            QuantityValue("eq", 150, 149.5, 150.5, None, None),
        ),
        ("combo-code-value-concept", "http://loinc.org|8480-6$x", TokenValue(None, "x")),
    ],
)
def test_composite_second_component_type(code: str, text: str, second: Any) -> None:
    assert one("Observation", code, text) == Criterion(
        code,
        "composite",
        param("Observation", code),
        None,
        [CompositeValue(TokenValue("http://loinc.org", "8480-6"), second)],
    )


def test_composite_or_values_and_escaped_dollar() -> None:
    assert values("Observation", "code-value-string", r"a$x\$y,b$z") == [
        CompositeValue(TokenValue(None, "a"), StringValue("x$y", "x$y")),
        CompositeValue(TokenValue(None, "b"), StringValue("z", "z")),
    ]


@pytest.mark.parametrize("text", ["8480-6", "$150", "8480-6$", "a$1$2", "a$notanumber"])
def test_malformed_composite(text: str) -> None:
    invalid("Observation", "code-value-quantity", text)


def test_composite_types_fall_back_to_component_codes() -> None:
    composite = param("Observation", "code-value-quantity")
    lonely = SearchParamRegistry([composite])  # its components' definitions are unknown here
    assert component_types(composite, lonely) == ("token", "quantity")
    bare = replace(composite, component=tuple(replace(c, code="zz") for c in composite.component))
    assert component_types(bare, lonely) == ("token", "quantity")
    assert component_types(composite, REG) == ("token", "quantity")


@pytest.mark.parametrize(
    ("resource_type", "code", "text"),
    [
        ("DocumentReference", "relationship", "DocumentReference/1$replaces"),
        ("MolecularSequence", "chromosome-variant-coordinate", "1$2$3"),
    ],
)
def test_composites_that_do_not_start_with_a_token_pair(
    resource_type: str, code: str, text: str
) -> None:
    not_supported(resource_type, code, text)


def test_composite_unknown_modifier() -> None:
    invalid("Observation", "code-value-quantity:exact", "a$1")


# --- special names (search.html#all) --------------------------------------------------------------


def test_id_takes_the_whole_value_as_code() -> None:
    assert one("Patient", "_id", "a,b.c") == Criterion(
        "_id",
        "token",
        param("Patient", "_id"),
        None,
        [TokenValue(None, "a"), TokenValue(None, "b.c")],
    )
    assert values("Patient", "_id:not", "x") == [TokenValue(None, "x")]
    invalid("Patient", "_id:text", "x")


def test_last_updated_tag_security_profile_source() -> None:
    assert one("Patient", "_lastUpdated", "gt2020") == Criterion(
        "_lastUpdated", "date", param("Patient", "_lastUpdated"), None, [date("gt", "2020")]
    )
    assert one("Patient", "_tag", "http://s|c") == Criterion(
        "_tag", "token", param("Patient", "_tag"), None, [TokenValue("http://s", "c")]
    )
    assert values("Patient", "_security", "|R") == [TokenValue("", "R")]
    assert one("Patient", "_profile:below", "http://p") == Criterion(
        "_profile", "uri", param("Patient", "_profile"), "below", [UriValue("http://p")]
    )
    assert values("Patient", "_source", "http://src") == [UriValue("http://src")]


@pytest.mark.parametrize("code", ["_text", "_content"])
def test_full_text_parameters(code: str) -> None:
    assert one("Patient", code, "Zoë") == Criterion(
        code, "text", None, None, [StringValue("Zoë", "zoe")]
    )
    assert one(None, code, "x") == Criterion(code, "text", None, None, [StringValue("x", "x")])
    invalid("Patient", f"{code}:exact", "x")


@pytest.mark.parametrize("name", ["_list", "_query", "_filter", "_contained", "_containedType"])
def test_unsupported_special_parameters(name: str) -> None:
    error = not_supported("Patient", name, "x")
    assert error.expression == (name,)


def test_special_type_parameters_are_not_supported() -> None:
    not_supported("Location", "near", "42.25|-83.69|10|km")


# --- chains (search.html#chaining) ----------------------------------------------------------------


def test_chain_with_explicit_type() -> None:
    assert one("Observation", "subject:Patient.name", "peter") == Criterion(
        "subject",
        "reference",
        param("Observation", "subject"),
        "Patient",
        chain=Criterion(
            "name", "string", param("Patient", "name"), None, [StringValue("peter", "peter")]
        ),
        chain_types=("Patient",),
    )


def test_chain_keeps_every_target_with_the_parameter() -> None:
    found = one("Observation", "subject.name", "peter")
    assert found.chain_types == ("Patient", "Location")
    assert found.modifier is None
    assert found.chain == Criterion(
        "name", "string", param("Patient", "name"), None, [StringValue("peter", "peter")]
    )


def test_chain_to_token_with_inner_modifier() -> None:
    found = one("Observation", "patient.identifier:not", "http://s|1")
    assert found.chain_types == ("Patient", "Group")
    assert found.chain == Criterion(
        "identifier", "token", param("Patient", "identifier"), "not", [TokenValue("http://s", "1")]
    )


def test_chain_inner_missing() -> None:
    found = one("Observation", "subject:Patient.birthdate:missing", "true")
    assert found.chain == Criterion(
        "birthdate", "date", param("Patient", "birthdate"), "missing", missing=True
    )


def test_chain_from_non_reference_is_invalid() -> None:
    error = invalid("Patient", "name.family", "x")
    assert error.message == "The search parameter 'name' is not a reference to chain from"


def test_chain_to_a_non_target_is_invalid() -> None:
    invalid("Observation", "subject:Practitioner.name", "x")


def test_chain_two_links_deep_is_not_supported() -> None:
    not_supported("Observation", "subject.organization.name", "x")
    not_supported("Observation", "subject._has:Observation:patient:code", "x")


def test_chain_with_unknown_inner_parameter_warns_or_fails() -> None:
    request = parse_search("Observation", [("subject.nonsense", "x")])
    assert request.criteria == []
    assert request.warnings == [
        Issue(
            "Unknown search parameter 'subject.nonsense' for Observation was ignored",
            severity="warning",
            code="not-supported",
        )
    ]
    with pytest.raises(InvalidError):
        parse_search("Observation", [("subject.nonsense", "x")], strict=True)


def test_chain_invalid_inner_value_names_the_whole_parameter() -> None:
    error = invalid("Observation", "subject:Patient.birthdate", "soon")
    assert error.expression == ("subject:Patient.birthdate",)


# --- _has (search.html#has) -----------------------------------------------------------------------


def test_has() -> None:
    assert one("Patient", "_has:Observation:patient:code", "1234-5") == Criterion(
        "_has",
        "has",
        None,
        has=Criterion(
            "code", "token", param("Observation", "code"), None, [TokenValue(None, "1234-5")]
        ),
        has_type="Observation",
        has_param="patient",
    )


def test_has_inner_modifier() -> None:
    found = one("Patient", "_has:Observation:patient:code:text", "heart")
    assert found.has is not None
    assert found.has.modifier == "text"
    assert found.has.values == [StringValue("heart", "heart")]


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("_has", "Expected _has:[type]:[reference parameter]:[search parameter]"),
        (
            "_has:Observation:patient",
            "Expected _has:[type]:[reference parameter]:[search parameter]",
        ),
        ("_has:Observation::code", "Expected _has:[type]:[reference parameter]:[search parameter]"),
        ("_has:Nope:patient:code", "'patient' is not a reference search parameter of Nope"),
        ("_has:Observation:code:code", "'code' is not a reference search parameter of Observation"),
        ("_has:Observation:performer:code", "Observation:performer does not refer to Device"),
    ],
)
def test_malformed_has(name: str, message: str) -> None:
    resource_type = "Device" if "performer" in name else "Patient"
    assert invalid(resource_type, name, "x").message == message


def test_nested_has_is_not_supported() -> None:
    not_supported("Patient", "_has:Observation:patient:_has:Encounter:subject:status", "x")
    not_supported("Patient", "_has:Observation:patient:subject.name", "x")


def test_has_with_unknown_inner_parameter_warns() -> None:
    request = parse_search("Patient", [("_has:Observation:patient:nonsense", "x")])
    assert request.criteria == []
    assert len(request.warnings) == 1


# --- unknown and empty ----------------------------------------------------------------------------


def test_unknown_parameter_warns_when_lenient() -> None:
    request = parse_search("Patient", [("foo", "1"), ("name", "x")])
    assert request.warnings == [
        Issue(
            diagnostics="Unknown search parameter 'foo' for Patient was ignored",
            severity="warning",
            code="not-supported",
        )
    ]
    assert [c.name for c in request.criteria] == ["name"]


def test_unknown_parameter_fails_when_strict() -> None:
    with pytest.raises(InvalidError) as caught:
        parse_search("Patient", [("foo", "1")], strict=True)
    assert caught.value.message == "Unknown search parameter 'foo' for Patient"
    assert caught.value.expression == ("foo",)


@pytest.mark.parametrize(
    "items", [[("name", "")], [("foo", "")], [("_count", "")], [("name", ",,")], [("name", ",")]]
)
def test_empty_values_are_ignored_silently(items: list[tuple[str, str]]) -> None:
    assert parse_search("Patient", items, strict=True) == SearchRequest("Patient", count=20)


def test_repeated_names_are_and_ed() -> None:
    found = criteria("Patient", ("birthdate", "ge2020"), ("birthdate", "lt2021"))
    assert [c.values for c in found] == [[date("ge", "2020")], [date("lt", "2021")]]


# --- whole-system search --------------------------------------------------------------------------


def test_system_search_takes_only_common_parameters() -> None:
    request = parse_search(
        None, [("_id", "1"), ("_type", "Patient,Observation"), ("name", "x"), ("_has:A:b:c", "x")]
    )
    assert request.resource_type is None
    assert request.types == ["Patient", "Observation"]
    assert request.criteria == [
        Criterion("_id", "token", param("Patient", "_id"), None, [TokenValue(None, "1")])
    ]
    assert [w.diagnostics for w in request.warnings] == [
        "Unknown search parameter 'name' for a whole-system search was ignored",
        "Unknown search parameter '_has:A:b:c' for a whole-system search was ignored",
    ]


def test_type_parameter() -> None:
    assert parse_search(None, [("_type", " Patient , ,Patient")]).types == ["Patient"]
    assert parse_search(None, [("_type", "Binary")]).types == ["Binary"]
    assert invalid(None, "_type", "Patient,Nope").message == (
        "Invalid value 'Nope' for search parameter '_type': not a known resource type"
    )
    with pytest.raises(InvalidError):
        parse_search(None, [("_type", "Patient"), ("_type", "Patient")])
    request = parse_search("Patient", [("_type", "Patient")])
    assert request.types == []
    assert len(request.warnings) == 1


# --- result controls (search.html#return) ---------------------------------------------------------


def test_defaults() -> None:
    assert parse_search("Patient", []) == SearchRequest("Patient", count=20)
    assert parse_search("Patient", [], default_count=5).count == 5
    assert parse_search("Patient", [], default_count=50, max_count=10).count == 10


@pytest.mark.parametrize(
    ("text", "expected"), [("0", 0), ("7", 7), ("1000", 1000), ("5000", 1000), ("9" * 80, 1000)]
)
def test_count(text: str, expected: int) -> None:
    assert parse_search("Patient", [("_count", text)]).count == expected


@pytest.mark.parametrize("text", ["-1", "abc", "1.5", " 3", "٣"])
def test_invalid_count(text: str) -> None:
    error = invalid("Patient", "_count", text)
    assert error.message == (
        f"Invalid value '{text}' for search parameter '_count': expected a non-negative integer"
    )
    assert error.expression == ("_count",)


def test_count_only_once_and_no_modifier() -> None:
    with pytest.raises(InvalidError):
        parse_search("Patient", [("_count", "1"), ("_count", "2")])
    invalid("Patient", "_count:exact", "1")


@pytest.mark.parametrize("name", ["_offset", "_getpagesoffset"])
def test_offset(name: str) -> None:
    assert parse_search("Patient", [(name, "40")]).offset == 40
    invalid("Patient", name, "-3")
    invalid("Patient", name, "9" * 40)


def test_offset_and_getpagesoffset_together_are_invalid() -> None:
    with pytest.raises(InvalidError):
        parse_search("Patient", [("_offset", "1"), ("_getpagesoffset", "2")])


def test_sort() -> None:
    request = parse_search(
        "Patient", [("_sort", "-birthdate, family,_id"), ("_sort", "-_lastUpdated")]
    )
    assert request.sort == [
        SortKey("birthdate", True, param("Patient", "birthdate")),
        SortKey("family", False, param("Patient", "family")),
        SortKey("_id", False, param("Patient", "_id")),
        SortKey("_lastUpdated", True, param("Patient", "_lastUpdated")),
    ]


def test_sort_on_system_search() -> None:
    assert parse_search(None, [("_sort", "_lastUpdated")]).sort == [
        SortKey("_lastUpdated", False, param("Patient", "_lastUpdated"))
    ]
    invalid(None, "_sort", "name")


@pytest.mark.parametrize("text", ["nope", "-nope", "_text", "code-value-quantity"])
def test_sort_on_unknown_or_unsortable_is_invalid(text: str) -> None:
    error = invalid("Observation", "_sort", text)
    assert error.message.startswith(f"Invalid value '{text}' for search parameter '_sort': ")


def test_include() -> None:
    request = parse_search(
        "Observation",
        [
            ("_include", "Observation:subject"),
            ("_include", "Observation:subject:Patient"),
            ("_include:iterate", "Patient:general-practitioner"),
            ("_include:recurse", "Observation:*"),
            ("_revinclude", "Provenance:target"),
            ("_revinclude:iterate", "Observation:*:Patient"),
        ],
    )
    assert request.include == [
        Include("Observation", "subject", None),
        Include("Observation", "subject", "Patient"),
        Include("Patient", "general-practitioner", None, iterate=True),
        Include("Observation", "*", None, iterate=True),
    ]
    assert request.revinclude == [
        Include("Provenance", "target", None),
        Include("Observation", "*", "Patient", iterate=True),
    ]


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("_include", "Observation"),
        ("_include", "*"),
        ("_include", "Observation:subject:Patient:x"),
        ("_include", "Nope:subject"),
        ("_include", "Observation:code"),
        ("_include", "Observation:nope"),
        ("_include", "Observation:subject:Practitioner"),
        ("_include", "Observation:*:Nope"),
        ("_include:deep", "Observation:subject"),
        ("_revinclude", "Provenance"),
    ],
)
def test_invalid_include(name: str, text: str) -> None:
    invalid("Observation", name, text)


@pytest.mark.parametrize("text", ["true", "false", "text", "data", "count"])
def test_summary(text: str) -> None:
    assert parse_search("Patient", [("_summary", text)]).summary == text


@pytest.mark.parametrize("text", ["none", "estimate", "accurate"])
def test_total(text: str) -> None:
    assert parse_search("Patient", [("_total", text)]).total == text


def test_invalid_summary_and_total() -> None:
    assert invalid("Patient", "_summary", "yes").message == (
        "Invalid value 'yes' for search parameter '_summary': "
        "expected one of true, text, data, count, false"
    )
    invalid("Patient", "_total", "all")
    with pytest.raises(InvalidError):
        parse_search("Patient", [("_summary", "true"), ("_summary", "count")])


def test_elements() -> None:
    request = parse_search(
        "Patient", [("_elements", "identifier, name,,name"), ("_elements", "gender")]
    )
    assert request.elements == ["identifier", "name", "gender"]
    invalid("Patient", "_elements", "na me")


def test_format_and_pretty_are_ignored() -> None:
    items = [("_format", "json"), ("_pretty", "true"), ("_format:x", "y")]
    assert parse_search("Patient", items, strict=True) == SearchRequest("Patient", count=20)


def test_a_full_query() -> None:
    request = parse_search(
        "Observation",
        [
            ("code", "http://loinc.org|8480-6"),
            ("subject:Patient", "1"),
            ("date", "ge2020-01-01"),
            ("_count", "10"),
            ("_sort", "-date"),
            ("_include", "Observation:subject"),
            ("_total", "accurate"),
        ],
    )
    assert request == SearchRequest(
        "Observation",
        criteria=[
            Criterion(
                "code",
                "token",
                param("Observation", "code"),
                None,
                [TokenValue("http://loinc.org", "8480-6")],
            ),
            Criterion(
                "subject",
                "reference",
                param("Observation", "subject"),
                "Patient",
                [ReferenceValue("Patient", "1")],
            ),
            Criterion(
                "date", "date", param("Observation", "date"), None, [date("ge", "2020-01-01")]
            ),
        ],
        count=10,
        sort=[SortKey("date", True, param("Observation", "date"))],
        include=[Include("Observation", "subject", None)],
        total="accurate",
    )


def test_custom_registry() -> None:
    only = SearchParamRegistry([param("Patient", "family")])
    request = parse_search("Patient", [("family", "x"), ("given", "y")], registry=only)
    assert [c.name for c in request.criteria] == ["family"]
    assert len(request.warnings) == 1


# --- robustness -----------------------------------------------------------------------------------

_NAMES = [
    "name",
    "family:exact",
    "gender:not",
    "birthdate",
    "birthdate:missing",
    "identifier:of-type",
    "code",
    "code:text",
    "code:in",
    "subject",
    "subject:Patient",
    "subject.name",
    "subject:Patient.birthdate",
    "patient.identifier",
    "value-quantity",
    "code-value-quantity",
    "code-value-date",
    "probability",
    "url:below",
    "_id",
    "_lastUpdated",
    "_tag",
    "_profile",
    "_text",
    "_has:Observation:patient:code",
    "_has:Observation:subject:value-quantity",
    "_type",
    "_count",
    "_offset",
    "_sort",
    "_include",
    "_revinclude:iterate",
    "_summary",
    "_elements",
    "_total",
    "near",
    "relationship",
    "chromosome-variant-coordinate",
    "_list",
]
_SNIPPETS = [
    "",
    ",",
    "|",
    "$",
    "\\",
    ":",
    "/",
    ".",
    "-",
    "e",
    "gt",
    "ap",
    "2020",
    "-01",
    "T10:00",
    "Z",
    "+01:00",
    "1e999",
    "9999-12-31",
    "Patient",
    "Patient/1",
    "http://x/Patient/1",
    "true",
    "*",
]


@settings(max_examples=400, suppress_health_check=[HealthCheck.too_slow], deadline=None)
@given(
    resource_type=st.sampled_from(
        [None, "Patient", "Observation", "Location", "MolecularSequence"]
    ),
    items=st.lists(
        st.tuples(
            st.one_of(st.sampled_from(_NAMES), st.text(max_size=30)),
            st.one_of(
                st.text(max_size=30),
                st.lists(st.sampled_from(_SNIPPETS), max_size=6).map("".join),
            ),
        ),
        max_size=5,
    ),
    strict=st.booleans(),
)
def test_parse_search_only_raises_chartkeeper_errors(
    resource_type: str | None, items: list[tuple[str, str]], strict: bool
) -> None:
    try:
        result = parse_search(resource_type, items, strict=strict)
    except ChartkeeperError:
        return
    assert isinstance(result, SearchRequest)
