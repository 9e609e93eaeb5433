"""The claim worklist: every scrubbed Claim, its status, its findings, and its batch.

Statuses and who moves a claim between them (docs/billing-claims.md)::

    (scrub) ──► held ◄──► clean ──(release)──► released ──(835)──► paid | partial | denied
                  ▲         │                                          │
                  └─(hold)──┘                              reversed ◄──┘ (and back on a repost)

Re-scrubbing moves a claim between held and clean only; once released, the row keeps what
was sent (a re-scrub leaves it alone), and only remittance posting changes its status.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

from sqlalchemy import Connection, Engine, func, insert, select, update

from chartkeeper.billing.claims.database import BillingDatabase
from chartkeeper.billing.scrub.model import Issue, ScrubClaim
from chartkeeper.billing.scrub.signature import claim_signature
from chartkeeper.core.clock import Clock
from chartkeeper.core.errors import ConflictError, InvalidError
from chartkeeper.store.billing_schema import billing_claims
from chartkeeper.store.rows import as_dict

STATUSES = ("held", "clean", "released", "paid", "partial", "denied", "reversed")
#: Statuses the scrubber decides (a re-scrub may move a claim between them).
SCRUBBED = ("held", "clean")
#: Statuses of a claim that has left: a re-scrub never moves it back.
SENT = ("released", "paid", "partial", "denied", "reversed")
#: `set_status` targets and the statuses each may be reached from (released: only `release`).
TRANSITIONS: dict[str, tuple[str, ...]] = {
    "held": ("clean",),
    "paid": SENT,
    "partial": SENT,
    "denied": SENT,
    "reversed": SENT,
}
#: CLM01 holds at most 20 characters (TR3 2300 CLM01, and the column)
CONTROL_NUMBER_LENGTH = 20


@dataclass(frozen=True)
class WorklistClaim:
    """One row of the worklist; ``findings`` are the scrub issues as JSON objects."""

    claim_id: str
    control_number: str
    patient_id: str
    kind: str
    payer_id: str
    billing_npi: str
    service_from: str
    service_to: str
    total_cents: int
    signature: str
    status: str
    findings: list[dict[str, Any]]
    batch_id: str | None
    scrubbed_at: int | None
    updated: int


class ClaimWorklist:
    """The ``billing_claims`` table as a work queue; also the scrubber's duplicate index."""

    def __init__(self, engine: Engine, clock: Clock) -> None:
        self.database = BillingDatabase(engine)
        self.clock = clock

    def record(self, claim_id: str, scrub: ScrubClaim, issues: Sequence[Issue]) -> str:
        """Store a scrub result and answer the claim's status (held when any issue is an error).

        A claim already sent keeps its row as sent; its current status is answered.
        """
        now = self._now()
        issues = [*issues, *_control_number_issues(scrub, issues)]
        status = "held" if any(issue.severity == "error" for issue in issues) else "clean"
        values = {**_columns(claim_id, scrub, issues), "status": status, "scrubbed_at": now}
        values["updated"] = now
        with self.database.write() as conn:
            current = conn.execute(
                select(billing_claims.c.status).where(billing_claims.c.claim_id == claim_id)
            ).scalar_one_or_none()
            if current in SENT:
                return str(current)
            _check_control_number(conn, claim_id, values["control_number"])
            if current is None:
                conn.execute(insert(billing_claims).values(claim_id=claim_id, **values))
            else:
                where = billing_claims.c.claim_id == claim_id
                conn.execute(update(billing_claims).where(where).values(values))
        return status

    def find(self, signature: str, claim_id: str) -> str | None:
        """The earliest other claim with this duplicate signature that was not reversed.

        ``claim_id`` (the claim asking) may be its Claim id or its CLM01 control number (the
        scrubber's duplicate rule passes the latter): the row matching either is not "other".
        Held claims count: a corrected copy of a held claim is still the same bill twice,
        until one of them is withdrawn. But a claim already sent is never the duplicate of one
        that has not left: for it, only other sent claims count (so the paid original of a
        bill keyed in twice stays clean, and its held copy is the duplicate).
        """
        c = billing_claims.c
        other = [
            c.signature == signature,
            c.claim_id != claim_id,
            c.control_number != claim_id,
            c.status != "reversed",
        ]
        with self.database.read() as conn:
            asking = conn.execute(
                select(c.status).where((c.claim_id == claim_id) | (c.control_number == claim_id))
            ).scalar_one_or_none()
            if asking in SENT:
                other.append(c.status.in_(SENT))
            found = conn.execute(
                select(c.claim_id).where(*other).order_by(c.updated, c.claim_id).limit(1)
            ).scalar_one_or_none()
        return None if found is None else str(found)

    def items(
        self,
        status: str | None = None,
        limit: int = 50,
        offset: int = 0,
        batch_id: str | None = None,
    ) -> tuple[list[WorklistClaim], int]:
        """A page of claims (in one status and/or batch, or all), longest waiting first, and
        the total."""
        if status is not None and status not in STATUSES:
            raise InvalidError(f"Unknown claim status {status!r}; one of {', '.join(STATUSES)}")
        query = select(billing_claims)
        count = select(func.count()).select_from(billing_claims)
        if status is not None:
            query = query.where(billing_claims.c.status == status)
            count = count.where(billing_claims.c.status == status)
        if batch_id is not None:
            query = query.where(billing_claims.c.batch_id == batch_id)
            count = count.where(billing_claims.c.batch_id == batch_id)
        order = (billing_claims.c.updated, billing_claims.c.claim_id)
        with self.database.read() as conn:
            rows = conn.execute(query.order_by(*order).limit(limit).offset(offset))
            claims = [_claim(row) for row in rows]
            total = int(conn.execute(count).scalar_one())
        return claims, total

    def get(self, claim_id: str) -> WorklistClaim | None:
        """One claim's row."""
        return self._one(billing_claims.c.claim_id == claim_id)

    def patients_of_batch(self, batch_id: str) -> list[str]:
        """The patients whose claims left in one batch (whom its download is about)."""
        c = billing_claims.c
        query = select(c.patient_id).where(c.batch_id == batch_id).distinct()
        with self.database.read() as conn:
            return sorted(str(row.patient_id) for row in conn.execute(query))

    def clean_ids(self) -> list[str]:
        """Every clean claim, oldest first (what a release of "all clean claims" sends)."""
        c = billing_claims.c
        query = select(c.claim_id).where(c.status == "clean").order_by(c.updated, c.claim_id)
        with self.database.read() as conn:
            return [str(row.claim_id) for row in conn.execute(query)]

    def claim_ids_of(self, control_numbers: Sequence[str]) -> dict[str, str]:
        """Control number → Claim id for those on the worklist (one query per 1,000)."""
        wanted = sorted(set(control_numbers))
        found: dict[str, str] = {}
        c = billing_claims.c
        with self.database.read() as conn:
            for start in range(0, len(wanted), 1000):
                chunk = wanted[start : start + 1000]
                rows = conn.execute(
                    select(c.control_number, c.claim_id).where(c.control_number.in_(chunk))
                )
                found.update({str(row.control_number): str(row.claim_id) for row in rows})
        return found

    def for_patient(self, patient_id: str) -> list[WorklistClaim]:
        """Every claim of one patient (statements), by service date."""
        query = (
            select(billing_claims)
            .where(billing_claims.c.patient_id == patient_id)
            .order_by(billing_claims.c.service_from, billing_claims.c.claim_id)
        )
        with self.database.read() as conn:
            return [_claim(row) for row in conn.execute(query)]

    def by_control_number(self, control_number: str) -> WorklistClaim | None:
        """The claim sent with this CLM01 (how an 835's CLP01 finds its claim)."""
        return self._one(billing_claims.c.control_number == control_number)

    def counts(self) -> dict[str, int]:
        """How many claims are in each status (every status present, zeros included)."""
        query = select(billing_claims.c.status, func.count()).group_by(billing_claims.c.status)
        with self.database.read() as conn:
            found = {str(status): int(n) for status, n in conn.execute(query)}
        return {status: found.get(status, 0) for status in STATUSES}

    def set_status(self, claim_ids: Sequence[str], status: str) -> int:
        """Move claims to ``status`` where `TRANSITIONS` allows it; answers how many moved."""
        with self.database.write() as conn:
            return change_status(conn, claim_ids, status, self._now())

    def _one(self, where: Any) -> WorklistClaim | None:
        with self.database.read() as conn:
            row = conn.execute(select(billing_claims).where(where)).first()
        return None if row is None else _claim(row)

    def _now(self) -> int:
        return int(self.clock.now().timestamp() * 1_000_000)


def change_status(conn: Connection, claim_ids: Sequence[str], status: str, now: int) -> int:
    """`ClaimWorklist.set_status` inside the caller's transaction (e.g. posting an 835)."""
    if status not in TRANSITIONS:
        allowed = ", ".join(TRANSITIONS)
        raise InvalidError(f"A claim cannot be set to {status!r} here; one of {allowed}")
    moved = 0
    for start in range(0, len(claim_ids), 500):
        chunk = list(claim_ids[start : start + 500])
        done = conn.execute(
            update(billing_claims)
            .where(
                billing_claims.c.claim_id.in_(chunk),
                billing_claims.c.status.in_(TRANSITIONS[status]),
            )
            .values(status=status, updated=now)
        )
        moved += done.rowcount
    return moved


def _columns(claim_id: str, scrub: ScrubClaim, issues: Sequence[Issue]) -> dict[str, Any]:
    """The row's columns that come from the claim itself."""
    claim = scrub.claim
    dates = [line.service_date for line in claim.lines if line.service_date is not None]
    start = claim.statement_from or min(dates, default=None)
    end = claim.statement_to or max(dates, default=None)
    return {
        "control_number": _control_number(claim_id, claim.claim_id),
        "patient_id": scrub.patient_key[:64],
        "kind": scrub.kind,
        "payer_id": claim.subscriber.payer.payer_id[:80],
        "billing_npi": scrub.billing_provider.npi[:10],
        "service_from": start.isoformat() if start else "",
        "service_to": end.isoformat() if end else "",
        "total_cents": total_cents(scrub),
        "signature": claim_signature(scrub),
        "findings": json.dumps([_finding(i, scrub) for i in issues], separators=(",", ":")),
    }


def total_cents(scrub: ScrubClaim) -> int:
    """CLM02, the claim's total charge, in integer cents (half up)."""
    cents = (scrub.claim.total_charge * 100).quantize(Decimal(1), rounding=ROUND_HALF_UP)
    return int(cents)


def _finding(issue: Issue, scrub: ScrubClaim) -> dict[str, str]:
    """An issue as stored, with the FHIRPath its model location maps to (when known)."""
    return {**asdict(issue), "expression": scrub.locations.get(issue.location, "")}


def _control_number(claim_id: str, control_number: str) -> str:
    """CLM01, or (when missing or too long) a placeholder unique to the claim: such a claim
    is held (see `_control_number_issues`), so the placeholder is never sent."""
    if 0 < len(control_number) <= CONTROL_NUMBER_LENGTH:
        return control_number
    return "#" + hashlib.sha256(claim_id.encode()).hexdigest()[: CONTROL_NUMBER_LENGTH - 1]


def _control_number_issues(scrub: ScrubClaim, issues: Sequence[Issue]) -> list[Issue]:
    """The worklist's own finding when CLM01 cannot be stored, unless a rule already said so."""
    value = scrub.claim.claim_id
    if 0 < len(value) <= CONTROL_NUMBER_LENGTH:
        return []
    if any(issue.location == "claim.claim_id" and issue.severity == "error" for issue in issues):
        return []
    problem = "has no patient control number" if not value else "has a control number over 20"
    return [
        Issue(
            "claim-control-number",
            "error",
            "claim.claim_id",
            f"The claim {problem} (CLM01, identifier system claim-number)",
            "Give the Claim an identifier of 1 to 20 characters in the claim-number system",
        )
    ]


def _check_control_number(conn: Connection, claim_id: str, control_number: str) -> None:
    other = conn.execute(
        select(billing_claims.c.claim_id).where(
            billing_claims.c.control_number == control_number,
            billing_claims.c.claim_id != claim_id,
        )
    ).scalar_one_or_none()
    if other is not None:
        raise ConflictError(
            f"Claim/{claim_id} has the patient control number of Claim/{other}",
            ("Claim.identifier",),
        )


def _claim(row: Any) -> WorklistClaim:
    values = as_dict(row)
    values["findings"] = json.loads(values["findings"])
    return WorklistClaim(**values)
