"""837P generation speed against pyx12 validation of the same claims.

Standalone: `.venv/bin/python bench/x12_speed.py [--claims N] [--per-batch N] [--rounds N]`.
Target (issue 5, part 4): generate 837s at >= 10x the rate pyx12 validates the same claims
(pyx12 validated about 610 claims/s on the reference machine). Both sides get the same
interchange: generation is `write_837` from the claim model to text; validation is pyx12's
`x12n_document` on that text (map loading included, as `x12valid` does). Each side is timed
`--rounds` times and the best round counts (the machine is small and shared).
"""

from __future__ import annotations

import argparse
import io
import logging
import os
import time
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pyx12.params
import pyx12.x12n_document
from common import Row, Section, fmt

from chartkeeper.billing.x12.claim_model import (
    Address,
    Claim,
    ClaimBatch,
    Contact,
    Payer,
    Person,
    Provider,
    ServiceLine,
    Subscriber,
)
from chartkeeper.billing.x12.envelope import Envelope, SequentialControlNumbers
from chartkeeper.billing.x12.write837 import write_837

ADDRESS = Address("12 ELM STREET", "SPRINGFIELD", "IL", "627011234")
BILLING = Provider(
    "RIVERSIDE CLINIC",
    "1234567893",
    is_organization=True,
    taxonomy="207Q00000X",
    tin="123456789",
    address=ADDRESS,
)
RENDERING = Provider("QUINN", "1245319599", first_name="HARPER", taxonomy="207Q00000X")
TARGET_RATIO = 10.0
CLAIMS, QUICK_CLAIMS = 2000, 1000
PER_BATCH = 100
ROUNDS, QUICK_ROUNDS = 3, 2
ENVELOPE = Envelope("SUBMITTER01", "RECEIVER01", datetime(2026, 11, 27, 9, 30))


def make_claims(count: int) -> list[Claim]:
    """``count`` distinct two-line office-visit claims, every third for a dependant."""
    claims = []
    for n in range(count):
        person = Person("DOE", f"PAT{n}", date(1980, 1, 1 + n % 28), "F", ADDRESS, f"M{n:08d}")
        subscriber = Subscriber(person, Payer("ACME HEALTH PLAN", "ACME1"), group_number="G1")
        lines = (
            ServiceLine("G0463", Decimal("125.50") + n % 7, Decimal(1), date(2026, 11, 2)),
            ServiceLine("J1885", Decimal("18.25"), Decimal(2), date(2026, 11, 2), ("59",)),
        )
        patient = Person("DOE", f"KID{n}", date(2015, 6, 1), "M", ADDRESS) if n % 3 == 0 else None
        claims.append(
            Claim(
                f"C{n:09d}",
                subscriber,
                ("E11.9", "I10"),
                lines,
                patient=patient,
                rendering=RENDERING,
            )
        )
    return claims


def make_batches(claims: list[Claim], per_batch: int) -> list[ClaimBatch]:
    """The claims split into batches (one ST each) of ``per_batch`` claims."""
    submitter = Contact("RIVERSIDE BILLING", "SUB01", "PAT BILLER", "2175550100")
    receiver = Contact("CLEARING HOUSE", "REC01")
    return [
        ClaimBatch("837P", submitter, receiver, BILLING, tuple(claims[i : i + per_batch]))
        for i in range(0, len(claims), per_batch)
    ]


def best_of(rounds: int, work: Callable[[], object]) -> float:
    """The fastest of ``rounds`` timings of ``work``, in seconds."""
    times = []
    for _ in range(rounds):
        started = time.perf_counter()
        work()
        times.append(time.perf_counter() - started)
    return min(times)


def validate(text: str) -> bool:
    """pyx12's validation of ``text``, errors discarded (they must be none)."""
    return bool(
        pyx12.x12n_document.x12n_document(
            pyx12.params.params(), io.StringIO(text), None, None, fd_json=io.StringIO()
        )
    )


def measure(
    quick: bool = False,
    claims: int | None = None,
    per_batch: int = PER_BATCH,
    rounds: int | None = None,
) -> dict[str, Any]:
    """Claims/s of ``write_837`` and of pyx12 validating its output, in the same run: the
    best of ``rounds`` generations and of ``rounds - 1`` (at least 1) validations."""
    count = claims or (QUICK_CLAIMS if quick else CLAIMS)
    rounds = rounds or (QUICK_ROUNDS if quick else ROUNDS)
    logging.getLogger("pyx12").setLevel(logging.CRITICAL)
    batches = make_batches(make_claims(count), per_batch)
    text = write_837(batches, SequentialControlNumbers(), ENVELOPE)
    if not validate(text):
        raise RuntimeError("pyx12 found errors in the generated claims")
    generate = best_of(rounds, lambda: write_837(batches, SequentialControlNumbers(), ENVELOPE))
    check = best_of(max(1, rounds - 1), lambda: validate(text))
    gen_rate, val_rate = count / generate, count / check
    return {
        "claims": count,
        "per_batch": per_batch,
        "rounds": rounds,
        "bytes": len(text),
        "generate_s": round(generate, 4),
        "validate_s": round(check, 4),
        "generate_claims_per_s": round(gen_rate),
        "validate_claims_per_s": round(val_rate),
        "ratio": round(gen_rate / val_rate, 2),
        "ok": gen_rate >= TARGET_RATIO * val_rate,
        "load_average": [round(x, 2) for x in os.getloadavg()],
    }


def run(quick: bool = False) -> Section:
    """The benchmark as the ``x12`` section of bench/RESULTS.md."""
    result = measure(quick)
    section = Section("x12", "837P generation against pyx12 validation (issue 5)")
    section.rows.append(
        Row(
            f"generate 837P (`write_837`), {result['claims']:,} claims, vs pyx12 validating them",
            f"ratio >= {TARGET_RATIO:.0f}",
            f"{fmt(result['generate_claims_per_s'])} claims/s",
            f"{fmt(result['validate_claims_per_s'])} claims/s",
            f"{result['ratio']:.1f}",
            passed=result["ok"],
        )
    )
    section.notes += [
        f"Both sides get the same interchange: {result['claims']:,} distinct two-line "
        f"office-visit claims (HCPCS Level II), {result['per_batch']} per ST/SE, "
        f"{result['bytes'] / 1e6:.2f} MB. Generation: `write_837` from the claim model to text, "
        f"best of {result['rounds']} ({result['generate_s']:.3f} s). Baseline: pyx12's "
        "`x12n_document` on that text (map loading included, as `x12valid` does), best of "
        f"{max(1, result['rounds'] - 1)} ({result['validate_s']:.3f} s); it reports no errors.",
        f"Load average at the end: {', '.join(f'{x:.1f}' for x in result['load_average'])} "
        "(shared 2-core machine).",
    ]
    return section


def main() -> None:
    """Print a small table: claims/s of generation and of pyx12 validation, and the ratio."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--claims", type=int, default=CLAIMS)
    parser.add_argument("--per-batch", type=int, default=PER_BATCH)
    parser.add_argument("--rounds", type=int, default=ROUNDS)
    args = parser.parse_args()
    try:
        result = measure(False, args.claims, args.per_batch, args.rounds)
    except RuntimeError as error:
        raise SystemExit(str(error)) from error
    print(f"{'step':<28}{'seconds':>10}{'claims/s':>12}")
    print(
        f"{'generate 837P (write_837)':<28}{result['generate_s']:>10.3f}"
        f"{result['generate_claims_per_s']:>12,.0f}"
    )
    print(
        f"{'validate (pyx12)':<28}{result['validate_s']:>10.3f}"
        f"{result['validate_claims_per_s']:>12,.0f}"
    )
    verdict = "meets" if result["ok"] else "MISSES"
    print(f"ratio {result['ratio']:.1f}x ({verdict} the >= {TARGET_RATIO:.0f}x target)")


if __name__ == "__main__":
    main()
