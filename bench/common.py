"""Shared pieces of the benchmarks: paths, result rows, machine facts and small statistics."""

from __future__ import annotations

import os
import platform
import sqlite3
import statistics
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

BENCH = Path(__file__).resolve().parent
REPO = BENCH.parent
SHARED = Path(__file__).resolve().parents[1].parent / "shared"
SYNTHEA = SHARED / "data" / "synthea" / "r4"
PYTHON = sys.executable


def synthea_dir() -> Path:
    """The Synthea R4 directory, or exit with a clear message when the test data is absent."""
    parts = sorted(SYNTHEA.glob("synthea_r4_part*.tar.xz"))
    if not parts or not (SYNTHEA / "manifest.csv").is_file():
        sys.exit(
            f"bench: the Synthea test data is missing: expected {SYNTHEA}/synthea_r4_part*.tar.xz "
            "and manifest.csv (the shared test material next to the repository)."
        )
    return SYNTHEA


@dataclass
class Row:
    """One line of a result table: a measurement against its target and its baseline."""

    metric: str
    target: str
    measured: str
    baseline: str = "-"
    ratio: str = "-"
    passed: bool | None = None

    @property
    def verdict(self) -> str:
        return {True: "PASS", False: "FAIL", None: "info"}[self.passed]


@dataclass
class Section:
    """The results of one benchmark: its table, then free-form notes and extra tables."""

    name: str
    title: str
    rows: list[Row] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    extra: list[str] = field(default_factory=list)


def percentile(values: list[float], pct: float) -> float:
    """The ``pct`` percentile (0-100) by linear interpolation; values need not be sorted."""
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    rank = (len(ordered) - 1) * pct / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def median(values: list[float]) -> float:
    """The median (NaN for no values)."""
    return statistics.median(values) if values else float("nan")


def _first_line(path: str, prefix: str) -> str:
    try:
        with open(path, encoding="utf-8") as handle:
            for line in handle:
                if line.startswith(prefix):
                    return line.split(":", 1)[1].strip() if ":" in line else line.strip()
    except OSError:
        pass
    return "unknown"


def _os_name() -> str:
    pretty = "unknown"
    try:
        for line in Path("/etc/os-release").read_text(encoding="utf-8").splitlines():
            if line.startswith("PRETTY_NAME="):
                pretty = line.split("=", 1)[1].strip('"')
    except OSError:
        pass
    return f"{pretty}, {platform.system()} {platform.release()} {platform.machine()}"


def _ram() -> str:
    text = _first_line("/proc/meminfo", "MemTotal")
    try:
        return f"{int(text.split()[0]) / 1024 / 1024:.1f} GiB"
    except (ValueError, IndexError):
        return text


def git_commit() -> str:
    """The short commit of the working tree (read-only ``git rev-parse``)."""
    try:
        out = subprocess.run(
            ["git", "rev-parse", "--short", "HEAD"],
            cwd=REPO,
            capture_output=True,
            text=True,
            timeout=10,
            check=True,
        )
        return out.stdout.strip() or "unknown"
    except (OSError, subprocess.SubprocessError):
        return "unknown"


def machine_facts() -> list[tuple[str, str]]:
    """CPU, cores, RAM, Python, SQLite, OS and load: what a reader needs to judge the numbers."""
    return [
        ("CPU", _first_line("/proc/cpuinfo", "model name")),
        ("Cores", str(os.cpu_count())),
        ("RAM", _ram()),
        ("Python", platform.python_version()),
        ("SQLite", sqlite3.sqlite_version),
        ("OS", _os_name()),
        ("Load average at start (1/5/15 min)", load_average()),
    ]


def load_average() -> str:
    """The 1, 5 and 15 minute load averages (the machine is shared; 2 cores)."""
    return " ".join(f"{x:.2f}" for x in os.getloadavg())


def fmt(value: float, digits: int = 0) -> str:
    """A number with thousands separators."""
    return f"{value:,.{digits}f}"


def short_name(key: tuple[str, int, str]) -> str:
    """A cProfile function key as ``package/file.py:line `name` `` (builtins by name)."""
    filename, line, name = key
    if filename == "~":
        return f"`{name}`"
    for marker in ("/site-packages/", "/src/", "/lib/python3"):
        if marker in filename:
            filename = filename.split(marker, 1)[1]
            break
    return f"{filename}:{line} `{name}`"
