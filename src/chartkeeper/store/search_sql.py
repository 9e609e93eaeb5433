"""Compile a parsed ``SearchRequest`` into SQL over the index tables and run it.

Each criterion becomes ``res_id IN (subquery on one index table)``; OR-ed values become OR-ed
conditions inside the subquery; criteria are AND-ed (http://hl7.org/fhir/R4/search.html).

When a criterion names records by id (``patient=Patient/7``, ``_id=...``) it drives the query,
and the other criteria become ``EXISTS`` probes of each candidate through the index tables'
owner index. Otherwise an ``IN`` list of every Observation with a common code (tens of
thousands of ids) would be built just to keep the few hundred of one patient.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import (
    ColumnElement,
    Connection,
    Select,
    String,
    and_,
    exists,
    false,
    func,
    not_,
    or_,
    select,
    true,
)
from sqlalchemy.sql import operators
from sqlalchemy.sql.elements import UnaryExpression

from chartkeeper.core.errors import InvalidError
from chartkeeper.fhir.repository import SearchPage
from chartkeeper.fhir.search_request import (
    CompositeValue,
    Criterion,
    DateValue,
    ReferenceValue,
    SearchRequest,
    SortKey,
    StringValue,
    TokenValue,
)
from chartkeeper.fhir.visibility import Visibility
from chartkeeper.store import fulltext, schema
from chartkeeper.store.rows import stored as stored_row
from chartkeeper.store.value_sql import (
    TABLE_BY_TYPE,
    composite_condition,
    date_condition,
    value_condition,
)
from chartkeeper.store.visibility_sql import visible

R = schema.resources


class SearchCompiler:
    """Builds and runs search SQL for one dialect."""

    def __init__(self, dialect: str) -> None:
        self.dialect = dialect
        self._visibility: Visibility | None = None

    def run(self, connection: Connection, request: SearchRequest) -> SearchPage:
        where = self.where(request)
        total: int | None = None
        if request.total != "none" or request.summary == "count":
            count = select(func.count()).select_from(R).where(where)
            total = int(connection.execute(count).scalar() or 0)
        if request.summary == "count" or request.count == 0:
            return SearchPage(matches=[], total=total)
        keys = [(self._sort_expression(k), k.descending) for k in request.sort]
        columns = [expression.label(f"sort_{n}") for n, (expression, _) in enumerate(keys)]
        query = select(R, *columns).where(where)
        if request.cursor is not None:
            query = query.where(after(keys, _checked_cursor(request.cursor, len(keys))))
        else:
            query = query.offset(request.offset)
        limit = None if request.count is None else request.count + 1  # one more: is there a next?
        rows = connection.execute(query.order_by(*self.order_by(keys)).limit(limit)).all()
        shown = rows if request.count is None else rows[: request.count]
        page = SearchPage(matches=[stored_row(row) for row in shown], total=total)
        if len(rows) > len(shown):
            last = shown[-1]
            page.next_cursor = [getattr(last, f"sort_{n}") for n in range(len(keys))]
            page.next_cursor.append(last.res_id)
        return page

    def where(self, request: SearchRequest) -> ColumnElement[bool]:
        """The condition on ``resources`` selecting the request's matches."""
        self._visibility = request.visibility
        conditions: list[ColumnElement[bool]] = [
            R.c.deleted.is_(False),
            visible(R, request.visibility),
        ]
        if request.resource_type:
            conditions.append(R.c.res_type == request.resource_type)
        elif request.types:
            conditions.append(R.c.res_type.in_(request.types))
        driven = any(names_records(c) for c in request.criteria)
        for criterion in request.criteria:
            if driven and not names_records(criterion) and is_plain(criterion):
                conditions.append(self.probe(criterion))
            else:
                conditions.append(self.criterion(request.resource_type, criterion))
        return and_(*conditions)

    def probe(self, criterion: Criterion) -> ColumnElement[bool]:
        """A plain criterion as ``EXISTS`` over the index rows of the candidate resource."""
        table = TABLE_BY_TYPE[criterion.param_type]
        alternatives = [self._value(table, criterion, v) for v in criterion.values]
        param: Any = table.c.param
        if self.dialect == "sqlite":
            # SQLite's planner, with no histogram of skewed values, takes the value index
            # (res_type, param, code) and walks every row with a common code for each
            # candidate; a unary + on param rules that index out, leaving the owner index
            # (https://sqlite.org/optoverview.html#disqualifying_where_clause_terms_using_unary_)
            param = UnaryExpression(param, operator=operators.custom_op("+"), type_=String())
        return exists().where(
            table.c.res_type == R.c.res_type,
            table.c.res_id == R.c.res_id,
            param == _param_name(criterion),
            or_(*alternatives) if alternatives else false(),
        )

    def criterion(self, resource_type: str | None, criterion: Criterion) -> ColumnElement[bool]:
        """The condition on ``resources`` for one criterion."""
        if criterion.name == "_id":
            return self._ids(criterion)
        if criterion.name == "_lastUpdated":
            return self._last_updated(criterion)
        if criterion.param_type == "text":
            return self._text(criterion)
        if criterion.has is not None:
            return R.c.res_id.in_(self._has_ids(resource_type, criterion))
        ids = self.matching_ids(resource_type, criterion)
        negate = criterion.modifier == "not" or criterion.missing is True
        return R.c.res_id.not_in(ids) if negate else R.c.res_id.in_(ids)

    def matching_ids(self, resource_type: str | None, criterion: Criterion) -> Select[Any]:
        """Ids of resources of ``resource_type`` with index values matching the criterion
        (for ``:not`` and ``:missing=true`` the ids to exclude)."""
        table = TABLE_BY_TYPE[criterion.param_type]
        base = select(table.c.res_id).where(table.c.param == _param_name(criterion))
        if resource_type:
            base = base.where(table.c.res_type == resource_type)
        if criterion.missing is not None:
            return base
        if criterion.chain is not None:
            return base.where(self._chain(table, criterion))
        alternatives = [self._value(table, criterion, v) for v in criterion.values]
        return base.where(or_(*alternatives) if alternatives else false())

    def _value(self, table: Any, criterion: Criterion, value: Any) -> ColumnElement[bool]:
        if criterion.modifier == "of-type" and isinstance(value, CompositeValue):
            # indexed as system = type system, code = "<type code>|<identifier value>"
            second = value.second.code if isinstance(value.second, TokenValue) else None
            combined = TokenValue(value.first.system, f"{value.first.code}|{second}")
            return value_condition(table, "token", None, combined)
        if isinstance(value, CompositeValue):
            return composite_condition(table, value)
        modifier = None if criterion.modifier == "not" else criterion.modifier
        return value_condition(table, criterion.param_type, modifier, value)

    def _chain(self, table: Any, criterion: Criterion) -> ColumnElement[bool]:
        chain = criterion.chain
        assert chain is not None
        options = [
            and_(table.c.target_type == t, table.c.target_id.in_(self.chain_ids(t, chain)))
            for t in criterion.chain_types
        ]
        return or_(*options) if options else false()

    def chain_ids(self, resource_type: str, criterion: Criterion) -> Select[Any]:
        """Ids of ``resource_type`` resources satisfying ``criterion`` (a chained search),
        among those the caller may see, so chains and ``_has`` cannot probe hidden rows."""
        condition = and_(
            R.c.res_type == resource_type,
            R.c.deleted.is_(False),
            visible(R, self._visibility),
            self.criterion(resource_type, criterion),
        )
        return select(R.c.res_id).where(condition).correlate_except(R)

    def _has_ids(self, resource_type: str | None, criterion: Criterion) -> Select[Any]:
        ref = schema.idx_reference
        assert criterion.has is not None and criterion.has_type is not None
        referring = self.chain_ids(criterion.has_type, criterion.has)
        query = select(ref.c.target_id).where(
            ref.c.res_type == criterion.has_type,
            ref.c.param == criterion.has_param,
            ref.c.res_id.in_(referring),
        )
        if resource_type:
            query = query.where(ref.c.target_type == resource_type)
        return query

    def _ids(self, criterion: Criterion) -> ColumnElement[bool]:
        ids = [v.code for v in criterion.values if hasattr(v, "code") and v.code]
        condition = R.c.res_id.in_(ids)
        return not_(condition) if criterion.modifier == "not" else condition

    def _last_updated(self, criterion: Criterion) -> ColumnElement[bool]:
        if criterion.missing is not None:
            return false() if criterion.missing else true()
        options = [
            date_condition(R.c.last_updated, R.c.last_updated, v)
            for v in criterion.values
            if isinstance(v, DateValue)
        ]
        return or_(*options) if options else false()

    def _text(self, criterion: Criterion) -> ColumnElement[bool]:
        column = "narrative" if criterion.name == "_text" else "content"
        docs = schema.fulltext_docs
        options = []
        for value in criterion.values:
            raw = value.raw if isinstance(value, StringValue) else str(value)
            condition = fulltext.matching_docs(self.dialect, column, raw)
            if condition is not None:
                options.append(condition)
        if not options:
            return false()
        matching = select(docs.c.res_id).where(docs.c.res_type == R.c.res_type, or_(*options))
        return R.c.res_id.in_(matching)

    def order_by(self, keys: list[tuple[Any, bool]]) -> list[Any]:
        """ORDER BY terms for ``_sort`` keys (missing values last), then the id."""
        terms = [(e.desc() if descending else e.asc()).nulls_last() for e, descending in keys]
        terms.append(R.c.res_id.asc())
        return terms

    def _sort_expression(self, key: SortKey) -> Any:
        if key.name == "_id":
            return R.c.res_id
        if key.name == "_lastUpdated":
            return R.c.last_updated
        param_type = key.param.type if key.param else "string"
        table = TABLE_BY_TYPE.get(param_type, schema.idx_string)
        column = {
            "string": "value",
            "token": "code",
            "date": "low",
            "reference": "target_id",
            "number": "value",
            "quantity": "value",
            "uri": "value",
        }.get(param_type, "value")
        aggregate = func.max if key.descending else func.min
        return (
            select(aggregate(table.c[column]))
            .where(
                table.c.res_type == R.c.res_type,
                table.c.res_id == R.c.res_id,
                table.c.param == key.name,
            )
            .scalar_subquery()
        )


def _param_name(criterion: Criterion) -> str:
    """The ``param`` of the criterion's index rows (``:of-type`` rows are kept apart)."""
    if criterion.modifier == "of-type":
        return f"{criterion.name}:of-type"
    return criterion.name


def names_records(criterion: Criterion) -> bool:
    """True for a criterion that picks records out by id: few rows, so it drives the query."""
    if criterion.name == "_id":
        return criterion.modifier is None and bool(criterion.values)
    return (
        criterion.param_type == "reference"
        and is_plain(criterion)
        and all(isinstance(v, ReferenceValue) and v.target_id for v in criterion.values)
    )


def is_plain(criterion: Criterion) -> bool:
    """A criterion on one index table with values, not negated, chained or reverse-chained."""
    return (
        criterion.param is not None
        and criterion.param_type in TABLE_BY_TYPE
        and criterion.modifier != "not"
        and criterion.missing is None
        and criterion.chain is None
        and criterion.has is None
        and bool(criterion.values)
    )


def reference_ids(values: list[ReferenceValue]) -> list[str]:
    """The ids a list of reference values names (for ``_id``-like shortcuts)."""
    return [v.target_id for v in values if v.target_id]


def _checked_cursor(cursor: list[Any], keys: int) -> list[Any]:
    if len(cursor) != keys + 1:
        raise InvalidError("The page cursor does not fit this search's _sort; start again")
    return cursor


def after(keys: list[tuple[Any, bool]], cursor: list[Any]) -> ColumnElement[bool]:
    """Rows strictly after ``cursor`` in the order of ``keys`` then id (keyset paging).

    Missing sort values sort last in both directions, matching ``order_by``.
    """
    if not keys:
        return R.c.res_id > cursor[-1]  # type: ignore[no-any-return]
    (expression, descending), value = keys[0], cursor[0]
    rest = after(keys[1:], cursor[1:])
    if value is None:
        return and_(expression.is_(None), rest)
    beyond = expression < value if descending else expression > value
    return or_(beyond, expression.is_(None), and_(expression == value, rest))
