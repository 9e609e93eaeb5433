"""Full-text search for ``_text`` and ``_content``: FTS5 on SQLite, tsvector on PostgreSQL.

Rows are written by ``store.writes``; the structures are created by the baseline migration.

The one place where the two dialects differ for text search
(http://hl7.org/fhir/R4/search.html#text).
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import ColumnElement, Select, bindparam, func, select, table
from sqlalchemy.sql import literal_column

from chartkeeper.store import schema

_WORD = re.compile(r"\w+", re.UNICODE)


def _terms(query: str) -> list[str]:
    return [w.lower() for w in _WORD.findall(query)]


def matching_docs(dialect: str, column: str, query: str) -> ColumnElement[bool] | None:
    """A condition on ``fulltext_docs`` true for documents whose ``column`` (``narrative`` or
    ``content``) contains every word of ``query``, the last word as a prefix.

    Returns None when the query has no words.
    """
    terms = _terms(query)
    if not terms:
        return None
    docs = schema.fulltext_docs
    if dialect == "sqlite":
        words = " ".join('"' + t.replace('"', "") + '"' for t in terms) + "*"
        matcher = literal_column("fulltext").op("MATCH")(bindparam(None, f"{column} : ({words})"))
        rowids: Select[Any] = (
            select(literal_column("rowid")).select_from(table("fulltext")).where(matcher)
        )
        return docs.c.doc_id.in_(rowids)
    ts_query = " & ".join(t.replace("'", "").replace("\\", "") for t in terms) + ":*"
    tsv: ColumnElement[Any] = literal_column(f"fulltext_docs.{column}_tsv")
    query_value = func.to_tsquery(literal_column("'simple'"), bindparam(None, ts_query))
    condition: ColumnElement[bool] = tsv.op("@@")(query_value)
    return condition
