"""Buffered writes: the rows of many resource versions inserted with one statement per table.

A transaction Bundle of hundreds of resources then costs a dozen ``executemany`` statements
instead of a dozen statements per resource. Anything that reads flushes the buffer first, so a
transaction always sees its own writes.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, Table, bindparam, func, select, text

from chartkeeper.fhir.index_rows import IndexRows
from chartkeeper.store import schema
from chartkeeper.store.value_sql import bounded


@dataclass
class PendingWrites:
    """Rows waiting to be inserted, per table, plus full-text documents."""

    rows: dict[str, list[dict[str, Any]]] = field(default_factory=dict)
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
        self.rows.setdefault(table.name, []).append(row)
        if table is schema.resources:
            self.keys.add((row["res_type"], row["res_id"]))

    def add_index(
        self, resource_type: str, resource_id: str, patient_id: str | None, index: IndexRows
    ) -> None:
        """Queue every index row of one resource."""
        owner = {"res_type": resource_type, "res_id": resource_id, "patient_id": patient_id}
        for table, rows in index_values(index):
            bucket = self.rows.setdefault(table.name, [])
            bucket.extend({**owner, **row} for row in rows)
        if index.narrative or index.content:
            self.documents.append({**owner, "narrative": index.narrative, "content": index.content})

    def flush(self, connection: Connection) -> None:
        """Apply everything queued (deletions and updates first) and empty the buffer."""
        if self.replaced:
            _replace(connection, self.replaced)
            self.replaced = []
        self.keys = set()
        for table in (schema.resources, schema.history, *schema.INDEX_TABLES):
            rows = self.rows.pop(table.name, None)
            if rows:
                connection.execute(table.insert(), rows)
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


def index_values(index: IndexRows) -> list[tuple[Table, list[dict[str, Any]]]]:
    """Pair each index table with the rows to insert for it (indexed text ``bounded``)."""
    b = bounded
    return [
        (schema.idx_string, [{"param": p, "value": b(v), "exact": e} for p, v, e in index.strings]),
        (
            schema.idx_token,
            [{"param": p, "system": b(s), "code": b(c), "text": t} for p, s, c, t in index.tokens],
        ),
        (schema.idx_date, [{"param": p, "low": lo, "high": hi} for p, lo, hi in index.dates]),
        (
            schema.idx_reference,
            [
                {"param": p, "target_type": t, "target_id": i, "url": u}
                for p, t, i, u in index.references
            ],
        ),
        (schema.idx_number, [{"param": p, "value": v} for p, v in index.numbers]),
        (
            schema.idx_quantity,
            [
                {"param": p, "value": v, "system": s, "code": c, "unit": u}
                for p, v, s, c, u in index.quantities
            ],
        ),
        (schema.idx_uri, [{"param": p, "value": b(v)} for p, v in index.uris]),
        (schema.idx_composite, [_composite_row(c) for c in index.composites]),
    ]


def _composite_row(composite: Any) -> dict[str, Any]:
    row: dict[str, Any] = vars(composite).copy()
    row["code"] = bounded(row.get("code"))
    row["system"] = bounded(row.get("system"))
    return row
