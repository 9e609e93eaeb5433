"""Proves the browser plumbing works: Playwright drives the system Chromium headlessly."""

from __future__ import annotations

from pathlib import Path

from playwright.sync_api import Page


def test_browser_renders_a_page(page: Page, screenshot_dir: Path) -> None:
    page.goto("data:text/html,<title>smoke</title><h1>ok</h1>")
    assert page.title() == "smoke"
    assert page.locator("h1").inner_text() == "ok"
    shot = screenshot_dir / "smoke.png"
    page.screenshot(path=str(shot))
    assert shot.stat().st_size > 0
