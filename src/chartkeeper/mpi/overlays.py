"""Overlays: one chart that appears to hold two people.

An overlay happens when a second person is registered onto an existing record (the wrong
patient picked at the front desk): the Patient's history then shows a birth date or sex that
jumps, or hard identifiers (SSN, driver's licence) that disagree. Such charts are flagged for
review (``mpi_overlays``); nothing is changed automatically.
"""

from __future__ import annotations

import json
from datetime import date
from itertools import pairwise
from typing import Any

from sqlalchemy import Connection, select, update

from chartkeeper.core.ids import new_id
from chartkeeper.mpi.merge import hard_identifiers
from chartkeeper.store.mpi_schema import mpi_overlays
from chartkeeper.store.rows import as_dict

#: A birth date may be corrected by a typo's worth; more than this apart is another person.
BIRTH_DATE_TOLERANCE_DAYS = 366
SEXES = frozenset({"male", "female"})


def _date(text: Any) -> date | None:
    try:
        return date.fromisoformat(str(text)[:10])
    except ValueError:
        return None


def _transposed(a: date, b: date) -> bool:
    """Day and month swapped (03/04 for 04/03): a typo, not a second person."""
    return a.year == b.year and a.month == b.day and a.day == b.month


def overlay_reasons(versions: list[dict[str, Any]]) -> list[str]:
    """Why the Patient versions (newest first) look like two people; empty if they do not."""
    reasons: list[str] = []
    births = [
        (v.get("meta", {}).get("versionId", "?"), _date(v.get("birthDate"))) for v in versions
    ]
    dated = [(version, born) for version, born in births if born is not None]
    for (newer_v, newer), (older_v, older) in pairwise(dated):
        apart = abs((newer - older).days)
        if apart > BIRTH_DATE_TOLERANCE_DAYS and not _transposed(newer, older):
            reasons.append(
                f"birth date changed from {older.isoformat()} (version {older_v}) "
                f"to {newer.isoformat()} (version {newer_v})"
            )
    sexes = [(v.get("meta", {}).get("versionId", "?"), v.get("gender")) for v in versions]
    known = [(version, sex) for version, sex in sexes if sex in SEXES]
    for (newer_v, newer), (older_v, older) in pairwise(known):
        if newer != older:
            reasons.append(
                f"administrative sex changed from {older} (version {older_v}) "
                f"to {newer} (version {newer_v})"
            )
    if versions:
        for kind, values in hard_identifiers(versions[0]).items():
            if len(values) > 1:
                reasons.append(f"the record carries {len(values)} different {kind} numbers")
    seen: dict[str, set[str]] = {}
    for version in versions:
        for kind, values in hard_identifiers(version).items():
            seen.setdefault(kind, set()).update(values)
    current = hard_identifiers(versions[0]) if versions else {}
    for kind, values in seen.items():
        if len(values) > 1 and len(current.get(kind, ())) <= 1:
            reasons.append(f"the {kind} number changed between versions")
    return reasons


def flag(connection: Connection, patient_id: str, reasons: list[str], now: int) -> int:
    """Flag a chart for review unless the same reasons are already flagged; 1 if new."""
    text = json.dumps(reasons)
    existing = connection.execute(
        select(mpi_overlays.c.id).where(
            mpi_overlays.c.patient_id == patient_id, mpi_overlays.c.reasons == text
        )
    ).first()
    if existing is not None:
        return 0
    connection.execute(
        mpi_overlays.insert().values(
            id=new_id(), patient_id=patient_id, reasons=text, status="open", created=now
        )
    )
    return 1


def flagged(connection: Connection, status: str = "open", limit: int = 100) -> list[dict[str, Any]]:
    """Flagged charts in a status, newest first."""
    rows = connection.execute(
        select(mpi_overlays)
        .where(mpi_overlays.c.status == status)
        .order_by(mpi_overlays.c.created.desc())
        .limit(limit)
    )
    return [{**as_dict(row), "reasons": json.loads(row.reasons)} for row in rows]


def decide(
    connection: Connection, overlay_id: str, status: str, by: str, note: str | None, now: int
) -> bool:
    """Confirm (split needed) or dismiss a flag; False if it was already decided."""
    done = connection.execute(
        update(mpi_overlays)
        .where(mpi_overlays.c.id == overlay_id, mpi_overlays.c.status == "open")
        .values(status=status, decided_at=now, decided_by=by, note=note)
    )
    return done.rowcount == 1
