"""The storage contract the FHIR interactions need, implemented by ``store``.

Interactions own FHIR semantics (versions, conditional logic, bundles); a repository owns
persistence. Every method of a ``ResourceTransaction`` runs inside one database transaction, so
a FHIR transaction Bundle is all or nothing.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field
from typing import Any, Protocol

import orjson

from chartkeeper.fhir.index_rows import IndexRows
from chartkeeper.fhir.search_request import Include, SearchRequest
from chartkeeper.fhir.visibility import Visibility


@dataclass(frozen=True)
class StoredResource:
    """One version of a resource as stored; ``body`` is its JSON text (None when deleted)."""

    resource_type: str
    id: str
    version_id: int
    last_updated: int  # epoch microseconds UTC
    deleted: bool
    body: str | None
    method: str = "PUT"
    #: the Patient compartment the version belongs to (the distribution key), if any
    patient_id: str | None = None

    def resource(self) -> dict[str, Any]:
        """The resource as a dict (deleted versions have none)."""
        if self.body is None:
            raise ValueError(f"{self.resource_type}/{self.id} has no body (deleted)")
        loaded: dict[str, Any] = orjson.loads(self.body)
        return loaded


@dataclass
class SearchPage:
    """The matches of one search page, their total, and what was included alongside."""

    matches: list[StoredResource]
    total: int | None
    included: list[StoredResource] = field(default_factory=list)
    #: the position after the last match (sort values then id), when a page may follow
    next_cursor: list[Any] | None = None


@dataclass(frozen=True)
class TextPhrase:
    """Words that must appear in this order (folded as ``fhir.text.normalize`` folds them);
    the last one as a prefix when ``prefix`` (chart search)."""

    words: tuple[str, ...]
    prefix: bool = False


#: A chart search's text query: every group must match; a group matches when any of its
#: phrases does (the words the user typed and their abbreviation/synonym variants).
TextQuery = tuple[tuple[TextPhrase, ...], ...]


@dataclass(frozen=True)
class ChartMatch:
    """One resource a chart search found, with its relevance (higher is better)."""

    stored: StoredResource
    score: float


@dataclass(frozen=True)
class HistoryQuery:
    """Which history to list: system (no type), type, or instance; newest first."""

    resource_type: str | None = None
    resource_id: str | None = None
    since: int | None = None  # epoch microseconds, inclusive
    at: int | None = None
    count: int = 20
    offset: int = 0
    visibility: Visibility | None = None


class ResourceTransaction(Protocol):
    """Reads and writes inside one database transaction."""

    def read(self, resource_type: str, resource_id: str) -> StoredResource | None:
        """The current version (possibly a deletion marker), or None if never stored."""
        ...

    def prefetch(self, keys: list[tuple[str, str]]) -> None:
        """Load the current versions of many (type, id) pairs at once, so that the reads of a
        Bundle's entries that follow need no round trip each."""
        ...

    def intend(self, interaction: str, resource_type: str, resource_id: str | None = None) -> None:
        """Say which interaction is about to be carried out, before looking anything up: an
        access-control layer refuses a kind of request the caller may never make (the store
        itself has nothing to check)."""
        ...

    def vread(self, resource_type: str, resource_id: str, version_id: int) -> StoredResource | None:
        """A specific version, or None."""
        ...

    def write(
        self,
        stored: StoredResource,
        index: IndexRows | None,
        patient_id: str | None,
        replaces: bool = True,
    ) -> StoredResource:
        """Store a new current version (body None and deleted True for a deletion);
        ``replaces`` is False only when the resource was never stored before."""
        ...

    def search(self, request: SearchRequest) -> SearchPage:
        """Run a parsed search; includes resolved too."""
        ...

    def include(
        self,
        matches: list[StoredResource],
        includes: list[Include],
        reverse: bool,
        visibility: Visibility | None = None,
    ) -> list[StoredResource]:
        """The resources ``_include``/``_revinclude`` add to ``matches``."""
        ...

    def history(self, query: HistoryQuery) -> tuple[list[StoredResource], int]:
        """A page of history entries, newest first, and the total count."""
        ...

    def compartment(
        self,
        patient_id: str,
        types: list[str] | None,
        since: int | None,
        visibility: Visibility | None = None,
    ) -> Iterator[StoredResource]:
        """Every current resource in a Patient's compartment."""
        ...

    def referenced_by_compartment(
        self, patient_id: str, visibility: Visibility | None = None
    ) -> list[StoredResource]:
        """Current resources that the Patient's compartment refers to (practitioners...)."""
        ...

    def iterate(
        self, resource_type: str | None, visibility: Visibility | None = None
    ) -> Iterator[StoredResource]:
        """Every current resource (of a type), for export."""
        ...

    def chart_search(
        self,
        patient_id: str,
        query: TextQuery,
        limit: int,
        visibility: Visibility | None = None,
    ) -> tuple[list[ChartMatch], int]:
        """The ``limit`` best current resources of one Patient's compartment whose narrative
        or content matches ``query``, best first, and how many match in all."""
        ...


class ResourceRepository(Protocol):
    """A store of FHIR resources."""

    def transaction(self) -> AbstractContextManager[ResourceTransaction]:
        """A read-write transaction (one writer at a time on SQLite)."""
        ...

    def reading(self) -> AbstractContextManager[ResourceTransaction]:
        """A read-only transaction."""
        ...
