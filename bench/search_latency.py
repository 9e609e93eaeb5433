"""Search latency over HTTP against the running chartkeeper server, with real Synthea values."""

from __future__ import annotations

import random
import re
import sqlite3
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import httpx
import orjson
import profiling
from access import reader_context
from common import Row, Section, percentile
from ingest import services_for
from servers import Server
from sqlalchemy import event
from synthea import PatientFacts

from chartkeeper.fhir.interactions import search
from chartkeeper.fhir.operations import everything

EVERYTHING_SIZE = 1000
WARM_UP = 20


@dataclass
class Latencies:
    """Per-request seconds of one query kind, and how many results the responses carried."""

    seconds: list[float]
    totals: list[int]
    statuses: set[int]
    server_cpu: float  # server CPU seconds used by the measured requests

    def ms(self, pct: float) -> float:
        return percentile(self.seconds, pct) * 1000


def measure(client: httpx.Client, server: Server, paths: list[str]) -> Latencies:
    """GET each path in turn on one keep-alive connection; warm-up first, not counted."""
    for path in paths[:WARM_UP]:
        client.get(path)
    cpu = server.cpu_seconds()
    seconds: list[float] = []
    totals: list[int] = []
    statuses: set[int] = set()
    for path in paths:
        started = time.perf_counter()
        response = client.get(path)
        seconds.append(time.perf_counter() - started)
        statuses.add(response.status_code)
        body = orjson.loads(response.content)
        totals.append(int(body.get("total", len(body.get("entry") or [1]))))
    return Latencies(seconds, totals, statuses, server.cpu_seconds() - cpu)


def _loaded(patients: dict[str, PatientFacts]) -> list[PatientFacts]:
    return sorted((p for p in patients.values() if p.server_id), key=lambda p: p.source_id)


def observation_paths(patients: list[PatientFacts], n: int, rng: random.Random) -> list[str]:
    """``Observation?patient=…&code=…`` with codes the patient really has."""
    with_codes = [p for p in patients if p.loinc_codes]
    paths = []
    for _ in range(n):
        patient = rng.choice(with_codes)
        query = {"patient": patient.server_id, "code": rng.choice(patient.loinc_codes)}
        paths.append("/fhir/Observation?" + urlencode(query))
    return paths


def patient_paths(patients: list[PatientFacts], n: int, rng: random.Random) -> list[str]:
    """``Patient?family=…&birthdate=…`` from the manifest."""
    paths = []
    for _ in range(n):
        patient = rng.choice(patients)
        query = {"family": patient.family, "birthdate": patient.birth_date}
        paths.append("/fhir/Patient?" + urlencode(query))
    return paths


def everything_patients(patients: list[PatientFacts], count: int = 3) -> list[PatientFacts]:
    """The loaded patients whose Bundles are closest to 1,000 resources."""
    return sorted(patients, key=lambda p: abs(p.entries - EVERYTHING_SIZE))[:count]


def _row(
    name: str, kind: str, pct: float, limit_ms: float, lat: Latencies, floor: Latencies
) -> Row:
    value, base = lat.ms(pct), floor.ms(pct)
    ok = lat.statuses == {200} and min(lat.totals) > 0
    return Row(
        metric=f"{name} ({len(lat.seconds)} requests)",
        target=f"{kind} < {limit_ms:g} ms",
        measured=f"{kind} {value:.1f} ms",
        baseline=f"{kind} {base:.2f} ms",
        ratio=f"{value / base:.1f}" if base else "-",
        passed=value < limit_ms and ok,
    )


def profile_everything(data_dir: Path, patient: PatientFacts, calls: int = 20) -> list[str]:
    """In-process: CPU per ``everything`` call and where its time goes."""
    services = services_for(data_dir)
    ctx = reader_context(services)
    try:
        for _ in range(3):
            result = everything.everything(ctx, patient.server_id, [])
        started = time.process_time()
        for _ in range(calls):
            everything.everything(ctx, patient.server_id, [])
        cpu_ms = (time.process_time() - started) / calls * 1000
        stats = profiling.profile(
            lambda: [everything.everything(ctx, patient.server_id, []) for _ in range(calls)]
        )
    finally:
        services.close()
    members = (result.body or {}).get("total", "?")
    return [
        f"**Where $everything time goes** (in process, no HTTP): "
        f"`everything.everything(ctx, id, [])` for {patient.family} ({members} resources) "
        f"costs {cpu_ms:.1f} ms CPU per call (the Bundle is built, not yet serialized). A "
        f"cProfile pass over {calls} calls:",
        "",
        *profiling.phase_table(stats),
        "",
        *profiling.self_time_table(stats, 12),
    ]


def query_plans(data_dir: Path, patient: PatientFacts) -> list[str]:
    """SQLite's plan for each statement of one Observation search and one $everything."""
    services = services_for(data_dir)
    statements: list[tuple[str, Any]] = []

    def capture(*args: Any) -> None:
        statements.append((args[2], args[3]))

    event.listen(services.engine, "before_cursor_execute", capture)
    try:
        query = [("patient", patient.server_id), ("code", patient.loinc_codes[0])]
        search.search(reader_context(services), "Observation", query, False)
        everything.everything(reader_context(services), patient.server_id, [])
    finally:
        event.remove(services.engine, "before_cursor_execute", capture)
        services.close()
    lines = [
        "**SQLite query plans** of one `Observation?patient=…&code=…` and one `$everything` "
        "(`SCAN` = a whole table or index is read):",
        "",
    ]
    with sqlite3.connect(data_dir / "chartkeeper.db") as conn:
        for sql, params in statements:
            if not sql.lstrip().upper().startswith("SELECT"):
                continue
            plan = [row[3] for row in conn.execute("EXPLAIN QUERY PLAN " + sql, params)]
            text = re.sub(
                r"^SELECT resources\.res_type, .*?resources\.body FROM",
                "SELECT * FROM",
                " ".join(sql.split()),
            )
            short = text if len(text) <= 240 else text[:240] + " …"
            lines.append(f"- `{short}` → {'; '.join(plan)}")
    return lines


def run(
    ck: Server,
    bare: Server,
    data_dir: Path,
    patients: dict[str, PatientFacts],
    quick: bool,
    headers: dict[str, str],
) -> Section:
    """p95 of the two searches and p50 of $everything, each against the HTTP floor."""
    section = Section("search", "3. Search latency")
    loaded = _loaded(patients)
    rng = random.Random(11)
    n, n_everything = (200, 100) if quick else (400, 300)
    big = everything_patients(loaded)
    queries: list[tuple[str, Callable[[], list[str]]]] = [
        ("Observation?patient=&code=", lambda: observation_paths(loaded, n, rng)),
        ("Patient?family=&birthdate=", lambda: patient_paths(loaded, n, rng)),
        (
            "Patient/{id}/$everything",
            lambda: [
                f"/fhir/Patient/{big[i % len(big)].server_id}/$everything"
                for i in range(n_everything)
            ],
        ),
    ]
    read_paths = [f"/fhir/Patient/{p.server_id}" for p in loaded]
    with httpx.Client(base_url=bare.base, timeout=30.0, headers=headers) as client:
        floor = measure(client, bare, [rng.choice(read_paths) for _ in range(n)])
    results: dict[str, Latencies] = {}
    with httpx.Client(base_url=ck.base, timeout=30.0, headers=headers) as client:
        for name, make in queries:
            print(f"search: {name} ...", flush=True)
            results[name] = measure(client, ck, make())
    obs, pat, eve = (results[name] for name, _ in queries)
    section.rows += [
        _row("Observation?patient=…&code=…", "p95", 95, 20, obs, floor),
        _row("Patient?family=…&birthdate=…", "p95", 95, 20, pat, floor),
        _row("Patient/{id}/$everything", "p50", 50, 50, eve, floor),
    ]
    sizes = ", ".join(f"{p.family} ({p.entries} in Bundle)" for p in big)
    section.notes += [
        f"Measured over HTTP against the running chartkeeper uvicorn server (same process as the "
        f"read benchmark) with {len(loaded)} Synthea patients loaded; one httpx keep-alive "
        f"connection, requests one after another; {WARM_UP} warm-up requests per query first.",
        "Values are real: patient ids are the server ids assigned at ingest; LOINC codes are ones "
        "that patient's Observations carry; family and birthDate come from manifest.csv.",
        f"$everything patients (closest to {EVERYTHING_SIZE:,} resources): {sizes}.",
        "Baseline: the same client's latency for GET Patient/{id} on the bare Starlette server "
        "(the HTTP + client floor); ratio = measured / baseline at the same percentile.",
        "Server CPU ms/req: user + system CPU of the server process over the measured requests "
        "(from /proc/<pid>/stat, 10 ms ticks), a check on latencies inflated by machine load.",
    ]
    section.extra += [
        "| Query | p50 ms | p95 ms | p99 ms | max ms | server CPU ms/req | mean total | statuses |",
        "|---|---:|---:|---:|---:|---:|---:|---|",
    ]
    for name, lat in [*results.items(), ("bare GET Patient/{id} (baseline)", floor)]:
        mean_total = sum(lat.totals) / len(lat.totals)
        section.extra.append(
            f"| {name} | {lat.ms(50):.2f} | {lat.ms(95):.2f} | {lat.ms(99):.2f} | "
            f"{lat.ms(100):.2f} | {1000 * lat.server_cpu / len(lat.seconds):.2f} | "
            f"{mean_total:.1f} | {sorted(lat.statuses)} |"
        )
    section.extra += ["", *profile_everything(data_dir, big[0]), "", *query_plans(data_dir, big[0])]
    return section
