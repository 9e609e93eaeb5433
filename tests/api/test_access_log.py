"""Who looked at my chart: Patient/$access-log and the portal page /portal/access-log."""

from __future__ import annotations

import re
from typing import Any

import pytest
from starlette.testclient import TestClient

from chartkeeper.app import Services
from chartkeeper.core.clock import FixedClock
from tests.api.conftest import INTEGRATION
from tests.api.people import PASSWORD, build_hospital, token, user

HTML = {"accept": "text/html"}


@pytest.fixture
def looked_at(services: Services, client: TestClient, clock: FixedClock) -> TestClient:
    """On 16 Jan 2026 at 14:05 drdoc (physician) and tess (HIM technician) read pa's chart,
    and alice (pa herself) reads her own; the reads are flushed to the ledger."""
    build_hospital(client)
    identity = services.security.identity
    identity.add_user("drdoc", "physician", PASSWORD, practitioner_id="doc", organization="Mercy")
    identity.add_user("tess", "him_technician", PASSWORD)
    identity.add_user("alice", "patient", PASSWORD, patient_id="pa")
    clock.advance(days=1, hours=4, minutes=35)
    for name in ("drdoc", "tess", "alice"):
        response = client.get("/fhir/Observation/o-pa", headers=token(services, name))
        assert response.status_code == 200
    services.ledger.buffered().flush()
    return client


def access_log(client: TestClient, patient_id: str, headers: dict[str, str]) -> Any:
    return client.get(f"/fhir/Patient/{patient_id}/$access-log", headers=headers)


def agents(bundle: dict[str, Any]) -> list[str]:
    return [e["resource"]["agent"][0]["who"]["identifier"]["value"] for e in bundle["entry"]]


def test_a_patient_sees_who_looked_but_not_themselves(
    services: Services, looked_at: TestClient
) -> None:
    response = access_log(looked_at, "pa", token(services, "alice"))
    assert response.status_code == 200
    bundle = response.json()
    assert bundle["type"] == "searchset" and bundle["total"] == len(bundle["entry"])
    names = agents(bundle)
    assert names[:2] == ["tess", "drdoc"]  # newest first
    assert "alice" not in names
    assert INTEGRATION.name in names  # the records' creation is listed too
    assert all(e["resource"]["resourceType"] == "AuditEvent" for e in bundle["entry"])


def test_a_patient_may_not_see_another_patients_log(
    services: Services, looked_at: TestClient
) -> None:
    response = access_log(looked_at, "pb", token(services, "alice"))
    assert response.status_code == 403
    assert response.json()["resourceType"] == "OperationOutcome"


@pytest.mark.parametrize("role", ["physician", "auditor", "admin"])
def test_other_roles_get_403(services: Services, looked_at: TestClient, role: str) -> None:
    assert access_log(looked_at, "pa", user(services, f"x-{role}", role)).status_code == 403


def test_anonymous_gets_401(looked_at: TestClient, anonymous: TestClient) -> None:
    assert anonymous.get("/fhir/Patient/pa/$access-log").status_code == 401


def test_a_privacy_officer_sees_anyones_log(services: Services, looked_at: TestClient) -> None:
    officer = user(services, "polly", "privacy_officer")
    for patient_id in ("pa", "pb"):
        response = access_log(looked_at, patient_id, officer)
        assert response.status_code == 200
        assert response.json()["total"] >= 2
    services.ledger.buffered().flush()
    # The officer's look is itself an access the patient is shown.
    assert "polly" in agents(access_log(looked_at, "pa", token(services, "alice")).json())
    assert services.ledger.verify().ok


def test_the_portal_page_speaks_plainly(services: Services, looked_at: TestClient) -> None:
    response = looked_at.get("/portal/access-log", headers={**HTML, **token(services, "alice")})
    assert response.status_code == 200
    page = response.text
    assert "Who looked at my chart" in page
    assert (
        "drdoc (physician, Mercy) viewed your record on 16 Jan 2026 at 14:05 UTC for treatment."
    ) in page
    assert "tess (him technician) viewed your record" in page
    assert "alice (" not in page


def test_the_portal_page_has_an_empty_state(services: Services, anonymous: TestClient) -> None:
    services.security.identity.add_user("zoe", "patient", PASSWORD, patient_id="pz")
    response = anonymous.get("/portal/access-log", headers={**HTML, **token(services, "zoe")})
    assert response.status_code == 200
    assert "Nobody else has looked at your record yet." in response.text


def test_the_portal_page_is_for_patients(services: Services, looked_at: TestClient) -> None:
    response = looked_at.get("/portal/access-log", headers={**HTML, **token(services, "drdoc")})
    assert response.status_code == 403
    assert "This page is for patients" in response.text


def test_a_signed_in_patient_opens_the_page_from_the_workbench(
    services: Services, looked_at: TestClient, anonymous: TestClient
) -> None:
    page = anonymous.get("/signin").text
    csrf = re.search(r'name="csrf" value="([^"]+)"', page)
    assert csrf
    form = {
        "name": "alice",
        "password": PASSWORD,
        "csrf": csrf.group(1),
        "next": "/portal/access-log",
    }
    signed_in = anonymous.post("/signin", data=form, follow_redirects=False)
    assert signed_in.status_code == 303
    assert signed_in.headers["location"] == "/portal/access-log"
    response = anonymous.get("/portal/access-log", headers=HTML)
    assert response.status_code == 200
    assert "drdoc (physician, Mercy) viewed your record" in response.text
    assert "Signed in as <strong>alice</strong>" in response.text


def test_an_anonymous_visitor_is_sent_to_sign_in(anonymous: TestClient) -> None:
    response = anonymous.get("/portal/access-log", headers=HTML, follow_redirects=False)
    assert response.status_code == 303
    assert response.headers["location"].startswith("/signin?next=")
