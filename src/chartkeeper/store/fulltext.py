"""Full-text search for ``_text`` and ``_content``: FTS5 on SQLite, tsvector on PostgreSQL.

The one place where the two dialects differ for text search
(http://hl7.org/fhir/R4/search.html#text).
"""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import ColumnElement, Connection, Select, bindparam, func, select, table, text
from sqlalchemy.sql import literal_column

from chartkeeper.store import schema

_WORD = re.compile(r"\w+", re.UNICODE)


def remove(connection: Connection, resource_type: str, resource_id: str) -> None:
    """Drop a resource's full text."""
    docs = schema.fulltext_docs
    owner = (docs.c.res_type == resource_type) & (docs.c.res_id == resource_id)
    doc_id = connection.execute(docs.select().with_only_columns(docs.c.doc_id).where(owner))
    found = doc_id.scalar()
    if found is None:
        return
    if connection.dialect.name == "sqlite":
        connection.execute(text("DELETE FROM fulltext WHERE rowid = :d"), {"d": found})
    connection.execute(docs.delete().where(docs.c.doc_id == found))


def store(
    connection: Connection,
    resource_type: str,
    resource_id: str,
    patient_id: str | None,
    narrative: str,
    content: str,
) -> None:
    """Index a resource's narrative and content (call ``remove`` first on update)."""
    if not narrative and not content:
        return
    docs = schema.fulltext_docs
    result = connection.execute(
        docs.insert().values(res_type=resource_type, res_id=resource_id, patient_id=patient_id)
    )
    doc_id = result.inserted_primary_key[0] if result.inserted_primary_key else None
    params = {"d": doc_id, "n": narrative, "c": content}
    if connection.dialect.name == "sqlite":
        connection.execute(
            text("INSERT INTO fulltext(rowid, narrative, content) VALUES (:d, :n, :c)"), params
        )
    else:
        connection.execute(
            text(
                "UPDATE fulltext_docs SET narrative_tsv = to_tsvector('simple', :n), "
                "content_tsv = to_tsvector('simple', :c) WHERE doc_id = :d"
            ),
            params,
        )


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
