"""The scrubber engine, its OperationOutcome and the generated rule documentation."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import date
from decimal import Decimal
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from chartkeeper.billing.codes.registry import CodeRegistry
from chartkeeper.billing.scrub.context import ScrubContext
from chartkeeper.billing.scrub.docs import BEGIN, END, rule_table
from chartkeeper.billing.scrub.engine import RULES, Scrubber, is_clean, rules
from chartkeeper.billing.scrub.model import Issue
from chartkeeper.billing.scrub.outcome import SYSTEM, to_operation_outcome
from chartkeeper.billing.x12.claim_model import ServiceLine
from chartkeeper.store.engine import make_engine
from chartkeeper.store.migrate import upgrade
from tests.unit.billing.data.scrub.builders import claim, line, load

BILLING_MD = Path(__file__).resolve().parents[3] / "docs" / "billing.md"


@pytest.fixture(scope="module")
def scrubber(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Scrubber]:
    engine = make_engine(f"sqlite:///{tmp_path_factory.mktemp('engine')}/codes.db")
    upgrade(engine)
    registry = CodeRegistry(engine)
    load(registry)
    yield Scrubber(ScrubContext(registry))
    engine.dispose()


def test_a_clean_claim_has_no_issues(scrubber: Scrubber) -> None:
    assert scrubber.scrub(claim()) == []
    assert is_clean([])


def test_issues_come_errors_first_then_by_location(scrubber: Scrubber) -> None:
    lines = [line("G0008", service_date=None) for _ in range(11)]
    lines[10] = line("G0008", charge=Decimal(0), diagnosis_pointers=(7,))
    lines[2] = line("G0008", charge=Decimal(0))
    scrub = claim(*lines, diagnoses=("E11.9", "00000"))
    found = scrubber.scrub(scrub)
    keys = [(i.severity, i.location) for i in found]
    assert keys[:3] == [
        ("error", "diagnosis[1]"),
        ("error", "line[0].service_date"),
        ("error", "line[1].service_date"),
    ]
    errors = [i.location for i in found if i.severity == "error"]
    assert errors.index("line[2].charge") < errors.index("line[10].charge")
    assert keys[-1][0] == "warning"  # duplicate lines
    assert not is_clean(found)
    assert is_clean([i for i in found if i.severity != "error"])


def test_scrub_many_keeps_the_order_of_the_claims(scrubber: Scrubber) -> None:
    bad = claim(line(charge=Decimal(-1)))
    assert scrubber.scrub_many([claim(), bad]) == [[], scrubber.scrub(bad)]


def test_every_rule_module_declares_metadata_and_a_check() -> None:
    ids = [rule.id for rule in rules()]
    assert len(ids) == len(set(ids)) == len(RULES) == 11
    for module, rule in zip(RULES, rules(), strict=True):
        assert callable(module.check)
        assert rule.severity in {"error", "warning", "information"}
        assert rule.title and rule.checks and rule.source
        assert module.__doc__


def test_operation_outcome_points_at_the_fhir_element() -> None:
    issue = Issue(
        "mue",
        "error",
        "line[0].units",
        "2 units of A0428 exceed the MUE of 1 per line",
        "Check the units",
        "A0428",
    )
    info = Issue("code-validity", "information", "line[1].procedure_code", "CPT...", "Use a tool")
    outcome = to_operation_outcome([issue, info], {"line[0].units": "Claim.item[0].quantity"})
    assert outcome == {
        "resourceType": "OperationOutcome",
        "issue": [
            {
                "severity": "error",
                "code": "business-rule",
                "details": {
                    "coding": [
                        {
                            "system": SYSTEM,
                            "code": "mue",
                            "display": "Medically Unlikely Edits (units per day)",
                        }
                    ],
                    "text": "2 units of A0428 exceed the MUE of 1 per line",
                },
                "diagnostics": "Check the units",
                "expression": ["Claim.item[0].quantity"],
            },
            {
                "severity": "information",
                "code": "informational",
                "details": {
                    "coding": [
                        {
                            "system": SYSTEM,
                            "code": "code-validity",
                            "display": "Codes valid on the date of service",
                        }
                    ],
                    "text": "CPT...",
                },
                "diagnostics": "Use a tool",
                "expression": ["line[1].procedure_code"],
            },
        ],
    }
    invalid = Issue("required-fields", "error", "claim", "x", "y")
    assert to_operation_outcome([invalid], {})["issue"][0]["code"] == "invalid"


def test_no_issues_is_one_information_issue() -> None:
    assert to_operation_outcome([], {}) == {
        "resourceType": "OperationOutcome",
        "issue": [
            {
                "severity": "information",
                "code": "informational",
                "details": {"text": "No problems found"},
            }
        ],
    }


def test_the_docs_hold_the_generated_rule_table() -> None:
    text = BILLING_MD.read_text()
    start = text.index(BEGIN) + len(BEGIN)
    end = text.index(END)
    assert text[start:end].strip("\n") == rule_table().strip("\n")
    for rule in rules():
        assert f"`{rule.id}`" in rule_table()


DAYS = st.one_of(st.none(), st.dates(date(1990, 1, 1), date(2030, 12, 31)))
LINES = st.builds(
    line,
    st.sampled_from(["G0463", "J1885", "J3490", "A0428", "A0425", "G0001", "", "00000", "x"]),
    charge=st.decimals(-10, 10**8, places=2, allow_nan=False),
    units=st.decimals(-1, 1000, places=1, allow_nan=False),
    service_date=DAYS,
    modifiers=st.lists(st.sampled_from(["", "LT", "59", "ZZ", "XS", "25"]), max_size=5).map(tuple),
    diagnosis_pointers=st.lists(st.integers(-1, 15), max_size=6).map(tuple),
    revenue_code=st.sampled_from(["", "0510"]),
)
DIAGNOSES = st.lists(
    st.sampled_from(["E11.9", "E10.9", "G63", "E85.4", "E11", "Z99.99", "S02.30A", "O80", ""]),
    max_size=14,
).map(tuple)


@given(
    lines=st.lists(LINES, max_size=7),
    diagnoses=DIAGNOSES,
    kind=st.sampled_from(["837P", "837I"]),
    statement=st.tuples(DAYS, DAYS),
    created=st.dates(date(2020, 1, 1), date(2030, 1, 1)),
)
@settings(
    max_examples=300, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
def test_any_claim_is_scrubbed_without_crashing_errors_first(
    scrubber: Scrubber,
    lines: list[ServiceLine],
    diagnoses: tuple[str, ...],
    kind: str,
    statement: tuple[date | None, date | None],
    created: date,
) -> None:
    scrub = claim(
        lines=tuple(lines),  # even none: the builder's default line is not wanted here
        diagnoses=diagnoses,
        statement_from=statement[0],
        statement_to=statement[1],
    )
    found = scrubber.scrub(replace(scrub, kind=kind, created=created))  # type: ignore[arg-type]
    ids = {rule.id for rule in rules()}
    order = {"error": 0, "warning": 1, "information": 2}
    assert [order[i.severity] for i in found] == sorted(order[i.severity] for i in found)
    assert all(i.rule in ids and i.message and i.hint and i.location for i in found)
    if not lines:
        assert not is_clean(found)
