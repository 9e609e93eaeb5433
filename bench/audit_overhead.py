"""What auditing and the access decision cost: in process, on a small SQLite store.

Standalone: `.venv/bin/python bench/audit_overhead.py [--patients N] [--pairs N]`; `run()`
returns a Section for bench/run.py. Targets (issue 3): audited reads >= 0.9x the throughput of
the same reads with auditing off, audited creates >= 0.9x likewise, and the access decision adds
< 0.2 ms per request.

The store holds the demo hospital (`chartkeeper.demo.generate_hospital`, loaded as the system
actor). The reader is an HIM technician (a role that reaches every chart, so every request runs
the whole decision: role table, reach, labels, Consents), with `user/*.cruds` scopes:

a. audited: `services.for_actor(READER)` as in production (reads buffered, each create's entry
   appended in its transaction);
b. auditing off: the same guarded context over a `NullLedger`, which records nothing (and the
   guard then builds no events);
c. (reads only) no guard at all: the same interaction on the bare repository, to show what the
   whole access-control step (fact look-ups + decision) costs per read.

Runs alternate (a, b, c, then c, b, a, ...) and the ratio is the median over rounds; the
machine is small and shared. The decision alone is timed with `decide(...)` on the same
records with the facts the guard would pass.
"""

from __future__ import annotations

import argparse
import gc
import os
import random
import resource
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

import orjson
from common import Row, Section, fmt, median, percentile
from sqlalchemy import text

from chartkeeper.app import Services, build_services
from chartkeeper.core.settings import load_settings
from chartkeeper.demo import generate_hospital
from chartkeeper.fhir.interactions import create, read, transaction
from chartkeeper.fhir.interactions.context import FhirContext
from chartkeeper.privacy.actor import Actor
from chartkeeper.privacy.audit import AuditBuffer, AuditLedger, NullLedger, audit_event
from chartkeeper.privacy.audit.buffer import FLUSH_SIZE
from chartkeeper.privacy.audit.pending import pending_entry
from chartkeeper.privacy.decision import AccessContext, decide
from chartkeeper.privacy.facts import active_consents
from chartkeeper.privacy.rules import allowed_interactions
from chartkeeper.store.engine import WRITE_OPTION

TARGET_READ_RATIO = 0.9
TARGET_CREATE_RATIO = 0.9
TARGET_DECIDE_US = 200.0
PATIENTS = 30
SEED = 7
READS = 2000  # per run
CREATES = 200  # per run
ROUNDS = 7
DECISIONS = 20_000

#: The benchmark user: reaches every chart, may create DocumentReferences (record management).
READER = Actor(
    kind="user",
    name="bench.him",
    role="him_technician",
    scopes=frozenset({"user/*.cruds"}),
    source_address="127.0.0.1",
)


@dataclass
class Store:
    """The loaded store, the records to read and the patients to write for."""

    services: Services
    keys: list[tuple[str, str]]
    patients: list[str]
    resources: int


def load(data_dir: Path, patients: int) -> Store:
    """The demo hospital in a fresh SQLite store, and a sample of what the reader may read."""
    services = build_services(load_settings({"data_dir": str(data_dir)}, environ={}))
    for bundle in generate_hospital(patients=patients, seed=SEED):
        transaction.process(services.fhir, bundle)
    services.ledger.buffered().flush()
    with services.engine.connect() as conn:
        rows = conn.execute(
            text(
                "SELECT res_type, res_id FROM resources WHERE deleted = 0 "
                "AND patient_id IS NOT NULL ORDER BY res_type, res_id"
            )
        ).all()
        total = int(conn.execute(text("SELECT count(*) FROM resources")).scalar_one())
        patient_ids = [
            str(r[0])
            for r in conn.execute(text("SELECT res_id FROM resources WHERE res_type = 'Patient'"))
        ]
    readable = [
        (str(kind), str(ident))
        for kind, ident in rows
        if "read" in allowed_interactions(str(READER.role), str(kind))
    ]
    sample = random.Random(SEED).sample(readable, min(READS, len(readable)))
    audited = services.for_actor(READER)
    keys = [key for key in sample if _readable(audited, key)]  # drop labelled records it may not
    services.ledger.buffered().flush()
    return Store(services, keys, sorted(patient_ids), total)


def _readable(ctx: FhirContext, key: tuple[str, str]) -> bool:
    try:
        return read.read(ctx, *key).status == 200
    except Exception:  # a record the reader may not see answers 404
        return False


def contexts(store: Store) -> dict[str, FhirContext]:
    """a: audited, b: auditing off, c: no guard (the bare repository)."""
    services = store.services
    silent = replace(services, ledger=NullLedger(services.clock))
    bare = FhirContext(
        repository=services.repository,
        clock=services.clock,
        options=services.options,
        registry=services.fhir.registry,
        prepare=services.fhir.prepare,
    )
    return {"a": services.for_actor(READER), "b": silent.for_actor(READER), "c": bare}


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def _timed(work: Callable[[], None], flush: Callable[[], None] | None) -> tuple[float, float]:
    """Wall and CPU seconds of ``work`` (and of writing what it left in the read buffer)."""
    started, cpu = time.perf_counter(), _cpu()
    work()
    if flush is not None:
        flush()
    return time.perf_counter() - started, _cpu() - cpu


def _reads(ctx: FhirContext, keys: list[tuple[str, str]]) -> Callable[[], None]:
    def work() -> None:
        for kind, ident in keys:
            read.read(ctx, kind, ident)

    return work


def _note(patient_id: str, number: int) -> dict[str, Any]:
    return {
        "resourceType": "DocumentReference",
        "status": "current",
        "type": {"coding": [{"system": "http://loinc.org", "code": "11488-4"}]},
        "subject": {"reference": f"Patient/{patient_id}"},
        "date": "2026-01-15T09:30:00Z",
        "description": f"Scanned consultation letter {number}",
        "content": [{"attachment": {"contentType": "text/plain", "data": "bGV0dGVy"}}],
    }


def _creates(ctx: FhirContext, patients: list[str], start: int) -> Callable[[], None]:
    bodies = [_note(patients[(start + n) % len(patients)], start + n) for n in range(CREATES)]

    def work() -> None:
        for body in bodies:
            create.create(ctx, "DocumentReference", orjson.loads(orjson.dumps(body)))

    return work


def alternate(
    variants: dict[str, Callable[[int], Callable[[], None]]],
    flushes: dict[str, Callable[[], None] | None],
    rounds: int,
) -> dict[str, list[tuple[float, float]]]:
    """(wall, cpu) per run of each variant; the order flips every round (a, b, c / c, b, a)."""
    names = list(variants)
    for name in names:  # warm-up, not counted
        _timed(variants[name](-1), flushes[name])
    runs: dict[str, list[tuple[float, float]]] = {name: [] for name in names}
    for number in range(rounds):
        for name in names if number % 2 == 0 else reversed(names):
            gc.collect()
            runs[name].append(_timed(variants[name](number), flushes[name]))
    return runs


def _ratios(runs: dict[str, list[tuple[float, float]]], a: str, b: str, cpu: bool) -> list[float]:
    index = 1 if cpu else 0
    return [rb[index] / ra[index] for ra, rb in zip(runs[a], runs[b], strict=True)]


def time_decisions(store: Store, count: int = DECISIONS) -> dict[str, float]:
    """``decide(...)`` alone on the sampled records, with the facts the guard would pass."""
    with store.services.engine.connect() as conn:
        rows = []
        for kind, ident in store.keys:
            row = conn.execute(
                text("SELECT body, patient_id FROM resources WHERE res_type = :t AND res_id = :i"),
                {"t": kind, "i": ident},
            ).one()
            rows.append((kind, orjson.loads(row.body), row.patient_id))
        consents = {pid: active_consents(conn, [pid]) for _, _, pid in rows if pid}
    now = store.services.clock.now()
    cases = [
        (kind, body, pid, AccessContext(now=now, consents=consents.get(pid, ())))
        for kind, body, pid in rows
    ]
    for kind, body, pid, context in cases[:500]:  # warm-up
        decide(READER, "read", kind, body, pid, context)
    timings: list[float] = []
    allowed = 0
    clock = time.perf_counter_ns
    for number in range(count):
        kind, body, pid, context = cases[number % len(cases)]
        started = clock()
        decision = decide(READER, "read", kind, body, pid, context)
        timings.append((clock() - started) / 1000)
        allowed += decision.allowed
    with_consents = sum(1 for _, _, _, context in cases if context.consents)
    return {
        "mean": sum(timings) / len(timings),
        "p50": percentile(timings, 50),
        "p95": percentile(timings, 95),
        "p99": percentile(timings, 99),
        "allowed": allowed / count,
        "with_consents": with_consents / len(cases),
    }


class _CallOnly(NullLedger):
    """The guard records its reads (``records``) into a ledger that keeps nothing: the cost of
    the guard's call alone."""

    records = True


class _Held(AuditBuffer):
    """A read buffer that never writes by itself (no thread, no full batches): adds only,
    written when asked."""

    def _start(self) -> None:
        return None

    def _write_full_batch(self) -> None:
        return None


class _HeldLedger(AuditLedger):
    """The store's ledger, with a ``_Held`` buffer: what queueing costs, then what writing does."""

    def __init__(self, ledger: AuditLedger) -> None:
        self.__dict__.update(ledger.__dict__)
        self.held = _Held(ledger._write_batch, ledger.clock, size=10**9)
        self._buffer = self.held

    def buffered(self) -> AuditBuffer:
        return self.held


def read_breakdown(store: Store, rounds: int) -> dict[str, float]:
    """CPU µs per read of each part of auditing a read (medians of ``rounds`` runs each)."""
    services = store.services
    held = _HeldLedger(services.ledger)
    variants = {
        "off": replace(services, ledger=NullLedger(services.clock)).for_actor(READER),
        "call": replace(services, ledger=_CallOnly(services.clock)).for_actor(READER),
        "held": replace(services, ledger=held).for_actor(READER),
    }
    cpu: dict[str, list[float]] = {name: [] for name in (*variants, "write")}
    count = len(store.keys)
    for _ in range(rounds):
        for name, ctx in variants.items():
            started = _cpu()
            _reads(ctx, store.keys)()
            cpu[name].append((_cpu() - started) / count * 1e6)
        started = _cpu()
        held.held.flush()
        cpu["write"].append((_cpu() - started) / count * 1e6)
    off, call, held_cpu = (median(cpu[name]) for name in ("off", "call", "held"))
    return {
        "read, auditing off": off,
        "the guard's call (`ledger.record_read`, into a ledger that keeps nothing)": call - off,
        "queue the compact entry (`AuditBuffer.add_read`: checks, timestamp, tuple), and keep "
        "it until written": held_cpu - call,
        f"write it (`append_many` in batches of {FLUSH_SIZE}: compact text, HMAC, multi-row "
        "INSERTs, commit)": median(cpu["write"]),
    }


def append_one(store: Store, count: int = 300) -> float:
    """CPU µs of one create's ledger append inside an open transaction (head, 2 INSERTs, head)."""
    services = store.services
    entry = pending_entry(
        audit_event(
            action="C",
            subtype="create",
            outcome="0",
            actor=READER,
            patient_ids=[store.patients[0]],
            resource="DocumentReference/x/_history/1",
            recorded=services.clock.now(),
        ),
        patient_ids=[store.patients[0]],
        agent=READER.name,
        action="C",
        outcome="0",
    )
    connection = services.engine.connect().execution_options(**{WRITE_OPTION: True})
    with services.ledger.writer, connection:
        transaction = connection.begin()
        started = _cpu()
        for _ in range(count):
            services.ledger.append_many(connection, [entry])
        spent = (_cpu() - started) / count * 1e6
        transaction.rollback()  # leave the ledger as the runs left it
    return spent


def measure(directory: Path, patients: int = PATIENTS, rounds: int = ROUNDS) -> dict[str, Any]:
    started = time.perf_counter()
    store = load(directory, patients)
    loaded = time.perf_counter() - started
    gc.collect()
    gc.freeze()  # as the server does at start-up (web.app lifespan)
    try:
        ctx = contexts(store)
        flush = store.services.ledger.buffered().flush
        reads = alternate(
            {name: (lambda _n, c=c: _reads(c, store.keys)) for name, c in ctx.items()},
            {"a": flush, "b": None, "c": None},
            rounds,
        )
        writes = alternate(
            {
                name: (
                    lambda n, c=ctx[name], name=name: _creates(c, store.patients, _start(n, name))
                )
                for name in ("a", "b")
            },
            {"a": None, "b": None},
            rounds,
        )
        decisions = time_decisions(store)
        breakdown = read_breakdown(store, rounds)
        breakdown["append one entry (create)"] = append_one(store)
    finally:
        gc.unfreeze()
        store.services.close()
    return {
        "patients": patients,
        "resources": store.resources,
        "keys": len(store.keys),
        "loaded": loaded,
        "rounds": rounds,
        "reads": reads,
        "writes": writes,
        "decisions": decisions,
        "breakdown": breakdown,
        "load": ", ".join(f"{value:.1f}" for value in os.getloadavg()),
    }


def _start(number: int, name: str) -> int:
    return (number + 1) * 10 * CREATES + (0 if name == "a" else CREATES)


def _rate_cpu(runs: list[tuple[float, float]], per_run: int) -> float:
    return per_run / median([cpu for _, cpu in runs])


def _ratio_row(
    what: str, runs: dict[str, list[tuple[float, float]]], per_run: int, target: float, rounds: int
) -> Row:
    cpu = median(_ratios(runs, "a", "b", cpu=True))
    wall = median(_ratios(runs, "a", "b", cpu=False))
    return Row(
        metric=f"{what}, audited vs auditing off (per CPU second, median of {rounds} rounds)",
        target=f"ratio >= {target}",
        measured=f"{fmt(_rate_cpu(runs['a'], per_run))}/s",
        baseline=f"{fmt(_rate_cpu(runs['b'], per_run))}/s",
        ratio=f"{cpu:.3f} (wall {wall:.3f})",
        passed=cpu >= target,
    )


def section(result: dict[str, Any]) -> Section:
    """The measurements as a section of bench/RESULTS.md."""
    reads, writes, decisions = result["reads"], result["writes"], result["decisions"]
    keys, rounds = result["keys"], result["rounds"]
    out = Section("audit-overhead", "Audit and access-decision overhead (in process)")
    guard_us = _per_item_us(reads["b"], reads["c"], keys, cpu=True)
    out.rows += [
        _ratio_row("read by id", reads, keys, TARGET_READ_RATIO, rounds),
        _ratio_row("create", writes, CREATES, TARGET_CREATE_RATIO, rounds),
        Row(
            metric="access decision alone, `decide(...)` per request (mean)",
            target=f"< {TARGET_DECIDE_US:.0f} µs",
            measured=f"{decisions['mean']:.1f} µs",
            passed=decisions["mean"] < TARGET_DECIDE_US,
        ),
        Row(
            metric="the whole access-control step per read (fact look-ups, scopes, decision): "
            "guard without audit vs no guard, CPU",
            target="info",
            measured=f"+{guard_us:.0f} µs",
            baseline=f"{1e6 / _rate_cpu(reads['c'], keys):.0f} µs/read",
            ratio=f"{median(_ratios(reads, 'b', 'c', cpu=True)):.3f}",
        ),
    ]
    audit_read_us = _per_item_us(reads["a"], reads["b"], keys, cpu=True)
    audit_create_us = _per_item_us(writes["a"], writes["b"], CREATES, cpu=True)
    create_us = 1e6 / _rate_cpu(writes["b"], CREATES)
    out.notes += [
        f"Store: the demo hospital, {result['patients']} patients ({fmt(result['resources'])} "
        f"resources, loaded in {result['loaded']:.0f} s), SQLite. Reader: an HIM technician "
        "(every chart, the whole decision) with `user/*.cruds`. Auditing off: the same "
        "`services.for_actor(...)` context over `privacy.audit.NullLedger` (no entries, and the "
        "guard builds no events). Each round runs every variant once, the order flipping "
        "(a, b, c / c, b, a), after one warm-up run each; ratio = median over rounds of (cost "
        "off / cost audited).",
        "Verdict on CPU time (user + system of the process, all threads: the ledger's writing "
        "thread included), because on this shared machine wall time mostly measures waiting for "
        "the CPU and the disk; CPU time is the throughput of a busy server. Wall-clock ratios "
        f"are given beside it (load average {result['load']} at the end).",
        f"Reads: {keys:,} ids per run (a seeded sample of the records the reader may read; "
        "labelled records it may not are left out), through `read.read(ctx, type, id)`; the "
        f"audited runs include writing the read buffer at the end (`flush()`). Auditing costs "
        f"{audit_read_us:.0f} µs CPU per read; the guard without audit "
        f"{guard_us:.0f} µs over the unguarded repository "
        f"({1e6 / _rate_cpu(reads['c'], keys):.0f} µs per read: its point-read cache).",
        f"Creates: {CREATES} DocumentReferences per run through `create.create(ctx, ...)` (one "
        "transaction each, full validation and indexing; the audit entry is appended in the "
        f"same transaction). A create costs {create_us:.0f} µs CPU without audit; auditing adds "
        f"{audit_create_us:.0f} µs.",
        f"Decision: {DECISIONS:,} calls of `decide(actor, 'read', type, resource, patient_id, "
        "context)` on the same records with the Consents the guard would look up "
        f"({decisions['with_consents']:.0%} of the records' patients have one); p50 "
        f"{decisions['p50']:.1f} µs, p95 {decisions['p95']:.1f} µs, p99 {decisions['p99']:.1f} "
        f"µs; {decisions['allowed']:.0%} allowed. `tests/privacy/test_decision.py::"
        "test_decide_speed` times labelled records with grants and Consents.",
    ]
    parts = result["breakdown"]
    read_parts = sum(list(parts.values())[1:4])
    out.extra += [
        "**Where the audit time goes** (CPU µs per request, medians; reads measured with each "
        "part switched on in turn, the create's append timed alone in an open transaction):",
        "",
        "| Part | µs |",
        "|---|---|",
        *(f"| {part} | {value:.1f} |" for part, value in parts.items()),
        f"| read: the rest of the audited read's cost (batches written between reads rather than "
        f"all at once: {audit_read_us:.0f} µs measured - {read_parts:.0f} µs of parts) | "
        f"{audit_read_us - read_parts:.1f} |",
        f"| create: the rest of the audited create's cost (its event, the extra pages at commit: "
        f"{audit_create_us:.0f} µs measured - the append) | "
        f"{audit_create_us - parts['append one entry (create)']:.1f} |",
    ]
    return out


def _per_item_us(
    slower: list[tuple[float, float]],
    faster: list[tuple[float, float]],
    items: int,
    cpu: bool = False,
) -> float:
    index = 1 if cpu else 0
    pairs = zip(slower, faster, strict=True)
    return median([(s[index] - f[index]) / items * 1e6 for s, f in pairs])


def run(patients: int = PATIENTS, rounds: int = ROUNDS) -> Section:
    """The benchmark as a section of bench/RESULTS.md (its own temporary store)."""
    with tempfile.TemporaryDirectory(prefix="ck-audit-overhead-") as directory:
        return section(measure(Path(directory), patients, rounds))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--patients", type=int, default=PATIENTS, help="demo patients to load")
    parser.add_argument("--rounds", type=int, default=ROUNDS, help="alternating rounds")
    args = parser.parse_args()
    print(f"audit-overhead: loading {args.patients} demo patients ...", flush=True)
    result = run(args.patients, args.rounds)
    for row in result.rows:
        print(
            f"{row.verdict:4}  {row.metric}: {row.measured} vs {row.baseline} "
            f"(ratio {row.ratio}; target {row.target})"
        )
    for note in result.notes:
        print(f"  - {note}")
    print("\n".join(result.extra))


if __name__ == "__main__":
    main()
