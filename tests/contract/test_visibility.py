"""The store hides what a Visibility hides on every read path: search totals, paging,
includes, chains, _has, history, compartment and export (SQLite and PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import parse_qsl

import pytest

from chartkeeper.app import Services, build_services
from chartkeeper.core.clock import FixedClock
from chartkeeper.core.settings import load_settings
from chartkeeper.fhir.interactions import update
from chartkeeper.fhir.repository import HistoryQuery
from chartkeeper.fhir.search_parser import parse_search
from chartkeeper.fhir.visibility import Match, Visibility

HIV = ("http://terminology.hl7.org/CodeSystem/v3-ActCode", "HIV")


@pytest.fixture
def store(database_url: str, tmp_path: Path) -> Iterator[Services]:
    settings = load_settings({"data_dir": str(tmp_path), "database_url": database_url}, environ={})
    services = build_services(settings, clock=FixedClock(datetime(2026, 1, 1, tzinfo=UTC)))
    for ident in ("a", "b"):
        _put(services, {"resourceType": "Patient", "id": ident, "gender": "female"})
        for n in range(3):
            _put(services, _observation(f"{ident}{n}", ident))
    labelled = _observation("a-hiv", "a")
    labelled["meta"] = {"security": [{"system": HIV[0], "code": HIV[1]}]}
    _put(services, labelled)
    _put(services, {"resourceType": "Practitioner", "id": "doc"})
    yield services
    services.close()


def _put(services: Services, resource: dict[str, Any]) -> None:
    update.update(services.fhir, resource["resourceType"], resource["id"], resource)


def _observation(ident: str, patient: str) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "id": ident,
        "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": "75622-1"}]},
        "subject": {"reference": f"Patient/{patient}"},
        "performer": [{"reference": "Practitioner/doc"}],
    }


def _search(services: Services, kind: str, query: str, visibility: Visibility) -> Any:
    request = parse_search(kind, parse_qsl(query))
    request.visibility = visibility
    with services.repository.reading() as tx:
        page = tx.search(request)
        included = tx.include(page.matches, request.include, False, visibility)
        revincluded = tx.include(page.matches, request.revinclude, True, visibility)
    return page, included + revincluded


ONLY_A = Visibility(patient_ids=frozenset({"a"}), hidden_labels=frozenset({HIV}))


def test_search_totals_and_matches_hide_other_compartments_and_labels(store: Services) -> None:
    page, _ = _search(store, "Observation", "_count=2", ONLY_A)
    assert page.total == 3
    assert {m.id for m in page.matches} <= {"a0", "a1", "a2"}
    assert page.next_cursor is not None


def test_revinclude_and_has_cannot_reach_hidden_rows(store: Services) -> None:
    _, included = _search(store, "Patient", "_revinclude=Observation:subject", ONLY_A)
    assert sorted(r.id for r in included) == ["a0", "a1", "a2"]
    page, _ = _search(store, "Patient", "_has:Observation:subject:_security=HIV", ONLY_A)
    assert page.total == 0


def test_chains_cannot_probe_other_patients(store: Services) -> None:
    page, _ = _search(store, "Observation", "subject:Patient.gender=female", ONLY_A)
    assert page.total == 3
    page, _ = _search(store, "Observation", "subject:Patient._id=b", ONLY_A)
    assert page.total == 0


def test_shared_resources_follow_include_shared(store: Services) -> None:
    page, _ = _search(store, "Practitioner", "", ONLY_A)
    assert page.total == 1
    closed = Visibility(patient_ids=frozenset({"a"}), include_shared=False)
    page, _ = _search(store, "Practitioner", "", closed)
    assert page.total == 0


def test_history_compartment_and_export_hide_the_same_rows(store: Services) -> None:
    with store.repository.reading() as tx:
        versions, total = tx.history(HistoryQuery(count=100, visibility=ONLY_A))
        compartment = list(tx.compartment("a", None, None, ONLY_A))
        other = list(tx.compartment("b", None, None, ONLY_A))
        exported = list(tx.iterate("Observation", ONLY_A))
        referenced = tx.referenced_by_compartment("a", ONLY_A)
    assert total == len(versions) == 5  # Patient a, a0-a2, Practitioner doc
    assert sorted(r.id for r in compartment) == ["a", "a0", "a1", "a2"]
    assert other == []
    assert sorted(r.id for r in exported) == ["a0", "a1", "a2"]
    assert [r.id for r in referenced] == ["doc"]


def test_types_and_consent_pairs_are_hidden(store: Services) -> None:
    demographics = Visibility(resource_types=frozenset({"Patient"}))
    page, _ = _search(store, "Observation", "", demographics)
    assert page.total == 0
    consent = Visibility(denied=(("a", Match(resource_types=frozenset({"Observation"}))),))
    page, _ = _search(store, "Observation", "", consent)
    assert sorted(m.id for m in page.matches) == ["b0", "b1", "b2"]
    page, _ = _search(store, "Practitioner", "", consent)
    assert page.total == 1


def test_no_visibility_means_everything(store: Services) -> None:
    request = parse_search("Observation", [])
    with store.repository.reading() as tx:
        assert tx.search(request).total == 7
