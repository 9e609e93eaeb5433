"""``SqlRepository``: the FHIR resource repository on SQLAlchemy Core (SQLite or PostgreSQL)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import replace

from sqlalchemy import Connection, Engine, and_, bindparam, func, or_, select
from sqlalchemy.exc import OperationalError

from chartkeeper.core.errors import BusyError
from chartkeeper.core.ids import is_valid_id
from chartkeeper.fhir.index_rows import IndexRows
from chartkeeper.fhir.repository import (
    ChartMatch,
    HistoryQuery,
    SearchPage,
    StoredResource,
    TextQuery,
)
from chartkeeper.fhir.search_request import Include, SearchRequest
from chartkeeper.fhir.visibility import Visibility
from chartkeeper.store import schema
from chartkeeper.store.chart_search_sql import bodies_query, chart_search_query, is_searchable
from chartkeeper.store.engine import WRITE_OPTION, WriterLock
from chartkeeper.store.includes import resolve_includes
from chartkeeper.store.point_reads import PointReader, point_reader
from chartkeeper.store.rows import STORED_COLUMNS, stored_tuple
from chartkeeper.store.rows import stored as stored_row
from chartkeeper.store.search_sql import SearchCompiler
from chartkeeper.store.visibility_sql import visible
from chartkeeper.store.writes import PendingWrites

R = schema.resources
H = schema.history
#: the columns of ``rows.stored_tuple``, in its order
COLUMNS = tuple(R.c[name] for name in STORED_COLUMNS)
#: built once: composing the statement on every read costs more than running it
READ_ONE = select(R).where(R.c.res_type == bindparam("t"), R.c.res_id == bindparam("i"))


class SqlTransaction:
    """Reads and writes on one database connection and transaction.

    A reading transaction opens its connection only when a query needs one: until then, reads
    by id go through the ``PointReader`` (a lone ``SELECT`` needs no transaction around it).
    """

    def __init__(
        self,
        connection: Connection | Callable[[], Connection],
        dialect: str | None = None,
        points: PointReader | None = None,
    ) -> None:
        if isinstance(connection, Connection):
            self._connection: Connection | None = connection
            self._open: Callable[[], Connection] | None = None
            dialect = connection.dialect.name
        else:
            self._connection, self._open = None, connection
        assert dialect is not None, "a lazily opened transaction needs its dialect's name"
        self._compiler = SearchCompiler(dialect)
        self._points = points
        self._pending = PendingWrites()
        #: current versions known without asking the database (prefetched or written here)
        self._known: dict[tuple[str, str], StoredResource | None] = {}

    @property
    def _point_reader(self) -> PointReader | None:
        """The point reader, while this transaction has not opened its own connection (after
        that, its reads must see the transaction's snapshot and its own writes)."""
        return self._points if self._connection is None else None

    @property
    def connection(self) -> Connection:
        """The transaction's connection, opened (and its transaction begun) on first use."""
        if self._connection is None:
            assert self._open is not None
            self._connection = self._open()
        return self._connection

    def read(self, resource_type: str, resource_id: str) -> StoredResource | None:
        if not is_valid_id(resource_id):
            return None  # never stored, as writes check ids (and PostgreSQL refuses a NUL)
        key = (resource_type, resource_id)
        if key in self._known:
            return self._known[key]
        if (points := self._point_reader) is not None:
            row = points.one(points.current_sql, key)
            return stored_tuple(row) if row else None
        self.flush()
        row = self.connection.execute(READ_ONE, {"t": resource_type, "i": resource_id}).first()
        return stored_row(row) if row else None

    def intend(self, interaction: str, resource_type: str, resource_id: str | None = None) -> None:
        """Nothing to check in the store (see ``ResourceTransaction.intend``)."""

    def patients_referring(
        self, target_type: str, target_id: str, sources: tuple[tuple[str, str], ...]
    ) -> frozenset[str]:
        """Ids of the Patients whose records of the (type, reference parameter) ``sources``
        refer to ``target_type/target_id`` (a clinician's treatment relationships, looked up
        on every request: a point read when this transaction has opened no connection)."""
        if not sources:
            return frozenset()
        if (points := self._point_reader) is not None:
            params = (target_type, target_id, *(v for pair in sources for v in pair))
            rows = points.all(points.referring_sql(len(sources)), params)
            return frozenset(str(row[0]) for row in rows)
        self.flush()
        ref = schema.idx_reference
        pairs = or_(*[and_(ref.c.res_type == t, ref.c.param == p) for t, p in sources])
        query = (
            select(ref.c.patient_id)
            .where(
                ref.c.target_type == target_type,
                ref.c.target_id == target_id,
                ref.c.patient_id.is_not(None),
                pairs,
            )
            .distinct()
        )
        return frozenset(str(row.patient_id) for row in self.connection.execute(query))

    def compartment_bodies(self, resource_type: str, patient_id: str) -> list[str]:
        """The bodies of the current ``resource_type`` resources in one patient's compartment
        (the access decision's Consents, on every read: a point read when nothing else has
        opened this transaction's connection)."""
        if (points := self._point_reader) is not None:
            params = (patient_id, resource_type, False)
            return [row[0] for row in points.all(points.compartment_sql, params)]
        self.flush()
        query = select(R.c.body).where(
            R.c.patient_id == patient_id, R.c.res_type == resource_type, R.c.deleted.is_(False)
        )
        return [row.body for row in self.connection.execute(query)]

    def prefetch(self, keys: list[tuple[str, str]]) -> None:
        """Read the current versions of many resources in one query (for a Bundle's PUTs)."""
        wanted = [k for k in keys if k not in self._known and is_valid_id(k[1])]
        self.flush()
        for start in range(0, len(wanted), 500):
            chunk = wanted[start : start + 500]
            for key in chunk:
                self._known[key] = None
            by_type: dict[str, list[str]] = {}
            for resource_type, resource_id in chunk:
                by_type.setdefault(resource_type, []).append(resource_id)
            for resource_type, ids in by_type.items():
                query = select(R).where(R.c.res_type == resource_type, R.c.res_id.in_(ids))
                for row in self.connection.execute(query):
                    self._known[(row.res_type, row.res_id)] = stored_row(row)

    def vread(self, resource_type: str, resource_id: str, version_id: int) -> StoredResource | None:
        if not is_valid_id(resource_id):
            return None  # see read()
        if (points := self._point_reader) is not None:
            found = points.one(points.version_sql, (resource_type, resource_id, version_id))
            return stored_tuple(found) if found else None
        self.flush()
        row = self.connection.execute(
            select(H).where(
                H.c.res_type == resource_type,
                H.c.res_id == resource_id,
                H.c.version_id == version_id,
            )
        ).first()
        return stored_row(row) if row else None

    def write(
        self,
        stored: StoredResource,
        index: IndexRows | None,
        patient_id: str | None,
        replaces: bool = True,
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
        if replaces:
            self._pending.replace(self.connection, values)
        else:
            self._pending.add(R, values)
        self._pending.add(H, {**values, "method": stored.method})
        if index is not None:
            self._pending.add_index(stored.resource_type, stored.id, patient_id, index)
        stored = replace(stored, patient_id=patient_id)
        self._known[(stored.resource_type, stored.id)] = stored
        return stored

    def flush(self) -> None:
        """Write buffered rows (before any read, and at commit)."""
        self._pending.flush(self.connection)

    def search(self, request: SearchRequest) -> SearchPage:
        self.flush()
        return self._compiler.run(self.connection, request)

    def include(
        self,
        matches: list[StoredResource],
        includes: list[Include],
        reverse: bool,
        visibility: Visibility | None = None,
    ) -> list[StoredResource]:
        self.flush()
        return resolve_includes(self.connection, matches, includes, reverse, visibility)

    def history(self, query: HistoryQuery) -> tuple[list[StoredResource], int]:
        self.flush()
        conditions = []
        if query.resource_type:
            conditions.append(H.c.res_type == query.resource_type)
        if query.resource_id:
            conditions.append(H.c.res_id == query.resource_id)
        if query.since is not None:
            conditions.append(H.c.last_updated >= query.since)
        if query.at is not None:
            conditions.append(H.c.last_updated <= query.at)
        where = and_(visible(H, query.visibility), *conditions)
        total = self.connection.execute(select(func.count()).select_from(H).where(where)).scalar()
        rows = self.connection.execute(
            select(H).where(where).order_by(H.c.seq.desc()).limit(query.count).offset(query.offset)
        )
        return [stored_row(r) for r in rows], int(total or 0)

    def compartment(
        self,
        patient_id: str,
        types: list[str] | None,
        since: int | None,
        visibility: Visibility | None = None,
    ) -> Iterator[StoredResource]:
        self.flush()
        conditions = [
            R.c.patient_id == patient_id,
            R.c.deleted.is_(False),
            visible(R, visibility),
        ]
        if types:
            conditions.append(R.c.res_type.in_(types))
        if since is not None:
            conditions.append(R.c.last_updated >= since)
        query = select(*COLUMNS).where(*conditions).order_by(R.c.res_type, R.c.res_id)
        # rows read by position: a compartment is thousands of rows, and the name lookups of
        # SQLAlchemy's Row cost more per row than the query does
        for row in self.connection.execute(query).all():
            yield stored_tuple(row)

    def referenced_by_compartment(
        self, patient_id: str, visibility: Visibility | None = None
    ) -> list[StoredResource]:
        self.flush()
        ref = schema.idx_reference
        targets = (
            select(ref.c.target_type, ref.c.target_id)
            .where(
                ref.c.patient_id == patient_id,
                ref.c.target_id.is_not(None),
                visible(ref, visibility),  # only what visible resources refer to
            )
            .distinct()
            .subquery()
        )
        query = (
            select(R)
            .join(
                targets,
                and_(R.c.res_type == targets.c.target_type, R.c.res_id == targets.c.target_id),
            )
            .where(
                R.c.deleted.is_(False),
                or_(R.c.patient_id.is_(None), R.c.patient_id != patient_id),
                visible(R, visibility),
            )
            .order_by(R.c.res_type, R.c.res_id)
        )
        return [stored_row(row) for row in self.connection.execute(query)]

    def iterate(
        self, resource_type: str | None, visibility: Visibility | None = None
    ) -> Iterator[StoredResource]:
        self.flush()
        query = select(R).where(R.c.deleted.is_(False), visible(R, visibility))
        if resource_type:
            query = query.where(R.c.res_type == resource_type)
        result = self.connection.execution_options(yield_per=1000).execute(
            query.order_by(R.c.res_type, R.c.res_id)
        )
        for row in result:
            yield stored_row(row)

    def chart_search(
        self,
        patient_id: str,
        query: TextQuery,
        limit: int,
        visibility: Visibility | None = None,
    ) -> tuple[list[ChartMatch], int]:
        if not is_searchable(query) or limit < 1:
            return [], 0
        self.flush()
        dialect = self.connection.dialect.name
        ranked = self.connection.execute(
            chart_search_query(dialect, patient_id, query, visibility)
        ).all()
        best = {(row.res_type, row.res_id): float(row.score) for row in ranked[:limit]}
        if not best:
            return [], 0
        rows = self.connection.execute(bodies_query(list(best))).all()
        found = {(row.res_type, row.res_id): stored_row(row) for row in rows}
        matches = [ChartMatch(found[key], score) for key, score in best.items() if key in found]
        return matches, len(ranked)


class SqlRepository:
    """The resource repository over one engine."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._writer = WriterLock(engine)
        self._points = point_reader(engine)

    @property
    def writer_lock(self) -> WriterLock:
        """The in-process writer lock (SQLite: one writer at a time), for other writers."""
        return self._writer

    @contextmanager
    def transaction(self) -> Iterator[SqlTransaction]:
        with self._writer:
            try:
                with (
                    self.engine.connect().execution_options(**{WRITE_OPTION: True}) as conn,
                    conn.begin(),
                ):
                    tx = SqlTransaction(conn)
                    yield tx
                    tx.flush()
            except OperationalError as error:
                if "locked" in str(error).lower() or "busy" in str(error).lower():
                    raise BusyError("The store is busy; retry shortly") from error
                raise

    @contextmanager
    def reading(self) -> Iterator[SqlTransaction]:
        with ExitStack() as stack:

            def open_connection() -> Connection:
                connection = stack.enter_context(self.engine.connect())
                stack.enter_context(connection.begin())
                return connection

            yield SqlTransaction(open_connection, self.engine.dialect.name, self._points)

    def close(self) -> None:
        """Close the point-read connections (the engine's pool is the engine owner's)."""
        if self._points is not None:
            self._points.close()
