"""A patient's own statement in the portal: HTML and PDF, theirs only."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from starlette.testclient import TestClient

from chartkeeper.app import Services, build_services
from chartkeeper.cli.demo_billing import bill_demo
from chartkeeper.cli.demo_loader import load_demo
from chartkeeper.core.settings import load_settings
from chartkeeper.web.app import create_app
from tests.api.people import user

HTML = {"accept": "text/html"}


@pytest.fixture(scope="module")
def billed(
    module_database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Services]:
    """A small demo hospital whose recent encounters were billed and answered by the payer."""
    data = Path(tmp_path_factory.mktemp("portal-statement"))
    settings = load_settings({"data_dir": str(data), "database_url": module_database_url}, {})
    services = build_services(settings)
    load_demo(services, 40, 3)
    bill_demo(services, lambda _line: None)
    yield services
    services.close()


def _patient_with_a_posting(services: Services) -> str:
    rows, _ = services.billing.worklist.items(None, 1000, 0)
    answered = [r for r in rows if r.status in ("paid", "partial", "denied")]
    assert answered, "the demo's simulated payer answered no claim"
    return answered[0].patient_id


def test_a_patient_reads_their_own_statement(billed: Services) -> None:
    patient_id = _patient_with_a_posting(billed)
    with TestClient(create_app(billed)) as client:
        own = user(billed, f"pt-{patient_id[:8]}", "patient", patient_id=patient_id)
        page = client.get("/portal/statement", headers={**HTML, **own})
        assert page.status_code == 200
        assert page.headers["content-security-policy"].startswith("default-src 'self'")
        activity = billed.billing.account(
            billed.security.identity.user_actor(f"pt-{patient_id[:8]}"), patient_id
        )
        assert f"${activity.balance:,.2f}" in page.text
        pdf = client.get("/portal/statement.pdf", headers=own)
        assert pdf.status_code == 200
        assert pdf.headers["content-type"] == "application/pdf"
        assert pdf.content.startswith(b"%PDF")


def test_the_statement_pages_are_for_patients(billed: Services) -> None:
    with TestClient(create_app(billed)) as client:
        doctor = user(billed, "dr-portal", "physician")
        refused = client.get("/portal/statement", headers={**HTML, **doctor})
        assert refused.status_code == 403
        assert client.get("/portal/statement.pdf", headers=doctor).status_code == 403
        assert client.get("/portal/statement", follow_redirects=False).status_code in (
            302,
            303,
            401,
        )
