"""Break-the-glass through the real API and workbench: a clinician's emergency grant opens one
chart for a few hours, is audited from declaration to expiry and waits for the privacy
officer's review."""

from __future__ import annotations

import re
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from sqlalchemy import MetaData, text
from starlette.testclient import TestClient

from chartkeeper.app import Services
from chartkeeper.core.clock import FixedClock
from chartkeeper.privacy.audit.compact import render
from chartkeeper.store.break_glass_schema import break_glass_grants
from tests.api.conftest import patient, post, put
from tests.api.people import PASSWORD, token, user

REASON = "Unconscious in the ED, no relationship on file"


def _parameters(reason: str | None = REASON, hours: int | None = None) -> dict[str, Any]:
    parameter: list[dict[str, Any]] = []
    if reason is not None:
        parameter.append({"name": "reason", "valueString": reason})
    if hours is not None:
        parameter.append({"name": "hours", "valueInteger": hours})
    return {"resourceType": "Parameters", "parameter": parameter}


def _declare(client: TestClient, headers: dict[str, str], patient_id: str = "pb", **kw: Any) -> Any:
    return post(
        client, f"/fhir/Patient/{patient_id}/$break-the-glass", _parameters(**kw), **headers
    )


def _audit(services: Services, agent: str) -> list[tuple[str, str, dict[str, Any]]]:
    """The agent's entries: action, outcome and AuditEvent (a read's rebuilt from its compact
    row, as the ledger serves it)."""
    services.ledger.buffered().flush()
    with services.engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT seq, recorded_at, patient_ids, agent, action, outcome, event "
                "FROM audit_ledger ORDER BY seq"
            )
        ).all()
    return [
        (
            r.action,
            r.outcome,
            render(
                r.event,
                seq=r.seq,
                recorded_at=r.recorded_at,
                patient_ids=r.patient_ids,
                action=r.action,
                outcome=r.outcome,
            ),
        )
        for r in rows
        if r.agent == agent
    ]


def _dicom(event: dict[str, Any]) -> str:
    return str(event["subtype"][0]["code"])


@pytest.fixture
def hospital(client: TestClient) -> TestClient:
    observation = {
        "resourceType": "Observation",
        "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": "8867-4"}]},
        "valueQuantity": {"value": 70, "unit": "/min"},
    }
    for ident in ("pa", "pb"):
        put(client, f"/fhir/Patient/{ident}", patient(id=ident, family=f"Fam{ident}"))
        body = {**observation, "id": f"o-{ident}", "subject": {"reference": f"Patient/{ident}"}}
        put(client, f"/fhir/Observation/o-{ident}", body)
    put(client, "/fhir/Practitioner/doc", {"resourceType": "Practitioner", "id": "doc"})
    care_team = {
        "resourceType": "CareTeam",
        "id": "ct-a",
        "subject": {"reference": "Patient/pa"},
        "participant": [{"member": {"reference": "Practitioner/doc"}}],
    }
    put(client, "/fhir/CareTeam/ct-a", care_team)
    return client


def test_a_grant_opens_the_chart_for_four_hours_and_no_longer(
    services: Services, hospital: TestClient, clock: FixedClock
) -> None:
    headers = user(services, "drdoc", "physician", practitioner_id="doc")
    assert hospital.get("/fhir/Observation/o-pb", headers=headers).status_code == 404

    declared = _declare(hospital, headers)
    assert declared.status_code == 201
    values = {p["name"]: p for p in declared.json()["parameter"]}
    assert values["expires"]["valueInstant"] == "2026-01-15T13:30:00.000Z"
    assert values["patient"]["valueReference"] == {"reference": "Patient/pb"}

    assert hospital.get("/fhir/Observation/o-pb", headers=headers).status_code == 200
    found = hospital.get("/fhir/Observation", headers=headers).json()
    assert sorted(e["resource"]["id"] for e in found["entry"]) == ["o-pa", "o-pb"]

    clock.advance(hours=3, minutes=59)
    headers = token(services, "drdoc")
    assert hospital.get("/fhir/Observation/o-pb", headers=headers).status_code == 200
    clock.advance(minutes=1)
    headers = token(services, "drdoc")
    assert hospital.get("/fhir/Observation/o-pb", headers=headers).status_code == 404
    assert hospital.get("/fhir/Observation/o-pa", headers=headers).status_code == 200


def test_declaration_access_and_expiry_are_audited(
    services: Services, hospital: TestClient, clock: FixedClock
) -> None:
    headers = user(services, "drdoc", "physician", practitioner_id="doc")
    assert _declare(hospital, headers, hours=1).status_code == 201
    hospital.get("/fhir/Observation/o-pb", headers=headers)
    clock.advance(hours=1)
    headers = token(services, "drdoc")
    hospital.get("/fhir/Observation/o-pa", headers=headers)
    hospital.get("/fhir/Observation/o-pb", headers=headers)  # the expiry is audited once

    entries = _audit(services, "drdoc")
    glass = [(outcome, e) for _, outcome, e in entries if _dicom(e) == "110127"]
    assert [outcome for outcome, _ in glass] == ["0", "0"]
    assert REASON in glass[0][1]["outcomeDesc"]
    assert glass[1][1]["outcomeDesc"].endswith("expired")
    assert all(e["action"] == "E" for _, e in glass)
    reads = [e for action, outcome, e in entries if action == "R" and outcome == "0"]
    assert "break-the-glass" in reads[0]["outcomeDesc"]
    assert "outcomeDesc" not in reads[1]  # Observation/o-pa: the care team, no emergency
    assert services.ledger.verify().ok


@pytest.mark.parametrize("decision", ["accepted", "referred"])
def test_the_privacy_officer_reviews_every_grant(
    services: Services, hospital: TestClient, decision: str
) -> None:
    doctor = user(services, "drdoc", "physician", practitioner_id="doc")
    officer = user(services, "po", "privacy_officer")
    grant_id = _declare(hospital, doctor).json()["parameter"][0]["valueString"]

    queue = hospital.get("/api/break-glass/queue", headers=officer)
    assert queue.status_code == 200
    assert [(g["id"], g["actor"], g["patient"], g["reason"]) for g in queue.json()] == [
        (grant_id, "drdoc", "Patient/pb", REASON)
    ]
    assert hospital.get("/api/break-glass/queue", headers=doctor).status_code == 403

    path = f"/api/break-glass/{grant_id}/review"
    body = {"decision": decision, "note": "Checked with the ED charge nurse"}
    refused = hospital.post(path, json=body, headers=doctor)
    assert refused.status_code == 403
    assert refused.json()["resourceType"] == "OperationOutcome"
    reviewed = hospital.post(path, json=body, headers=officer)
    assert reviewed.status_code == 200
    assert (reviewed.json()["status"], reviewed.json()["reviewer"]) == (decision, "po")
    assert hospital.get("/api/break-glass/queue", headers=officer).json() == []
    done = hospital.get("/api/break-glass/queue", params={"status": decision}, headers=officer)
    assert [g["id"] for g in done.json()] == [grant_id]
    assert hospital.post(path, json=body, headers=officer).status_code == 409

    changes = [e for _, _, e in _audit(services, "po") if _dicom(e) == "110136"]
    assert len(changes) == 1
    assert grant_id in changes[0]["outcomeDesc"] and decision in changes[0]["outcomeDesc"]


@pytest.mark.parametrize("role", ["front_desk", "him_technician", "privacy_officer", "coder"])
def test_non_clinical_roles_cannot_break_the_glass(
    services: Services, hospital: TestClient, role: str
) -> None:
    headers = user(services, "someone", role)
    refused = _declare(hospital, headers)
    assert refused.status_code == 403
    assert refused.json()["issue"][0]["code"] == "forbidden"
    assert [o for _, o, e in _audit(services, "someone") if _dicom(e) == "110127"] == ["4"]


def test_a_backend_client_cannot_break_the_glass(hospital: TestClient) -> None:
    assert _declare(hospital, {}).status_code == 403


@pytest.mark.parametrize(
    ("patient_id", "kw", "status"),
    [
        ("pb", {"reason": "urgent"}, 400),
        ("pb", {"reason": None}, 400),
        ("pb", {"hours": 13}, 400),
        ("pb", {"hours": 0}, 400),
        ("nobody", {}, 404),
    ],
)
def test_bad_declarations_are_refused(
    services: Services, hospital: TestClient, patient_id: str, kw: dict[str, Any], status: int
) -> None:
    headers = user(services, "nurse1", "nurse")
    response = _declare(hospital, headers, patient_id, **kw)
    assert response.status_code == status
    assert response.json()["resourceType"] == "OperationOutcome"
    officer = user(services, "po", "privacy_officer")
    assert hospital.get("/api/break-glass/queue", headers=officer).json() == []


def _sign_in(browser: TestClient, name: str) -> str:
    """Sign in through the form; the CSRF token of the new session's forms."""
    page = browser.get("/signin").text
    token = re.search(r'name="csrf" value="([^"]+)"', page)
    assert token
    form = {"name": name, "password": PASSWORD, "csrf": token.group(1), "next": "/patients"}
    assert browser.post("/signin", data=form, follow_redirects=False).status_code == 303
    listing = browser.get("/patients").text
    csrf = re.search(r'name="csrf" value="([^"]+)"', listing)
    assert csrf
    return csrf.group(1)


def test_the_workbench_offers_the_glass_and_the_review_page(
    services: Services, hospital: TestClient, anonymous: TestClient
) -> None:
    user(services, "drdoc", "physician", practitioner_id="doc")
    user(services, "po", "privacy_officer")
    html = {"accept": "text/html"}
    csrf = _sign_in(anonymous, "drdoc")
    refused = anonymous.get("/patients/pb", headers=html)
    assert refused.status_code == 404
    assert 'action="/patients/pb/break-the-glass"' in refused.text

    path = "/patients/pb/break-the-glass"
    forged = anonymous.post(path, data={"reason": REASON, "csrf": "x"}, headers=html)
    assert forged.status_code == 403
    short = anonymous.post(path, data={"reason": "now", "csrf": csrf}, headers=html)
    assert short.status_code == 400
    opened = anonymous.post(path, data={"reason": REASON, "csrf": csrf}, follow_redirects=False)
    assert (opened.status_code, opened.headers["location"]) == (303, "/patients/pb")
    assert anonymous.get("/patients/pb", headers=html).status_code == 200
    assert anonymous.get("/privacy/break-glass", headers=html).status_code == 403

    anonymous.cookies.clear()
    csrf = _sign_in(anonymous, "po")
    page = anonymous.get("/privacy/break-glass", headers=html)
    assert page.status_code == 200 and REASON in page.text
    grant_id = re.search(r'action="/privacy/break-glass/([^"]+)"', page.text)
    assert grant_id
    form = {"decision": "referred", "note": "Ask the ED", "csrf": csrf}
    review = anonymous.post(f"/privacy/break-glass/{grant_id.group(1)}", data=form)
    assert review.status_code == 200  # back on the queue, now empty
    assert "No emergency grants are waiting" in review.text
    assert services.break_glass.queue("referred")[0].review_note == "Ask the ED"


def test_migration_0004_creates_exactly_the_grants_table(services: Services) -> None:
    wanted = MetaData()
    break_glass_grants.to_metadata(wanted)

    def include_name(name: str | None, kind: str, parents: dict[str, Any]) -> bool:
        table = name if kind == "table" else parents.get("table_name")
        return kind == "schema" or table == "break_glass_grants"

    with services.engine.connect() as conn:
        opts = {"compare_type": True, "include_name": include_name}
        context = MigrationContext.configure(conn, opts=opts)
        assert compare_metadata(context, wanted) == []
