"""Searching the audit ledger: filters over audit_ledger and audit_patients, newest first."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import (
    BigInteger,
    ColumnElement,
    Connection,
    Engine,
    Select,
    and_,
    any_,
    bindparam,
    func,
    select,
)
from sqlalchemy.dialects.postgresql import ARRAY

from chartkeeper.core.errors import InvalidError, NotSupportedError
from chartkeeper.core.ids import is_valid_id
from chartkeeper.fhir.dates import parse_date_range
from chartkeeper.privacy.audit.compact import render
from chartkeeper.privacy.audit.events import ACTIONS, OUTCOMES
from chartkeeper.store.audit_schema import audit_ledger, audit_patients
from chartkeeper.store.identity_schema import users

DEFAULT_COUNT = 50
MAX_COUNT = 500
#: The search parameters ``AuditEvent?`` takes (docs/audit.md, "Searching the ledger").
PARAMETERS = frozenset({"patient", "agent", "date", "action", "outcome", "_count", "_offset"})
DATE_PREFIXES = frozenset({"eq", "ge", "gt", "le", "lt"})


@dataclass(frozen=True)
class AuditQuery:
    """One ledger search; ``hide_own`` leaves out the patient's own accesses (access log)."""

    patient: str | None = None
    agent: str | None = None
    dates: tuple[tuple[str, int, int], ...] = ()  # (prefix, low, high) in epoch microseconds
    action: str | None = None
    outcome: str | None = None
    count: int = DEFAULT_COUNT
    offset: int = 0
    hide_own: bool = False


@dataclass(frozen=True)
class AuditEntry:
    """One found entry: the stored AuditEvent, when, and the agent's organization if known."""

    seq: int
    recorded_at: int
    event: dict[str, Any]
    organization: str | None = None


@dataclass(frozen=True)
class AuditPage:
    """A page of entries, newest first, and how many match in all."""

    entries: list[AuditEntry]
    total: int


def parse_query(items: Sequence[tuple[str, str]]) -> AuditQuery:
    """The query of ``AuditEvent?`` parameters; unknown or malformed ones are a 400."""
    values: dict[str, str] = {}
    dates: list[tuple[str, int, int]] = []
    for name, value in items:
        if name not in PARAMETERS:
            raise NotSupportedError(f"AuditEvent search does not support the parameter '{name}'")
        if name == "date":
            dates.append(_date(value))
        elif name in values:
            raise InvalidError(f"The parameter '{name}' may be given only once")
        else:
            values[name] = value
    count, offset = paging(values.get("_count"), values.get("_offset"))
    return AuditQuery(
        patient=_patient(values.get("patient")),
        agent=values.get("agent") or None,
        dates=tuple(dates),
        action=_code("action", values.get("action"), ACTIONS),
        outcome=_code("outcome", values.get("outcome"), OUTCOMES),
        count=count,
        offset=offset,
    )


def paging(count: str | None, offset: str | None) -> tuple[int, int]:
    """``count`` and ``offset`` from ``_count`` and ``_offset`` (400 when not numbers)."""
    return min(_number("_count", count, DEFAULT_COUNT), MAX_COUNT), _number("_offset", offset, 0)


def _number(name: str, value: str | None, default: int) -> int:
    if value is None or value == "":
        return default
    if not (value.isascii() and value.isdigit() and len(value) < 10):
        raise InvalidError(f"'{name}' must be a whole number, not '{value}'")
    return int(value)


def _patient(value: str | None) -> str | None:
    if not value:
        return None
    return patient_id(value.removeprefix("Patient/"))


def patient_id(value: str) -> str:
    """``value`` when it is a valid FHIR id; a 400 otherwise."""
    if not is_valid_id(value):
        raise InvalidError(f"'{value[:70]}' is not a valid Patient id")
    return value


def _code(name: str, value: str | None, allowed: frozenset[str]) -> str | None:
    if not value:
        return None
    if value not in allowed:
        choices = ", ".join(sorted(allowed))
        raise InvalidError(f"'{name}' must be one of {choices}, not '{value}'")
    return value


def _date(value: str) -> tuple[str, int, int]:
    prefix = value[:2] if value[:2].isalpha() else "eq"
    if prefix not in DATE_PREFIXES:
        raise NotSupportedError(f"The date prefix '{prefix}' is not supported here")
    text = value[2:] if value[:2].isalpha() else value
    low, high = parse_date_range(text)
    return prefix, low, high


def _date_condition(prefix: str, low: int, high: int) -> ColumnElement[bool]:
    column = audit_ledger.c.recorded_at
    conditions: dict[str, ColumnElement[bool]] = {
        "eq": and_(column >= low, column <= high),
        "ge": column >= low,
        "gt": column > high,
        "le": column <= high,
        "lt": column < low,
    }
    return conditions[prefix]


def _conditions(query: AuditQuery) -> list[ColumnElement[bool]]:
    ledger = audit_ledger.c
    conditions = [_date_condition(*date) for date in query.dates]
    if query.agent is not None:
        conditions.append(ledger.agent == query.agent)
    if query.action is not None:
        conditions.append(ledger.action == query.action)
    if query.outcome is not None:
        conditions.append(ledger.outcome == query.outcome)
    if query.hide_own and query.patient is not None:
        own = select(users.c.name).where(
            users.c.role == "patient", users.c.patient_id == query.patient
        )
        conditions.append(ledger.agent.not_in(own))
    return conditions


def patient_seqs(connection: Connection, patient: str) -> list[int]:
    """The seqs of the entries concerning ``patient``, ascending: rows of ``audit_patients``
    that stand for one entry, and the JSON arrays of those that stand for a run of them (one
    row per patient per append, see ``ledger.patient_runs``).

    Read first, on their own: PostgreSQL cannot tell how many seqs a JSON array expands to (it
    guesses 100 each), and joined in one query it would scan the whole ledger rather than look
    a patient's few entries up by seq.
    """
    rows = audit_patients.c
    found = connection.execute(select(rows.seq, rows.seqs).where(rows.patient_id == patient))
    seqs: set[int] = set()
    for seq, run in found:
        if run is None:
            seqs.add(int(seq))
            continue
        try:
            values = orjson.loads(run)
        except orjson.JSONDecodeError:  # an edited index row: the index is not what verify checks
            values = [seq]
        seqs.update(v for v in (values if isinstance(values, list) else [seq]) if type(v) is int)
    return sorted(seqs)


def _in_seqs(seqs: list[int], dialect: str) -> ColumnElement[bool]:
    """``audit_ledger.seq`` is one of ``seqs``: one parameter however many there are (a
    PostgreSQL array, a JSON array that SQLite's ``json_each`` expands)."""
    seq = audit_ledger.c.seq
    if dialect == "postgresql":
        return seq == any_(bindparam("patient_seqs", seqs, type_=ARRAY(BigInteger)))
    each = func.json_each(bindparam("patient_seqs", orjson.dumps(seqs).decode())).table_valued(
        "value"
    )
    return seq.in_(select(each.c.value))


def _filtered(
    query: AuditQuery, columns: Sequence[Any], seqs: list[int] | None, dialect: str
) -> Select[Any]:
    """``columns`` of the entries matching ``query``; ``seqs``: the patient's entries."""
    statement = select(*columns).select_from(audit_ledger)
    if seqs is not None:
        statement = statement.where(_in_seqs(seqs, dialect))
    return statement.where(*_conditions(query))


#: The columns an entry's AuditEvent is rendered from (a compact entry needs its row's).
_EVENT_COLUMNS = (
    audit_ledger.c.seq,
    audit_ledger.c.recorded_at,
    audit_ledger.c.event,
    audit_ledger.c.patient_ids,
    audit_ledger.c.action,
    audit_ledger.c.outcome,
)


def search_ledger(engine: Engine, query: AuditQuery) -> AuditPage:
    """The entries matching ``query``, newest first (by time recorded, then seq), and the total."""
    ledger, dialect = audit_ledger.c, engine.dialect.name
    with engine.connect() as connection:
        seqs = None if query.patient is None else patient_seqs(connection, query.patient)
        if seqs == []:
            return AuditPage([], 0)
        rows_query = (
            _filtered(query, [*_EVENT_COLUMNS, users.c.organization], seqs, dialect)
            .outerjoin(users, users.c.name == ledger.agent)
            .order_by(ledger.recorded_at.desc(), ledger.seq.desc())
            .limit(query.count)
            .offset(query.offset)
        )
        rows = connection.execute(rows_query).all()
        total_query = _filtered(query, [func.count()], seqs, dialect)
        total = int(connection.execute(total_query).scalar_one())
    return AuditPage([_entry(row, row.organization) for row in rows], total)


def read_entry(engine: Engine, seq: int) -> tuple[AuditEntry, list[str]] | None:
    """One entry by ``seq`` and the Patient ids it concerns; None when there is none."""
    statement = select(*_EVENT_COLUMNS).where(audit_ledger.c.seq == seq)
    with engine.connect() as connection:
        row = connection.execute(statement).first()
    if row is None:
        return None
    return _entry(row, None), str(row.patient_ids).split()


def _entry(row: Any, organization: str | None) -> AuditEntry:
    event = render(
        row.event,
        seq=int(row.seq),
        recorded_at=int(row.recorded_at),
        patient_ids=str(row.patient_ids),
        action=str(row.action),
        outcome=str(row.outcome),
    )
    return AuditEntry(int(row.seq), int(row.recorded_at), event, organization)
