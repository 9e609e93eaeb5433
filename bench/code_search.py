"""ICD-10-CM search/autocomplete latency: p50/p95/p99 per query through the registry.

Usage: ``python bench/code_search.py [--database-url URL]`` (default: a fresh SQLite file in a
temporary directory). Loads the ICD-10-CM shipped with chartkeeper, builds the search index
once (timed separately), then replays autocomplete as a coder types: every prefix of a set of
diagnosis phrases and of some codes, several rounds. Each query is timed through
``CodeRegistry.version_on`` + ``SearchIndex.search`` (20 results), as the API runs it.
Target from issue 5: p99 <= 5 ms.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

from chartkeeper.billing.codes.loaders import open_code_file
from chartkeeper.billing.codes.registry import CodeRegistry
from chartkeeper.store.engine import make_engine
from chartkeeper.store.migrate import upgrade

PHRASES = [
    "type 2 diabetes mellitus without complications",
    "essential hypertension",
    "fracture of neck of right femur",
    "acute myocardial infarction",
    "chronic obstructive pulmonary disease with exacerbation",
    "urinary tract infection",
    "pneumonia unspecified organism",
    "major depressive disorder single episode",
    "classical cholera",
    "hip fracture",
    "low back pain",
    "atrial fibrillation",
    "chronic kidney disease stage 3",
    "sepsis due to escherichia coli",
    "abdominal pain right lower quadrant",
    "migraine without aura",
    "asthma mild intermittent",
    "pure hypercholesterolemia",
    "obesity due to excess calories",
    "encounter for immunization",
]
CODES = ["E11.9", "S72.001A", "I10", "J44.1", "N39.0", "Z23", "T40.1X1A", "O09.511"]
ROUNDS = 5
TARGET_MS = 5.0


def _queries() -> list[str]:
    typed = [p[:n] for p in PHRASES for n in range(1, len(p) + 1) if p[n - 1] != " "]
    typed += [c[:n] for c in CODES for n in range(1, len(c) + 1)]
    return typed


def _percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))]


def main() -> None:
    """Run the benchmark and print its figures."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database-url")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        url = args.database_url or f"sqlite:///{Path(scratch) / 'codes.db'}"
        engine = make_engine(url)
        upgrade(engine)
        registry = CodeRegistry(engine)
        shipped = open_code_file("icd10cm", None)
        started = time.perf_counter()
        registry.load("icd10cm", shipped.entries, "bench", (date(2026, 4, 1), None), "bench")
        load_s = time.perf_counter() - started
        day = date(2026, 6, 1)
        started = time.perf_counter()
        index = registry.index(registry.version_on("icd10cm", day))  # type: ignore[arg-type]
        build_s = time.perf_counter() - started
        queries = _queries()
        timings: list[float] = []
        for _ in range(ROUNDS):
            for query in queries:
                t0 = time.perf_counter_ns()
                found = registry.version_on("icd10cm", day)
                assert found is not None
                registry.index(found).search(query, 20)
                timings.append((time.perf_counter_ns() - t0) / 1e6)
        engine.dispose()
    p99 = _percentile(timings, 0.99)
    out = sys.stdout
    out.write(f"database: {url.split(':')[0]}; codes indexed: {len(index)}\n")
    out.write(f"load into the registry: {load_s:.1f} s; index build: {build_s:.2f} s\n")
    out.write(f"queries: {len(timings)} ({len(queries)} distinct x {ROUNDS} rounds)\n")
    out.write(
        f"latency ms: p50 {statistics.median(timings):.3f}  p95 {_percentile(timings, 0.95):.3f}"
        f"  p99 {p99:.3f}  max {max(timings):.3f}\n"
    )
    out.write(f"target p99 <= {TARGET_MS} ms: {'PASS' if p99 <= TARGET_MS else 'FAIL'}\n")


if __name__ == "__main__":
    main()
