"""Audit ledger: append 300,000 entries to a fresh SQLite store and time `verify` over them.

Standalone: `.venv/bin/python bench/audit_verify.py [--entries N]`; `run()` returns a Section for
bench/run.py. Target: verify at least 200,000 entries/s (a year of a busy clinic's reads in
seconds), because verification is worth little if nobody can afford to run it.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import resource
import sqlite3
import tempfile
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from common import Row, Section
from sqlalchemy import Engine

from chartkeeper.core import heap
from chartkeeper.core.clock import FixedClock
from chartkeeper.privacy.actor import Actor
from chartkeeper.privacy.audit import AuditKeys, AuditLedger, audit_event
from chartkeeper.privacy.audit.pending import PendingEntry, pending_entry
from chartkeeper.store.engine import WRITE_OPTION, make_engine
from chartkeeper.store.migrate import upgrade

TARGET_RATE = 200_000  # entries per second
ENTRIES = 300_000
BATCH = 2_000
REPEATS = 3
START = datetime(2026, 1, 5, 8, 0, tzinfo=UTC)


def _events(count: int) -> list[PendingEntry]:
    """A realistic mix: reads of one chart, a few searches over several patients, updates."""
    nurse = Actor("user", "nurse.okafor", "nurse", source_address="10.0.4.17")
    entries: list[PendingEntry] = []
    for number in range(count):
        patients = [f"pat-{number % 997}"] if number % 10 else [f"pat-{n}" for n in range(5)]
        action, subtype = ("U", "update") if number % 25 == 0 else ("R", "read")
        query = "Observation?code=http://loinc.org|8867-4&_count=50" if number % 10 == 0 else None
        if query:
            subtype = "search-type"
        event = audit_event(
            action=action,
            subtype=subtype,
            outcome="0",
            actor=nurse,
            patient_ids=patients,
            resource=None if query else f"Observation/obs-{number}",
            query=query,
            recorded=START,
        )
        entries.append(
            pending_entry(event, patient_ids=patients, agent=nurse.name, action=action, outcome="0")
        )
    return entries


def _append(engine: Engine, ledger: AuditLedger, entries: list[PendingEntry]) -> float:
    started = time.perf_counter()
    for start in range(0, len(entries), BATCH):
        connection = engine.connect().execution_options(**{WRITE_OPTION: True})
        with connection, connection.begin():
            ledger.append_many(connection, entries[start : start + BATCH])
    return time.perf_counter() - started


def _cpu() -> float:
    """CPU seconds (user + system) of this process and of its finished children: verify proves
    ranges of a large ledger in worker processes."""
    own = resource.getrusage(resource.RUSAGE_SELF)
    children = resource.getrusage(resource.RUSAGE_CHILDREN)
    return own.ru_utime + own.ru_stime + children.ru_utime + children.ru_stime


def _timed(work: Callable[[], Any]) -> tuple[float, float, Any]:
    """Wall and CPU seconds of ``work()`` (its worker processes included), and its result."""
    before = _cpu()
    started = time.perf_counter()
    result = work()
    wall = time.perf_counter() - started
    return wall, _cpu() - before, result


def _floor(database: Path) -> int:
    """The least any verifier must do: read the same rows, one SHA-256 over each event."""
    connection = sqlite3.connect(database)
    try:
        rows = connection.execute(
            "SELECT seq, recorded_at, event, patient_ids, agent, action, outcome, entry_hash "
            "FROM audit_ledger ORDER BY seq"
        )
        return sum(len(hashlib.sha256(row[2].encode()).digest()) for row in rows)
    finally:
        connection.close()


def measure(entries: int, directory: Path) -> dict[str, Any]:
    """Append ``entries`` to a new store in ``directory``; verify them (best of REPEATS)."""
    database = directory / "chartkeeper.db"
    engine = make_engine(f"sqlite:///{database}")
    try:
        upgrade(engine)
        ledger = AuditLedger(engine, AuditKeys.generate(), FixedClock(START))
        append_seconds = _append(engine, ledger, _events(entries))
        heap.settle()  # as `chartkeeper audit verify` does: run.py's heap holds every Bundle
        runs = [_timed(ledger.verify) for _ in range(REPEATS)]
        floors = [_timed(lambda: _floor(database)) for _ in range(REPEATS)]
    finally:
        engine.dispose()
    for _, _, report in runs:
        if not report.ok or report.entries != entries:
            raise SystemExit(f"bench: verify failed on an untouched ledger: {report}")
    wall, cpu, _ = min(runs, key=lambda run: run[0])
    return {
        "entries": entries,
        "append_seconds": append_seconds,
        "verify_seconds": wall,
        "verify_cpu_seconds": cpu,
        "rate": entries / wall,
        "cpu_rate": entries / cpu,
        "floor_seconds": min(floor[0] for floor in floors),
        "database_bytes": os.path.getsize(database),
        "load": ", ".join(f"{value:.1f}" for value in os.getloadavg()),
    }


def run(entries: int = ENTRIES) -> Section:
    """The benchmark as a section of bench/RESULTS.md."""
    with tempfile.TemporaryDirectory(prefix="ck-audit-bench-") as directory:
        result = measure(entries, Path(directory))
    section = Section("audit-verify", "Audit ledger verification")
    floor_rate = entries / result["floor_seconds"]
    section.rows.append(
        Row(
            metric=f"verify {entries:,} ledger entries (SQLite), best of {REPEATS}",
            target=f">= {TARGET_RATE:,} entries/s",
            measured=f"{result['rate']:,.0f} entries/s",
            baseline=f"{floor_rate:,.0f} entries/s",
            ratio=f"{result['rate'] / floor_rate:.2f}",
            passed=result["rate"] >= TARGET_RATE,
        )
    )
    section.notes.append(
        f"Baseline: the plain sqlite3 module reading the same rows and taking one SHA-256 of each "
        f"event, the least any verifier does. Appended in batches of {BATCH} in "
        f"{result['append_seconds']:.1f} s ({entries / result['append_seconds']:,.0f} "
        f"entries/s). Verify: {result['verify_seconds']:.2f} s wall, "
        f"{result['verify_cpu_seconds']:.2f} s CPU ({result['cpu_rate']:,.0f} entries per CPU "
        f"second); database {result['database_bytes'] / 1e6:.0f} MB; load average "
        f"{result['load']} at the end."
    )
    return section


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--entries", type=int, default=ENTRIES, help="entries to append")
    entries = parser.parse_args().entries
    with tempfile.TemporaryDirectory(prefix="ck-audit-bench-") as directory:
        result = measure(entries, Path(directory))
    verdict = "PASS" if result["rate"] >= TARGET_RATE else "FAIL"
    print(
        f"append: {entries:,} entries in {result['append_seconds']:.1f} s "
        f"({entries / result['append_seconds']:,.0f}/s)"
    )
    print(
        f"verify: {entries:,} entries in {result['verify_seconds']:.2f} s (best of {REPEATS}; "
        f"{result['verify_cpu_seconds']:.2f} s CPU) = {result['rate']:,.0f} entries/s "
        f"(target >= {TARGET_RATE:,}): {verdict}"
    )
    print(
        f"        {result['cpu_rate']:,.0f} entries per CPU second; load average {result['load']}"
    )
    print(
        f"floor:  sqlite3 scan + one SHA-256 per event: {result['floor_seconds']:.2f} s = "
        f"{entries / result['floor_seconds']:,.0f} entries/s"
    )


if __name__ == "__main__":
    main()
