"""Turn a ``Visibility`` into a SQL condition on ``resources`` or ``history`` rows.

The one place where access restrictions become SQL, so every read path (search, totals,
includes, history, compartment, export) hides the same rows.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, and_, exists, false, not_, or_, select, true, tuple_

from chartkeeper.fhir.visibility import Visibility
from chartkeeper.store import schema

TOKENS = schema.idx_token


def visible(rows: Any, visibility: Visibility | None) -> ColumnElement[bool]:
    """True for the rows of ``rows`` (the resources or history table) the caller may see."""
    if visibility is None:
        return true()
    conditions: list[ColumnElement[bool]] = []
    if visibility.resource_types is not None:
        conditions.append(rows.c.res_type.in_(sorted(visibility.resource_types)))
    if visibility.patient_ids is not None:
        in_compartment = (
            rows.c.patient_id.in_(sorted(visibility.patient_ids))
            if visibility.patient_ids
            else false()
        )
        shared = rows.c.patient_id.is_(None) if visibility.include_shared else false()
        conditions.append(or_(in_compartment, shared))
    if visibility.hidden_labels:
        conditions.append(not_(_labelled(rows, visibility.hidden_labels)))
    if visibility.hidden_patient_types:
        pairs = sorted(visibility.hidden_patient_types)
        hidden = tuple_(rows.c.patient_id, rows.c.res_type).in_(pairs)
        conditions.append(or_(rows.c.patient_id.is_(None), not_(hidden)))
    return and_(true(), *conditions)


def _labelled(rows: Any, labels: frozenset[tuple[str, str]]) -> ColumnElement[bool]:
    """The row's current version carries one of ``labels`` in ``meta.security``."""
    matches = or_(*[and_(TOKENS.c.system == s, TOKENS.c.code == c) for s, c in sorted(labels)])
    return exists(
        select(TOKENS.c.res_id).where(
            TOKENS.c.res_type == rows.c.res_type,
            TOKENS.c.res_id == rows.c.res_id,
            TOKENS.c.param == "_security",
            matches,
        )
    )
