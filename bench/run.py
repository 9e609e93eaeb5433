"""Run the benchmarks and write bench/RESULTS.md: `python bench/run.py [--quick] [--only A,B]`."""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

import access
import audit_overhead
import audit_verify
import chart_search_speed
import code_search
import coding_speed
import explain_speed
import ingest
import memory
import mpi_quality
import mpi_scale
import read_throughput
import remit_speed
import report
import scrub_speed
import search_latency
import summary_speed
import x12_speed
from common import Section, git_commit, load_average, machine_facts, synthea_dir
from servers import bare_server, chartkeeper_server, unaudited_server
from synthea import manifest, parts, read_bundles

NAMES = (
    "ingest",
    "read",
    "search",
    "memory",
    "audit-overhead",
    "audit-verify",
    "mpi-quality",
    "mpi-scale",
    "scrub",
    "remit",
    "x12",
    "code-search",
    "coding",
    "summary",
    "explain",
    "chart-search",
)
#: The billing and coding benchmarks (issue 5): each builds what it needs in process.
BILLING = ("scrub", "remit", "x12", "code-search", "coding")
#: Benchmarks that build their own small store and need no Synthea data.
SELF_CONTAINED = frozenset(
    {"audit-overhead", "audit-verify", "mpi-quality", "mpi-scale", "summary", "explain", *BILLING}
    | {"chart-search"}
)


def _names(value: str) -> list[str]:
    """``--only`` takes one name or several separated by commas."""
    names = [name.strip() for name in value.split(",") if name.strip()]
    unknown = [name for name in names if name not in NAMES]
    if unknown or not names:
        raise argparse.ArgumentTypeError(
            f"unknown benchmark {', '.join(unknown) or repr(value)} "
            f"(choose from {', '.join(NAMES)})"
        )
    return names


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--quick",
        action="store_true",
        help="part 1 of the data only, fewer audit rounds and entries, fewer claims (~3 min)",
    )
    parser.add_argument(
        "--only",
        action="extend",
        type=_names,
        metavar="NAME[,NAME]",
        help=f"run only these benchmarks (repeatable; the file keeps the others' last results): "
        f"{', '.join(NAMES)}",
    )
    parser.add_argument(
        "--strict", action="store_true", help="exit with status 1 when a target is missed"
    )
    parser.add_argument(
        "--note",
        action="append",
        default=[],
        metavar="TEXT",
        help="a note about this run (e.g. other load on the machine), added to every section "
        "it measures (repeatable)",
    )
    return parser.parse_args(argv)


def _http_benchmarks(
    selected: set[str], store: ingest.LoadedStore, root: Path, quick: bool
) -> list[Section]:
    """Read, search and memory share one chartkeeper server and one bare server."""
    sections: list[Section] = []
    loads: list[str] = []
    services = ingest.services_for(store.data_dir)
    try:
        headers = access.bearer_headers(services)  # signed with the data directory's key
    finally:
        services.close()
    with ExitStack() as stack:
        print("servers: starting chartkeeper and the bare baseline ...", flush=True)
        ck = stack.enter_context(chartkeeper_server(store.data_dir).start(root, "/fhir/metadata"))
        bare = stack.enter_context(bare_server(store.database).start(root))
        if selected & {"read", "memory"}:
            quiet = stack.enter_context(
                unaudited_server(store.data_dir).start(root, "/fhir/metadata")
            )
            section = read_throughput.run(ck, bare, store.database, root, quick, headers, quiet)
            loads.append("the read-throughput load")
            if "read" in selected:
                sections.append(section)
        if selected & {"search", "memory"}:
            section = search_latency.run(ck, bare, store.data_dir, store.patients, quick, headers)
            loads.append("the search-latency load")
            if "search" in selected:
                sections.append(section)
        if "memory" in selected:
            loaded = sum(1 for p in store.patients.values() if p.server_id)
            sections.append(memory.run(ck, bare, store.database, loads, loaded))
    return sections


def _synthea_benchmarks(selected: set[str], quick: bool) -> list[Section]:
    """Ingest, read, search and memory: the Synthea data loaded once into SQLite."""
    archives = parts(quick)
    print(f"data: reading {', '.join(p.name for p in archives)} ...", flush=True)
    bundles = read_bundles(archives)
    patients = manifest()
    sections: list[Section] = []
    with tempfile.TemporaryDirectory(prefix="ck-bench-") as tmp:
        root = Path(tmp)
        print(f"ingest: loading {len(bundles)} Bundles into SQLite ...", flush=True)
        store = ingest.load_store(bundles, patients, root)
        print(f"ingest: {store.stats.rate:,.0f} resources/s", flush=True)
        if "ingest" in selected:
            sections.append(ingest.run(store, bundles, root, quick))
        if selected - {"ingest"}:
            sections += _http_benchmarks(selected, store, root, quick)
    return sections


def _audit_benchmarks(selected: set[str], quick: bool) -> list[Section]:
    """The audit benchmarks: each builds its own small store (no Synthea data needed)."""
    sections: list[Section] = []
    if "audit-overhead" in selected:
        rounds = 3 if quick else audit_overhead.ROUNDS
        print(f"audit-overhead: demo hospital, {rounds} alternating rounds ...", flush=True)
        sections.append(audit_overhead.run(rounds=rounds))
    if "audit-verify" in selected:
        entries = 100_000 if quick else audit_verify.ENTRIES
        print(f"audit-verify: appending and verifying {entries:,} entries ...", flush=True)
        sections.append(audit_verify.run(entries))
    if "mpi-quality" in selected:
        print("mpi-quality: FEBRL linkage and de-duplication, ours and baseline ...", flush=True)
        sections.append(mpi_quality.run())
    if "mpi-scale" in selected:
        size = mpi_scale.QUICK_PATIENTS if quick else mpi_scale.PATIENTS
        print(f"mpi-scale: {size:,} generated patients, $match and dedupe ...", flush=True)
        sections.append(mpi_scale.run(patients=size))
    return sections


def _billing_benchmarks(selected: set[str], quick: bool) -> list[Section]:
    """Scrubbing, 835 posting, 837 generation, code search and coding aids (issue 5)."""
    sections: list[Section] = []
    size = "quick" if quick else "full"
    if "scrub" in selected:
        print(f"scrub: code registry and synthetic claims ({size}) ...", flush=True)
        sections.append(scrub_speed.run(quick))
    if "remit" in selected:
        url = os.environ.get(remit_speed.PG_URL_ENV)
        where = "SQLite and PostgreSQL" if url else "SQLite"
        print(f"remit: posting a simulated payer's 835 on {where} ({size}) ...", flush=True)
        sections.append(remit_speed.run(quick, url))
    if "x12" in selected:
        print(f"x12: 837P generation against pyx12 validation ({size}) ...", flush=True)
        sections.append(x12_speed.run(quick))
    if "code-search" in selected:
        print(f"code-search: ICD-10-CM autocomplete latency ({size}) ...", flush=True)
        sections.append(code_search.run(quick))
    if "coding" in selected:
        print(f"coding: code suggestions and MS-DRG grouping ({size}) ...", flush=True)
        sections.append(coding_speed.run(quick))
    return sections


def main(argv: list[str] | None = None) -> int:
    """Load the store once, run the selected benchmarks on it, write the report."""
    args = _arguments(argv)
    selected = set(args.only or NAMES)
    if selected - SELF_CONTAINED:
        synthea_dir()
    started = time.perf_counter()
    facts = machine_facts()
    commit = git_commit()
    sections: list[Section] = []
    if selected - SELF_CONTAINED:
        sections += _synthea_benchmarks(selected - SELF_CONTAINED, args.quick)
    sections += _audit_benchmarks(selected & SELF_CONTAINED, args.quick)
    sections += _billing_benchmarks(selected & set(BILLING), args.quick)
    if "summary" in selected:  # issue 6: builds (once, cached) its own 500,000-resource store
        print("summary: $summary on a 500,000-resource store ...", flush=True)
        sections.append(summary_speed.run(args.quick))
    if "explain" in selected:  # issue 6: plain-language explanations of notes, in process
        print("explain: demo and nursing notes explained, time and grades ...", flush=True)
        sections.append(explain_speed.run(args.quick))
    if "chart-search" in selected:  # issue 6: builds (once, cached) its own 100,000-resource store
        print("chart-search: ranked search of one chart, p50/p95 in process ...", flush=True)
        sections.append(chart_search_speed.run(args.quick))
    facts.append(("Load average at end (1/5/15 min)", load_average()))
    order = {name: n for n, name in enumerate(NAMES)}
    sections.sort(key=lambda s: order[s.name])
    for section in sections:
        section.notes += [
            f"Run note: {note.strip()}" + ("" if note.strip().endswith((".", "!", "?")) else ".")
            for note in args.note
        ]
    command = "python bench/run.py" + (" --quick" if args.quick else "")
    if args.only:
        command += f" --only {','.join(dict.fromkeys(args.only))}"
    measured = {section.name for section in sections}
    kept = [k for k in report.previous() if k.name in order and k.name not in measured]
    text = report.render(
        sections, facts, command, commit, time.perf_counter() - started, kept, NAMES
    )
    path = report.write(text)
    if kept:
        print(f"kept the last results of: {', '.join(k.name for k in kept)}")
    failed = [f"{s.name}: {r.metric}" for s in sections for r in s.rows if r.passed is False]
    for section in sections:
        for row in section.rows:
            print(f"{row.verdict:4}  {section.name:14} {row.metric}: {row.measured} ({row.target})")
    print(f"wrote {path}")
    return 1 if failed and args.strict else 0


if __name__ == "__main__":
    sys.exit(main())
