"""Chart search latency (issue 6): p50/p95 per query in process, through the guarded service.

Standalone: `.venv/bin/python bench/chart_search_speed.py [--patients N] [--queries N]
[--postgres URL]`; `run()` returns a Section for bench/run.py (section `chart-search`). Target:
p95 <= 50 ms per chart.

The store is the demo hospital (`chartkeeper.demo.generate_hospital`, loaded as the system
actor through FHIR transactions) of 1,400 patients, over 100,000 resources, plus one large
chart of about 2,000 resources: the records of the next people generated, re-pointed at the
first of them (their notes are the generator's, 0.5-1.5 kB each). The SQLite store
is built once and kept in `bench/out/` (delete it to rebuild). The searcher is an HIM technician
(reaches every chart, so the whole access decision and its SQL filter run on every query), with
`user/*.cruds` scopes and the audit ledger on, as in production.

Queries (a fixed, seeded mix of 200+): plain words, abbreviations that expand ("MI", "HTN",
"COPD", "h/o"), long forms that gain an abbreviation ("myocardial infarction", "hypertension"),
two-word queries, quoted phrases, prefixes, words in no chart and metacharacters.
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import json
import random
import shutil
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from common import BENCH, Row, Section, fmt, median, percentile
from sqlalchemy import text

from chartkeeper.app import Services, build_services
from chartkeeper.core.settings import load_settings
from chartkeeper.demo import generate_hospital
from chartkeeper.fhir.interactions import transaction
from chartkeeper.privacy.actor import Actor
from chartkeeper.summary.chart_search import search_chart

TARGET_P95_MS = 50.0
PATIENTS = 1_400
CHART_RESOURCES = 2_000
QUERIES = 240
SEED = 11
STORE_VERSION = 2
READER = Actor(
    kind="user", name="bench-him", role="him_technician", scopes=frozenset({"user/*.cruds"})
)

WORDS = (
    "pain", "chest", "fever", "lisinopril", "colonoscopy", "smoking", "discharge", "insulin",
    "cough", "glucose", "pneumonia", "alert", "denies", "tobacco", "follow", "vaccine",
    "hemoglobin", "sepsis", "fall", "nausea", "metformin", "rehab", "lungs",
)  # fmt: skip
ABBREVIATIONS = (
    "MI", "HTN", "COPD", "h/o", "CHF", "SOB", "CP", "DM", "CKD", "UTI", "BP", "CAD", "GERD",
    "CABG", "afib", "hx", "NAD", "PRN",
)  # fmt: skip
LONG_FORMS = (
    "myocardial infarction", "hypertension", "chronic obstructive pulmonary disease",
    "history of", "congestive heart failure", "shortness of breath", "coronary artery disease",
    "urinary tract infection", "atrial fibrillation",
)  # fmt: skip
OTHER = (
    '"chest pain"', "chest pa", "hypert", "pain HTN", "MI troponin", "zebra", 'NEAR "x*',
    "' OR 1=1 --", "a:b \\ *", "diabete",
)  # fmt: skip


def queries(count: int, seed: int = SEED) -> list[str]:
    """A seeded mix of the query kinds (see the module docstring)."""
    rng = random.Random(seed)
    kinds = (WORDS, ABBREVIATIONS, LONG_FORMS, OTHER)
    mixed = [rng.choice(rng.choice(kinds)) for _ in range(count)]
    pairs = [f"{rng.choice(WORDS)} {rng.choice(ABBREVIATIONS)}" for _ in range(count // 8)]
    return (mixed + pairs)[:count]


def _rewired(bundle: dict[str, Any], old: str, new: str) -> dict[str, Any]:
    """The bundle with patient ``old`` replaced by ``new``, its Patient entries dropped."""
    moved: dict[str, Any] = json.loads(json.dumps(bundle).replace(old, new))
    moved["entry"] = [e for e in moved["entry"] if e["resource"]["resourceType"] != "Patient"]
    return moved


def bundles(patients: int, chart_size: int) -> Iterator[tuple[dict[str, Any], bool]]:
    """The hospital's Bundles, then the big chart's (flagged True): the records of the people
    generated after the first ``patients``, all filed under the first of them, until the
    chart holds ``chart_size`` resources."""
    chart: str | None = None
    seen = in_chart = 0
    for bundle in generate_hospital(patients=patients + chart_size // 20, seed=SEED):
        first = bundle["entry"][0]["resource"]
        if first["resourceType"] != "Patient":
            yield bundle, False
            continue
        seen += 1
        if seen <= patients:
            yield bundle, False
            continue
        if chart is None:
            chart = first["id"]
        else:
            bundle = _rewired(bundle, first["id"], chart)
        in_chart += len(bundle["entry"])
        yield bundle, True
        if in_chart >= chart_size:
            return


def _services(data_dir: Path, database_url: str | None = None) -> Services:
    values = {"data_dir": str(data_dir)}
    if database_url:
        values["database_url"] = database_url
    return build_services(load_settings(values, environ={}))


def _store_key(patients: int, database_url: str | None) -> dict[str, Any]:
    """What a cached store must match: the layout version, the size and the database (the
    URL hashed, so no password lands in bench/out)."""
    database = hashlib.sha256(database_url.encode()).hexdigest()[:12] if database_url else None
    return {"version": STORE_VERSION, "patients": patients, "database": database}


def load_store(data_dir: Path, patients: int, database_url: str | None = None) -> dict[str, Any]:
    """Build the store, or reuse the one this data directory's marker describes; facts."""
    marker = data_dir / "chart-search-store.json"
    key = _store_key(patients, database_url)
    if marker.is_file():
        facts: dict[str, Any] = json.loads(marker.read_text())
        if all(facts.get(k) == v for k, v in key.items()):
            return facts
    if data_dir.exists():
        shutil.rmtree(data_dir)
    data_dir.mkdir(parents=True)
    services = _services(data_dir, database_url)
    started = time.perf_counter()
    chart_id = None
    try:
        for bundle, chart_part in bundles(patients, CHART_RESOURCES):
            if chart_part and chart_id is None:
                chart_id = bundle["entry"][0]["resource"]["id"]
            transaction.process(services.fhir, bundle)
        services.ledger.buffered().flush()
        with services.engine.connect() as conn:
            if database_url:  # fresh planner statistics, as a store in service has
                conn.execution_options(isolation_level="AUTOCOMMIT").exec_driver_sql("ANALYZE")
            total = conn.execute(text("SELECT count(*) FROM resources")).scalar_one()
            in_chart = conn.execute(
                text("SELECT count(*) FROM resources WHERE patient_id = :p"), {"p": chart_id}
            ).scalar_one()
    finally:
        services.close()
    facts = {
        **key,
        "chart": chart_id,
        "resources": int(total),
        "chart_resources": int(in_chart),
        "load_seconds": round(time.perf_counter() - started, 1),
    }
    marker.write_text(json.dumps(facts))
    return facts


def measure(services: Services, chart: str, texts: list[str]) -> dict[str, Any]:
    """Each query once to warm up, then each timed once (ms), through the guarded service."""
    context = services.for_actor(READER)
    for query in texts[:20]:
        search_chart(context, chart, query)
    timings: list[float] = []
    hits: list[int] = []
    gc.collect()
    for query in texts:
        started = time.perf_counter()
        found = search_chart(context, chart, query)
        timings.append((time.perf_counter() - started) * 1000)
        hits.append(found.total)
    services.ledger.buffered().flush()
    return {
        "p50": median(timings),
        "p95": percentile(timings, 95),
        "max": max(timings),
        "queries": len(texts),
        "with_hits": sum(1 for h in hits if h),
        "median_total": median([float(h) for h in hits]),
    }


def _plan(services: Services, chart: str) -> list[str]:
    """The SQLite query plan of one chart search, to show which side drives it."""
    from chartkeeper.fhir.repository import TextPhrase
    from chartkeeper.store.chart_search_sql import chart_search_query

    query = ((TextPhrase(("pain",)),),)
    statement = chart_search_query(services.engine.dialect.name, chart, query, None)
    compiled = statement.compile(services.engine, compile_kwargs={"literal_binds": True})
    if services.engine.dialect.name != "sqlite":
        return []
    with services.engine.connect() as conn:
        rows = conn.exec_driver_sql(f"EXPLAIN QUERY PLAN {compiled}").all()
    return [str(row[-1]) for row in rows]


def _section_rows(name: str, result: dict[str, Any]) -> list[Row]:
    return [
        Row(f"chart search p95 ({name})", f"<= {TARGET_P95_MS:.0f} ms",
            f"{fmt(result['p95'], 1)} ms", passed=result["p95"] <= TARGET_P95_MS),
        Row(f"chart search p50 ({name})", "info", f"{fmt(result['p50'], 1)} ms"),
        Row(f"slowest query ({name})", "info", f"{fmt(result['max'], 1)} ms"),
    ]  # fmt: skip


def run(
    quick: bool = False, database_url: str | None = None, patients: int | None = None
) -> Section:
    """Build or reuse the store, time the queries on SQLite (and PostgreSQL when given)."""
    size = patients or (PATIENTS // 4 if quick else PATIENTS)
    texts = queries(QUERIES)
    section = Section("chart-search", "Chart search (issue 6)")
    stores = [("SQLite", BENCH / "out" / f"chart-search-{size}", None)]
    if database_url:
        stores.append(("PostgreSQL", BENCH / "out" / f"chart-search-pg-{size}", database_url))
    for name, data_dir, url in stores:
        facts = load_store(data_dir, size, url)
        services = _services(data_dir, url)
        try:
            result = measure(services, facts["chart"], texts)
            plan = _plan(services, facts["chart"])
        finally:
            services.close()
        section.rows += _section_rows(name, result)
        section.notes.append(
            f"{name}: {facts['resources']:,} resources ({size:,} demo patients), the searched "
            f"chart {facts['chart_resources']:,}; {result['queries']} queries "
            f"({result['with_hits']} with hits, median {result['median_total']:.0f} matches), "
            "each timed once after a warm-up, in process through `services.for_actor` "
            "(HIM technician, audit on)."
        )
        if plan:
            section.notes.append(f"{name} plan: " + "; ".join(plan))
    return section


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--patients", type=int, default=PATIENTS)
    parser.add_argument(
        "--postgres", help="also measure on this PostgreSQL URL (an empty database; loaded once)"
    )
    args = parser.parse_args()
    section = run(database_url=args.postgres, patients=args.patients)
    for row in section.rows:
        print(f"{row.metric}: {row.measured} (target {row.target}) {row.verdict}")
    for note in section.notes:
        print(note)


if __name__ == "__main__":
    main()
