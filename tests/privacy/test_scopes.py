"""SMART scopes: parsing (v2 and v1), what they allow, narrowing and refusing wider ones."""

from __future__ import annotations

import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from chartkeeper.privacy.scopes import (
    InvalidScopeError,
    ResourceScope,
    allowing_contexts,
    check_grantable,
    describe,
    ensure_within,
    narrow,
    parse_scope,
    parse_scopes,
    scope_allows,
)


@pytest.mark.parametrize(
    ("text", "context", "resource_type", "permissions"),
    [
        ("patient/*.rs", "patient", "*", "rs"),
        ("user/Observation.rs", "user", "Observation", "rs"),
        ("system/*.cruds", "system", "*", "cruds"),
        ("patient/Patient.r", "patient", "Patient", "r"),
        ("user/Condition.cud", "user", "Condition", "cud"),
        ("patient/*.read", "patient", "*", "rs"),
        ("user/Observation.write", "user", "Observation", "cud"),
        ("system/*.*", "system", "*", "cruds"),
    ],
)
def test_resource_scopes_parse_in_v2_and_v1_forms(
    text: str, context: str, resource_type: str, permissions: str
) -> None:
    assert parse_scope(text) == ResourceScope(context, resource_type, frozenset(permissions))


@pytest.mark.parametrize(
    "text", ["launch/patient", "openid", "fhirUser", "offline_access", "online_access"]
)
def test_non_resource_scopes_parse_as_themselves(text: str) -> None:
    assert parse_scope(text) == text


def test_a_fine_grained_scope_keeps_its_query() -> None:
    parsed = parse_scope("patient/Observation.rs?category=laboratory")
    assert isinstance(parsed, ResourceScope)
    assert parsed.constraint == "category=laboratory"
    assert parsed.text() == "patient/Observation.rs?category=laboratory"


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("patient/Observation.sr", "letters of 'cruds' in that order"),
        ("patient/*.rr", "letters of 'cruds' in that order"),
        ("patient/*.x", "letters of 'cruds' in that order"),
        ("patient/*.readwrite", "letters of 'cruds' in that order"),
        ("patient/observation.rs", "Unknown scope"),
        ("practitioner/*.rs", "Unknown scope"),
        ("patient/*", "Unknown scope"),
        ("admin", "Unknown scope"),
        ("", "Unknown scope"),
    ],
)
def test_malformed_scopes_are_refused_clearly(text: str, message: str) -> None:
    with pytest.raises(InvalidScopeError, match=message):
        parse_scope(text)


def test_parse_scopes_splits_on_spaces_and_across_arguments() -> None:
    parsed = parse_scopes(["patient/*.rs  launch/patient", "offline_access"])
    assert parsed == [
        ResourceScope("patient", "*", frozenset("rs")),
        "launch/patient",
        "offline_access",
    ]


@pytest.mark.parametrize(
    ("scopes", "resource_type", "interaction", "allowed"),
    [
        (["patient/*.rs"], "Observation", "read", True),
        (["patient/*.rs"], "Observation", "search", True),
        (["patient/*.rs"], "Observation", "create", False),
        (["patient/*.rs"], "Observation", "u", False),
        (["user/Observation.rs"], "Observation", "r", True),
        (["user/Observation.rs"], "Condition", "read", False),
        (["system/*.cruds"], "Patient", "delete", True),
        (["patient/*.read"], "Encounter", "search", True),
        (["patient/*.write"], "Encounter", "read", False),
        (["patient/*.write"], "Encounter", "update", True),
        (["user/*.*"], "Encounter", "delete", True),
        (["patient/Observation.rs?category=laboratory"], "Observation", "read", False),
        (["launch/patient", "openid", "offline_access"], "Patient", "read", False),
        (["not a scope"], "Patient", "read", False),
        ([], "Patient", "read", False),
    ],
)
def test_scope_allows(
    scopes: list[str], resource_type: str, interaction: str, allowed: bool
) -> None:
    assert scope_allows(scopes, resource_type, interaction) is allowed


def test_allowing_contexts_names_every_context_that_allows() -> None:
    scopes = ["patient/*.rs", "user/Observation.r", "system/Patient.s"]
    assert allowing_contexts(scopes, "Observation", "read") == {"patient", "user"}
    assert allowing_contexts(scopes, "Patient", "search") == {"patient", "system"}
    with pytest.raises(ValueError, match="Unknown interaction 'patch'"):
        allowing_contexts(scopes, "Patient", "patch")


@pytest.mark.parametrize(
    ("requested", "allowed", "granted"),
    [
        ("patient/*.rs", "patient/*.cruds", {"patient/*.rs"}),
        ("patient/*.cruds", "patient/Observation.rs", {"patient/Observation.rs"}),
        ("patient/*.read", "patient/*.rs", {"patient/*.read"}),
        ("patient/*.write", "patient/*.rs", set()),
        ("patient/*.*", "patient/*.rs", {"patient/*.rs"}),
        ("user/Observation.cruds", "user/*.rs", {"user/Observation.rs"}),
        (
            "patient/*.rs",
            "patient/Observation.rs patient/Patient.r",
            {"patient/Observation.rs", "patient/Patient.r"},
        ),
        ("patient/*.rs", "user/*.rs", set()),
        ("system/*.rs", "patient/*.cruds", set()),
        ("user/Condition.rs", "user/Observation.rs", set()),
        ("launch/patient offline_access", "launch/patient", {"launch/patient"}),
        ("openid fhirUser", "openid fhirUser", set()),
        ("patient/Observation.rs?category=laboratory", "patient/*.rs", set()),
        ("", "patient/*.rs", set()),
    ],
)
def test_narrow_grants_only_the_intersection(
    requested: str, allowed: str, granted: set[str]
) -> None:
    assert narrow(requested, allowed) == granted


def test_narrow_refuses_a_malformed_request() -> None:
    with pytest.raises(InvalidScopeError, match="Unknown scope 'patient/Observation'"):
        narrow("patient/Observation", "patient/*.rs")


def test_ensure_within_accepts_what_is_covered() -> None:
    granted = "patient/Observation.rs patient/*.r launch/patient"
    assert ensure_within("patient/Observation.s patient/Patient.r", granted) == {
        "patient/Observation.s",
        "patient/Patient.r",
    }
    assert ensure_within("launch/patient", granted) == {"launch/patient"}


@pytest.mark.parametrize(
    ("requested", "wider"),
    [
        ("patient/*.rs", "patient/*.rs"),
        ("patient/Observation.rus", "patient/Observation.rus"),
        ("user/Observation.r", "user/Observation.r"),
        ("patient/Observation.r offline_access", "offline_access"),
    ],
)
def test_ensure_within_refuses_a_scope_wider_than_granted(requested: str, wider: str) -> None:
    with pytest.raises(InvalidScopeError) as refused:
        ensure_within(requested, "patient/Observation.rs launch/patient")
    assert refused.value.message == (
        f"Scope {wider!r} is wider than granted (launch/patient patient/Observation.rs)"
    )


def test_clients_are_registered_only_with_scopes_the_server_grants() -> None:
    assert check_grantable("system/*.rs offline_access") == {"system/*.rs", "offline_access"}
    with pytest.raises(InvalidScopeError, match="'openid' is not supported"):
        check_grantable("openid")
    with pytest.raises(InvalidScopeError, match="Fine-grained scope"):
        check_grantable("patient/Observation.rs?category=laboratory")


def test_scopes_are_described_in_plain_language() -> None:
    assert describe("patient/*.rs") == "read, search your records"
    assert describe("user/Observation.cud") == "create, update, delete the Observation records"
    assert describe("launch/patient").startswith("know which patient record")


# --- properties --------------------------------------------------------------------------------

_types = st.sampled_from(["*", "Observation", "Patient", "Condition"])
_scopes = st.builds(
    lambda context, kind, letters: ResourceScope(context, kind, frozenset(letters)).text(),
    st.sampled_from(["patient", "user", "system"]),
    _types,
    st.sets(st.sampled_from("cruds"), min_size=1),
)


@given(st.text(max_size=40))
def test_parsing_any_text_either_succeeds_or_refuses_cleanly(text: str) -> None:
    with contextlib.suppress(InvalidScopeError):
        parse_scope(text)


@given(st.lists(_scopes, max_size=4), st.lists(_scopes, max_size=4))
def test_what_narrow_grants_is_within_both_sides(requested: list[str], allowed: list[str]) -> None:
    granted = narrow(requested, allowed)
    ensure_within(granted, allowed)
    ensure_within(granted, requested)
    for kind in ("Observation", "Patient"):
        for interaction in "cruds":
            both = scope_allows(requested, kind, interaction) and scope_allows(
                allowed, kind, interaction
            )
            if not both:
                assert not scope_allows(granted, kind, interaction)
