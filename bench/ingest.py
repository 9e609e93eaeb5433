"""Ingest benchmark: Synthea transaction Bundles through ``transaction.process`` with validation."""

from __future__ import annotations

import os
import sqlite3
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import orjson
import profiling
from common import Row, Section, fmt
from synthea import PatientFacts, RawBundle, loinc_codes, patient_source_id

from chartkeeper.app import Services, build_services
from chartkeeper.core import heap
from chartkeeper.core.errors import ChartkeeperError
from chartkeeper.core.settings import load_settings
from chartkeeper.fhir.interactions import transaction

TARGET = 2000.0
AIM = 4000.0
PG_URL_ENV = "CHARTKEEPER_TEST_POSTGRES_URL"
PG_BENCH_DB = "ck_bench"
PROFILE_BUNDLES = 10
PG_BUDGET_SECONDS = 240.0  # full runs: PostgreSQL loads Bundles in order until this is spent


@dataclass
class IngestStats:
    """How one ingest went: resources stored, seconds inside ``process`` and failures."""

    bundles: int = 0
    resources: int = 0
    seconds: float = 0.0
    cpu_seconds: float = 0.0
    failures: list[str] = field(default_factory=list)
    timings: list[tuple[int, float]] = field(default_factory=list)  # per Bundle: resources, s

    @property
    def rate(self) -> float:
        return self.resources / self.seconds if self.seconds else 0.0

    @property
    def cpu_rate(self) -> float:
        return self.resources / self.cpu_seconds if self.cpu_seconds else 0.0

    def rate_of(self, start: int, count: int) -> float:
        """Resources per second over Bundles ``start`` to ``start + count`` of this ingest."""
        part = self.timings[start : start + count]
        seconds = sum(s for _, s in part)
        return sum(n for n, _ in part) / seconds if seconds else 0.0


@dataclass
class LoadedStore:
    """A SQLite store loaded with the Synthea data, shared by the later benchmarks of a run."""

    data_dir: Path
    patients: dict[str, PatientFacts]
    stats: IngestStats

    @property
    def database(self) -> Path:
        return self.data_dir / "chartkeeper.db"


def services_for(data_dir: Path, database_url: str = "") -> Services:
    """Services over a store in ``data_dir`` (SQLite) or at ``database_url``."""
    overrides = {"data_dir": str(data_dir), "database_url": database_url or None}
    return build_services(load_settings(overrides, environ={}))


def _patient_server_id(bundle: dict[str, object], response: dict[str, object]) -> str | None:
    entries = bundle.get("entry") or []
    answers = response.get("entry") or []
    assert isinstance(entries, list) and isinstance(answers, list)
    for entry, answer in zip(entries, answers, strict=False):
        if (entry.get("resource") or {}).get("resourceType") == "Patient":
            location = str((answer.get("response") or {}).get("location", ""))
            return location.split("/")[1] if location.count("/") >= 1 else None
    return None


def ingest(
    services: Services,
    bundles: list[RawBundle],
    patients: dict[str, PatientFacts] | None = None,
    budget: float | None = None,
) -> IngestStats:
    """Process each Bundle (until ``budget`` seconds are spent); only ``process`` is timed."""
    stats = IngestStats()
    for number, raw in enumerate(bundles):
        if budget is not None and stats.seconds >= budget:
            break
        if number == 1:
            heap.settle(bulk=True)  # as `chartkeeper import` does after its first unit (not timed)
        body = orjson.loads(raw.data)
        source_id = patient_source_id(body)
        codes = loinc_codes(body)
        count = len(body.get("entry") or [])
        started, cpu = time.perf_counter(), time.process_time()
        try:
            result = transaction.process(services.fhir, body)
        except ChartkeeperError as error:
            stats.failures.append(f"{raw.name}: {error.message}")
            continue
        finally:
            elapsed = time.perf_counter() - started
            stats.seconds += elapsed
            stats.cpu_seconds += time.process_time() - cpu
            stats.timings.append((count, elapsed))
        stats.bundles += 1
        stats.resources += count
        if patients is not None and source_id in patients and result.body is not None:
            facts = patients[source_id]
            facts.server_id = _patient_server_id(body, result.body) or ""
            facts.loinc_codes = codes
    return stats


def warm_up(bundle: RawBundle) -> None:
    """Load models and search-parameter plans once, in a throwaway store, before timing."""
    with tempfile.TemporaryDirectory(prefix="ck-bench-warm-") as tmp:
        services = services_for(Path(tmp))
        try:
            ingest(services, [bundle])
        finally:
            services.close()


def load_store(
    bundles: list[RawBundle], patients: dict[str, PatientFacts], root: Path
) -> LoadedStore:
    """Load every Bundle into a fresh SQLite store under ``root`` (the measured ingest)."""
    warm_up(bundles[0])
    data_dir = root / "store"
    services = services_for(data_dir)
    try:
        stats = ingest(services, bundles, patients)
    finally:
        services.close()
    with sqlite3.connect(data_dir / "chartkeeper.db") as conn:
        conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    return LoadedStore(data_dir, patients, stats)


def bare_insert(bundles: list[RawBundle], root: Path) -> IngestStats:
    """Baseline: the same bodies re-serialized and inserted into one bare SQLite table."""
    path = root / "bare-insert.db"
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    conn.execute(
        "CREATE TABLE resources (res_type TEXT, res_id TEXT, body TEXT, "
        "PRIMARY KEY (res_type, res_id))"
    )
    stats = IngestStats()
    for raw in bundles:
        body = orjson.loads(raw.data)
        started, cpu = time.perf_counter(), time.process_time()
        rows = [
            (e["resource"]["resourceType"], str(uuid.uuid4()), orjson.dumps(e["resource"]).decode())
            for e in body["entry"]
        ]
        conn.execute("BEGIN IMMEDIATE")
        conn.executemany("INSERT INTO resources VALUES (?, ?, ?)", rows)
        conn.execute("COMMIT")
        stats.seconds += time.perf_counter() - started
        stats.cpu_seconds += time.process_time() - cpu
        stats.bundles += 1
        stats.resources += len(rows)
    conn.close()
    path.unlink(missing_ok=True)
    return stats


# --- where the time goes ------------------------------------------------------------------------


def profile_split(bundles: list[RawBundle]) -> list[str]:
    """Markdown tables of a cProfile pass over a few Bundles: phase split and top self time."""
    sample = bundles[1 : 1 + PROFILE_BUNDLES]
    parsed = [orjson.loads(raw.data) for raw in sample]
    with tempfile.TemporaryDirectory(prefix="ck-bench-prof-") as tmp:
        services = services_for(Path(tmp))
        try:
            ingest(services, bundles[:1])
            stats = profiling.profile(
                lambda: [transaction.process(services.fhir, body) for body in parsed]
            )
        finally:
            services.close()
    resources = sum(len(b.get("entry") or []) for b in parsed)
    return [
        f"cProfile over {len(sample)} Bundles ({resources:,} resources) on a fresh SQLite store; "
        "cProfile inflates Python-heavy code, so read shares, not absolute times.",
        "",
        *profiling.phase_table(stats),
        "",
        "Top functions by self time:",
        "",
        *profiling.self_time_table(stats),
        "",
    ]


# --- PostgreSQL ---------------------------------------------------------------------------------


@contextmanager
def postgres_database(url: str) -> Iterator[str]:
    """A fresh ``ck_bench`` database on the server of ``url``; dropped afterwards."""
    import psycopg
    from sqlalchemy.engine import make_url

    admin = make_url(url).set(drivername="postgresql").render_as_string(hide_password=False)
    bench_url = make_url(url).set(database=PG_BENCH_DB).render_as_string(hide_password=False)
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f"DROP DATABASE IF EXISTS {PG_BENCH_DB} WITH (FORCE)")
        conn.execute(f"CREATE DATABASE {PG_BENCH_DB}")
    try:
        yield bench_url
    finally:
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f"DROP DATABASE IF EXISTS {PG_BENCH_DB} WITH (FORCE)")


def postgres_ingest(
    bundles: list[RawBundle], url: str, budget: float | None
) -> tuple[IngestStats, str]:
    """The same ingest on a fresh PostgreSQL database; returns the stats and server version."""
    with postgres_database(url) as bench_url, tempfile.TemporaryDirectory() as tmp:
        services = services_for(Path(tmp), bench_url)
        try:
            with services.engine.connect() as conn:
                version = str(conn.exec_driver_sql("SHOW server_version").scalar())
            ingest(services, bundles[:1])  # warm the pool; not counted
            stats = ingest(services, bundles[1:], budget=budget)
        finally:
            services.close()
    return stats, version


# --- the section --------------------------------------------------------------------------------


def _rate_row(label: str, stats: IngestStats, baseline: IngestStats) -> Row:
    return Row(
        metric=label,
        target=f">= {fmt(TARGET)}/s (aim {fmt(AIM)})",
        measured=f"{fmt(stats.rate)}/s",
        baseline=f"{fmt(baseline.rate)}/s",
        ratio=f"{stats.rate / baseline.rate:.3f}" if baseline.rate else "-",
        passed=stats.rate >= TARGET and not stats.failures,
    )


def _postgres(
    bundles: list[RawBundle], url: str, sqlite: IngestStats, budget: float | None
) -> tuple[Row | None, list[str]]:
    """The PostgreSQL row, against SQLite's rate over the very same Bundles."""
    print(f"ingest: PostgreSQL (up to {len(bundles)} Bundles) ...", flush=True)
    try:
        pg, version = postgres_ingest(bundles, url, budget)
    except Exception as error:  # report it; the other benchmarks still run
        return None, [f"PostgreSQL ingest failed: {type(error).__name__}: {error}"]
    same = sqlite.rate_of(1, len(pg.timings))  # PostgreSQL's Bundle 0 was the warm-up
    row = Row(
        metric=f"PostgreSQL {version.split()[0]}, Bundles 2-{len(pg.timings) + 1}, "
        f"{pg.resources:,} resources",
        target="-",
        measured=f"{fmt(pg.rate)}/s",
        baseline=f"{fmt(same)}/s (SQLite, same Bundles)",
        ratio=f"{pg.rate / same:.3f}" if same else "-",
    )
    limit = f"until {budget:.0f} s were spent, " if budget else ""
    notes = [
        f"PostgreSQL {version}: a fresh database `{PG_BENCH_DB}` on the server of "
        f"${PG_URL_ENV}, dropped afterwards. Bundle 1 loads untimed (warm-up), then Bundles "
        f"in order {limit}{pg.seconds:.1f} s in `process`. Baseline: SQLite's rate over the same "
        "Bundles in the run above; ratio = PostgreSQL / SQLite. The issue's target is for SQLite."
    ]
    if pg.failures:
        notes.append(f"PostgreSQL: {len(pg.failures)} Bundles failed, e.g. {pg.failures[0]}")
    return row, notes


def run(store: LoadedStore, bundles: list[RawBundle], root: Path, quick: bool) -> Section:
    """Report the measured load, the bare-insert baseline, PostgreSQL and the profile split."""
    section = Section("ingest", "1. Ingest of Synthea transaction Bundles")
    stats = store.stats
    print("ingest: bare-insert baseline ...", flush=True)
    baseline = bare_insert(bundles, root)
    section.rows.append(
        _rate_row(
            f"SQLite, {stats.bundles} Bundles / {stats.resources:,} resources", stats, baseline
        )
    )
    section.notes += [
        "Measured: `transaction.process(services.fhir, bundle)` per Bundle on a fresh SQLite "
        f"store (full validation and indexing); {stats.seconds:.1f} s inside `process` "
        f"({fmt(stats.resources)} resources). JSON parsing of the Bundles is not timed.",
        f"Baseline: the same resources re-serialized with orjson and inserted into one bare "
        f"SQLite table (one transaction per Bundle, WAL, synchronous=NORMAL), "
        f"{baseline.seconds:.2f} s. Ratio = measured / baseline (the storage floor).",
    ]
    section.rows.append(
        Row(
            metric="SQLite, resources per CPU-second (less sensitive to machine load)",
            target="-",
            measured=f"{fmt(stats.cpu_rate)}/s",
            baseline=f"{fmt(baseline.cpu_rate)}/s",
            ratio=f"{stats.cpu_rate / baseline.cpu_rate:.3f}" if baseline.cpu_rate else "-",
        )
    )
    section.notes.append(
        f"CPU: {stats.cpu_seconds:.1f} s of process CPU time inside `process` against "
        f"{stats.seconds:.1f} s wall; the difference is time the benchmark waited (I/O, fsync, "
        "other processes on the machine)."
    )
    if stats.failures:
        section.notes.append(f"{len(stats.failures)} Bundles failed, e.g. {stats.failures[0]}")
    pg_url = os.environ.get(PG_URL_ENV, "")
    if pg_url:
        row, notes = _postgres(bundles, pg_url, stats, None if quick else PG_BUDGET_SECONDS)
        section.rows += [row] if row else []
        section.notes += notes
    else:
        section.notes.append(f"PostgreSQL: not measured (${PG_URL_ENV} is not set).")
    print("ingest: profiling a few Bundles ...", flush=True)
    lines = profile_split(bundles)
    section.extra += ["**Where ingest time goes**", "", *lines]
    return section
