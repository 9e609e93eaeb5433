"""Run the foundation benchmarks and write bench/RESULTS.md: `python bench/run.py [--quick]`."""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

import access
import audit_overhead
import audit_verify
import ingest
import memory
import mpi_quality
import mpi_scale
import read_throughput
import report
import search_latency
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
)
#: Benchmarks that build their own small store and need no Synthea data.
SELF_CONTAINED = frozenset({"audit-overhead", "audit-verify", "mpi-quality", "mpi-scale"})


def _arguments(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument(
        "--quick",
        action="store_true",
        help="part 1 of the data only, fewer audit rounds and entries (~3 min)",
    )
    parser.add_argument(
        "--only",
        action="append",
        choices=NAMES,
        metavar="NAME",
        help=f"run only this benchmark (repeatable): {', '.join(NAMES)}",
    )
    parser.add_argument(
        "--strict", action="store_true", help="exit with status 1 when a target is missed"
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
    facts.append(("Load average at end (1/5/15 min)", load_average()))
    order = {name: n for n, name in enumerate(NAMES)}
    sections.sort(key=lambda s: order[s.name])
    command = "python bench/run.py" + (" --quick" if args.quick else "")
    command += "".join(f" --only {name}" for name in args.only or [])
    text = report.render(sections, facts, command, commit, time.perf_counter() - started)
    path = report.write(text)
    failed = [f"{s.name}: {r.metric}" for s in sections for r in s.rows if r.passed is False]
    for section in sections:
        for row in section.rows:
            print(f"{row.verdict:4}  {section.name:14} {row.metric}: {row.measured} ({row.target})")
    print(f"wrote {path}")
    return 1 if failed and args.strict else 0


if __name__ == "__main__":
    sys.exit(main())
