"""The denial work queue: denied claims and lines, and what the biller did about each.

Posting (`posting`) opens a denial for every claim the payer denied and every line or claim
with a denial adjustment (`rules.is_denial`). A biller appeals it, corrects and resubmits the
claim, writes it off, or resolves it; a finished one can be reopened. A later full payment of
the claim, or the payer reversing the posting, resolves it automatically.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

from sqlalchemy import Engine, RowMapping, func, select, update

from chartkeeper.core.clock import Clock
from chartkeeper.core.errors import ConflictError, InvalidError, NotFoundError
from chartkeeper.store.billing_schema import billing_denials, billing_postings
from chartkeeper.store.engine import WRITE_OPTION

STATES = ("open", "appealed", "corrected", "written_off", "resolved")
#: Allowed moves: state → the states it may go to. Keeping the state (a note) is always allowed.
TRANSITIONS: dict[str, frozenset[str]] = {
    "open": frozenset({"appealed", "corrected", "written_off", "resolved"}),
    "appealed": frozenset({"resolved", "written_off", "open"}),
    "corrected": frozenset({"resolved", "written_off", "open"}),
    "written_off": frozenset({"open"}),
    "resolved": frozenset({"open"}),
}
MAX_PAGE = 500


@dataclass(frozen=True)
class Denial:
    """One queue item, with the claim and patient of the posting it came from."""

    denial_id: str
    posting_id: str
    claim_id: str | None
    patient_id: str | None
    control_number: str
    payer_claim_id: str
    line: int | None
    group_code: str
    reason_code: str
    remarks: tuple[str, ...]
    amount_cents: int
    state: str
    note: str
    updated: int
    updated_by: str


_d = billing_denials.c
_p = billing_postings.c
_SELECT = select(
    billing_denials,
    _p.patient_id,
    _p.patient_control.label("control_number"),
    _p.payer_claim_id,
).select_from(billing_denials.outerjoin(billing_postings, _p.posting_id == _d.posting_id))


class DenialQueue:
    """Read and work the denial queue (``billing_denials``)."""

    def __init__(self, engine: Engine, clock: Clock) -> None:
        self.engine = engine
        self.clock = clock

    def items(
        self, state: str | None = "open", limit: int = 50, offset: int = 0
    ) -> tuple[list[Denial], int]:
        """A page of denials in ``state`` (all when None), largest amount first, and the total."""
        if state is not None and state not in STATES:
            raise InvalidError(f"Unknown denial state '{state}'; expected one of {STATES}")
        if not (1 <= limit <= MAX_PAGE) or offset < 0:
            raise InvalidError(f"limit must be 1 to {MAX_PAGE} and offset not negative")
        where = [] if state is None else [_d.state == state]
        with self.engine.connect() as conn:
            total = conn.execute(select(func.count()).select_from(billing_denials).where(*where))
            rows = conn.execute(
                _SELECT.where(*where)
                .order_by(_d.amount_cents.desc(), _d.updated, _d.denial_id)
                .limit(limit)
                .offset(offset)
            )
            return [_denial(r) for r in rows.mappings()], int(total.scalar_one())

    def get(self, denial_id: str) -> Denial:
        """One denial; `NotFoundError` when there is none with that id."""
        with self.engine.connect() as conn:
            row = conn.execute(_SELECT.where(_d.denial_id == denial_id)).mappings().first()
        if row is None:
            raise NotFoundError(f"Denial {denial_id} is not known")
        return _denial(row)

    def update(self, denial_id: str, state: str, note: str, user: str) -> Denial:
        """Move a denial to ``state`` with a note; `InvalidError` for a move not allowed,
        `ConflictError` when someone else moved it first."""
        current = self.get(denial_id)
        if state not in STATES:
            raise InvalidError(f"Unknown denial state '{state}'; expected one of {STATES}")
        if state != current.state and state not in TRANSITIONS[current.state]:
            raise InvalidError(f"A denial cannot go from '{current.state}' to '{state}'")
        now = int(self.clock.now().timestamp() * 1_000_000)
        writer = self.engine.connect().execution_options(**{WRITE_OPTION: True})
        with writer as conn, conn.begin():
            done = conn.execute(
                update(billing_denials)
                .where(_d.denial_id == denial_id, _d.state == current.state)
                .values(state=state, note=note, updated=now, updated_by=user)
            )
        if done.rowcount != 1:
            raise ConflictError(f"Denial {denial_id} was changed by someone else; reload it")
        return self.get(denial_id)

    def counts(self) -> dict[str, int]:
        """How many denials are in each state (every state listed, zeros included)."""
        with self.engine.connect() as conn:
            rows = conn.execute(select(_d.state, func.count()).group_by(_d.state))
            found = {row[0]: int(row[1]) for row in rows}
        return {state: found.get(state, 0) for state in STATES}


def _denial(row: RowMapping) -> Denial:
    return Denial(
        denial_id=row["denial_id"],
        posting_id=row["posting_id"],
        claim_id=row["claim_id"],
        patient_id=row["patient_id"],
        control_number=row["control_number"] or "",
        payer_claim_id=row["payer_claim_id"] or "",
        line=row["line"],
        group_code=row["group_code"],
        reason_code=row["reason_code"],
        remarks=tuple(json.loads(row["remarks"] or "[]")),
        amount_cents=int(row["amount_cents"]),
        state=row["state"],
        note=row["note"],
        updated=int(row["updated"]),
        updated_by=row["updated_by"],
    )
