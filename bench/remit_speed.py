"""835 posting speed: parse + line matching + database writes, claims per second.

Standalone: `.venv/bin/python bench/remit_speed.py [--claims N] [--rounds N] [--postgres URL]`.
Target (issue 5, part 6): post at least 2,000 claims/s end to end on SQLite and PostgreSQL.
Each round gets a fresh store holding N released claims (2-4 HCPCS lines each) on the claim
worklist, and one 835 file written with `write_835` by the simulated payer (70% paid, 20%
partial with a line denied, 10% denied; 1,000 claims per ST/SE transaction). The timed part is
`RemittancePoster.post` on that text with the billed lines supplied from memory (the app layer
reads them from FHIR Claims; that read is not part of this measure). The best round counts.
`measure()` is the entry point for bench/run.py.
"""

from __future__ import annotations

import argparse
import os
import secrets
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import psycopg
from common import Row, Section, fmt
from psycopg import sql
from sqlalchemy import Engine, insert
from sqlalchemy.engine import make_url

from chartkeeper.billing.remit.posting import RemittancePoster
from chartkeeper.billing.remit.simulate import adjudicate, remittance
from chartkeeper.billing.x12.claim_model import ServiceLine
from chartkeeper.billing.x12.envelope import Envelope, SequentialControlNumbers
from chartkeeper.billing.x12.write835 import write_835
from chartkeeper.core.clock import FixedClock
from chartkeeper.store.billing_schema import billing_claims
from chartkeeper.store.engine import make_engine
from chartkeeper.store.migrate import upgrade

TARGET = 2000.0
CODES = (("G0463", "150.00"), ("J1885", "42.50"), ("A0428", "310.00"), ("E0114", "88.00"))
DAY = date(2026, 11, 2)
PER_TRANSACTION = 1000
PG_URL_ENV = "CHARTKEEPER_TEST_POSTGRES_URL"


def make_claims(count: int) -> dict[str, tuple[ServiceLine, ...]]:
    """``count`` claims by control number, 2-4 lines each (HCPCS Level II codes only)."""
    claims = {}
    for n in range(count):
        lines = tuple(
            ServiceLine(code, Decimal(price) + n % 5, Decimal(1 + i % 2), DAY)
            for i, (code, price) in enumerate(CODES[: 2 + n % 3])
        )
        claims[f"C{n:09d}"] = lines
    return claims


def make_835(claims: Mapping[str, Sequence[ServiceLine]]) -> str:
    """One interchange paying ``claims``: 70% paid, 20% partial, 10% denied."""
    outcomes = ["paid"] * 7 + ["partial"] * 2 + ["denied"]
    payments = [
        adjudicate(control, lines, outcomes[n % 10], f"PAYER{n:09d}")
        for n, (control, lines) in enumerate(claims.items())
    ]
    remits = [
        remittance(payments[i : i + PER_TRANSACTION], f"TRACE{i:08d}", date(2026, 11, 20))
        for i in range(0, len(payments), PER_TRANSACTION)
    ]
    envelope = Envelope("SIMPAYER", "SIMCLINIC", datetime(2026, 11, 20, 8, 0))
    return write_835(remits, SequentialControlNumbers(), envelope)


def seed(engine: Engine, claims: Mapping[str, Sequence[ServiceLine]]) -> None:
    """The claims as released rows of the worklist."""
    rows = [
        {
            "claim_id": f"claim-{control}",
            "control_number": control,
            "patient_id": f"pat-{n % 2000}",
            "kind": "837P",
            "payer_id": "SIMPAYER01",
            "billing_npi": "1234567893",
            "service_from": DAY.isoformat(),
            "service_to": DAY.isoformat(),
            "total_cents": int(sum(line.charge for line in lines) * 100),
            "signature": f"sig-{control}",
            "status": "released",
            "findings": "[]",
            "updated": 0,
        }
        for n, (control, lines) in enumerate(claims.items())
    ]
    with engine.begin() as conn:
        conn.execute(insert(billing_claims), rows)


@contextmanager
def sqlite_store() -> Iterator[Engine]:
    with tempfile.TemporaryDirectory(prefix="remit-bench-") as folder:
        engine = make_engine(f"sqlite:///{folder}/bench.db")
        upgrade(engine)
        try:
            yield engine
        finally:
            engine.dispose()


@contextmanager
def postgres_store(url: str) -> Iterator[Engine]:
    """A brand-new database on the server of ``url``, dropped afterwards."""
    parsed = make_url(url)
    admin = parsed.set(drivername="postgresql").render_as_string(hide_password=False)
    name = f"ck_remit_bench_{secrets.token_hex(4)}"
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    engine = make_engine(parsed.set(database=name).render_as_string(hide_password=False))
    try:
        upgrade(engine)
        yield engine
    finally:
        engine.dispose()
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


def one_round(
    engine: Engine, claims: Mapping[str, Sequence[ServiceLine]], text: str
) -> tuple[float, float]:
    """Seconds (wall, and CPU of this process) to post ``text`` onto a store seeded with
    ``claims``."""
    seed(engine, claims)
    poster = RemittancePoster(engine, FixedClock(datetime(2026, 11, 20, 12, tzinfo=UTC)))

    def lines(controls: Sequence[str]) -> Mapping[str, Sequence[ServiceLine]]:
        return {c: claims[c] for c in controls if c in claims}

    start, start_cpu = time.perf_counter(), time.process_time()
    report = poster.post(text, "bench.835", claim_lines=lines)
    elapsed, cpu = time.perf_counter() - start, time.process_time() - start_cpu
    if report.claims_matched != len(claims):
        raise RuntimeError(f"matched {report.claims_matched} of {len(claims)} claims")
    return elapsed, cpu


def run_backend(backend: str, count: int, rounds: int, postgres_url: str | None) -> dict[str, Any]:
    claims = make_claims(count)
    text = make_835(claims)
    times, cpu = [], []
    for _ in range(rounds):
        store = sqlite_store() if backend == "sqlite" else postgres_store(postgres_url or "")
        with store as engine:
            wall, used = one_round(engine, claims, text)
        times.append(wall)
        cpu.append(used)
    best = min(times)
    return {
        "claims": count,
        "rounds": rounds,
        "bytes": len(text),
        "seconds": [round(t, 3) for t in times],
        "claims_per_s": round(count / best, 1),
        "claims_per_cpu_s": round(count / min(cpu), 1),
        "target": TARGET,
        "ok": count / best >= TARGET,
    }


def measure(quick: bool = False, postgres_url: str | None = None) -> dict[str, Any]:
    """claims/s per backend (best of 3; quick: 2,000 claims, best of 2)."""
    count, rounds = (2000, 2) if quick else (10_000, 3)
    results = {"sqlite": run_backend("sqlite", count, rounds, None)}
    if postgres_url:
        results["postgresql"] = run_backend("postgresql", count, rounds, postgres_url)
    return results


def run(quick: bool = False, postgres_url: str | None = None) -> Section:
    """The benchmark as the ``remit`` section of bench/RESULTS.md; PostgreSQL too when
    ``postgres_url`` (or else ``$CHARTKEEPER_TEST_POSTGRES_URL``) is set."""
    url = postgres_url or os.environ.get(PG_URL_ENV) or None
    results = measure(quick, url)
    section = Section("remit", "835 remittance posting (issue 5)")
    names = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}
    for backend, result in results.items():
        section.rows.append(
            Row(
                f"post an 835 of {result['claims']:,} claims, {names[backend]}, "
                f"best of {result['rounds']}",
                f">= {TARGET:,.0f} claims/s",
                f"{fmt(result['claims_per_s'])} claims/s "
                f"({fmt(result['claims_per_cpu_s'])} per CPU s)",
                passed=result["ok"],
            )
        )
    section.notes.append(
        "Measured: `RemittancePoster.post` end to end (parse, match claims by CLP01 and lines, "
        "write payments, adjustments and claim status in one transaction) on a fresh store "
        "per round holding the claims as released worklist rows; the 835 is written by the "
        "simulated payer (70% paid, 20% partial with a line denied, 10% denied; 1,000 claims "
        "per ST/SE). Billed lines come from memory (the FHIR Claim read is not timed). CPU is "
        "this process's only (on PostgreSQL the server's work is not in it)."
    )
    for backend, result in results.items():
        section.notes.append(
            f"{names[backend]}: {result['bytes'] / 1e6:.1f} MB of 835; rounds "
            f"{', '.join(f'{t:.2f} s' for t in result['seconds'])}."
        )
    if "postgresql" not in results:
        section.notes.append(f"PostgreSQL: not measured (${PG_URL_ENV} is not set).")
    else:
        section.notes.append(
            "PostgreSQL: each round in a brand-new database on the server of "
            f"${PG_URL_ENV}, dropped afterwards."
        )
    section.notes.append(
        f"Load average at the end: {', '.join(f'{x:.1f}' for x in os.getloadavg())} "
        "(shared 2-core machine)."
    )
    return section


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--claims", type=int, default=10_000)
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--postgres", metavar="URL", help="also measure on this PostgreSQL")
    args = parser.parse_args(argv)
    backends = ["sqlite"] + (["postgresql"] if args.postgres else [])
    failed = False
    for backend in backends:
        result = run_backend(backend, args.claims, args.rounds, args.postgres)
        failed |= not result["ok"]
        verdict = "PASS" if result["ok"] else "FAIL"
        sys.stdout.write(
            f"{verdict} {backend:10} {result['claims']} claims ({result['bytes'] / 1e6:.1f} MB): "
            f"{result['claims_per_s']:,.0f} claims/s (target {TARGET:,.0f}; rounds "
            f"{', '.join(f'{s:.2f}s' for s in result['seconds'])})\n"
        )
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
