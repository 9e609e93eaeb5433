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
import time
from collections.abc import Callable
from datetime import date, datetime
from decimal import Decimal

import pyx12.params
import pyx12.x12n_document

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


def main() -> None:
    """Print a small table: claims/s of generation and of pyx12 validation, and the ratio."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--claims", type=int, default=2000)
    parser.add_argument("--per-batch", type=int, default=100)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    logging.getLogger("pyx12").setLevel(logging.CRITICAL)
    batches = make_batches(make_claims(args.claims), args.per_batch)
    text = write_837(batches, SequentialControlNumbers(), ENVELOPE)
    if not validate(text):
        raise SystemExit("pyx12 found errors in the generated claims")
    generate = best_of(
        args.rounds, lambda: write_837(batches, SequentialControlNumbers(), ENVELOPE)
    )
    check = best_of(max(1, args.rounds - 1), lambda: validate(text))
    gen_rate, val_rate = args.claims / generate, args.claims / check
    print(f"{'step':<28}{'seconds':>10}{'claims/s':>12}")
    print(f"{'generate 837P (write_837)':<28}{generate:>10.3f}{gen_rate:>12,.0f}")
    print(f"{'validate (pyx12)':<28}{check:>10.3f}{val_rate:>12,.0f}")
    verdict = "meets" if gen_rate >= 10 * val_rate else "MISSES"
    print(f"ratio {gen_rate / val_rate:.1f}x ({verdict} the >= 10x target)")


if __name__ == "__main__":
    main()
