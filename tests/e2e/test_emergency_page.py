"""The emergency view in a real browser: a physician opens a patient they do not treat, breaks
the glass, and lands on the one-screen view whose every line links to its FHIR source."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from tests.e2e.test_workbench import sign_in

pytestmark = pytest.mark.e2e
REASON = "Brought in unresponsive; the ED needs allergies and code status now"
SECTIONS = (
    "Code status",
    "Allergies",
    "Active problems",
    "Active medications",
    "Latest vital signs",
    "Key labs",
    "Care team and contacts",
)


def _patient_ids(page: Any, live_server: str) -> list[str]:
    page.goto(f"{live_server}/patients")
    links = page.locator("table tbody tr td a")
    hrefs = [links.nth(n).get_attribute("href") for n in range(links.count())]
    return [h.rsplit("/", 1)[1] for h in hrefs if h and h.startswith("/patients/")]


def test_break_the_glass_then_the_emergency_view(
    live_server: str, page: Any, screenshot_dir: Path
) -> None:
    sign_in(page, live_server)  # the HIM technician reaches every chart
    everyone = _patient_ids(page, live_server)
    page.get_by_role("button", name="Sign out").click()
    sign_in(page, live_server, "physician")  # the physician's search lists their patients only
    treated = _patient_ids(page, live_server)
    assert treated, "the demo physician is some demo patients' GP"
    page.goto(f"{live_server}/patients/{treated[0]}/emergency")
    assert page.locator("h1").inner_text().startswith("Emergency: ")
    others = [p for p in everyone if p not in treated]
    assert others, "and not every demo patient's"
    refused = others[0]
    page.goto(f"{live_server}/patients/{refused}/emergency")
    assert page.get_by_role("heading", name="Break the glass").count() == 1
    page.screenshot(path=str(screenshot_dir / "emergency-refused.png"), full_page=True)

    page.get_by_label("Reason for emergency access").fill(REASON)
    page.get_by_role("button", name="Break the glass").click()
    page.wait_for_url(f"**/patients/{refused}/emergency")
    assert page.locator("h1").inner_text().startswith("Emergency: ")
    assert page.locator("html").get_attribute("lang") == "en"
    for name in SECTIONS:
        assert page.get_by_role("heading", name=name).count() == 1, name
    tables = page.locator("main table")
    assert tables.count() >= 1
    for n in range(tables.count()):
        assert tables.nth(n).locator("thead th[scope=col]").count() >= 2
    page.screenshot(path=str(screenshot_dir / "emergency.png"), full_page=True)

    source = page.locator("main table tbody a").first
    href = source.get_attribute("href")
    assert href and href.startswith("/fhir/")
    record = page.request.get(f"{live_server}{href}")
    assert record.status == 200
    assert record.json()["resourceType"] == href.split("/")[2]

    document = page.request.get(f"{live_server}/fhir/Patient/{refused}/$summary")
    assert document.status == 200
    assert document.json()["entry"][0]["resource"]["title"] == "International Patient Summary"
