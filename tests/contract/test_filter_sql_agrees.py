"""The SQL the store runs for a search filter admits exactly what ``SearchFilter.admits`` does,
for every role, with and without relationships, grants, emergencies and consents."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from datetime import UTC, datetime
from typing import Any

import pytest

from chartkeeper.app import Services, build_services
from chartkeeper.core.clock import FixedClock
from chartkeeper.core.settings import load_settings
from chartkeeper.fhir.interactions import update
from chartkeeper.fhir.search_request import SearchRequest
from chartkeeper.privacy.actor import ROLES, Actor
from chartkeeper.privacy.decision import AccessContext, search_filter
from chartkeeper.privacy.filters import visibility_of
from chartkeeper.privacy.sensitivity import ACT_CODE, CONFIDENTIALITY

NOW = datetime(2026, 1, 1, tzinfo=UTC)
NOTE_TYPE = {"coding": [{"system": "http://loinc.org", "code": "11506-3"}]}


def _label(system: str, code: str) -> dict[str, Any]:
    return {"meta": {"security": [{"system": system, "code": code}]}}


def _observation(ident: str, patient: str, **extra: Any) -> dict[str, Any]:
    return {
        "resourceType": "Observation",
        "id": ident,
        "status": "final",
        "code": {"text": "test"},
        "subject": {"reference": f"Patient/{patient}"},
        **extra,
    }


def _note(ident: str, patient: str, author: str, **extra: Any) -> dict[str, Any]:
    return {
        "resourceType": "DocumentReference",
        "id": ident,
        "status": "current",
        "type": NOTE_TYPE,
        "subject": {"reference": f"Patient/{patient}"},
        "author": [{"reference": f"Practitioner/{author}"}],
        "content": [{"attachment": {"contentType": "text/plain", "data": "bm90ZQ=="}}],
        **extra,
    }


def _consent(patient: str) -> dict[str, Any]:
    """Patient a denies everyone their Observations labelled HIV."""
    return {
        "resourceType": "Consent",
        "id": f"consent-{patient}",
        "status": "active",
        "scope": {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/consentscope",
                    "code": "patient-privacy",
                }
            ]
        },
        "category": [{"coding": [{"system": "http://loinc.org", "code": "59284-0"}]}],
        "patient": {"reference": f"Patient/{patient}"},
        "policyRule": {
            "coding": [
                {"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "OPTIN"}
            ]
        },
        "provision": {
            "type": "permit",
            "provision": [{"type": "deny", "class": [{"code": "Observation"}]}],
        },
    }


def _records() -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = [
        {"resourceType": "Practitioner", "id": "doc1"},
        {"resourceType": "Practitioner", "id": "doc2"},
        {"resourceType": "Organization", "id": "org"},
    ]
    for patient in ("a", "b", "c"):
        records.append({"resourceType": "Patient", "id": patient})
        records.append(_observation(f"{patient}-plain", patient))
        records.append(_observation(f"{patient}-hiv", patient, **_label(ACT_CODE, "HIV")))
        records.append(_observation(f"{patient}-sud", patient, **_label(ACT_CODE, "ETH")))
        records.append(_observation(f"{patient}-r", patient, **_label(CONFIDENTIALITY, "R")))
        records.append(_note(f"{patient}-note", patient, "doc1"))
        records.append(_note(f"{patient}-psy", patient, "doc1", **_label(ACT_CODE, "PSYTHPN")))
        records.append(
            {
                "resourceType": "Encounter",
                "id": f"{patient}-enc",
                "status": "finished",
                "class": {"code": "AMB"},
                "subject": {"reference": f"Patient/{patient}"},
            }
        )
        records.append(
            {
                "resourceType": "Claim",
                "id": f"{patient}-claim",
                "status": "active",
                "type": {"text": "professional"},
                "use": "claim",
                "patient": {"reference": f"Patient/{patient}"},
                "created": "2025-01-01",
                "provider": {"reference": "Organization/org"},
                "priority": {"text": "normal"},
                "insurance": [
                    {"sequence": 1, "focal": True, "coverage": {"display": "demo coverage"}}
                ],
            }
        )
    records.append(_consent("a"))
    return records


@pytest.fixture(scope="module")
def store(module_database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    folder = tmp_path_factory.mktemp("filters")
    settings = load_settings(
        {"data_dir": str(folder), "database_url": module_database_url}, environ={}
    )
    services: Services = build_services(settings, clock=FixedClock(NOW))
    rows: list[tuple[dict[str, Any], str | None]] = []
    for record in _records():
        update.update(services.fhir, record["resourceType"], record["id"], record)
    with services.repository.reading() as tx:
        for stored in tx.iterate(None):
            patient = _patient_of(stored.resource())
            rows.append((stored.resource(), patient))
    yield services, rows
    services.close()


def _patient_of(resource: dict[str, Any]) -> str | None:
    if resource["resourceType"] == "Patient":
        return str(resource["id"])
    for key in ("subject", "patient"):
        reference = (resource.get(key) or {}).get("reference", "")
        if reference.startswith("Patient/"):
            return str(reference.split("/")[1])
    return None


ACTORS = [
    Actor(
        kind="user",
        name=role,
        role=role,
        patient_id="a" if role == "patient" else None,
        practitioner_id="doc1" if role in ("physician", "nurse") else None,
    )
    for role in ROLES
]
CONTEXTS = {
    "none": AccessContext(now=NOW),
    "treats-a": AccessContext(now=NOW, relationships=frozenset({"a"})),
    "treats-a-grants": AccessContext(
        now=NOW, relationships=frozenset({"a", "b"}), sensitivity_grants=frozenset({"HIV", "R"})
    ),
    "emergency-b": AccessContext(now=NOW, break_glass=frozenset({"b"})),
}


@pytest.mark.parametrize(
    ("actor", "context_name"),
    list(itertools.product(ACTORS, CONTEXTS)),
    ids=lambda v: v.role if isinstance(v, Actor) else str(v),
)
def test_sql_admits_what_the_decision_admits(store: Any, actor: Actor, context_name: str) -> None:
    services, rows = store
    context = CONTEXTS[context_name]
    consents = tuple(r for r, _ in rows if r["resourceType"] == "Consent")
    context = AccessContext(
        now=context.now,
        relationships=context.relationships,
        break_glass=context.break_glass,
        sensitivity_grants=context.sensitivity_grants,
        consents=consents,
    )
    chosen = search_filter(actor, None, context)
    expected = sorted(
        f"{r['resourceType']}/{r['id']}" for r, patient in rows if chosen.admits(r, patient)
    )
    request = SearchRequest(resource_type=None, count=1000, visibility=visibility_of(chosen))
    with services.repository.reading() as tx:
        found = sorted(f"{m.resource_type}/{m.id}" for m in tx.search(request).matches)
    assert found == expected


def test_the_grid_exercises_hiding_and_releasing(store: Any) -> None:
    """Guard against a vacuous comparison: the filters above must differ in what they admit."""
    _services, rows = store
    consents = tuple(r for r, _ in rows if r["resourceType"] == "Consent")
    sizes = set()
    for actor, context in itertools.product(ACTORS, CONTEXTS.values()):
        context = AccessContext(
            now=context.now,
            relationships=context.relationships,
            break_glass=context.break_glass,
            sensitivity_grants=context.sensitivity_grants,
            consents=consents,
        )
        chosen = search_filter(actor, None, context)
        sizes.add(sum(1 for r, patient in rows if chosen.admits(r, patient)))
    assert len(sizes) >= 6
    assert 0 in sizes
