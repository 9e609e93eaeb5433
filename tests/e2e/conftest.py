"""End-to-end fixtures: a real ``chartkeeper serve`` process and a real headless Chromium.

The browser is Debian's Chromium (``CHARTKEEPER_TEST_CHROMIUM``, default ``/usr/bin/chromium``),
driven by Playwright's sync API with ``executable_path``. Never ``playwright install``: machines
here cannot download browser builds. Every test in this folder skips when Chromium is absent,
unless ``CHARTKEEPER_TEST_CHROMIUM`` was set explicitly (as ``make test`` does): then a missing
browser is an error, so CI cannot go green by silently skipping the browser tests.
"""

from __future__ import annotations

import os
import re
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import Browser, BrowserContext, Page, Playwright, sync_playwright

CHROMIUM_ENV = "CHARTKEEPER_TEST_CHROMIUM"
CHROMIUM = os.environ.get(CHROMIUM_ENV) or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",  # we run as root in CI, where the sandbox cannot start
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
ARTIFACTS_DIR = Path(__file__).resolve().parent / "artifacts"
SERVER_START_TIMEOUT_S = 30.0
DEMO_TIMEOUT_S = 300.0

_report_key = pytest.StashKey[dict[str, pytest.TestReport]]()


def _chromium_available() -> bool:
    return Path(CHROMIUM).is_file() and os.access(CHROMIUM, os.X_OK)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Skip (or, when the browser was asked for explicitly, fail) e2e tests without Chromium."""
    if _chromium_available():
        return
    here = Path(__file__).resolve().parent
    if os.environ.get(CHROMIUM_ENV):
        raise pytest.UsageError(
            f"{CHROMIUM_ENV}={CHROMIUM} does not exist; run scripts/test-services.sh"
        )
    skip = pytest.mark.skip(reason=f"Chromium not found at {CHROMIUM} (set {CHROMIUM_ENV})")
    for item in items:
        if item.path.is_relative_to(here):
            item.add_marker(skip)


@pytest.hookimpl(wrapper=True, tryfirst=True)
def pytest_runtest_makereport(
    item: pytest.Item, call: pytest.CallInfo[None]
) -> Iterator[pytest.TestReport]:
    """Remember each phase's report so ``page`` can screenshot a failed test."""
    report: pytest.TestReport = yield
    item.stash.setdefault(_report_key, {})[report.when] = report
    return report


# --- the server ----------------------------------------------------------------------------------


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


def _answers(url: str) -> bool:
    try:
        with urllib.request.urlopen(url, timeout=2) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is None:
        proc.terminate()
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)


@pytest.fixture(scope="session")
def live_server() -> Iterator[str]:
    """Base URL (``http://127.0.0.1:PORT``) of a server holding a small seeded demo hospital."""
    with tempfile.TemporaryDirectory(prefix="chartkeeper-e2e-") as tmp:
        data_dir = Path(tmp) / "data"
        data_dir.mkdir()
        env = {**os.environ, "CHARTKEEPER_DATA_DIR": str(data_dir)}
        # The tests' database is the server's own SQLite file, whatever the caller's env says.
        env.pop("CHARTKEEPER_DATABASE_URL", None)
        port = _free_port()
        base_url = f"http://127.0.0.1:{port}"
        env["CHARTKEEPER_BASE_URL"] = base_url

        demo = subprocess.run(
            [sys.executable, "-m", "chartkeeper", "demo", "--patients", "5", "--seed", "7"],
            env=env,
            cwd=tmp,
            capture_output=True,
            text=True,
            timeout=DEMO_TIMEOUT_S,
            check=False,
        )
        if demo.returncode != 0:
            pytest.fail(
                f"`chartkeeper demo` exited {demo.returncode}\n"
                f"--- stdout ---\n{demo.stdout}\n--- stderr ---\n{demo.stderr}",
                pytrace=False,
            )

        # Logs go to files, not pipes: a pipe nobody reads fills up and blocks the server.
        log_path = Path(tmp) / "server.log"
        with log_path.open("wb") as log:
            proc = subprocess.Popen(
                [sys.executable, "-m", "chartkeeper", "serve", "--port", str(port)],
                env=env,
                cwd=tmp,
                stdin=subprocess.DEVNULL,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        try:
            deadline = time.monotonic() + SERVER_START_TIMEOUT_S
            while not _answers(f"{base_url}/fhir/metadata"):
                if proc.poll() is not None or time.monotonic() > deadline:
                    _stop(proc)
                    output = log_path.read_text(errors="replace")
                    pytest.fail(
                        f"`chartkeeper serve` did not answer GET /fhir/metadata with 200 "
                        f"within {SERVER_START_TIMEOUT_S:.0f}s (exit {proc.returncode})\n"
                        f"--- output ---\n{output}",
                        pytrace=False,
                    )
                time.sleep(0.2)
            yield base_url
        finally:
            _stop(proc)


# --- the browser ---------------------------------------------------------------------------------


@pytest.fixture(scope="session")
def playwright() -> Iterator[Playwright]:
    pw = sync_playwright().start()
    try:
        yield pw
    finally:
        pw.stop()


@pytest.fixture(scope="session")
def browser(playwright: Playwright) -> Iterator[Browser]:
    """One headless Chromium for the session; each test gets its own context and page."""
    browser = playwright.chromium.launch(
        executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True
    )
    try:
        yield browser
    finally:
        browser.close()


@pytest.fixture
def context(browser: Browser) -> Iterator[BrowserContext]:
    """A fresh browser context (own cookies and storage) per test."""
    ctx = browser.new_context(viewport={"width": 1280, "height": 900}, locale="en-US")
    ctx.set_default_timeout(10_000)
    try:
        yield ctx
    finally:
        ctx.close()


@pytest.fixture
def screenshot_dir() -> Path:
    """``tests/e2e/artifacts/``: where pages' screenshots go (git-ignored)."""
    ARTIFACTS_DIR.mkdir(exist_ok=True)
    return ARTIFACTS_DIR


@pytest.fixture
def page(
    context: BrowserContext, request: pytest.FixtureRequest, screenshot_dir: Path
) -> Iterator[Page]:
    """A page in a fresh context; a failed test leaves ``artifacts/<test>.png`` behind."""
    page = context.new_page()
    yield page
    reports = request.node.stash.get(_report_key, {})
    if any(r.failed for r in reports.values()) and not page.is_closed():
        name = re.sub(r"[^A-Za-z0-9_.-]+", "_", request.node.nodeid)
        try:
            page.screenshot(path=str(screenshot_dir / f"{name}.png"), full_page=True)
        except Exception as exc:  # a crashed page must not hide the test's own failure
            print(f"screenshot of failed test not taken: {exc}", file=sys.stderr)
