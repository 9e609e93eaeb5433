"""Post 835 remittances: payments, adjustments and denials onto the claim worklist.

A file posts whole or not at all: it is read and checked before the database is touched (a
malformed file raises `X12Error` and posts nothing), then every transaction (ST/SE) is posted
in one database transaction. A transaction already posted (same sha256 of its text) is
skipped, so posting a file twice changes nothing. Claims are found by CLP01, the patient
control number sent in CLM01, with one query for the whole file; rows go in with batched
inserts (no per-claim round trip), which is what keeps posting above 2,000 claims/s.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, Engine, and_, bindparam, insert, select, update
from sqlalchemy import exc as sa_exc

from chartkeeper.billing.remit.batch import ClaimOutcome, PostingBatch, dollars
from chartkeeper.billing.remit.rules import REVERSAL
from chartkeeper.billing.x12.claim_model import ServiceLine
from chartkeeper.billing.x12.parse835 import ClaimPayment, Remittance, parse_remittance
from chartkeeper.billing.x12.segments import Transaction, read_interchanges
from chartkeeper.core.clock import Clock
from chartkeeper.core.errors import ConflictError
from chartkeeper.store.billing_schema import (
    billing_claims,
    billing_denials,
    billing_postings,
    billing_remittances,
)
from chartkeeper.store.engine import WRITE_OPTION

__all__ = [
    "AuditFactory",
    "ClaimLines",
    "ClaimOutcome",
    "OnPosted",
    "PostedRemittance",
    "PostingReport",
    "RemittancePoster",
]

ClaimLines = Callable[[Sequence[str]], Mapping[str, Sequence[ServiceLine]]]
OnPosted = Callable[[Sequence[str]], None]
#: Given the posting's connection, the callback to run inside its transaction.
AuditFactory = Callable[[Connection], OnPosted]
#: Control numbers per look-up query (well under SQLite's limit on bound parameters).
_CHUNK = 5000
#: Denial queue states that a reversal or a later full payment closes.
_OPEN_STATES = ("open", "appealed", "corrected")


@dataclass(frozen=True)
class PostingReport:
    """The outcome of posting one file."""

    source: str
    remittances_posted: int
    remittances_skipped: int
    claims_matched: int
    claims_unmatched: int
    paid_cents: int
    denials_created: int
    outcomes: tuple[ClaimOutcome, ...] = ()
    skipped_traces: tuple[str, ...] = ()

    @property
    def paid_total(self) -> Decimal:
        """The claims paid in the posted remittances, in dollars."""
        return dollars(self.paid_cents)

    @property
    def posted(self) -> int:
        """How many remittances this file posted (0: all were posted before)."""
        return self.remittances_posted

    def summary_lines(self) -> list[tuple[str, str]]:
        """The report as (label, value) pairs for the CLI and the workbench: the totals, then
        one pair per claim payment (its control number, what it did)."""
        lines = [
            ("Source", self.source),
            ("Remittances posted", str(self.remittances_posted)),
            ("Already posted (skipped)", str(self.remittances_skipped)),
            ("Claims matched", str(self.claims_matched)),
            ("Claims unmatched", str(self.claims_unmatched)),
            ("Paid", f"${self.paid_total:,.2f}"),
            ("Denials opened", str(self.denials_created)),
        ]
        if self.skipped_traces:
            lines.append(("Skipped traces", ", ".join(self.skipped_traces)))
        for outcome in self.outcomes:
            status = outcome.status or "not on the worklist"
            lines.append(
                (
                    outcome.control_number,
                    f"CLP02 {outcome.status_code}: {status}, "
                    f"${dollars(outcome.paid_cents):,.2f} paid, {outcome.denials} denial(s)",
                )
            )
        return lines

    def as_json(self) -> dict[str, Any]:
        """The report as JSON (amounts in cents, as in the tables)."""
        return {
            "source": self.source,
            "remittancesPosted": self.remittances_posted,
            "remittancesSkipped": self.remittances_skipped,
            "claimsMatched": self.claims_matched,
            "claimsUnmatched": self.claims_unmatched,
            "paidCents": self.paid_cents,
            "denialsCreated": self.denials_created,
            "skippedTraces": list(self.skipped_traces),
            "outcomes": [
                {
                    "controlNumber": o.control_number,
                    "claimId": o.claim_id,
                    "postingId": o.posting_id,
                    "statusCode": o.status_code,
                    "status": o.status,
                    "paidCents": o.paid_cents,
                    "denials": o.denials,
                    "reverses": o.reverses,
                }
                for o in self.outcomes
            ],
        }


@dataclass(frozen=True)
class PostedRemittance:
    """One row of billing_remittances: a posted 835 transaction."""

    remit_id: str
    trace_number: str
    payer_name: str
    payer_id: str
    payment_cents: int
    payment_date: str | None
    source: str
    claim_count: int
    unmatched: int
    received: int


@dataclass(frozen=True)
class _Parsed:
    digest: str
    remittance: Remittance


class RemittancePoster:
    """Posts 835 files onto ``billing_claims`` (see the module docstring)."""

    def __init__(self, engine: Engine, clock: Clock) -> None:
        self.engine = engine
        self.clock = clock

    def recent(self, limit: int = 20, offset: int = 0) -> list[PostedRemittance]:
        """Posted remittances, the latest first."""
        r = billing_remittances.c
        query = (
            select(*(r[f] for f in PostedRemittance.__dataclass_fields__))
            .order_by(r.received.desc(), r.remit_id.desc())
            .limit(limit)
            .offset(offset)
        )
        with self.engine.connect() as conn:
            return [PostedRemittance(**row) for row in conn.execute(query).mappings()]

    def post(
        self,
        text: str,
        source: str,
        on_posted: OnPosted | None = None,
        *,
        claim_lines: ClaimLines | None = None,
        audit: AuditFactory | None = None,
    ) -> PostingReport:
        """Post every 835 transaction of ``text`` (named ``source`` in the report and rows).

        ``claim_lines`` maps control numbers to the lines billed, for line matching (without
        it claims post at claim level); it is called once with every CLP01 of the file, before
        the write transaction begins. ``on_posted(patient_ids)``, and the callback ``audit``
        makes from the connection, run inside the transaction: if one raises, nothing posts.
        """
        parsed = _parse(text)
        controls = sorted({c.claim_id for p in parsed for c in p.remittance.claims})
        # read before the write transaction: the app layer reads FHIR Claims for this
        lines = dict(claim_lines(controls)) if claim_lines and controls else {}
        for attempt in range(2):
            try:
                return self._post(parsed, source, on_posted, lines, audit)
            except sa_exc.IntegrityError:  # a concurrent post of the same file won the race
                if attempt:
                    raise ConflictError("the remittance was posted concurrently") from None
        raise AssertionError("unreachable")

    def _post(
        self,
        parsed: Sequence[_Parsed],
        source: str,
        on_posted: OnPosted | None,
        lines: Mapping[str, Sequence[ServiceLine]],
        audit: AuditFactory | None,
    ) -> PostingReport:
        writer = self.engine.connect().execution_options(**{WRITE_OPTION: True})
        with writer as conn, conn.begin():
            done = _posted_digests(conn, [p.digest for p in parsed])
            fresh, skipped = _fresh(parsed, done)
            payments = [c for p in fresh for c in p.remittance.claims]
            claims = _claims_by_control(conn, {c.claim_id for c in payments})
            reversing = {claims[c.claim_id]["claim_id"] for c in payments if _reverses(c, claims)}
            latest = _latest_postings(conn, reversing)
            now = int(self.clock.now().timestamp() * 1_000_000)
            batch = PostingBatch(now, source, claims, lines, latest)
            for item in fresh:
                batch.add_remittance(item.remittance, item.digest)
            _write(conn, batch)
            patients = sorted(batch.patients)
            if on_posted is not None:
                on_posted(patients)
            if audit is not None:
                audit(conn)(patients)
        return _report(source, batch, fresh, skipped)


def _parse(text: str) -> list[_Parsed]:
    """Every transaction, checked and parsed, with the digest of its text (before any write)."""
    out: list[_Parsed] = []
    for interchange in read_interchanges(text):
        seps = interchange.separators
        for group in interchange.groups:
            for transaction in group.transactions:
                digest = _digest(transaction, seps.element, seps.segment)
                out.append(_Parsed(digest, parse_remittance(transaction)))
    return out


def _digest(transaction: Transaction, element: str, terminator: str) -> str:
    """sha256 of the ST..SE segments as written (layout whitespace between segments ignored)."""
    segments = (transaction.st, *transaction.body, *([transaction.se] if transaction.se else []))
    raw = "".join(element.join((s.id, *s.elements)) + terminator for s in segments)
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def _fresh(parsed: Sequence[_Parsed], done: set[str]) -> tuple[list[_Parsed], list[_Parsed]]:
    """Transactions to post, and those posted before (or twice in this file)."""
    fresh: list[_Parsed] = []
    skipped: list[_Parsed] = []
    seen = set(done)
    for item in parsed:
        (skipped if item.digest in seen else fresh).append(item)
        seen.add(item.digest)
    return fresh, skipped


def _chunks(values: Iterable[str]) -> Iterable[list[str]]:
    items = sorted(values)
    for start in range(0, len(items), _CHUNK):
        yield items[start : start + _CHUNK]


def _posted_digests(conn: Connection, digests: Sequence[str]) -> set[str]:
    column = billing_remittances.c.digest
    return {
        row[0]
        for chunk in _chunks(set(digests))
        for row in conn.execute(select(column).where(column.in_(chunk)))
    }


#: Claims a payer can answer: only those that left in a batch. A payment for a claim still
#: held or clean (never sent) is a mismatch, posted unmatched for a person to look at.
ANSWERABLE = ("released", "paid", "partial", "denied", "reversed")


def _claims_by_control(conn: Connection, controls: set[str]) -> dict[str, dict[str, Any]]:
    """Sent claims by control number: one query per 5,000 claims of the file."""
    c = billing_claims.c
    found: dict[str, dict[str, Any]] = {}
    for chunk in _chunks(controls):
        query = select(c.claim_id, c.control_number, c.patient_id).where(
            c.control_number.in_(chunk), c.status.in_(ANSWERABLE)
        )
        for row in conn.execute(query):
            found[row.control_number] = {"claim_id": row.claim_id, "patient_id": row.patient_id}
    return found


def _reverses(payment: ClaimPayment, claims: Mapping[str, Any]) -> bool:
    return payment.status == REVERSAL and payment.claim_id in claims


def _latest_postings(conn: Connection, claim_ids: set[str]) -> dict[str, str]:
    """Per claim, its latest posting that is neither a reversal nor reversed already."""
    if not claim_ids:
        return {}
    p = billing_postings.c
    reversal = billing_postings.alias("reversal")
    latest: dict[str, str] = {}
    for chunk in _chunks(claim_ids):
        taken = select(reversal.c.posting_id).where(reversal.c.reverses == p.posting_id)
        query = (
            select(p.claim_id, p.posting_id)
            .where(and_(p.claim_id.in_(chunk), p.reverses.is_(None), ~taken.exists()))
            .order_by(p.posted, p.posting_id)
        )
        for row in conn.execute(query):
            latest[row.claim_id] = row.posting_id
    return latest


def _write(conn: Connection, batch: PostingBatch) -> None:
    """One executemany per table; claim statuses and closed denials in one statement each."""
    if batch.remittances:
        conn.execute(insert(billing_remittances), batch.remittances)
    if batch.postings:
        conn.execute(insert(billing_postings), batch.postings)
    _close_denials(conn, batch)  # before the new denials go in, so they stay open
    if batch.denials:
        conn.execute(insert(billing_denials), batch.denials)
    if batch.statuses:
        c = billing_claims.c
        conn.execute(
            update(billing_claims)
            .where(c.claim_id == bindparam("b_claim"))
            .values(status=bindparam("b_status"), updated=batch.now),
            [{"b_claim": k, "b_status": v} for k, v in batch.statuses.items()],
        )


def _close_denials(conn: Connection, batch: PostingBatch) -> None:
    """Denials of a reversed posting, or of a claim now paid in full, are resolved."""
    d = billing_denials.c
    closing = [
        (d.posting_id, batch.reversed_postings, "reversed by the payer"),
        (d.claim_id, sorted(batch.paid_claims), "paid by a later remittance"),
    ]
    for column, keys, note in closing:
        for chunk in _chunks(keys):
            conn.execute(
                update(billing_denials)
                .where(column.in_(chunk), d.state.in_(_OPEN_STATES))
                .values(state="resolved", note=note, updated=batch.now, updated_by="remittance")
            )


def _report(
    source: str, batch: PostingBatch, fresh: Sequence[_Parsed], skipped: Sequence[_Parsed]
) -> PostingReport:
    matched = sum(1 for o in batch.outcomes if o.claim_id is not None)
    return PostingReport(
        source=source,
        remittances_posted=len(fresh),
        remittances_skipped=len(skipped),
        claims_matched=matched,
        claims_unmatched=len(batch.outcomes) - matched,
        paid_cents=batch.paid_cents,
        denials_created=len(batch.denials),
        outcomes=tuple(batch.outcomes),
        skipped_traces=tuple(p.remittance.trace_number for p in skipped),
    )
