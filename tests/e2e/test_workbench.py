"""The workbench in a real browser against a real server: find a patient, open the chart."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

pytestmark = pytest.mark.e2e


def sign_in(page: Any, live_server: str, role: str = "him_technician") -> None:
    """Sign in with the demo account of ``role`` (created by ``chartkeeper demo``)."""
    page.goto(f"{live_server}/signin")
    page.get_by_label("User name").fill(role)
    page.get_by_label("Password").fill(f"riverside-{role}")
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url("**/patients*")


def test_pages_need_sign_in_and_sign_out_ends_the_session(live_server: str, page: Any) -> None:
    page.goto(f"{live_server}/patients")
    assert "/signin" in page.url
    page.get_by_label("User name").fill("him_technician")
    page.get_by_label("Password").fill("wrong password here")
    page.get_by_role("button", name="Sign in").click()
    assert "did not match" in page.locator("main").inner_text()
    sign_in(page, live_server)
    assert "Signed in as him_technician" in page.locator("header").inner_text()
    page.get_by_role("button", name="Sign out").click()
    page.goto(f"{live_server}/patients")
    assert "/signin" in page.url


def test_front_desk_cannot_open_a_chart_and_is_told_why(live_server: str, page: Any) -> None:
    sign_in(page, live_server, "front_desk")
    page.locator("table tbody tr td a").first.click()
    assert "front_desk" in page.locator("main").inner_text()


def test_find_a_patient_and_open_the_chart(
    live_server: str, page: Any, screenshot_dir: Path
) -> None:
    sign_in(page, live_server)
    page.goto(f"{live_server}/")
    assert page.title() == "Find a patient · chartkeeper"
    total_heading = page.locator("#results-heading").inner_text()
    assert total_heading.endswith("patients")
    first_link = page.locator("table tbody tr td a").first
    name = first_link.inner_text()
    family = name.split(",")[0]
    page.get_by_label("Name").fill(family)
    page.get_by_role("button", name="Search").click()
    page.wait_for_url("**/patients?name=*")
    assert page.locator("table tbody tr").count() >= 1
    page.screenshot(path=str(screenshot_dir / "patients.png"), full_page=True)
    page.get_by_role("link", name=name).first.click()
    page.wait_for_url("**/patients/*")
    assert page.locator("h1").inner_text() == name
    for section in (
        "Demographics",
        "Allergies",
        "Problems",
        "Medications",
        "Encounters",
        "Results",
        "Notes",
    ):
        # level 2: the clinician summary above has level-3 headings with the same words
        assert page.get_by_role("heading", name=section, level=2).count() == 1, section
    page.screenshot(path=str(screenshot_dir / "chart.png"), full_page=True)


def test_the_chart_opens_with_the_clinician_summary(
    live_server: str, page: Any, screenshot_dir: Path
) -> None:
    sign_in(page, live_server)
    page.goto(f"{live_server}/patients")
    page.locator("table tbody tr td a").first.click()
    page.wait_for_url("**/patients/*")
    summary = page.locator("#summary")
    assert summary.get_by_role("heading", name="Clinician summary", level=2).count() == 1
    for heading in (
        "Code status and advance directives",
        "Allergies and intolerances",
        "Active problems",
        "Active medications",
        "Latest vital signs",
        "Latest laboratory results",
        "Pending orders and referrals",
        "Care team",
    ):
        assert summary.get_by_role("heading", name=heading, level=3).count() == 1, heading
    summary_box, encounters_box = summary.bounding_box(), page.locator("#encounters").bounding_box()
    assert summary_box is not None and encounters_box is not None
    assert summary_box["y"] < encounters_box["y"]  # the summary comes first
    vitals = summary.locator("#summary-vitals + table tbody tr")
    assert vitals.count() >= 1  # every demo patient has had vitals taken
    href = vitals.first.locator("a[href^='/fhir/Observation/']").first.get_attribute("href")
    assert href is not None
    response = page.request.get(f"{live_server}{href}")
    assert response.status == 200 and response.json()["resourceType"] == "Observation"
    emergency = page.get_by_role("link", name="Emergency view").get_attribute("href")
    assert emergency is not None and emergency.endswith("/emergency")
    assert page.get_by_label("Search this chart").count() == 1
    page.screenshot(path=str(screenshot_dir / "chart_summary.png"), full_page=True)


def test_every_chart_line_links_to_its_fhir_source(live_server: str, page: Any) -> None:
    sign_in(page, live_server)
    page.goto(f"{live_server}/patients")
    page.locator("table tbody tr td a").first.click()
    page.wait_for_url("**/patients/*")
    source = page.locator("#encounters table a").first
    href = source.get_attribute("href")
    assert href is not None and href.startswith("/fhir/Encounter/")
    response = page.request.get(f"{live_server}{href}")
    assert response.status == 200
    assert response.json()["resourceType"] == "Encounter"


def test_an_unknown_chart_says_what_went_wrong(live_server: str, page: Any) -> None:
    sign_in(page, live_server)
    response = page.goto(f"{live_server}/patients/no-such-patient")
    assert response is not None and response.status == 404
    assert "Patient/no-such-patient is not known" in page.locator("main").inner_text()
    assert page.get_by_role("link", name="search for the patient again").count() == 1


def test_pages_are_accessible_basics(live_server: str, page: Any) -> None:
    """Labels on every input, one h1, lang set, table headers scoped (WCAG 2.1 AA basics)."""
    sign_in(page, live_server)
    page.goto(f"{live_server}/patients")
    assert page.locator("html").get_attribute("lang") == "en"
    assert page.locator("h1").count() == 1
    for field in page.locator("input:not([type=hidden])").all():
        field_id = field.get_attribute("id")
        assert page.locator(f"label[for='{field_id}']").count() == 1
    headers = page.locator("th").all()
    assert headers and all(h.get_attribute("scope") == "col" for h in headers)
    page.keyboard.press("Tab")
    assert page.evaluate("document.activeElement.className") == "skip"
