"""Key rotation: re-encrypt every stored designated value under the active data key.

``Reencryption.run`` walks the current versions, then the history, of the designated resource
types in batches, each batch in its own transaction: a version whose tokens were made with
another key gets them re-made with the active one; a version that holds a designated value in
plaintext (stored before encryption existed) gets it encrypted, and a current one is
re-indexed so its index rows hold the blind index instead. Interrupted, it can simply run again:
old keys stay in the ring until ``retire_unused`` finds them unused. Nothing here changes what
a client reads, so no new versions are written.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import orjson
from sqlalchemy import Connection, Row

from chartkeeper.core.clock import Clock
from chartkeeper.fhir.index_rows import IndexRows
from chartkeeper.fhir.indexing import extract_index
from chartkeeper.privacy.actor import SYSTEM
from chartkeeper.privacy.audit import AuditLedger, audit_event
from chartkeeper.privacy.encryption.blind_index import blinded_index
from chartkeeper.privacy.encryption.cipher import FieldCipher, is_token, token_key_id
from chartkeeper.privacy.encryption.identifiers import (
    DESIGNATED_TYPES,
    MARK,
    identifiers_of,
    is_designated,
    reveal,
    seal,
)
from chartkeeper.privacy.encryption.keyring import FieldKeyring
from chartkeeper.privacy.encryption.repository import ConnectedRepository
from chartkeeper.store.body_rewrite import (
    count_versions,
    current_batch,
    history_batch,
    reindex_current,
    stored_bodies,
    update_current_bodies,
    update_history_bodies,
)

TYPES = tuple(sorted(DESIGNATED_TYPES))
DEFAULT_BATCH = 500


@dataclass
class RotationReport:
    """What a re-encryption pass did, in versions (current and past)."""

    versions: int = 0
    reencrypted: int = 0
    encrypted: int = 0


@dataclass
class KeyUsage:
    """Which data keys the stored versions use, and how many still hold plaintext."""

    by_key: Counter[str] = field(default_factory=Counter)
    plaintext: int = 0
    versions: int = 0


@dataclass(frozen=True)
class _Change:
    body: str
    legacy: bool
    index: IndexRows | None


def _stored_state(resource: dict[str, Any]) -> tuple[set[str], bool]:
    """The key ids of the tokens of ``resource``, and whether a designated value is plain."""
    keys: set[str] = set()
    plaintext = False
    for identifier in identifiers_of(resource):
        value = identifier["value"]
        if is_token(value):
            keys.add(token_key_id(value) or "?")
        elif value and is_designated(identifier):
            plaintext = True
    return keys, plaintext


def recrypted(row: Row[Any], cipher: FieldCipher, active: str, reindex: bool) -> _Change | None:
    """The new body (and index rows, for a plaintext current version) of ``row``; None when
    it needs no change."""
    if '"identifier"' not in row.body:
        return None
    resource: dict[str, Any] = orjson.loads(row.body)
    keys, plaintext = _stored_state(resource)
    if not plaintext and keys <= {active}:
        return None
    reveal(resource, row.res_type, row.res_id, cipher)
    index = extract_index(resource) if plaintext and reindex else None
    sealed = seal(resource, row.res_type, row.res_id, cipher)
    if index is not None:
        index = blinded_index(index, sealed, resource, cipher)
    return _Change(orjson.dumps(resource).decode(), plaintext, index)


class Reencryption:
    """One pass over the store (see the module docstring)."""

    def __init__(
        self, repository: ConnectedRepository, cipher: FieldCipher, batch_size: int = DEFAULT_BATCH
    ) -> None:
        self.repository = repository
        self.cipher = cipher
        self.batch_size = max(1, batch_size)

    def total(self) -> int:
        """How many versions the pass looks at (for a progress bar)."""
        with self.repository.reading() as tx:
            return count_versions(tx.connection, TYPES)

    def run(self, progress: Callable[[int], None] = lambda _: None) -> RotationReport:
        """Re-encrypt everything not under the active key; ``progress`` gets batch sizes."""
        report = RotationReport()
        after: tuple[str, str] | None = None
        while True:
            with self.repository.transaction() as tx:
                rows = current_batch(tx.connection, TYPES, after, self.batch_size)
                self._rewrite(tx.connection, rows, report, current=True)
            if not rows:
                break
            after = (rows[-1].res_type, rows[-1].res_id)
            progress(len(rows))
        seq = 0
        while True:
            with self.repository.transaction() as tx:
                rows = history_batch(tx.connection, TYPES, seq, self.batch_size)
                self._rewrite(tx.connection, rows, report, current=False)
            if not rows:
                break
            seq = rows[-1].seq
            progress(len(rows))
        return report

    def _rewrite(
        self, connection: Connection, rows: list[Row[Any]], report: RotationReport, current: bool
    ) -> None:
        """Re-encrypt and store one batch (inside the caller's transaction)."""
        active = self.cipher.active_key_id
        bodies: list[tuple[Row[Any], str]] = []
        reindexed: list[tuple[Row[Any], str, IndexRows]] = []
        for row in rows:
            change = recrypted(row, self.cipher, active, reindex=current)
            if change is None:
                continue
            report.encrypted += int(change.legacy)
            report.reencrypted += int(not change.legacy)
            if change.index is not None:
                reindexed.append((row, change.body, change.index))
            else:
                bodies.append((row, change.body))
        if current:
            update_current_bodies(connection, bodies)
            reindex_current(connection, reindexed)
        else:
            update_history_bodies(connection, bodies)
        report.versions += len(rows)


def key_usage(connection: Connection) -> KeyUsage:
    """Count, over every stored version, the data keys in use and the plaintext left."""
    usage = KeyUsage()
    for body in stored_bodies(connection, TYPES):
        usage.versions += 1
        if MARK not in body and '"identifier"' not in body:
            continue
        keys, plaintext = _stored_state(orjson.loads(body))
        usage.by_key.update(keys)
        usage.plaintext += int(plaintext)
    return usage


def retire_unused(keyring: FieldKeyring, usage: KeyUsage) -> tuple[list[str], dict[str, int]]:
    """Remove the old data keys no stored version uses; returns (removed, still in use)."""
    state = keyring.refresh()
    old = {k.id for k in state.data_keys if k.id != state.active}
    in_use = {k: usage.by_key[k] for k in sorted(old) if usage.by_key[k]}
    return keyring.retire(old - set(in_use)), in_use


def record(ledger: AuditLedger, clock: Clock, description: str, outcome: str = "0") -> None:
    """An audit entry for a change of the keys (DICOM 110129 Security Configuration)."""
    event = audit_event(
        action="E",
        subtype="security-configuration",
        outcome=outcome,
        actor=SYSTEM,
        patient_ids=[],
        recorded=clock.now(),
        description=description,
    )
    ledger.append_now(event, patient_ids=[], agent=SYSTEM.name, action="E", outcome=outcome)
