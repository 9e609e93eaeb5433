"""The billing workbench in a real browser against a real server: the demo biller opens a claim
the scrubber held and reads what to fix, then appeals a denial from the queue."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from chartkeeper.cli.demo_loader import DEMO_PASSWORD
from tests.e2e.test_mpi_workbench import assert_accessible_basics

pytestmark = pytest.mark.e2e

#: The rule ids the scrubber has (docs/billing.md); every finding names one of them.
RULES = (
    "required-fields|diagnosis-pointers|code-validity|mce-edits|coding-conventions|ncci-ptp|"
    "mue|medical-necessity|charges|timely-filing|duplicates"
)


def sign_in_as_biller(page: Any, live_server: str) -> None:
    """Sign in with the demo biller's account (``chartkeeper demo`` made it)."""
    page.goto(f"{live_server}/signin")
    page.get_by_label("User name").fill("biller")
    page.get_by_label("Password").fill(DEMO_PASSWORD.format(role="biller"))
    page.get_by_role("button", name="Sign in").click()
    page.wait_for_url(re.compile(r".*/(patients|workbench).*"))


def test_a_biller_reads_why_a_claim_is_held(
    live_server: str, page: Any, screenshot_dir: Path
) -> None:
    sign_in_as_biller(page, live_server)
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Billing").click()
    page.wait_for_url("**/workbench/billing")
    expect(page.get_by_role("heading", level=1)).to_have_text("Claims worklist")
    expect(page.locator("#claims-heading")).to_contain_text("Held by the scrubber")
    held = page.locator("table tbody tr")
    assert held.count() >= 1
    for row in held.all():
        expect(row).to_contain_text("held")
        expect(row).to_contain_text(re.compile(r"\d+ errors?"))
    assert_accessible_basics(page)
    page.screenshot(path=str(screenshot_dir / "billing_worklist.png"), full_page=True)

    number = held.first.get_by_role("link").inner_text()
    held.first.get_by_role("link").click()
    page.wait_for_url("**/workbench/billing/claims/*")
    expect(page.get_by_role("heading", level=1)).to_have_text(f"Claim {number}")
    findings = page.locator("section[aria-labelledby=findings-heading] table")
    headers = [h.strip() for h in findings.locator("thead th").all_inner_texts()]
    assert headers == ["Severity", "Rule", "Where", "What is wrong", "How to fix it"]
    errors = findings.locator("tbody tr", has=page.locator(".severity-error"))
    assert errors.count() >= 1
    cells = errors.first.locator("td").all_inner_texts()
    assert re.fullmatch(RULES, cells[1].strip()), cells
    assert cells[2].startswith("Claim"), cells  # the FHIRPath of what is wrong
    assert cells[3].strip() and cells[4].strip(), "a finding without a message or a fix hint"
    assert_accessible_basics(page)
    page.screenshot(path=str(screenshot_dir / "billing_claim.png"), full_page=True)


def test_a_biller_appeals_a_denial_and_it_leaves_the_open_list(
    live_server: str, page: Any, screenshot_dir: Path
) -> None:
    sign_in_as_biller(page, live_server)
    page.goto(f"{live_server}/workbench/billing")
    page.get_by_role("navigation", name="Billing").get_by_role("link", name="Denials").click()
    page.wait_for_url("**/workbench/billing/denials")
    expect(page.locator("#denials-heading")).to_contain_text("Open denials")
    rows = page.locator("table tbody tr")
    open_before = rows.count()
    assert open_before >= 1, "the demo's simulated payer denied nothing"
    assert_accessible_basics(page)
    page.screenshot(path=str(screenshot_dir / "billing_denials.png"), full_page=True)

    denial = rows.first
    action = denial.locator("form").get_attribute("action")
    assert action and action.startswith("/workbench/billing/denials/"), action
    expect(denial.locator("td code")).to_have_text(re.compile(r"^[A-Z]{2}-\w+$"))
    expect(denial).to_contain_text("open")
    denial.get_by_label("New state").select_option(label="Appealed")
    denial.get_by_label("Note").fill("Sent the visit notes showing medical need")
    denial.get_by_role("button", name="Save").click()
    page.wait_for_url("**/workbench/billing/denials?done=denial")
    expect(page.get_by_role("status")).to_contain_text("Saved.")
    expect(page.locator("#denials-heading")).to_contain_text(f"({open_before - 1})")
    expect(page.locator(f"form[action='{action}']")).to_have_count(0)

    page.get_by_label("Show").select_option(label="Appealed")
    page.get_by_role("button", name="Filter").click()
    page.wait_for_url("**/workbench/billing/denials?state=appealed")
    appealed = page.locator("table tbody tr", has=page.locator(f"form[action='{action}']"))
    expect(appealed).to_have_count(1)
    expect(appealed).to_contain_text("appealed")
    expect(appealed).to_contain_text("Sent the visit notes showing medical need")
