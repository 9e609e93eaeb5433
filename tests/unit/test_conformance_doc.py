"""docs/fhir-conformance.md says exactly what the CapabilityStatement declares."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest

from chartkeeper.core.clock import SystemClock
from chartkeeper.fhir.interactions.capabilities import capability_statement
from chartkeeper.fhir.interactions.context import FhirContext

DOC = Path(__file__).resolve().parents[2] / "docs" / "fhir-conformance.md"


@pytest.fixture(scope="module")
def statement() -> dict[str, Any]:
    context = FhirContext(repository=None, clock=SystemClock())  # type: ignore[arg-type]
    return capability_statement(context)


def _section(title: str) -> str:
    text = DOC.read_text(encoding="utf-8")
    start = text.index(f"## {title}\n")
    end = text.find("\n## ", start + 1)
    return text[start : end if end > 0 else len(text)]


def test_the_interactions_listed_are_those_declared(statement: dict[str, Any]) -> None:
    section = _section("Interactions")
    bullets = [line for line in section.split("\n\n") if line.startswith("- `")]
    listed = [re.findall(r"`([a-z-]+)`", bullet) for bullet in bullets]
    rest = statement["rest"][0]
    assert listed[0] == [i["code"] for i in rest["resource"][0]["interaction"]]
    assert listed[1] == [i["code"] for i in rest["interaction"]]


def test_the_operations_listed_are_those_declared(statement: dict[str, Any]) -> None:
    listed = set(re.findall(r"^- `\$([a-z0-9-]+)`", _section("Operations"), re.MULTILINE))
    rest = statement["rest"][0]
    declared = {op["name"] for r in rest["resource"] for op in r.get("operation", [])}
    declared |= {op["name"] for op in rest.get("operation", [])}  # on the whole server
    assert listed == declared


def test_the_search_parameters_listed_are_those_declared(statement: dict[str, Any]) -> None:
    resources = {r["type"]: r for r in statement["rest"][0]["resource"]}
    rows = re.findall(r"^\| ([A-Za-z]+) \| (.+) \|$", _section("Search"), re.MULTILINE)
    table = {kind: re.findall(r"`([a-z-]+)`", params) for kind, params in rows if kind in resources}
    assert len(table) == 41
    for kind, listed in table.items():
        declared = [p["name"] for p in resources[kind]["searchParam"] if p["name"][0] != "_"]
        assert listed == declared, kind
    others = _section("Search").split("in the same way: ")[1].split(".")[0].split(", ")
    assert sorted([*table, *others]) == sorted(resources)


def test_the_common_parameters_listed_are_those_declared(statement: dict[str, Any]) -> None:
    sentence = _section("Search").split("Common parameters on every type: ")[1].split("\n\n")[0]
    listed = set(re.findall(r"`(_[A-Za-z]+)`", sentence))
    assert listed == {p["name"] for p in statement["rest"][0]["searchParam"]}
