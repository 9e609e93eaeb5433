"""Read-by-id throughput over HTTP: chartkeeper against a bare Starlette handler, alternated."""

from __future__ import annotations

import random
import sqlite3
import time
from pathlib import Path

import bare_read
import httpx
import orjson
import profiling
from access import reader_context
from common import Row, Section, fmt, median
from ingest import services_for
from loadgen import LoadResult, describe, run_load, tool
from servers import Server, server_options

from chartkeeper.fhir.interactions import read
from chartkeeper.privacy.encryption import DESIGNATED_TYPES, is_designated

AUDITED_RATIO = 0.9  # issue 3: audited reads >= 0.9x the throughput with auditing off
TARGET_RATIO = 0.67
SAMPLE_IDS = 5000
CONNECTIONS = 8


def write_paths(database: Path, path: Path, count: int = SAMPLE_IDS) -> list[str]:
    """A seeded random sample of stored resources as ``/fhir/{type}/{id}`` lines."""
    with sqlite3.connect(database) as conn:
        keys = conn.execute(
            "SELECT res_type, res_id FROM resources WHERE deleted = 0 ORDER BY res_type, res_id"
        ).fetchall()
    chosen = random.Random(7).sample(keys, min(count, len(keys)))
    paths = [f"/fhir/{kind}/{ident}" for kind, ident in chosen]
    path.write_text("\n".join(paths) + "\n", encoding="utf-8")
    return paths


def same_bodies(a: Server, b: Server, paths: list[str], headers: dict[str, str]) -> str:
    """Check both servers answer 200 with the same JSON for a few ids; a line for the report.

    Resources that may hold encrypted identifiers (Patient, Practitioner, ...) differ by design:
    the bare server returns the stored ciphertext, chartkeeper the plaintext. They are compared
    with those identifier values left out.
    """
    with httpx.Client(timeout=10.0, headers=headers) as client:
        for path in paths:
            left, right = client.get(a.base + path), client.get(b.base + path)
            if left.status_code != 200 or right.status_code != 200:
                raise RuntimeError(f"{path}: {left.status_code} vs {right.status_code}")
            if _comparable(orjson.loads(left.content)) != _comparable(orjson.loads(right.content)):
                raise RuntimeError(f"{path}: the two servers return different JSON")
    return (
        f"Checked first: both servers return 200 and identical JSON for {len(paths)} ids "
        "(encrypted identifier values aside: the bare server serves the stored ciphertext)."
    )


def _comparable(resource: dict[str, object]) -> dict[str, object]:
    if resource.get("resourceType") not in DESIGNATED_TYPES:
        return resource
    identifiers = resource.get("identifier")
    if not isinstance(identifiers, list):
        return resource
    kept = [i for i in identifiers if not (isinstance(i, dict) and is_designated(i))]
    return {**resource, "identifier": kept}


def _load(
    server: Server, paths_file: Path, seconds: float, authorization: str
) -> tuple[LoadResult, float]:
    """One bounded run, and the server's CPU microseconds per request during it."""
    before = server.cpu_seconds()
    result = run_load(server.base, paths_file, CONNECTIONS, seconds, authorization)
    used = server.cpu_seconds() - before
    return result, used / result.requests * 1e6 if result.requests else float("nan")


def _audited_rows(
    section: Section,
    runs: list[tuple[LoadResult, LoadResult]],
    cpu: list[tuple[float, float]],
    unaudited: list[tuple[LoadResult, float]],
) -> None:
    """Issue 3's target over HTTP: the same reads, audited vs with auditing off."""
    ratio = median([a.rps / q.rps for (a, _), (q, _) in zip(runs, unaudited, strict=True)])
    cpu_ratio = median(
        [q_cpu / a_cpu for (a_cpu, _), (_, q_cpu) in zip(cpu, unaudited, strict=True)]
    )
    errors = sum(q.errors for q, _ in unaudited)
    section.rows.append(
        Row(
            metric="GET /fhir/{type}/{id} audited vs auditing off, requests/s (median run)",
            target=f"ratio >= {AUDITED_RATIO}",
            measured=f"{fmt(median([a.rps for a, _ in runs]))}/s",
            baseline=f"{fmt(median([q.rps for q, _ in unaudited]))}/s",
            ratio=f"{ratio:.3f} (CPU {cpu_ratio:.3f})",
            passed=ratio >= AUDITED_RATIO and errors == 0,
        )
    )
    section.notes.append(
        "Audited vs auditing off (issue 3): a third server, `bench/unaudited_app.py`, serves the "
        "same app with the ledger replaced by `NullLedger`; its runs follow each pair (a, b, c, "
        "...). Ratio = median over rounds of (audited / unaudited) requests/s; CPU: unaudited "
        "over audited server CPU per request "
        f"({median([q for _, q in unaudited]):.0f} vs {median([a for a, _ in cpu]):.0f} µs)."
    )


def profile_read(database: Path, paths: list[str], count: int = 3000) -> list[str]:
    """In-process: CPU per ``read.read`` call vs the bare SELECT, and where the read time goes."""
    keys = [(p.split("/")[2], p.split("/")[3]) for p in paths[:count]]
    services = services_for(database.parent)
    ctx = reader_context(services)
    conn = sqlite3.connect(database)
    try:
        for kind, ident in keys[:200]:
            read.read(ctx, kind, ident)
        started = time.process_time()
        for kind, ident in keys:
            read.read(ctx, kind, ident)
        interaction = (time.process_time() - started) / len(keys) * 1e6
        started = time.process_time()
        for key in keys:
            conn.execute(bare_read.QUERY, key).fetchone()
        bare = (time.process_time() - started) / len(keys) * 1e6
        stats = profiling.profile(lambda: [read.read(ctx, k, i) for k, i in keys])
    finally:
        conn.close()
        services.close()
    return [
        f"**Where read time goes** (in process, no HTTP, {len(keys):,} reads): "
        f"`read.read(ctx, type, id)` costs {interaction:.0f} µs CPU per call against "
        f"{bare:.0f} µs for the bare `SELECT` on sqlite3. A cProfile pass over the same reads:",
        "",
        *profiling.phase_table(stats),
        "",
        *profiling.self_time_table(stats, 12),
    ]


def run(
    ck: Server,
    bare: Server,
    database: Path,
    root: Path,
    quick: bool,
    headers: dict[str, str],
    quiet: Server | None = None,
) -> Section:
    """Alternate bounded load runs (a, b, a, b, ...) and report the median throughput ratio."""
    section = Section("read", "2. Read by id over HTTP")
    paths_file = root / "read-paths.txt"
    paths = write_paths(database, paths_file)
    authorization = headers.get("Authorization", "")
    check = same_bodies(ck, bare, paths[:25], headers)
    pairs, seconds = (2, 4.0) if quick else (5, 6.0)
    print(f"read: warm-up, then {pairs} alternating pairs of {seconds:g} s runs ...", flush=True)
    for server in (ck, bare, *([quiet] if quiet else [])):
        run_load(server.base, paths_file, CONNECTIONS, 2.0, authorization)
    runs: list[tuple[LoadResult, LoadResult]] = []
    cpu: list[tuple[float, float]] = []
    unaudited: list[tuple[LoadResult, float]] = []
    for _ in range(pairs):
        a, a_cpu = _load(ck, paths_file, seconds, authorization)
        b, b_cpu = _load(bare, paths_file, seconds, authorization)
        runs.append((a, b))
        cpu.append((a_cpu, b_cpu))
        if quiet is not None:
            unaudited.append(_load(quiet, paths_file, seconds, authorization))
    ratios = [a.rps / b.rps for a, b in runs if b.rps]
    ratio = median(ratios)
    errors = sum(a.errors + b.errors for a, b in runs)
    section.rows.append(
        Row(
            metric="GET /fhir/{type}/{id}, requests/s (median run)",
            target=f"ratio >= {TARGET_RATIO}",
            measured=f"{fmt(median([a.rps for a, _ in runs]))}/s",
            baseline=f"{fmt(median([b.rps for _, b in runs]))}/s",
            ratio=f"{ratio:.3f}",
            passed=ratio >= TARGET_RATIO and errors == 0,
        )
    )
    section.notes += [
        "Measured: chartkeeper's app (`chartkeeper.web.asgi:app_factory`, factory) under uvicorn "
        "on the loaded SQLite store. Baseline: `bench/bare_read.py`, a Starlette route running "
        "`SELECT body FROM resources WHERE res_type=? AND res_id=?` on the same file (sqlite3, one "
        "connection per threadpool thread, WAL) and returning it as `application/fhir+json`.",
        f"Both: uvicorn `{' '.join(server_options())}` on 127.0.0.1, one process each.",
        f"Load: {describe(CONNECTIONS, seconds)}; {len(paths):,} ids sampled from all resource "
        f"types; 2 s warm-up per server; {pairs} pairs run a, b, a, b, ... "
        "Ratio = median over pairs of (chartkeeper / bare).",
        check,
        f"Errors (connect/read/timeout/status >= 400) in all runs: {errors}; generator: {tool()}.",
    ]
    if unaudited:
        _audited_rows(section, runs, cpu, unaudited)
    cpu_ratio = median([b_cpu / a_cpu for a_cpu, b_cpu in cpu])
    section.notes.append(
        "Server CPU per request (user + system of the uvicorn process, from /proc/<pid>/stat) is "
        "less sensitive to other load on the machine than requests/s: median "
        f"{median([a for a, _ in cpu]):.0f} µs (chartkeeper) vs {median([b for _, b in cpu]):.0f} "
        f"µs (bare), i.e. a CPU-based ratio of {cpu_ratio:.3f}."
    )
    table = [
        "| Pair | chartkeeper req/s | p50 / p99 ms | CPU µs/req | bare req/s | p50 / p99 ms "
        "| CPU µs/req | ratio |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for number, ((a, b), (a_cpu, b_cpu)) in enumerate(zip(runs, cpu, strict=True), 1):
        table.append(
            f"| {number} | {fmt(a.rps)} | {a.p50_ms:.2f} / {a.p99_ms:.2f} | {a_cpu:.0f} | "
            f"{fmt(b.rps)} | {b.p50_ms:.2f} / {b.p99_ms:.2f} | {b_cpu:.0f} | {a.rps / b.rps:.3f} |"
        )
    section.extra += table
    section.extra += ["", *profile_read(database, paths)]
    return section
