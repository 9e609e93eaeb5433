"""The ranked full-text query of chart search: one Patient's compartment, both dialects.

It reads the same structures as ``_text``/``_content`` (``store.fulltext``): the FTS5 table on
SQLite, ranked by ``bm25``; the ``tsvector`` columns on PostgreSQL, ranked by ``ts_rank``. The
caller's ``Visibility`` is compiled by ``visibility_sql.visible`` as on every other read path,
so a hidden row is neither returned nor counted.

Plans differ on purpose. FTS5 cannot filter by patient inside the index, so SQLite walks the
matching documents and keeps the patient's by the document's primary key (a cheap probe);
PostgreSQL starts from the patient's resources (``ix_resources_patient``) and tests each
document's ``tsvector``, which for one chart is cheaper than the GIN index over the store.
"""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Select, and_, bindparam, func, or_, select, table
from sqlalchemy.sql import column, literal_column

from chartkeeper.fhir.repository import TextPhrase, TextQuery
from chartkeeper.fhir.visibility import Visibility
from chartkeeper.store import schema
from chartkeeper.store.visibility_sql import visible

R = schema.resources
D = schema.fulltext_docs
_FTS = table("fulltext", column("rowid"))


def fts5_expression(query: TextQuery) -> str:
    """The FTS5 MATCH expression: phrases in double quotes (quotes inside doubled, so no
    word can become an operator), ``OR`` within a group, ``AND`` across groups."""
    groups = [" OR ".join(_fts5_phrase(p) for p in group) for group in query if group]
    return " AND ".join(f"({g})" for g in groups)


def _fts5_phrase(phrase: TextPhrase) -> str:
    quoted = '"' + " ".join(phrase.words).replace('"', '""') + '"'
    return quoted + "*" if phrase.prefix else quoted


def tsquery_text(query: TextQuery) -> str:
    """The ``to_tsquery('simple', …)`` text: each word a quoted lexeme (quotes and
    backslashes dropped), ``<->`` within a phrase, ``|`` within a group, ``&`` across."""
    groups = [" | ".join(_ts_phrase(p) for p in group) for group in query if group]
    return " & ".join(f"({g})" for g in groups)


def _ts_phrase(phrase: TextPhrase) -> str:
    words = ["'" + w.replace("'", "").replace("\\", "") + "'" for w in phrase.words]
    if phrase.prefix:
        words[-1] += ":*"
    return "(" + " <-> ".join(words) + ")"


def is_searchable(query: TextQuery) -> bool:
    """Every group has a phrase, and every phrase a non-empty word."""
    return bool(query) and all(
        group and all(p.words and all(w.strip() for w in p.words) for p in group) for group in query
    )


def chart_search_query(
    dialect: str, patient_id: str, query: TextQuery, visibility: Visibility | None
) -> Select[Any]:
    """Every match in the compartment as (``res_type``, ``res_id``, ``score``), best first
    (higher is better), then by type and id. No bodies: the caller counts the matches and
    reads the bodies of the best few only (``bodies_query``)."""
    if dialect == "sqlite":
        return _sqlite(patient_id, query, visibility)
    return _postgresql(patient_id, query, visibility)


def bodies_query(keys: list[tuple[str, str]]) -> Select[Any]:
    """The current rows of ``resources`` for (type, id) pairs: ids grouped by type, so each
    group is a look-up in the primary key (a row-value ``IN`` scans the table on SQLite)."""
    by_type: dict[str, list[str]] = {}
    for resource_type, resource_id in keys:
        by_type.setdefault(resource_type, []).append(resource_id)
    return select(R).where(
        or_(*[and_(R.c.res_type == t, R.c.res_id.in_(ids)) for t, ids in by_type.items()])
    )


def _compartment(patient_id: str, visibility: Visibility | None) -> list[ColumnElement[bool]]:
    return [R.c.patient_id == patient_id, R.c.deleted.is_(False), visible(R, visibility)]


def _sqlite(patient_id: str, query: TextQuery, visibility: Visibility | None) -> Select[Any]:
    matcher = literal_column("fulltext").op("MATCH")(
        bindparam("chart_text", fts5_expression(query))
    )
    # bm25 is lower for better matches: negate it so both dialects rank high-first. It may only
    # be computed in the query that scans the FTS5 table (no window function, no subquery).
    score = (-func.bm25(literal_column("fulltext"))).label("score")
    joined = _FTS.join(D, D.c.doc_id == _FTS.c.rowid).join(
        R, and_(R.c.res_type == D.c.res_type, R.c.res_id == D.c.res_id)
    )
    return (
        select(R.c.res_type, R.c.res_id, score)
        .select_from(joined)
        .where(matcher, D.c.patient_id == patient_id, *_compartment(patient_id, visibility))
        .order_by(literal_column("score").desc(), R.c.res_type, R.c.res_id)
    )


def _postgresql(patient_id: str, query: TextQuery, visibility: Visibility | None) -> Select[Any]:
    ts_query = func.to_tsquery(
        literal_column("'simple'"), bindparam("chart_text", tsquery_text(query))
    )
    document: ColumnElement[Any] = literal_column(
        "(fulltext_docs.narrative_tsv || fulltext_docs.content_tsv)"
    )
    score = func.ts_rank(document, ts_query).label("score")
    joined = R.join(D, and_(D.c.res_type == R.c.res_type, D.c.res_id == R.c.res_id))
    return (
        select(R.c.res_type, R.c.res_id, score)
        .select_from(joined)
        .where(document.op("@@")(ts_query), *_compartment(patient_id, visibility))
        .order_by(literal_column("score").desc(), R.c.res_type, R.c.res_id)
    )
