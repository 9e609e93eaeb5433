"""Buffered writes: the rows of many resource versions inserted with one statement per table.

A transaction Bundle of hundreds of resources then costs a dozen ``executemany`` statements
instead of a dozen statements per resource. Anything that reads flushes the buffer first, so a
transaction always sees its own writes.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from functools import cache
from operator import itemgetter
from typing import Any

from sqlalchemy import Connection, Table, bindparam, func, select, text

from chartkeeper.fhir.index_rows import IndexRows
from chartkeeper.store import schema
from chartkeeper.store.engine import placeholder
from chartkeeper.store.value_sql import bounded


@dataclass
class PendingWrites:
    """Rows waiting to be inserted, per table, plus full-text documents.

    Rows are kept as tuples in the order of ``insert_columns`` and inserted with the driver's
    own ``executemany`` inside the transaction's connection: SQLAlchemy's per-row parameter
    processing cost more than SQLite's inserting them (measured on Synthea ingest).
    """

    rows: dict[str, list[tuple[Any, ...]]] = field(default_factory=dict)
    documents: list[dict[str, Any]] = field(default_factory=list)
    #: resources whose old index rows must go, and their new ``resources`` values
    replaced: list[dict[str, Any]] = field(default_factory=list)
    keys: set[tuple[str, str]] = field(default_factory=set)

    def replace(self, connection: Connection, values: dict[str, Any]) -> None:
        """Queue the update of an existing resource (its old index rows are dropped first).

        A resource already written in this buffer is flushed first, so its earlier rows are
        in the database when the delete runs.
        """
        key = (values["res_type"], values["res_id"])
        if key in self.keys:
            self.flush(connection)
        self.replaced.append(values)
        self.keys.add(key)

    def add(self, table: Table, row: dict[str, Any]) -> None:
        self.rows.setdefault(table.name, []).append(_row_getter(table)(row))
        if table is schema.resources:
            self.keys.add((row["res_type"], row["res_id"]))

    def add_index(
        self, resource_type: str, resource_id: str, patient_id: str | None, index: IndexRows
    ) -> None:
        """Queue every index row of one resource."""
        owner = (resource_type, resource_id, patient_id)
        for table, rows in index_tuples(index):
            if rows:
                self.rows.setdefault(table.name, []).extend(owner + row for row in rows)
        if index.narrative or index.content:
            document = {"narrative": index.narrative, "content": index.content}
            self.documents.append(dict(zip(_OWNER, owner, strict=False)) | document)

    def flush(self, connection: Connection) -> None:
        """Apply everything queued (deletions and updates first) and empty the buffer."""
        if self.replaced:
            _replace(connection, self.replaced)
            self.replaced = []
        self.keys = set()
        for table in (schema.resources, schema.history, *schema.INDEX_TABLES):
            rows = self.rows.pop(table.name, None)
            if rows:
                _insert_many(connection, table, rows)
        if self.documents:
            _insert_documents(connection, self.documents)
            self.documents = []


def _replace(connection: Connection, replaced: list[dict[str, Any]]) -> None:
    owners = [{"t": v["res_type"], "i": v["res_id"]} for v in replaced]
    for table in schema.INDEX_TABLES:
        connection.execute(
            table.delete().where(
                table.c.res_type == bindparam("t"), table.c.res_id == bindparam("i")
            ),
            owners,
        )
    docs = schema.fulltext_docs
    if connection.dialect.name == "sqlite":
        connection.execute(
            text(
                "DELETE FROM fulltext WHERE rowid IN (SELECT doc_id FROM fulltext_docs "
                "WHERE res_type = :t AND res_id = :i)"
            ),
            owners,
        )
    connection.execute(
        docs.delete().where(docs.c.res_type == bindparam("t"), docs.c.res_id == bindparam("i")),
        owners,
    )
    resources = schema.resources
    connection.execute(
        resources.update()
        .where(resources.c.res_type == bindparam("t"), resources.c.res_id == bindparam("i"))
        .values(
            version_id=bindparam("version_id"),
            last_updated=bindparam("last_updated"),
            deleted=bindparam("deleted"),
            patient_id=bindparam("patient_id"),
            body=bindparam("body"),
        ),
        [
            {
                **{k: v for k, v in values.items() if k not in ("res_type", "res_id")},
                "t": values["res_type"],
                "i": values["res_id"],
            }
            for values in replaced
        ],
    )


def _insert_documents(connection: Connection, documents: list[dict[str, Any]]) -> None:
    docs = schema.fulltext_docs
    if connection.dialect.name != "sqlite":
        connection.execute(
            text(
                "INSERT INTO fulltext_docs (res_type, res_id, patient_id, narrative_tsv, "
                "content_tsv) VALUES (:res_type, :res_id, :patient_id, "
                "to_tsvector('simple', :narrative), to_tsvector('simple', :content))"
            ),
            documents,
        )
        return
    # SQLite has one writer at a time, so numbering from the current maximum is safe here.
    start = connection.execute(select(func.coalesce(func.max(docs.c.doc_id), 0))).scalar() or 0
    numbered = [{**d, "doc_id": start + n} for n, d in enumerate(documents, 1)]
    connection.execute(
        docs.insert(),
        [{k: d[k] for k in ("doc_id", "res_type", "res_id", "patient_id")} for d in numbered],
    )
    connection.execute(
        text(
            "INSERT INTO fulltext(rowid, narrative, content) VALUES (:doc_id, :narrative, :content)"
        ),
        [{k: d[k] for k in ("doc_id", "narrative", "content")} for d in numbered],
    )


def insert_columns(table: Table) -> tuple[str, ...]:
    """The columns a buffered row of ``table`` fills, in order (not the generated ``seq``)."""
    return _COLUMNS[table.name]


_OWNER = ("res_type", "res_id", "patient_id", "param")
_COLUMNS: dict[str, tuple[str, ...]] = {
    **{
        table.name: tuple(c.name for c in table.columns if c.name != "seq")
        for table in (schema.resources, schema.history)
    },
    # index rows: the owner and parameter first, then the table's value columns
    **{
        table.name: _OWNER + tuple(c.name for c in table.columns if c.name not in _OWNER)
        for table in schema.INDEX_TABLES
    },
}


@cache
def _row_getter(table: Table) -> Callable[[dict[str, Any]], tuple[Any, ...]]:
    """A dict row of ``table`` as the tuple ``insert_columns`` orders (a missing key is None)."""
    columns = insert_columns(table)

    def values(row: dict[str, Any]) -> tuple[Any, ...]:
        if len(row) == len(columns):  # the usual case: every column given
            try:
                found: tuple[Any, ...] = getter(row)
                return found
            except KeyError:
                pass
        return tuple(row.get(column) for column in columns)

    getter = itemgetter(*columns)
    return values


def _insert_many(connection: Connection, table: Table, rows: list[tuple[Any, ...]]) -> None:
    columns = insert_columns(table)
    mark = placeholder(connection.dialect)
    statement = (
        f"INSERT INTO {table.name} ({', '.join(columns)}) "  # noqa: S608 (names from the schema)
        f"VALUES ({', '.join([mark] * len(columns))})"
    )
    cursor = connection.connection.cursor()  # the transaction's own DB-API connection
    try:
        cursor.executemany(statement, rows)
    finally:
        cursor.close()


def index_tuples(index: IndexRows) -> list[tuple[Table, list[tuple[Any, ...]]]]:
    """Each index table with its rows: the parameter and values after the owner columns
    (res_type, res_id, patient_id), in ``insert_columns`` order; indexed text is ``bounded``."""
    b = bounded
    return [
        (schema.idx_string, [(p, b(v), e) for p, v, e in index.strings]),
        (schema.idx_token, [(p, b(s), b(c), t) for p, s, c, t in index.tokens]),
        (schema.idx_date, [(p, lo, hi) for p, lo, hi in index.dates]),
        (schema.idx_reference, [(p, t, i, u) for p, t, i, u in index.references]),
        (schema.idx_number, [(p, v) for p, v in index.numbers]),
        (schema.idx_quantity, [(p, v, s, c, u) for p, v, s, c, u in index.quantities]),
        (schema.idx_uri, [(p, b(v)) for p, v in index.uris]),
        (schema.idx_composite, [_composite_row(c) for c in index.composites]),
    ]


_COMPOSITE_VALUES = _COLUMNS["idx_composite"][len(_OWNER) :]
_COMPOSITE_INDEXED = frozenset({"system", "code"})


def _composite_row(composite: Any) -> tuple[Any, ...]:
    row: dict[str, Any] = vars(composite)
    values = (
        bounded(row[name]) if name in _COMPOSITE_INDEXED else row[name]
        for name in _COMPOSITE_VALUES
    )
    return (row["param"], *values)
