"""Verification: walk the chain in seq order, streaming, and name the first thing that is wrong.

The messages (docs/audit.md explains each): ``entry N was altered``, ``entry N is missing
(deleted)``, ``an entry was inserted before N``, ``entries N and M are out of order``,
``the ledger ends at N but checkpoint M was signed``, plus checkpoint signature problems. Entry
``N`` is always named by its original number, which is what the chain proves.
"""

from __future__ import annotations

from collections.abc import Generator, Iterator, Sequence
from dataclasses import dataclass, field
from json.encoder import encode_basestring
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, select

from chartkeeper.privacy.audit.chain import GENESIS_HASH, MESSAGE, Entry, EntryHasher
from chartkeeper.privacy.audit.checkpoints import (
    CheckpointFile,
    is_signature_valid,
    read_checkpoint_file,
    stored_checkpoints,
)
from chartkeeper.privacy.audit.compact import claimed_seq
from chartkeeper.privacy.audit.head import read_head
from chartkeeper.privacy.audit.keys import AuditKeys
from chartkeeper.store.audit_schema import audit_ledger

L = audit_ledger.c
#: What the hot loop reads: ``prev_hash`` is left out (the chain supplies it); a diagnosis
#: reads whole rows again.
HASHED_COLUMNS = (L.seq, L.recorded_at, L.event, L.patient_ids, L.agent, L.action, L.outcome)
COLUMNS = (*HASHED_COLUMNS, L.entry_hash, L.prev_hash)
STREAM_ROWS = 5000


@dataclass(frozen=True)
class VerifyReport:
    """The outcome of a verification.

    ``entries``: how many entries, from 1, were found intact before any problem. ``seq``: the
    entry the problem names, or the last entry when the ledger is intact (0 when empty).
    """

    ok: bool
    entries: int
    problem: str | None = None
    seq: int | None = None
    checkpoints: int = 0


@dataclass
class _Signed:
    """Signed hashes by seq, from the database and from an exported file."""

    hashes: dict[int, set[str]] = field(default_factory=dict)
    count: int = 0

    def add(self, seq: int, entry_hash: str) -> None:
        self.hashes.setdefault(seq, set()).add(entry_hash)
        self.count += 1


def verify_ledger(engine: Engine, keys: AuditKeys, checkpoint_file: Path | None) -> VerifyReport:
    """Check signatures, then every entry in order, then that nothing is missing at the end."""
    exported = read_checkpoint_file(checkpoint_file) if checkpoint_file is not None else None
    with engine.connect() as connection, connection.begin():
        # The head and checkpoints are read first: entries appended during the walk are
        # simply verified too, and never make the tail look truncated.
        head = read_head(connection, lock=False)
        if head.key_id not in (None, keys.hmac_key_id):
            return VerifyReport(False, 0, _wrong_key(head.key_id, keys), None)
        signed = _Signed()
        bad_checkpoint = _check_signatures(connection, keys, exported, signed)
        if bad_checkpoint is not None:
            return VerifyReport(False, 0, bad_checkpoint[1], bad_checkpoint[0])
        report = _walk(connection, EntryHasher(keys.hmac_key), signed, head.seq)
    if report.ok:
        return _check_tail(report, signed, head.seq)
    return report


def _wrong_key(written_with: str, keys: AuditKeys) -> str:
    return (
        f"the ledger was written with audit key {written_with}, not with the key in use "
        f"({keys.hmac_key_id}): verify with the keys that wrote it"
    )


def _check_signatures(
    connection: Connection, keys: AuditKeys, exported: CheckpointFile | None, signed: _Signed
) -> tuple[int, str] | None:
    for checkpoint in stored_checkpoints(connection):
        if checkpoint.public_key_id != keys.public_key_id:
            return checkpoint.seq, (
                f"checkpoint {checkpoint.seq} was signed by an unknown key "
                f"{checkpoint.public_key_id}"
            )
        if not is_signature_valid(checkpoint, keys.public_key_hex):
            return checkpoint.seq, f"checkpoint {checkpoint.seq} has a bad signature"
        signed.add(checkpoint.seq, checkpoint.entry_hash)
    for checkpoint in exported.checkpoints if exported else []:
        public_key = exported.public_keys.get(checkpoint.public_key_id) if exported else None
        if public_key is None:
            return checkpoint.seq, (
                f"exported checkpoint {checkpoint.seq} names a key the file does not carry"
            )
        if not is_signature_valid(checkpoint, public_key):
            return checkpoint.seq, f"exported checkpoint {checkpoint.seq} has a bad signature"
        signed.add(checkpoint.seq, checkpoint.entry_hash)
    genesis = signed.hashes.pop(0, set())
    if genesis - {GENESIS_HASH}:
        return 0, "checkpoint 0 does not match an empty ledger"
    return None


@dataclass
class _Position:
    """How far the walk got: the seq it expects next and the hash that entry must chain to."""

    expected: int = 1
    last: str = GENESIS_HASH


def _walk(connection: Connection, hasher: EntryHasher, signed: _Signed, head: int) -> VerifyReport:
    """Stream the ledger in seq order, a chunk at a time; diagnose the first bad row."""
    chunks = _stream(connection)
    try:
        return _walk_chunks(connection, chunks, hasher, signed, head)
    finally:
        chunks.close()  # the driver's cursor, before the transaction ends


def _walk_chunks(
    connection: Connection,
    chunks: Iterator[Sequence[Any]],
    hasher: EntryHasher,
    signed: _Signed,
    head: int,
) -> VerifyReport:
    position = _Position()
    for chunk in chunks:
        failure = _check_chunk(chunk, hasher, signed.hashes, position)
        if failure is None:
            continue
        index, kind = failure
        seq = chunk[index][0]
        if kind == _GAP:
            problem = _gap(position.expected, seq)
        elif kind == _REWRITTEN:
            problem = f"entry {seq} does not match its signed checkpoint: it was rewritten"
        else:
            row, following = _entries(connection, seq, _following_seq(chunk, index, chunks))
            problem = _diagnose(hasher, row, following, position.last, head)
        return VerifyReport(False, position.expected - 1, problem, position.expected, signed.count)
    last = position.expected - 1
    return VerifyReport(True, last, None, last, signed.count)


def _stream(connection: Connection) -> Generator[Sequence[Any], None, None]:
    """The hashed columns of every entry in seq order, ``STREAM_ROWS`` at a time, straight
    from the driver: SQLAlchemy's Row objects cost as much per entry as the HMAC itself. On
    PostgreSQL a named (server-side) cursor streams instead of loading the whole ledger."""
    query = select(*HASHED_COLUMNS, L.entry_hash).order_by(L.seq)
    sql = str(query.compile(dialect=connection.dialect))
    driver = connection.connection.driver_connection
    assert driver is not None
    if connection.dialect.name == "sqlite":
        cursor = driver.cursor()
    else:
        cursor = driver.cursor(name="chartkeeper_audit_verify")
    try:
        cursor.execute(sql)
        while chunk := cursor.fetchmany(STREAM_ROWS):
            yield chunk
    finally:
        cursor.close()


_GAP, _ALTERED, _REWRITTEN = "gap", "altered", "rewritten"


def _check_chunk(
    rows: Sequence[Any], hasher: EntryHasher, signed: dict[int, set[str]], position: _Position
) -> tuple[int, str] | None:
    """The hot loop: one HMAC per row over the stored canonical text, nothing re-serialised.

    Returns the index of the first bad row and what is wrong with it, or None; ``position``
    moves past every good row.
    """
    inner_copy, outer_copy, quote = hasher.inner.copy, hasher.outer.copy, encode_basestring
    expected, last = position.expected, position.last
    failure: tuple[int, str] | None = None
    for index, row in enumerate(rows):
        seq, recorded_at, event, patient_ids, agent, action, outcome, entry_hash = row
        if seq != expected:
            failure = (index, _GAP)
            break
        inner = inner_copy()
        try:
            content = (last, quote(action), quote(agent), event, quote(outcome), quote(patient_ids))
            inner.update((MESSAGE % (*content, recorded_at, seq)).encode())
        except (TypeError, ValueError):  # a tampered column of the wrong type
            failure = (index, _ALTERED)
            break
        outer = outer_copy()
        outer.update(inner.digest())
        if outer.hexdigest() != entry_hash:
            failure = (index, _ALTERED)
            break
        if seq in signed and signed[seq] != {entry_hash}:
            failure = (index, _REWRITTEN)
            break
        last = entry_hash
        expected += 1
    position.expected, position.last = expected, last
    return failure


def _following_seq(chunk: Sequence[Any], index: int, chunks: Iterator[Sequence[Any]]) -> Any:
    """The seq of the row after ``chunk[index]`` (None at the end), from the next chunk."""
    if index + 1 < len(chunk):
        return chunk[index + 1][0]
    following = next(chunks, None)
    return following[0][0] if following else None


def _entries(connection: Connection, seq: Any, following: Any) -> tuple[Entry, Entry | None]:
    """The whole rows at ``seq`` and ``following`` (for a diagnosis)."""
    wanted = [seq] if following is None else [seq, following]
    rows = {
        row.seq: Entry(*row)
        for row in connection.execute(select(*COLUMNS).where(L.seq.in_(wanted)))
    }
    return rows[seq], rows.get(following) if following is not None else None


def _gap(expected: int, found: Any) -> str:
    if not isinstance(found, int) or found < expected:
        return f"entry {expected} was altered"  # a seq that is not a number
    if found == expected + 1:
        return f"entry {expected} is missing (deleted)"
    return f"entries {expected} to {found - 1} are missing (deleted)"


def _diagnose(
    hasher: EntryHasher, row: Entry, following: Entry | None, last: str, head: int
) -> str:
    """Why the entry at ``row.seq`` does not chain: moved, renumbered, forged or altered."""
    expected = row.seq
    claimed = claimed_seq(row.event)
    if claimed is not None and claimed > expected and _is_authentic(hasher, row, claimed):
        # A genuine later entry in the wrong place: entries renumbered over a gap, or a move.
        # (One claiming an earlier seq is a replayed copy: that entry was already verified.)
        renumbered = (
            following is None
            or hasher.entry_hash(following, seq=claimed + 1, prev_hash=row.entry_hash)
            == following.entry_hash
        )
        if renumbered:
            if claimed == expected + 1:
                return f"entry {expected} is missing (deleted)"
            return f"entries {expected} to {claimed - 1} are missing (deleted)"
        first, second = sorted((expected, claimed))
        return f"entries {first} and {second} are out of order"
    if (
        following is not None
        and following.seq == expected + 1
        and hasher.entry_hash(following, seq=expected, prev_hash=last) == following.entry_hash
    ):
        return f"an entry was inserted before {expected}"
    if expected > head:
        return f"an entry was inserted after {expected - 1}"
    return f"entry {expected} was altered"


def _is_authentic(hasher: EntryHasher, row: Entry, seq: int) -> bool:
    """True when ``row`` carries the hash it was written with at ``seq``."""
    return hasher.entry_hash(row, seq=seq) == row.entry_hash


def _check_tail(report: VerifyReport, signed: _Signed, head_seq: int) -> VerifyReport:
    last = report.entries
    beyond = [seq for seq in signed.hashes if seq > last]
    if beyond:
        problem = f"the ledger ends at {last} but checkpoint {max(beyond)} was signed"
        return VerifyReport(False, last, problem, last + 1, signed.count)
    if head_seq > last:
        problem = f"the ledger ends at {last} but the head records entry {head_seq}"
        return VerifyReport(False, last, problem, last + 1, signed.count)
    return report
