"""Resolve ``_include`` and ``_revinclude`` (http://hl7.org/fhir/R4/search.html#include)."""

from __future__ import annotations

from sqlalchemy import Connection, and_, or_, select

from chartkeeper.fhir.repository import StoredResource
from chartkeeper.fhir.search_request import Include
from chartkeeper.fhir.visibility import Visibility
from chartkeeper.store import schema
from chartkeeper.store.rows import stored as stored_row
from chartkeeper.store.visibility_sql import visible

R = schema.resources
REF = schema.idx_reference
MAX_ITERATIONS = 4


def _forward(
    connection: Connection,
    sources: list[StoredResource],
    include: Include,
    visibility: Visibility | None,
) -> list[StoredResource]:
    ids = [s.id for s in sources if s.resource_type == include.source_type]
    if not ids:
        return []
    refs = select(REF.c.target_type, REF.c.target_id).where(
        REF.c.res_type == include.source_type, REF.c.res_id.in_(ids), REF.c.target_id.is_not(None)
    )
    if include.param != "*":
        refs = refs.where(REF.c.param == include.param)
    if include.target_type:
        refs = refs.where(REF.c.target_type == include.target_type)
    pairs = {(row.target_type, row.target_id) for row in connection.execute(refs)}
    return _fetch(connection, pairs, visibility)


def _reverse(
    connection: Connection,
    targets: list[StoredResource],
    include: Include,
    visibility: Visibility | None,
) -> list[StoredResource]:
    if not targets:
        return []
    pointers = or_(
        *[and_(REF.c.target_type == t.resource_type, REF.c.target_id == t.id) for t in targets]
    )
    refs = select(REF.c.res_id).where(REF.c.res_type == include.source_type, pointers)
    if include.param != "*":
        refs = refs.where(REF.c.param == include.param)
    pairs = {(include.source_type, row.res_id) for row in connection.execute(refs)}
    return _fetch(connection, pairs, visibility)


def _fetch(
    connection: Connection, pairs: set[tuple[str, str]], visibility: Visibility | None
) -> list[StoredResource]:
    found: list[StoredResource] = []
    by_type: dict[str, list[str]] = {}
    for resource_type, resource_id in pairs:
        by_type.setdefault(resource_type, []).append(resource_id)
    for resource_type, ids in sorted(by_type.items()):
        query = select(R).where(
            R.c.res_type == resource_type,
            R.c.res_id.in_(ids),
            R.c.deleted.is_(False),
            visible(R, visibility),
        )
        found.extend(stored_row(row) for row in connection.execute(query.order_by(R.c.res_id)))
    return found


def resolve_includes(
    connection: Connection,
    matches: list[StoredResource],
    includes: list[Include],
    reverse: bool,
    visibility: Visibility | None = None,
) -> list[StoredResource]:
    """Resources that the includes add, without duplicates of ``matches`` or each other;
    ``:iterate`` includes are applied again to what was just added."""
    seen = {(m.resource_type, m.id) for m in matches}
    added: list[StoredResource] = []
    frontier = list(matches)
    for iteration in range(MAX_ITERATIONS):
        active = [i for i in includes if iteration == 0 or i.iterate]
        fresh: list[StoredResource] = []
        for include in active:
            step = _reverse if reverse else _forward
            for resource in step(connection, frontier, include, visibility):
                key = (resource.resource_type, resource.id)
                if key not in seen:
                    seen.add(key)
                    fresh.append(resource)
        if not fresh:
            break
        added.extend(fresh)
        frontier = fresh
    return added
