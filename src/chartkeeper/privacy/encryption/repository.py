"""``EncryptedRepository``: the store seen with designated identifiers encrypted at rest.

It sits between the guarded repository and the SQL repository (``app`` wires it). Writes of a
Patient, RelatedPerson, Practitioner or Person encrypt the designated identifier values in the
body and put blind indexes in the index rows; every read (read, vread, search, includes,
history, ``$everything``, export) hands back plaintext. Only bodies that hold a token are parsed
(``identifiers.has_tokens``: a type check and a substring test), so reads of everything else
cost one function call more.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from dataclasses import replace
from typing import Any, Protocol

import orjson
from sqlalchemy import Connection

from chartkeeper.fhir.index_rows import IndexRows
from chartkeeper.fhir.repository import (
    ChartMatch,
    HistoryQuery,
    ResourceTransaction,
    SearchPage,
    StoredResource,
    TextQuery,
)
from chartkeeper.fhir.search_request import Include, SearchRequest
from chartkeeper.fhir.visibility import Visibility
from chartkeeper.privacy.encryption.blind_index import blinded_index, blinded_search
from chartkeeper.privacy.encryption.cipher import FieldCipher
from chartkeeper.privacy.encryption.identifiers import DESIGNATED_TYPES, revealed, seal


class ConnectedTransaction(ResourceTransaction, Protocol):
    """A store transaction that also exposes its database connection (for the guard's facts
    and the audit ledger, which write in the same transaction)."""

    @property
    def connection(self) -> Connection: ...

    def compartment_bodies(self, resource_type: str, patient_id: str) -> list[str]: ...

    def patients_referring(
        self, target_type: str, target_id: str, sources: tuple[tuple[str, str], ...]
    ) -> frozenset[str]: ...


#: Called after each write with the transaction's connection and the version in plaintext.
WriteHook = Callable[[Connection, StoredResource], None]


class ConnectedRepository(Protocol):
    """A store whose transactions expose their connection (``SqlRepository``)."""

    def transaction(self) -> AbstractContextManager[ConnectedTransaction]: ...

    def reading(self) -> AbstractContextManager[ConnectedTransaction]: ...


def sealed_version(
    stored: StoredResource, index: IndexRows | None, cipher: FieldCipher
) -> tuple[StoredResource, IndexRows | None]:
    """The version and index rows to store for ``stored`` (unchanged when nothing is
    designated)."""
    if stored.body is None or stored.resource_type not in DESIGNATED_TYPES:
        return stored, index
    if '"identifier"' not in stored.body:
        return stored, index
    resource: dict[str, Any] = orjson.loads(stored.body)
    sealed = seal(resource, stored.resource_type, stored.id, cipher)
    if not sealed:
        return stored, index
    body = orjson.dumps(resource).decode()
    if index is not None:
        index = blinded_index(index, sealed, resource, cipher)
    return replace(stored, body=body), index


class EncryptedTransaction:
    """A ``ResourceTransaction`` that encrypts designated identifiers on the way in and
    decrypts them on the way out."""

    def __init__(
        self,
        inner: ConnectedTransaction,
        cipher: FieldCipher,
        after_write: tuple[WriteHook, ...] = (),
    ) -> None:
        self._inner = inner
        self._cipher = cipher
        self._after_write = after_write

    @property
    def connection(self) -> Connection:
        return self._inner.connection

    def _plain(self, stored: StoredResource | None) -> StoredResource | None:
        return None if stored is None else revealed(stored, self._cipher)

    def _all_plain(self, found: list[StoredResource]) -> list[StoredResource]:
        return [revealed(stored, self._cipher) for stored in found]

    def read(self, resource_type: str, resource_id: str) -> StoredResource | None:
        return self._plain(self._inner.read(resource_type, resource_id))

    def prefetch(self, keys: list[tuple[str, str]]) -> None:
        self._inner.prefetch(keys)

    def intend(self, interaction: str, resource_type: str, resource_id: str | None = None) -> None:
        self._inner.intend(interaction, resource_type, resource_id)

    def patients_referring(
        self, target_type: str, target_id: str, sources: tuple[tuple[str, str], ...]
    ) -> frozenset[str]:
        found: frozenset[str] = self._inner.patients_referring(target_type, target_id, sources)
        return found

    def compartment_bodies(self, resource_type: str, patient_id: str) -> list[str]:
        """The bodies as stored, for types that never hold a designated identifier (the
        guard's Consent look-up); a designated type would need decrypting, so is refused."""
        if resource_type in DESIGNATED_TYPES:
            raise ValueError(f"compartment_bodies would return sealed {resource_type} values")
        bodies: list[str] = self._inner.compartment_bodies(resource_type, patient_id)
        return bodies

    def vread(self, resource_type: str, resource_id: str, version_id: int) -> StoredResource | None:
        return self._plain(self._inner.vread(resource_type, resource_id, version_id))

    def write(
        self,
        stored: StoredResource,
        index: IndexRows | None,
        patient_id: str | None,
        replaces: bool = True,
    ) -> StoredResource:
        kept, index = sealed_version(stored, index, self._cipher)
        written = self._inner.write(kept, index, patient_id, replaces)
        plain = written if kept is stored else replace(written, body=stored.body)
        for hook in self._after_write:
            hook(self._inner.connection, plain)
        return plain

    def search(self, request: SearchRequest) -> SearchPage:
        page = self._inner.search(blinded_search(request, self._cipher))
        page.matches = self._all_plain(page.matches)
        page.included = self._all_plain(page.included)
        return page

    def include(
        self,
        matches: list[StoredResource],
        includes: list[Include],
        reverse: bool,
        visibility: Visibility | None = None,
    ) -> list[StoredResource]:
        return self._all_plain(self._inner.include(matches, includes, reverse, visibility))

    def history(self, query: HistoryQuery) -> tuple[list[StoredResource], int]:
        found, total = self._inner.history(query)
        return self._all_plain(found), total

    def compartment(
        self,
        patient_id: str,
        types: list[str] | None,
        since: int | None,
        visibility: Visibility | None = None,
    ) -> Iterator[StoredResource]:
        for stored in self._inner.compartment(patient_id, types, since, visibility):
            yield revealed(stored, self._cipher)

    def referenced_by_compartment(
        self, patient_id: str, visibility: Visibility | None = None
    ) -> list[StoredResource]:
        return self._all_plain(self._inner.referenced_by_compartment(patient_id, visibility))

    def iterate(
        self, resource_type: str | None, visibility: Visibility | None = None
    ) -> Iterator[StoredResource]:
        for stored in self._inner.iterate(resource_type, visibility):
            yield revealed(stored, self._cipher)

    def chart_search(
        self,
        patient_id: str,
        query: TextQuery,
        limit: int,
        visibility: Visibility | None = None,
    ) -> tuple[list[ChartMatch], int]:
        found, total = self._inner.chart_search(patient_id, query, limit, visibility)
        return [replace(m, stored=revealed(m.stored, self._cipher)) for m in found], total


class EncryptedRepository:
    """A ``ResourceRepository`` over ``inner`` with designated identifiers encrypted."""

    def __init__(
        self,
        inner: ConnectedRepository,
        cipher: FieldCipher,
        after_write: tuple[WriteHook, ...] = (),
    ) -> None:
        self.inner = inner
        self.cipher = cipher
        #: called with every version written, in plaintext, inside its transaction (the MPI
        #: keeps its match features this way: derived rows that commit or roll back with it)
        self.after_write = after_write

    @contextmanager
    def transaction(self) -> Iterator[EncryptedTransaction]:
        with self.inner.transaction() as inner:
            yield EncryptedTransaction(inner, self.cipher, self.after_write)

    @contextmanager
    def reading(self) -> Iterator[EncryptedTransaction]:
        with self.inner.reading() as inner:
            yield EncryptedTransaction(inner, self.cipher)
