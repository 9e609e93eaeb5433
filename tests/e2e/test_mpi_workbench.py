"""The duplicate review in a real browser against a real server: find duplicates with a live
progress bar, review a pair side by side, merge it, and undo the merge."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from playwright.sync_api import expect

from tests.e2e.test_workbench import sign_in

pytestmark = pytest.mark.e2e

SSN = "http://hl7.org/fhir/sid/us-ssn"


def register(page: Any, live_server: str, given: str, **details: Any) -> None:
    """Register a Patient as the signed-in technician (a family name sorting after the demo's,
    so other tests' "first patient on the list" stays a demo patient with a full chart)."""
    body = {
        "resourceType": "Patient",
        "name": [{"family": "Zeller", "given": [given]}],
        "birthDate": "1958-11-23",
        "gender": "male",
        "telecom": [{"system": "phone", "value": "(951) 555-0187"}],
        **details,
    }
    response = page.request.post(
        f"{live_server}/fhir/Patient",
        data=body,
        headers={"content-type": "application/fhir+json"},
    )
    assert response.status == 201, response.text()


def assert_accessible_basics(page: Any) -> None:
    """One h1, a label for every visible input, headers on every table."""
    assert page.locator("h1").count() == 1
    for field in page.locator("input:not([type=hidden]), select, textarea").all():
        assert page.locator(f"label[for='{field.get_attribute('id')}']").count() == 1
    for table in page.locator("table").all():
        assert table.locator("th").count() > 0


def test_find_review_merge_and_unmerge_a_duplicate(
    live_server: str, page: Any, screenshot_dir: Path
) -> None:
    sign_in(page, live_server)
    register(
        page,
        live_server,
        "William",
        address=[{"line": ["48 Birch Lane"], "city": "Riverside", "postalCode": "92501"}],
        identifier=[{"system": SSN, "value": "219-09-4411"}],
    )
    # the same man registered again after a move, by nickname and without his SSN: a
    # probable match for review, not one certain enough to link automatically
    register(
        page,
        live_server,
        "Bill",
        address=[{"line": ["7 Canyon Road"], "city": "Corona", "postalCode": "92879"}],
    )

    page.get_by_role("navigation", name="Main").get_by_role("link", name="Duplicates").click()
    page.wait_for_url("**/workbench/mpi")
    assert page.title() == "Duplicate review queue · chartkeeper"
    page.get_by_role("button", name="Find duplicates now").click()
    page.wait_for_url(re.compile(r".*/workbench/mpi\?job=.*"))
    progress = page.locator("#job-progress")
    expect(progress).to_have_attribute("value", "100", timeout=30_000)
    expect(page.locator("#job-status")).to_contain_text("done", timeout=30_000)
    latest = page.locator("section[aria-labelledby=recent-heading] tbody tr").first
    expect(latest).to_contain_text("Find duplicates", timeout=30_000)
    expect(latest).to_contain_text("done", timeout=30_000)  # after the page's own reload
    assert_accessible_basics(page)
    page.screenshot(path=str(screenshot_dir / "mpi_queue.png"), full_page=True)

    row = page.locator("tbody tr", has_text="Zeller, Bill")
    expect(row).to_contain_text("Zeller, William")
    row.get_by_role("link", name=re.compile("^Review pair")).click()
    page.wait_for_url("**/workbench/mpi/pairs/*")
    main = page.locator("main")
    expect(main).to_contain_text("•••-••-4411")
    assert "219-09-4411" not in main.inner_text()
    assert page.get_by_role("heading", name="Why they were matched").count() == 1
    assert page.locator("table.waterfall tbody tr").count() > 3
    assert_accessible_basics(page)
    page.screenshot(path=str(screenshot_dir / "mpi_pair.png"), full_page=True)

    page.get_by_label(re.compile(r"^Keep record A")).check()
    page.get_by_label("Note").fill("Same man: nickname and phone format")
    page.get_by_role("button", name="Same person: merge").click()
    page.wait_for_url("**/workbench/mpi?done=merged")
    expect(page.get_by_role("status")).to_contain_text("Merged.")

    page.get_by_role("link", name="Merges").click()
    page.wait_for_url("**/workbench/mpi/merges")
    merge = page.locator("tbody tr", has_text="Zeller").first
    expect(merge).to_contain_text("Same man: nickname and phone format")
    page.screenshot(path=str(screenshot_dir / "mpi_merges.png"), full_page=True)
    merge.get_by_label("Why undo it?").fill("Checked again: keep apart for now")
    merge.get_by_role("button", name="Unmerge").click()
    page.wait_for_url("**/workbench/mpi/merges?done=unmerged")
    expect(page.get_by_role("status")).to_contain_text("Unmerged")
    expect(page.locator("tbody tr", has_text="Zeller").first).to_contain_text("unmerged")
