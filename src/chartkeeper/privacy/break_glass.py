"""Break-the-glass: time-limited emergency grants to one chart, audited and reviewed.

A clinician (``CLINICAL_ROLES``) with no treatment relationship declares an emergency for one
Patient with a reason and gets a grant for a few hours (45 CFR 164.312(a)(2)(ii), emergency
access procedure). The grant, every access under it (the guard audits those, ruled
``break-the-glass``) and its expiry are in the audit ledger; every grant waits in the privacy
officer's review queue until accepted or referred for investigation.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Connection, Engine, Row, and_, insert, or_, select, update
from sqlalchemy.exc import OperationalError

from chartkeeper.core.clock import Clock, format_instant
from chartkeeper.core.errors import (
    BusyError,
    ConflictError,
    ForbiddenError,
    InvalidError,
    NotFoundError,
)
from chartkeeper.core.ids import new_id
from chartkeeper.fhir.dates import from_micros, to_micros
from chartkeeper.privacy.actor import CLINICAL_ROLES, Actor
from chartkeeper.privacy.audit import AuditLedger, audit_event
from chartkeeper.store.break_glass_schema import break_glass_grants as grants
from chartkeeper.store.engine import WRITE_OPTION
from chartkeeper.store.schema import resources

DEFAULT_HOURS = 4
MAX_HOURS = 12
MIN_REASON = 10
MAX_TEXT = 2000
REVIEWER_ROLE = "privacy_officer"
STATUSES = ("pending", "accepted", "referred")
DECISIONS = ("accepted", "referred")


@dataclass(frozen=True)
class Grant:
    """One emergency grant and its review."""

    id: str
    actor_name: str
    role: str
    practitioner_id: str | None
    patient_id: str
    reason: str
    granted_at: datetime
    expires_at: datetime
    review_status: str
    reviewer: str | None
    reviewed_at: datetime | None
    review_note: str | None

    def active(self, now: datetime) -> bool:
        """True while the grant still opens the chart."""
        return self.granted_at <= now < self.expires_at

    def to_json(self) -> dict[str, Any]:
        """The grant as the review API shows it."""
        reviewed = format_instant(self.reviewed_at) if self.reviewed_at else None
        return {
            "id": self.id,
            "actor": self.actor_name,
            "role": self.role,
            "practitioner": self.practitioner_id,
            "patient": f"Patient/{self.patient_id}",
            "reason": self.reason,
            "granted": format_instant(self.granted_at),
            "expires": format_instant(self.expires_at),
            "status": self.review_status,
            "reviewer": self.reviewer,
            "reviewed": reviewed,
            "note": self.review_note,
        }


def _grant(row: Row[Any]) -> Grant:
    reviewed = from_micros(row.reviewed_at) if row.reviewed_at is not None else None
    return Grant(
        row.id,
        row.actor_name,
        row.role,
        row.practitioner_id,
        row.patient_id,
        row.reason,
        from_micros(row.granted_at),
        from_micros(row.expires_at),
        row.review_status,
        row.reviewer,
        reviewed,
        row.review_note,
    )


def _holder(row: Row[Any]) -> Actor:
    """The clinician a grant belongs to, as the actor of its expiry entry."""
    return Actor(
        kind="user", name=row.actor_name, role=row.role, practitioner_id=row.practitioner_id
    )


def check_declaration(actor: Actor, reason: str, hours: int) -> str:
    """The trimmed reason, once the actor may break the glass and the request is sound."""
    if actor.kind != "user" or actor.role not in CLINICAL_ROLES:
        raise ForbiddenError(
            f"Only clinicians (physician, nurse, external provider) may break the glass, "
            f"not role {actor.role or actor.kind}"
        )
    text = reason.strip()
    if len(text) < MIN_REASON or len(text) > MAX_TEXT:
        raise InvalidError(
            f"Give the reason for emergency access in {MIN_REASON} to {MAX_TEXT} characters",
            ("reason",),
        )
    if isinstance(hours, bool) or not 1 <= hours <= MAX_HOURS:
        raise InvalidError(f"hours must be a whole number from 1 to {MAX_HOURS}", ("hours",))
    return text


def check_reviewer(actor: Actor) -> None:
    """Refuse anyone but the privacy officer the review queue."""
    if actor.role != REVIEWER_ROLE:
        raise ForbiddenError("Only the privacy officer reviews break-the-glass grants")


class BreakGlassStore:
    """Emergency grants: declare, look up the active ones, queue and review (module docs)."""

    def __init__(self, engine: Engine, clock: Clock, ledger: AuditLedger) -> None:
        self.engine = engine
        self.clock = clock
        self.ledger = ledger

    # -- transactions -------------------------------------------------------------------------

    @contextmanager
    def _writing(self) -> Iterator[Connection]:
        """A write transaction behind the store's writer lock (the ledger appends last)."""
        try:
            with (
                self.ledger.writer,
                self.engine.connect().execution_options(**{WRITE_OPTION: True}) as conn,
                conn.begin(),
            ):
                yield conn
        except OperationalError as error:
            if "locked" in str(error).lower() or "busy" in str(error).lower():
                raise BusyError("The store is busy; retry shortly") from error
            raise

    def _audit(
        self,
        conn: Connection,
        actor: Actor,
        patient_id: str,
        description: str,
        subtype: str = "break-the-glass",
    ) -> None:
        event = audit_event(
            action="E",
            subtype=subtype,
            outcome="0",
            actor=actor,
            patient_ids=[patient_id],
            resource=f"Patient/{patient_id}",
            recorded=self.clock.now(),
            description=description,
        )
        self.ledger.append(
            conn, event, patient_ids=[patient_id], agent=actor.name, action="E", outcome="0"
        )

    def _audit_refusal(self, actor: Actor, patient_id: str, why: str) -> None:
        event = audit_event(
            action="E",
            subtype="break-the-glass",
            outcome="4",
            actor=actor,
            patient_ids=[patient_id],
            resource=f"Patient/{patient_id}",
            recorded=self.clock.now(),
            description=why,
        )
        self.ledger.append_now(
            event, patient_ids=[patient_id], agent=actor.name, action="E", outcome="4"
        )

    # -- declaring ----------------------------------------------------------------------------

    def declare(
        self, actor: Actor, patient_id: str, reason: str, hours: int = DEFAULT_HOURS
    ) -> Grant:
        """Grant ``actor`` emergency access to ``Patient/patient_id`` for ``hours``."""
        try:
            text = check_declaration(actor, reason, hours)
        except ForbiddenError as error:
            self._audit_refusal(actor, patient_id, error.message)
            raise
        now, grant_id = self.clock.now(), new_id()
        expires = now + timedelta(hours=hours)
        row = {
            "id": grant_id,
            "actor_name": actor.name,
            "role": str(actor.role),
            "practitioner_id": actor.practitioner_id,
            "patient_id": patient_id,
            "reason": text,
            "granted_at": to_micros(now),
            "expires_at": to_micros(expires),
            "expiry_audited": False,
            "review_status": "pending",
        }
        with self._writing() as conn:
            self._require_patient(conn, patient_id)
            conn.execute(insert(grants).values(**row))
            until = format_instant(expires)
            self._audit(conn, actor, patient_id, f"grant {grant_id} until {until}: {text}")
        return self.get(grant_id)

    @staticmethod
    def _require_patient(conn: Connection, patient_id: str) -> None:
        found = conn.execute(
            select(resources.c.res_id).where(
                resources.c.res_type == "Patient",
                resources.c.res_id == patient_id,
                resources.c.deleted.is_(False),
            )
        ).first()
        if found is None:
            raise NotFoundError(f"Patient/{patient_id} is not known")

    # -- looking up ---------------------------------------------------------------------------

    def get(self, grant_id: str) -> Grant:
        """One grant (NotFoundError when there is none)."""
        with self.engine.connect() as conn:
            row = conn.execute(select(grants).where(grants.c.id == grant_id)).first()
        if row is None:
            raise NotFoundError(f"No break-the-glass grant {grant_id}")
        return _grant(row)

    def active_patients(self, actor_name: str) -> frozenset[str]:
        """The Patients ``actor_name`` holds an unexpired grant for; audits expiries seen."""
        now = to_micros(self.clock.now())
        owned = grants.c.actor_name == actor_name
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(grants).where(owned, or_(grants.c.expires_at > now, _unaudited(now)))
            ).all()
        if any(row.expires_at <= now for row in rows):
            self._audit_expiries(owned, now)
        return frozenset(row.patient_id for row in rows if row.granted_at <= now < row.expires_at)

    def queue(self, status: str = "pending") -> list[Grant]:
        """The grants with review ``status``, oldest first (expiries are audited first)."""
        if status not in STATUSES:
            raise InvalidError(f"status must be one of {', '.join(STATUSES)}", ("status",))
        now = to_micros(self.clock.now())
        self._audit_expiries(grants.c.id.is_not(None), now)
        with self.engine.connect() as conn:
            rows = conn.execute(
                select(grants)
                .where(grants.c.review_status == status)
                .order_by(grants.c.granted_at, grants.c.id)
            ).all()
        return [_grant(row) for row in rows]

    def _audit_expiries(self, which: Any, now: int) -> None:
        """One "grant expired" entry per grant that ran out since it was last looked at."""
        with self._writing() as conn:
            expired = conn.execute(select(grants).where(which, _unaudited(now))).all()
            for row in expired:
                conn.execute(
                    update(grants).where(grants.c.id == row.id).values(expiry_audited=True)
                )
            for row in expired:
                self._audit(conn, _holder(row), row.patient_id, f"grant {row.id} expired")

    # -- reviewing ----------------------------------------------------------------------------

    def review(self, grant_id: str, reviewer: Actor, decision: str, note: str = "") -> Grant:
        """The privacy officer accepts a grant or refers it for investigation."""
        check_reviewer(reviewer)
        if decision not in DECISIONS:
            raise InvalidError("decision must be 'accepted' or 'referred'", ("decision",))
        text = note.strip()
        if len(text) > MAX_TEXT:
            raise InvalidError(f"The note is longer than {MAX_TEXT} characters", ("note",))
        with self._writing() as conn:
            row = conn.execute(select(grants).where(grants.c.id == grant_id)).first()
            if row is None:
                raise NotFoundError(f"No break-the-glass grant {grant_id}")
            if row.review_status != "pending":
                raise ConflictError(f"Grant {grant_id} was already {row.review_status}")
            conn.execute(
                update(grants)
                .where(grants.c.id == grant_id)
                .values(
                    review_status=decision,
                    reviewer=reviewer.name,
                    reviewed_at=to_micros(self.clock.now()),
                    review_note=text or None,
                )
            )
            what = f"grant {grant_id} of {row.actor_name} {decision}" + (
                f": {text}" if text else ""
            )
            self._audit(conn, reviewer, row.patient_id, what, "permission-change")
        return self.get(grant_id)


def _unaudited(now: int) -> Any:
    """Grants expired by ``now`` whose expiry is not in the ledger yet."""
    return and_(grants.c.expires_at <= now, grants.c.expiry_audited.is_(False))
