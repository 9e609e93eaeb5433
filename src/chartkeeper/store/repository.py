"""``SqlRepository``: the FHIR resource repository on SQLAlchemy Core (SQLite or PostgreSQL)."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import Connection, Engine, Row, and_, func, or_, select
from sqlalchemy.exc import OperationalError

from chartkeeper.core.errors import BusyError
from chartkeeper.fhir.index_rows import IndexRows
from chartkeeper.fhir.repository import HistoryQuery, SearchPage, StoredResource
from chartkeeper.fhir.search_request import Include, SearchRequest
from chartkeeper.store import fulltext, schema
from chartkeeper.store.engine import WRITE_OPTION, WriterLock
from chartkeeper.store.includes import resolve_includes
from chartkeeper.store.search_sql import SearchCompiler

R = schema.resources
H = schema.history


def _stored(row: Row[Any]) -> StoredResource:
    return StoredResource(
        resource_type=row.res_type,
        id=row.res_id,
        version_id=row.version_id,
        last_updated=row.last_updated,
        deleted=bool(row.deleted),
        body=row.body,
        method=getattr(row, "method", "PUT"),
    )


class SqlTransaction:
    """Reads and writes on one open database connection and transaction."""

    def __init__(self, connection: Connection) -> None:
        self.connection = connection
        self._compiler = SearchCompiler(connection.dialect.name)

    def read(self, resource_type: str, resource_id: str) -> StoredResource | None:
        row = self.connection.execute(
            select(R).where(R.c.res_type == resource_type, R.c.res_id == resource_id)
        ).first()
        return _stored(row) if row else None

    def vread(self, resource_type: str, resource_id: str, version_id: int) -> StoredResource | None:
        row = self.connection.execute(
            select(H).where(
                H.c.res_type == resource_type,
                H.c.res_id == resource_id,
                H.c.version_id == version_id,
            )
        ).first()
        return _stored(row) if row else None

    def write(
        self, stored: StoredResource, index: IndexRows | None, patient_id: str | None
    ) -> StoredResource:
        values = {
            "res_type": stored.resource_type,
            "res_id": stored.id,
            "version_id": stored.version_id,
            "last_updated": stored.last_updated,
            "deleted": stored.deleted,
            "patient_id": patient_id,
            "body": stored.body,
        }
        result = self.connection.execute(H.insert().values(method=stored.method, **values))
        seq = result.inserted_primary_key[0] if result.inserted_primary_key else 0
        owner = and_(R.c.res_type == stored.resource_type, R.c.res_id == stored.id)
        updated = self.connection.execute(R.update().where(owner).values(seq=seq, **values))
        if updated.rowcount == 0:
            self.connection.execute(R.insert().values(seq=seq, **values))
        self._replace_index(stored.resource_type, stored.id, patient_id, index)
        return stored

    def _replace_index(
        self, resource_type: str, resource_id: str, patient_id: str | None, index: IndexRows | None
    ) -> None:
        for table in schema.INDEX_TABLES:
            self.connection.execute(
                table.delete().where(
                    table.c.res_type == resource_type, table.c.res_id == resource_id
                )
            )
        fulltext.remove(self.connection, resource_type, resource_id)
        if index is None:
            return
        owner = {"res_type": resource_type, "res_id": resource_id, "patient_id": patient_id}
        for table, rows in _index_values(index):
            if rows:
                self.connection.execute(table.insert(), [{**owner, **row} for row in rows])
        fulltext.store(
            self.connection, resource_type, resource_id, patient_id, index.narrative, index.content
        )

    def search(self, request: SearchRequest) -> SearchPage:
        return self._compiler.run(self.connection, request)

    def include(
        self, matches: list[StoredResource], includes: list[Include], reverse: bool
    ) -> list[StoredResource]:
        return resolve_includes(self.connection, matches, includes, reverse)

    def history(self, query: HistoryQuery) -> tuple[list[StoredResource], int]:
        conditions = []
        if query.resource_type:
            conditions.append(H.c.res_type == query.resource_type)
        if query.resource_id:
            conditions.append(H.c.res_id == query.resource_id)
        if query.since is not None:
            conditions.append(H.c.last_updated >= query.since)
        if query.at is not None:
            conditions.append(H.c.last_updated <= query.at)
        where = and_(True, *conditions)
        total = self.connection.execute(select(func.count()).select_from(H).where(where)).scalar()
        rows = self.connection.execute(
            select(H).where(where).order_by(H.c.seq.desc()).limit(query.count).offset(query.offset)
        )
        return [_stored(r) for r in rows], int(total or 0)

    def compartment(
        self, patient_id: str, types: list[str] | None, since: int | None
    ) -> Iterator[StoredResource]:
        conditions = [R.c.patient_id == patient_id, R.c.deleted.is_(False)]
        if types:
            conditions.append(R.c.res_type.in_(types))
        if since is not None:
            conditions.append(R.c.last_updated >= since)
        query = select(R).where(*conditions).order_by(R.c.res_type, R.c.res_id)
        for row in self.connection.execute(query):
            yield _stored(row)

    def referenced_by_compartment(self, patient_id: str) -> list[StoredResource]:
        ref = schema.idx_reference
        targets = (
            select(ref.c.target_type, ref.c.target_id)
            .where(ref.c.patient_id == patient_id, ref.c.target_id.is_not(None))
            .distinct()
            .subquery()
        )
        query = (
            select(R)
            .join(targets, and_(R.c.res_type == targets.c.target_type,
                                R.c.res_id == targets.c.target_id))
            .where(R.c.deleted.is_(False), or_(R.c.patient_id.is_(None),
                                               R.c.patient_id != patient_id))
            .order_by(R.c.res_type, R.c.res_id)
        )
        return [_stored(row) for row in self.connection.execute(query)]

    def iterate(self, resource_type: str | None) -> Iterator[StoredResource]:
        query = select(R).where(R.c.deleted.is_(False))
        if resource_type:
            query = query.where(R.c.res_type == resource_type)
        result = self.connection.execution_options(yield_per=1000).execute(
            query.order_by(R.c.res_type, R.c.res_id)
        )
        for row in result:
            yield _stored(row)


def _index_values(index: IndexRows) -> list[tuple[Any, list[dict[str, Any]]]]:
    """Pair each index table with the rows to insert for it."""
    return [
        (schema.idx_string, [{"param": p, "value": v, "exact": e} for p, v, e in index.strings]),
        (
            schema.idx_token,
            [{"param": p, "system": s, "code": c, "text": t} for p, s, c, t in index.tokens],
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
        (schema.idx_uri, [{"param": p, "value": v} for p, v in index.uris]),
        (schema.idx_composite, [vars(c).copy() for c in index.composites]),
    ]


class SqlRepository:
    """The resource repository over one engine."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._writer = WriterLock(engine)

    @contextmanager
    def transaction(self) -> Iterator[SqlTransaction]:
        with self._writer:
            try:
                with (
                    self.engine.connect().execution_options(**{WRITE_OPTION: True}) as conn,
                    conn.begin(),
                ):
                    yield SqlTransaction(conn)
            except OperationalError as error:
                if "locked" in str(error).lower() or "busy" in str(error).lower():
                    raise BusyError("The store is busy; retry shortly") from error
                raise

    @contextmanager
    def reading(self) -> Iterator[SqlTransaction]:
        with self.engine.connect() as conn, conn.begin():
            yield SqlTransaction(conn)
