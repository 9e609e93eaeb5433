"""Turn a ``Visibility`` into a SQL condition on rows of ``resources``, ``history`` or an index
table (anything with ``res_type``, ``res_id`` and ``patient_id`` columns).

The one place where access restrictions become SQL, so every read path (search, totals,
includes, chains, history, compartment, export) hides the same rows. It must agree with
``privacy.decision.SearchFilter.admits``, which a test checks row by row.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, and_, exists, false, literal, not_, or_, select, true

from chartkeeper.fhir.visibility import AllOf, AnyOf, Expr, Label, Match, Not, Visibility
from chartkeeper.store import schema

TOKENS = schema.idx_token
REFERENCES = schema.idx_reference
AUTHOR_PARAMS = ("author",)


def visible(rows: Any, visibility: Visibility | None) -> ColumnElement[bool]:
    """True for the rows the caller may see."""
    if visibility is None:
        return true()
    conditions: list[ColumnElement[bool]] = []
    if visibility.resource_types is not None:
        conditions.append(rows.c.res_type.in_(sorted(visibility.resource_types)))
    conditions.append(_in_reach(rows, visibility))
    if visibility.hidden_labels:
        conditions.append(not_(_hidden_label(rows, visibility)))
    for patient_id, denied in visibility.denied:
        conditions.append(not_(and_(rows.c.patient_id == patient_id, condition(rows, denied))))
    return and_(true(), *conditions)


def _in_reach(rows: Any, visibility: Visibility) -> ColumnElement[bool]:
    if visibility.patient_ids is None:
        in_compartment: ColumnElement[bool] = rows.c.patient_id.is_not(None)
    elif visibility.patient_ids:
        in_compartment = rows.c.patient_id.in_(sorted(visibility.patient_ids))
    else:
        in_compartment = false()
    shared: ColumnElement[bool] = false()
    if visibility.include_shared:
        shared = rows.c.patient_id.is_(None)
        if visibility.shared_types is not None:
            shared = and_(shared, rows.c.res_type.in_(sorted(visibility.shared_types)))
    return or_(in_compartment, shared)


def _label_in(labels: frozenset[Label]) -> ColumnElement[bool]:
    if not labels:
        return false()
    return or_(*[and_(TOKENS.c.system == s, TOKENS.c.code == c) for s, c in sorted(labels)])


def _hidden_label(rows: Any, visibility: Visibility) -> ColumnElement[bool]:
    """The row carries a hidden label that no exception releases."""
    released: list[ColumnElement[bool]] = []
    for patient_id, labels in sorted(visibility.visible_labels_by_patient.items()):
        released.append(and_(rows.c.patient_id == patient_id, _label_in(labels)))
    if visibility.author_reference and visibility.author_exempt_labels:
        released.append(
            and_(_label_in(visibility.author_exempt_labels), _authored(rows, visibility))
        )
    return exists(
        select(TOKENS.c.res_id).where(
            TOKENS.c.res_type == rows.c.res_type,
            TOKENS.c.res_id == rows.c.res_id,
            TOKENS.c.param == "_security",
            _label_in(visibility.hidden_labels),
            not_(or_(false(), *released)),
        )
    )


def _authored(rows: Any, visibility: Visibility) -> ColumnElement[bool]:
    kind, _, ident = (visibility.author_reference or "").partition("/")
    # Correlate with the label row of the enclosing subquery (same res_type and res_id as the
    # row): SQLAlchemy correlates only with the immediately enclosing SELECT, so naming ``rows``
    # here added a second, uncorrelated FROM ``resources`` and released the label whenever the
    # author had written *any* record.
    return exists(
        select(REFERENCES.c.res_id).where(
            REFERENCES.c.res_type == TOKENS.c.res_type,
            REFERENCES.c.res_id == TOKENS.c.res_id,
            REFERENCES.c.param.in_(AUTHOR_PARAMS),
            REFERENCES.c.target_type == kind,
            REFERENCES.c.target_id == ident,
        )
    )


def condition(rows: Any, expression: Expr) -> ColumnElement[bool]:
    """SQL for a row condition (a Consent's deny)."""
    if isinstance(expression, AllOf):
        return and_(true(), *[condition(rows, item) for item in expression.items])
    if isinstance(expression, AnyOf):
        return or_(false(), *[condition(rows, item) for item in expression.items])
    if isinstance(expression, Not):
        return not_(condition(rows, expression.item))
    return _match(rows, expression)


def _match(rows: Any, match: Match) -> ColumnElement[bool]:
    parts: list[ColumnElement[bool]] = []
    if match.resource_types is not None:
        parts.append(rows.c.res_type.in_(sorted(match.resource_types)))
    if match.security_labels is not None:
        parts.append(
            exists(
                select(TOKENS.c.res_id).where(
                    TOKENS.c.res_type == rows.c.res_type,
                    TOKENS.c.res_id == rows.c.res_id,
                    TOKENS.c.param == "_security",
                    _label_in(match.security_labels),
                )
            )
        )
    if match.references is not None:
        reference = rows.c.res_type.concat(literal("/")).concat(rows.c.res_id)
        parts.append(reference.in_(sorted(match.references)))
    return and_(true(), *parts)
