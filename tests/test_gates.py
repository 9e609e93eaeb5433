"""The test infrastructure itself: the set-up commands, CI entry point and database fixtures."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import pytest
from sqlalchemy import create_engine, text
from sqlalchemy.engine import make_url

REPO = Path(__file__).resolve().parents[1]


def test_database_url_gives_an_empty_writable_database(database_url: str) -> None:
    engine = create_engine(database_url)
    try:
        with engine.begin() as conn:
            conn.execute(text("CREATE TABLE probe (id INTEGER PRIMARY KEY, note TEXT)"))
            conn.execute(text("INSERT INTO probe (id, note) VALUES (1, 'ok')"))
        with engine.connect() as conn:
            assert conn.execute(text("SELECT note FROM probe")).scalar_one() == "ok"
    finally:
        engine.dispose()
    if make_url(database_url).get_backend_name() == "postgresql":
        # A private database per test, never the shared one named in the environment.
        assert (make_url(database_url).database or "").startswith("ck_")


def test_ci_runs_exactly_the_readme_test_command() -> None:
    run = REPO / ".ci" / "run"
    assert os.access(run, os.X_OK), ".ci/run must be executable (git tracks the mode)"
    lines = [
        line.strip()
        for line in run.read_text().splitlines()
        if line.strip() and not line.lstrip().startswith("#")
    ]
    assert "set -euo pipefail" in lines
    assert lines[-1] == "exec make test"


@pytest.mark.parametrize(
    "script", sorted((REPO / "scripts").glob("*.sh")), ids=lambda p: Path(p).name
)
def test_shell_scripts_are_strict_and_parse(script: Path) -> None:
    body = script.read_text()
    assert body.startswith("#!/usr/bin/env bash\n")
    assert "\nset -euo pipefail\n" in body
    assert os.access(script, os.X_OK), f"{script.name} must be executable"
    subprocess.run(["bash", "-n", str(script)], check=True)


def test_make_help_lists_the_user_facing_targets() -> None:
    if shutil.which("make") is None:
        pytest.skip("make is not installed")
    out = subprocess.run(
        ["make", "-s", "--no-print-directory", "help"],
        cwd=REPO,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    targets = {line.split()[1] for line in out.splitlines() if line.startswith("  make ")}
    assert targets == {"help", "demo", "test", "bench", "clean"}
