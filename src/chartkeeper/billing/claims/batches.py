"""Release clean claims as one 837 interchange, with control numbers that never repeat.

One release is one transaction: the claims move from clean to released, the ISA13 and GS06
control numbers are drawn from ``billing_counters`` (rows ``isa`` and ``gs``, advanced by an
``UPDATE`` that locks the row on PostgreSQL and runs under ``BEGIN IMMEDIATE`` on SQLite, so
two releases never draw the same number), the interchange is written and stored. If anything
fails (a claim changed, an NPI fails its check digit) nothing is written and no number is used.
ST02 counts from 1 within each interchange (TR3 appendix B: unique within the group).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Connection, Engine, insert, select, update
from sqlalchemy.dialects.postgresql import insert as postgresql_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert

from chartkeeper.billing.claims.database import BillingDatabase
from chartkeeper.billing.claims.worklist import ClaimWorklist, total_cents
from chartkeeper.billing.scrub.model import ScrubClaim
from chartkeeper.billing.scrub.signature import claim_signature
from chartkeeper.billing.x12.claim_model import ClaimBatch, ClaimKind, Contact, Provider
from chartkeeper.billing.x12.envelope import Envelope, SequentialControlNumbers
from chartkeeper.billing.x12.write837 import write_837
from chartkeeper.core.clock import Clock
from chartkeeper.core.errors import ConflictError, InvalidError, NotFoundError
from chartkeeper.core.ids import new_id
from chartkeeper.store.billing_schema import billing_batches, billing_claims, billing_counters
from chartkeeper.store.rows import as_dict

#: Claims per ST/SE transaction set (TR3 1.4.3: no more than 5000 CLM per transaction)
CLAIMS_PER_TRANSACTION = 5000
#: ISA13 and GS06 are nine digits; after the last one the counters start again at 1
MAX_CONTROL = 999_999_999

Build = Callable[[str], ScrubClaim]


@dataclass(frozen=True)
class Batch:
    """One stored interchange: ``kind`` is 837P, 837I, or 837 when it holds both."""

    batch_id: str
    kind: str
    interchange_control: int
    created: int
    claim_count: int
    total_cents: int


class DatabaseControlNumbers:
    """`ControlNumbers` drawn from ``billing_counters`` inside the caller's transaction."""

    def __init__(self, conn: Connection) -> None:
        self._conn = conn
        self._transaction = 0
        self.interchange = 0

    def next_interchange(self) -> int:
        """The next ISA13 (kept in ``interchange``)."""
        self.interchange = advance(self._conn, "isa")
        return self.interchange

    def next_group(self) -> int:
        """The next GS06."""
        return advance(self._conn, "gs")

    def next_transaction(self) -> int:
        """The next ST02 within this interchange."""
        self._transaction += 1
        return self._transaction


def advance(conn: Connection, name: str) -> int:
    """Add one to a named counter (creating it at 0) and answer the new value, 1..MAX_CONTROL."""
    dialect_insert = postgresql_insert if conn.dialect.name == "postgresql" else sqlite_insert
    conn.execute(
        dialect_insert(billing_counters)
        .values(name=name, value=0)
        .on_conflict_do_nothing(index_elements=["name"])
    )
    where = billing_counters.c.name == name
    value = conn.execute(
        update(billing_counters)
        .where(where)
        .values(value=billing_counters.c.value % MAX_CONTROL + 1)
        .returning(billing_counters.c.value)
    ).scalar_one()
    return int(value)


def release(
    engine: Engine,
    clock: Clock,
    worklist: ClaimWorklist,
    claim_ids: Sequence[str] | None,
    build: Build,
    submitter: Contact,
    receiver: Contact,
    usage: str = "T",
    on_released: Callable[[Connection, Sequence[str]], None] | None = None,
) -> Batch:
    """Send clean claims (None: every clean claim) as one interchange; answer its batch.

    ``build(claim_id)`` converts the current FHIR Claim (`convert.to_scrub_claim`); a claim
    whose content changed since it was scrubbed is refused, as is any claim not clean.
    ``usage`` is ISA15: T (test) or P (production). ``on_released(connection, patient_ids)``
    runs inside the release's transaction (the caller's audit entry commits with it).
    """
    database = worklist.database if worklist.database.engine is engine else None
    database = database or BillingDatabase(engine)
    ids = _clean_ids(database, claim_ids)
    scrubs = {claim_id: build(claim_id) for claim_id in ids}
    now = clock.now()
    batch_id = new_id()
    batches = group(list(scrubs.values()), submitter, receiver, batch_id, now)
    envelope = Envelope(submitter.identifier, receiver.identifier, now, usage=usage)
    stamp = int(now.timestamp() * 1_000_000)
    with database.write() as conn:
        _mark_released(conn, list(ids), batch_id, stamp)
        total = _check_unchanged(conn, scrubs)
        controls = DatabaseControlNumbers(conn)
        text = write_837(batches, controls, envelope)
        batch = Batch(batch_id, _kind(batches), controls.interchange, stamp, len(ids), total)
        conn.execute(insert(billing_batches).values(**asdict(batch), x12=text))
        if on_released is not None:
            on_released(conn, sorted({scrub.patient_key for scrub in scrubs.values()}))
    return batch


def batch_x12(engine: Engine, batch_id: str) -> str:
    """The interchange of a batch as it was sent."""
    with engine.connect() as conn:
        text = conn.execute(
            select(billing_batches.c.x12).where(billing_batches.c.batch_id == batch_id)
        ).scalar_one_or_none()
    if text is None:
        raise NotFoundError(f"No batch {batch_id}")
    return str(text)


def batches(engine: Engine, limit: int = 50, offset: int = 0) -> list[Batch]:
    """Stored batches, newest first."""
    columns = [c for c in billing_batches.c if c.name != "x12"]
    query = (
        select(*columns)
        .order_by(billing_batches.c.created.desc(), billing_batches.c.batch_id.desc())
        .limit(limit)
        .offset(offset)
    )
    with engine.connect() as conn:
        return [Batch(**as_dict(row)) for row in conn.execute(query)]


def _clean_ids(database: BillingDatabase, claim_ids: Sequence[str] | None) -> dict[str, str]:
    """The claims to release and their status, in order; refuses unknown and not-clean
    claims by name."""
    columns = (billing_claims.c.claim_id, billing_claims.c.status)
    query = select(*columns).order_by(billing_claims.c.updated, billing_claims.c.claim_id)
    with database.read() as conn:
        if claim_ids is None:
            rows = conn.execute(query.where(billing_claims.c.status == "clean"))
        else:
            rows = conn.execute(query.where(billing_claims.c.claim_id.in_(list(claim_ids))))
        found = {str(row.claim_id): str(row.status) for row in rows}
    if claim_ids is not None:
        _refuse(claim_ids, found)
        found = {claim_id: found[claim_id] for claim_id in dict.fromkeys(claim_ids)}
    if not found:
        raise InvalidError("There are no clean claims to release")
    return found


def preview_x12(scrub: ScrubClaim, submitter: Contact, receiver: Contact, now: datetime) -> str:
    """One claim's 837 with control numbers 1, for viewing; no counter is used."""
    batches = group([scrub], submitter, receiver, "preview", now)
    envelope = Envelope(submitter.identifier, receiver.identifier, now)
    return write_837(batches, SequentialControlNumbers(), envelope)


def group(
    scrubs: Sequence[ScrubClaim],
    submitter: Contact,
    receiver: Contact,
    reference: str,
    now: datetime,
) -> list[ClaimBatch]:
    """Claims per kind and billing provider (first-seen order), at most 5000 per batch."""
    grouped: dict[tuple[ClaimKind, Provider], list[ScrubClaim]] = {}
    for scrub in scrubs:
        grouped.setdefault((scrub.kind, scrub.billing_provider), []).append(scrub)
    out: list[ClaimBatch] = []
    for (kind, billing), members in grouped.items():
        for start in range(0, len(members), CLAIMS_PER_TRANSACTION):
            chunk = members[start : start + CLAIMS_PER_TRANSACTION]
            out.append(
                ClaimBatch(
                    kind,
                    submitter,
                    receiver,
                    billing,
                    tuple(scrub.claim for scrub in chunk),
                    reference=f"{reference.replace('-', '')[:40]}{len(out) + 1:04d}",
                    created=now.date(),
                    created_time=now.strftime("%H%M"),
                )
            )
    return out


def _refuse(claim_ids: Sequence[str], found: dict[str, str]) -> None:
    unknown = [claim_id for claim_id in claim_ids if claim_id not in found]
    if unknown:
        raise InvalidError("Not on the claim worklist: " + ", ".join(f"Claim/{c}" for c in unknown))
    blocked = [(claim_id, found[claim_id]) for claim_id in claim_ids if found[claim_id] != "clean"]
    if blocked:
        listed = ", ".join(f"Claim/{claim_id} ({status})" for claim_id, status in blocked)
        raise InvalidError(f"Only clean claims can be released; not clean: {listed}")


def _check_unchanged(conn: Connection, scrubs: dict[str, ScrubClaim]) -> int:
    """Refuse a claim whose current content is not what was scrubbed clean; answer the total
    charge in cents. Runs after the claims' rows are locked by the release's UPDATE."""
    columns = (
        billing_claims.c.claim_id,
        billing_claims.c.control_number,
        billing_claims.c.signature,
        billing_claims.c.total_cents,
    )
    rows: dict[str, Any] = {}
    ids = list(scrubs)
    for start in range(0, len(ids), 500):
        query = select(*columns).where(billing_claims.c.claim_id.in_(ids[start : start + 500]))
        rows.update({str(row.claim_id): row for row in conn.execute(query)})
    for claim_id, scrub in scrubs.items():
        row = rows[claim_id]
        same = (
            scrub.claim.claim_id == row.control_number
            and claim_signature(scrub) == row.signature
            and total_cents(scrub) == int(row.total_cents)
        )
        if not same:
            raise InvalidError(f"Claim/{claim_id} changed since it was scrubbed; scrub it again")
    return sum(int(row.total_cents) for row in rows.values())


def _mark_released(conn: Connection, claim_ids: list[str], batch_id: str, now: int) -> None:
    """Clean → released; a claim another release (or a re-scrub) took meanwhile aborts all."""
    moved = 0
    for start in range(0, len(claim_ids), 500):
        chunk = claim_ids[start : start + 500]
        done = conn.execute(
            update(billing_claims)
            .where(billing_claims.c.claim_id.in_(chunk), billing_claims.c.status == "clean")
            .values(status="released", batch_id=batch_id, updated=now)
        )
        moved += done.rowcount
    if moved != len(claim_ids):
        raise ConflictError("Some claims changed while being released; nothing was released")


def _kind(batches: Sequence[ClaimBatch]) -> str:
    kinds = {batch.kind for batch in batches}
    return kinds.pop() if len(kinds) == 1 else "837"
