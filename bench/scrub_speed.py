"""Claim scrubber throughput: claims/s through every rule with real code sets loaded.

Standalone: `.venv/bin/python bench/scrub_speed.py [--claims N] [--quick]`; `measure()` for
bench/run.py. Builds a SQLite registry in a temp dir, loads the shipped ICD-10-CM, HCPCS and
MCE from ../shared/data/billing when present (skipped and said so when not), and generated PTP,
MUE and coverage policy tables in CMS's layouts (HCPCS Level II codes only: CPT is AMA-licensed).
Then N varied synthetic claims (1-12 diagnoses, 1-6 lines, some with errors) are scrubbed once
to warm the tables, and three more times; the best round counts. Target (issue 5, part 5):
at least 5,000 claims/s on the 2-core development machine.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import tempfile
import time
from collections import Counter
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from common import Row, Section, fmt

from chartkeeper.billing.codes.loaders import open_code_file
from chartkeeper.billing.codes.model import HCPCS, ICD10CM
from chartkeeper.billing.codes.registry import CodeRegistry
from chartkeeper.billing.scrub.context import ScrubContext
from chartkeeper.billing.scrub.engine import Scrubber, is_clean
from chartkeeper.billing.scrub.model import ScrubClaim
from chartkeeper.billing.x12.claim_model import (
    Address,
    Claim,
    Payer,
    Person,
    Provider,
    ServiceLine,
    Subscriber,
)
from chartkeeper.store.engine import make_engine
from chartkeeper.store.migrate import upgrade

SHARED = Path(__file__).resolve().parents[2] / "shared" / "data" / "billing"
SHARED_FILES = {
    "hcpcs": SHARED / "hcpcs" / "HCPC2025_JAN_ANWEB_12172024.txt.xz",
    "mce": SHARED / "mce" / "mce_v43_1_icd10cm_dx_master.tsv.xz",
}
FALLBACK_HCPCS = [f"{letter}{n:04d}" for letter in "AEGJKL" for n in range(100, 140)]
TARGET = 5_000
CLAIMS = 20_000
QUICK_CLAIMS = 2_000
START = date(2026, 7, 1)  # PTP 2026Q3 (v322) and MUE effective 07-01-2026
CREATED = date(2026, 11, 27)
ADDRESS = Address("12 ELM STREET", "SPRINGFIELD", "IL", "627011234")
BILLING = Provider(
    "RIVERSIDE CLINIC", "1234567893", is_organization=True, tin="123456789", address=ADDRESS
)
RENDERING = Provider("QUINN", "1245319599", first_name="HARPER")
MODIFIERS = [*[""] * 12, "59", "LT", "RT", "XS", "GA", "ZZ"]  # ZZ: not a modifier


def _load(registry: CodeRegistry, kind: str, path: Path | None) -> float:
    started = time.perf_counter()
    found = open_code_file(kind, path)
    assert found.version and found.effective_from
    effective = (date.fromisoformat(found.effective_from), None)
    registry.load(kind, found.entries, found.version, effective, found.source)
    return time.perf_counter() - started


def _write_tables(folder: Path, codes: list[str], rng: random.Random) -> dict[str, Path]:
    """PTP, MUE and policy files in the official layouts, from ``codes`` (HCPCS only)."""
    ptp = folder / "ccipra-v322r0-f1.TXT"
    header = ["Column 1", "Column 2", "*=in existence", "Effective", "Deletion", "Modifier", ""]
    rows = [
        "Synthetic notice\t\t\t\t\t\t",
        "Column1/Column2 Edits\t\t\t\t\t\t",
        "\t".join(header),
        *(["\t\t\t\t\t\t"] * 3),
    ]
    pairs = sorted({(rng.choice(codes), rng.choice(codes)) for _ in range(len(codes) * 8)})
    for first, second in pairs:
        if first != second:
            end = rng.choice(["*", "*", "*", "20260930", "20251231"])
            rows.append(f"{first}\t{second}\t\t20250101\t{end}\t{rng.choice('0119')}\tSynthetic")
    ptp.write_text("\n".join(rows) + "\n", encoding="latin-1")
    mue = folder / "MCR_MUE_PractitionerServices_Eff_07-01-2026.csv"
    lines = [
        '"Synthetic notice\nsecond line",,,',
        '"HCPCS/\nCPT Code",Practitioner Services '
        "MUE Values,MUE Adjudication Indicator,MUE Rationale",
    ]
    mais = ["1 Line Edit", "2 Date of Service Edit: Policy", "3 Date of Service Edit: Clinical"]
    for code in sorted(rng.sample(codes, len(codes) // 2)):
        lines.append(f"{code},{rng.randint(3, 12)},{rng.choice(mais)},Nature of Service")
    mue.write_text("\r\n".join(lines) + "\r\n", encoding="latin-1")
    policy = folder / "policy_bench_2026-07-01.csv"
    rows = ["policy_id,title,procedure_code,icd10_from,icd10_to"]
    for n, code in enumerate(rng.sample(codes, min(20, len(codes)))):
        rows += [
            f"L9{n:04d},Bench policy {n},{code},E08,E13",
            f"L9{n:04d},Bench policy {n},{code},I10,I16",
        ]
    policy.write_text("\n".join(rows) + "\n")
    return {"ptp-prac": ptp, "mue-prac": mue, "policy": policy}


def _lines(
    rng: random.Random, procedures: list[str], count: int, diagnoses: int
) -> tuple[ServiceLine, ...]:
    lines = []
    day = START + timedelta(days=rng.randint(0, 100))
    for _ in range(count):
        pointers = tuple(
            sorted(rng.sample(range(1, diagnoses + 1), min(diagnoses, rng.randint(1, 4))))
        )
        modifier = rng.choice(MODIFIERS)
        lines.append(
            ServiceLine(
                rng.choice(procedures),
                Decimal(rng.randint(-2, 4000)) + Decimal("0.50"),
                Decimal(rng.choice([1, 1, 1, 2, 3, 5])),
                day if rng.random() < 0.8 else day + timedelta(days=1),
                (modifier,) if modifier else (),
                pointers,
            )
        )
    return tuple(lines)


def make_claims(
    count: int, diagnoses: list[str], procedures: list[str], seed: int = 7
) -> list[ScrubClaim]:
    """``count`` varied claims; about six in ten get an issue (random diagnosis lists meet
    Excludes1 pairs and MCE age and sex edits far more often than coded claims do)."""
    rng = random.Random(seed)
    claims = []
    for n in range(count):
        dx = tuple(rng.sample(diagnoses, rng.randint(1, 12)))
        lines = _lines(rng, procedures, rng.randint(1, 6), len(dx))
        gender = rng.choice("MFFMU")
        person = Person(
            "DOE",
            f"PAT{n}",
            date(1940 + n % 80, 1 + n % 12, 1 + n % 28),
            gender,
            ADDRESS,
            f"M{n:08d}",
        )
        subscriber = Subscriber(person, Payer("ACME HEALTH PLAN", rng.choice(["ACME1", "MCR01"])))
        claim = Claim(f"C{n:09d}", subscriber, dx, lines, rendering=RENDERING)
        claims.append(ScrubClaim(claim, "837P", BILLING, f"patient-{n}", CREATED))
    return claims


def _pools(
    context: ScrubContext, have_hcpcs: bool, rng: random.Random
) -> tuple[list[str], list[str]]:
    icd = context.table(ICD10CM, START).rows
    billable = sorted(c for c, s in icd.items() if s.billable)
    headers = sorted(c for c, s in icd.items() if not s.billable and len(c) == 4)
    diagnoses = rng.sample(billable, 3000) + rng.sample(headers, 30) + ["E1199", "Z9999"]
    if have_hcpcs:
        rows = context.table(HCPCS, START).rows
        live = sorted(
            c
            for c, s in rows.items()
            if s.extra.get("record") == "code"
            and not s.extra.get("terminated")
            and c[0] in "AEGJKLQ"
        )
        procedures = rng.sample(live, 300)
    else:
        procedures = FALLBACK_HCPCS
    return diagnoses, procedures


def measure(quick: bool = False, claims: int = CLAIMS) -> dict[str, Any]:
    """Build the registry and claims, then scrub them; the best of three rounds counts."""
    count = QUICK_CLAIMS if quick else claims
    rng = random.Random(11)
    result: dict[str, Any] = {"claims": count, "skipped": []}
    with tempfile.TemporaryDirectory() as folder:
        engine = make_engine(f"sqlite:///{folder}/scrub.db")
        upgrade(engine)
        registry = CodeRegistry(engine)
        loads = {"icd10cm": _load(registry, "icd10cm", None)}
        for kind, path in SHARED_FILES.items():
            if path.is_file():
                loads[kind] = _load(registry, kind, path)
            else:
                result["skipped"].append(f"{kind}: {path} not present")
        context = ScrubContext(registry, timely_filing={"ACME1": 180})
        started = time.perf_counter()
        context.table(ICD10CM, START)
        result["icd10cm_first_use_s"] = round(time.perf_counter() - started, 2)
        hcpcs_codes = FALLBACK_HCPCS
        if "hcpcs" in loads:
            hcpcs_codes = _pools(context, True, random.Random(3))[1]
        for kind, path in _write_tables(Path(folder), hcpcs_codes, rng).items():
            loads[kind] = _load(registry, kind, path)
        diagnoses, _ = _pools(context, False, random.Random(5))
        scrubber = Scrubber(context)
        started = time.perf_counter()
        scrubber.scrub_many(make_claims(count, diagnoses, hcpcs_codes, seed=1))
        result["warm_up_s"] = round(time.perf_counter() - started, 2)
        rounds, cpu = [], []
        for seed in (2, 3, 4):  # fresh claims each round: no remembered diagnosis checks
            batch = make_claims(count, diagnoses, hcpcs_codes, seed=seed)
            started, started_cpu = time.perf_counter(), time.process_time()
            issues = scrubber.scrub_many(batch)
            rounds.append(time.perf_counter() - started)
            cpu.append(time.process_time() - started_cpu)
        started = time.perf_counter()
        scrubber.scrub_many(batch)
        result["rescrub_claims_per_s"] = round(count / (time.perf_counter() - started))
        engine.dispose()
    best = min(rounds)
    result.update(
        load_s={k: round(v, 2) for k, v in loads.items()},
        best_s=round(best, 3),
        claims_per_s=round(count / best),
        claims_per_cpu_s=round(count / min(cpu)),
        load_average=[round(x, 2) for x in os.getloadavg()],
        max_rss_mb=round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
        target_claims_per_s=TARGET,
        clean_share=round(sum(is_clean(i) for i in issues) / count, 3),
        issues_per_claim=round(sum(len(i) for i in issues) / count, 2),
        issues_by_rule=dict(sorted(Counter(x.rule for i in issues for x in i).items())),
    )
    return result


def run(quick: bool = False) -> Section:
    """The benchmark as the ``scrub`` section of bench/RESULTS.md."""
    result = measure(quick)
    count = result["claims"]
    section = Section("scrub", "Claim scrubber throughput (issue 5)")
    section.rows += [
        Row(
            f"scrub {count:,} synthetic 837P claims, every rule, best of 3 rounds",
            f">= {TARGET:,} claims/s",
            f"{fmt(result['claims_per_s'])} claims/s",
            passed=result["claims_per_s"] >= TARGET,
        ),
        Row(
            "scrub, claims per CPU second (less sensitive to machine load), best round",
            "-",
            f"{fmt(result['claims_per_cpu_s'])} claims/s",
        ),
    ]
    loads = ", ".join(f"{kind} {seconds:.1f} s" for kind, seconds in result["load_s"].items())
    rules = ", ".join(f"{rule} {n:,}" for rule, n in result["issues_by_rule"].items())
    section.notes += [
        "Measured: `Scrubber.scrub_many` over a SQLite code registry holding the shipped "
        "ICD-10-CM, HCPCS Level II and MCE plus generated NCCI PTP, MUE and coverage-policy "
        "tables in CMS's layouts (HCPCS Level II codes only). Claims: 1-12 diagnoses, 1-6 lines, "
        "random modifiers, units and charges, seeded; a fresh batch each round (no remembered "
        f"checks), after a warm-up batch ({result['warm_up_s']:.2f} s). Best round "
        f"{result['best_s']:.3f} s; scrubbing the last batch again: "
        f"{fmt(result['rescrub_claims_per_s'])} claims/s.",
        f"Code set loads (not timed in the rate): {loads}; ICD-10-CM table first use "
        f"{result['icd10cm_first_use_s']:.2f} s. Peak RSS {result['max_rss_mb']} MB.",
        f"Findings: {result['clean_share']:.1%} of claims clean, "
        f"{result['issues_per_claim']} issues per claim ({rules}).",
        *(f"Skipped: {s}." for s in result["skipped"]),
        "Load average at the end: "
        f"{', '.join(f'{x:.1f}' for x in result['load_average'])} (shared 2-core machine).",
    ]
    return section


def main() -> None:
    """Print the result as JSON."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--claims", type=int, default=CLAIMS)
    parser.add_argument("--quick", action="store_true")
    args = parser.parse_args()
    print(json.dumps(measure(args.quick, args.claims), indent=2))


if __name__ == "__main__":
    main()
