"""Overlay detection and hard-identifier conflicts: the rules that stop two people becoming
one chart (or flag a chart that already holds two)."""

from __future__ import annotations

from typing import Any

from chartkeeper.mpi.merge import identifier_conflicts
from chartkeeper.mpi.overlays import overlay_reasons

SSN = "http://hl7.org/fhir/sid/us-ssn"
V2 = "http://terminology.hl7.org/CodeSystem/v2-0203"


def version(n: int, **fields: Any) -> dict[str, Any]:
    return {"resourceType": "Patient", "meta": {"versionId": str(n)}, **fields}


def ssn(value: str) -> dict[str, Any]:
    return {"system": SSN, "value": value}


def licence(value: str) -> dict[str, Any]:
    return {
        "type": {"coding": [{"system": V2, "code": "DL"}]},
        "system": "urn:oid:2.16.840.1.113883.4.3.39",
        "value": value,
    }


def test_a_birth_date_that_jumps_years_is_an_overlay() -> None:
    versions = [version(2, birthDate="1994-05-01"), version(1, birthDate="1951-05-01")]
    assert overlay_reasons(versions) == [
        "birth date changed from 1951-05-01 (version 1) to 1994-05-01 (version 2)"
    ]


def test_corrections_are_not_overlays() -> None:
    typo = [version(2, birthDate="1951-05-11"), version(1, birthDate="1951-05-01")]
    swapped = [version(2, birthDate="1951-05-03"), version(1, birthDate="1951-03-05")]
    same = [
        version(2, gender="female", identifier=[ssn("501-22-3344")]),
        version(1, gender="female"),
    ]
    for versions in (typo, swapped, same):
        assert overlay_reasons(versions) == []
    assert overlay_reasons([]) == []
    assert overlay_reasons([version(1, birthDate="not a date", gender="unknown")]) == []


def test_a_sex_change_between_versions_is_flagged_for_review() -> None:
    versions = [
        version(3, gender="male"),
        version(2, gender="unknown"),
        version(1, gender="female"),
    ]
    assert overlay_reasons(versions) == [
        "administrative sex changed from female (version 1) to male (version 3)"
    ]


def test_disagreeing_hard_identifiers_are_an_overlay() -> None:
    two_now = [version(1, identifier=[ssn("501-22-3344"), ssn("501-22-9999")])]
    assert overlay_reasons(two_now) == ["the record carries 2 different SSN numbers"]
    changed = [
        version(2, identifier=[ssn("501-22-9999")]),
        version(1, identifier=[ssn("501223344")]),
    ]
    assert overlay_reasons(changed) == ["the SSN number changed between versions"]
    formatting = [
        version(2, identifier=[ssn("501-22-3344")]),
        version(1, identifier=[ssn("501223344")]),
    ]
    assert overlay_reasons(formatting) == []


def test_identifier_conflicts_need_both_sides_and_no_shared_value() -> None:
    a = {"identifier": [ssn("501-22-3344"), licence("D123")]}
    assert identifier_conflicts(a, {"identifier": [ssn("501 22 3344")]}) == []
    assert identifier_conflicts(a, {"identifier": [ssn("501-22-3345")]}) == [
        "the SSN numbers differ"
    ]
    assert identifier_conflicts(a, {"identifier": [licence("D999")]}) == [
        "the driver's licence numbers differ"
    ]
    assert identifier_conflicts(a, {}) == []
    assert identifier_conflicts({"identifier": [{"system": SSN}]}, a) == []
