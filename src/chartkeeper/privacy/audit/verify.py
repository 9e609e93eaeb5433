"""Verification: walk the chain in seq order, streaming, and name the first thing that is wrong.

The messages (docs/audit.md explains each): ``entry N was altered``, ``entry N is missing
(deleted)``, ``an entry was inserted before N``, ``entries N and M are out of order``,
``the ledger ends at N but checkpoint M was signed``, plus checkpoint signature problems. Entry
``N`` is always named by its original number, which is what the chain proves.

A large SQLite ledger is cut into one seq range per core: this process proves the first while
worker processes (``verify_range``) prove the others, each from the stored hash of the entry
before its range, and the ranges count only where each starts on the hash the previous one
ended on. One process alone reads and hashes about 230,000 entries per second here, too close
to the 200,000 target for a shared machine. The sequential walk then resumes after the last
range proved (nothing is left when all were), so a problem anywhere is found and named by the
same code, from the same state, as when one process walks it all.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Generator, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, Engine, select

from chartkeeper.privacy.audit import verify_range
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
from chartkeeper.privacy.audit.verify_range import (
    GAP,
    REWRITTEN,
    STREAM_ROWS,
    Position,
    check_rows,
)
from chartkeeper.store.audit_schema import audit_ledger

L = audit_ledger.c
#: What the hot loop reads: ``prev_hash`` is left out (the chain supplies it); a diagnosis
#: reads whole rows again.
HASHED_COLUMNS = (L.seq, L.recorded_at, L.event, L.patient_ids, L.agent, L.action, L.outcome)
COLUMNS = (*HASHED_COLUMNS, L.entry_hash, L.prev_hash)


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
        hasher = EntryHasher(keys.hmac_key)
        report = _walk(connection, keys.hmac_key, hasher, signed, head.seq)
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


def _walk(
    connection: Connection, key: bytes, hasher: EntryHasher, signed: _Signed, head: int
) -> VerifyReport:
    """Prove what the ranges can in parallel, then stream the rest in seq order, a chunk at a
    time, and diagnose the first bad row: what the proved ranges cover is exactly what the
    sequential walk would have accepted, so it resumes where they stop with the same state."""
    position = _prove_ranges(connection, key, hasher, signed.hashes, head)
    chunks = _stream(connection, position.expected)
    try:
        return _walk_chunks(connection, chunks, hasher, signed, head, position)
    finally:
        chunks.close()  # the driver's cursor, before the transaction ends


def _walk_chunks(
    connection: Connection,
    chunks: Iterator[Sequence[Any]],
    hasher: EntryHasher,
    signed: _Signed,
    head: int,
    position: Position,
) -> VerifyReport:
    for chunk in chunks:
        failure = _check_chunk(chunk, hasher, signed.hashes, position)
        if failure is None:
            continue
        index, kind = failure
        seq = chunk[index][0]
        if kind == GAP:
            problem = _gap(position.expected, seq)
        elif kind == REWRITTEN:
            problem = f"entry {seq} does not match its signed checkpoint: it was rewritten"
        else:
            row, following = _entries(connection, seq, _following_seq(chunk, index, chunks))
            problem = _diagnose(hasher, row, following, position.last, head)
        return VerifyReport(False, position.expected - 1, problem, position.expected, signed.count)
    last = position.expected - 1
    return VerifyReport(True, last, None, last, signed.count)


def _select(first: int, last: int | None = None) -> Any:
    query = select(*HASHED_COLUMNS, L.entry_hash).where(L.seq >= first).order_by(L.seq)
    return query if last is None else query.where(L.seq <= last)


def _sql(connection: Connection, first: int, last: int | None = None) -> str:
    """The walk's query from ``first`` to ``last`` as text for a DB-API cursor (the bounds are
    integers, rendered inline)."""
    compiled = _select(first, last).compile(
        dialect=connection.dialect, compile_kwargs={"literal_binds": True}
    )
    return str(compiled)


def _stream(
    connection: Connection, first: int = 1, last: int | None = None
) -> Generator[Sequence[Any], None, None]:
    """The hashed columns of every entry from ``first`` in seq order, ``STREAM_ROWS`` at a
    time, straight from the driver: SQLAlchemy's Row objects cost as much per entry as the HMAC
    itself. On PostgreSQL a named (server-side) cursor streams instead of loading the whole
    ledger."""
    driver = connection.connection.driver_connection
    assert driver is not None
    if connection.dialect.name == "sqlite":
        cursor = driver.cursor()
    else:
        cursor = driver.cursor(name="chartkeeper_audit_verify")
    try:
        cursor.execute(_sql(connection, first, last))
        while chunk := cursor.fetchmany(STREAM_ROWS):
            yield chunk
    finally:
        cursor.close()


def _check_chunk(
    rows: Sequence[Any], hasher: EntryHasher, signed: dict[int, set[str]], position: Position
) -> tuple[int, str] | None:
    """``check_rows`` with this ledger's key: the index of the first bad row and what is wrong
    with it, or None; ``position`` moves past every good row."""
    return check_rows(rows, (hasher.inner, hasher.outer), MESSAGE, signed, position)


# --- ranges proved in parallel (large SQLite ledgers) ---------------------------------------------

#: The least entries per range worth a process of its own (one costs ~20 ms to start, a range
#: of this size ~0.2 s to prove).
RANGE_ENTRIES = 50_000
#: At most this many ranges, one per core.
MAX_RANGES = 8
WORKER = Path(verify_range.__file__)


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def _ranges(connection: Connection, head: int) -> list[tuple[int, int | None]]:
    """``head`` entries cut into one range per core, the last open-ended (entries appended
    meanwhile belong to it); one range when the ledger is small or not a SQLite file."""
    count = min(_cores(), MAX_RANGES, head // RANGE_ENTRIES)
    if count < 2 or _database_file(connection) is None:
        return [(1, None)]
    starts = [1 + head * number // count for number in range(count)]
    ends: list[int | None] = [start - 1 for start in starts[1:]]
    return list(zip(starts, [*ends, None], strict=True))


def _database_file(connection: Connection) -> str | None:
    """The SQLite database file the workers may open on their own, if there is one."""
    url = connection.engine.url
    database = url.database
    if connection.dialect.name != "sqlite" or url.query or not database:
        return None
    if database == ":memory:" or database.startswith("file:") or not os.path.isfile(database):
        return None
    return database


def _prove_ranges(
    connection: Connection,
    key: bytes,
    hasher: EntryHasher,
    signed: dict[int, set[str]],
    head: int,
) -> Position:
    """Prove every range but the first in a worker process while this one proves the first;
    return where the unbroken run of proved ranges ends (the start, when the first fails)."""
    position = Position(1, GENESIS_HASH)
    ranges = _ranges(connection, head)
    if len(ranges) == 1:
        return position
    database = _database_file(connection)
    workers = [_start_worker(connection, database, key, signed, *bounds) for bounds in ranges[1:]]
    try:
        if not _prove_first(connection, hasher, signed, position, ranges[0][1]):
            return Position(1, GENESIS_HASH)
        for (first, _), worker in zip(ranges[1:], workers, strict=True):
            result = _result(worker)
            if not result.get("proven") or first != position.expected:
                break
            if result["anchor"] != position.last:  # the ranges do not join up
                break
            position = Position(result["next"], result["hash"])
    finally:
        for worker in workers:  # those left running when a range before theirs failed
            if worker is not None:
                if worker.poll() is None:
                    worker.kill()
                worker.wait()
                if worker.stdout is not None:
                    worker.stdout.close()
    return position


def _prove_first(
    connection: Connection,
    hasher: EntryHasher,
    signed: dict[int, set[str]],
    position: Position,
    last: int | None,
) -> bool:
    chunks = _stream(connection, 1, last)
    try:
        for chunk in chunks:
            if _check_chunk(chunk, hasher, signed, position) is not None:
                return False
    finally:
        chunks.close()
    return last is None or position.expected == last + 1


def _start_worker(
    connection: Connection,
    database: str | None,
    key: bytes,
    signed: dict[int, set[str]],
    first: int,
    last: int | None,
) -> subprocess.Popen[bytes] | None:
    """A process proving entries ``first`` to ``last``: its job on stdin, never in argv."""
    job = {
        "database": database,
        "key": key.hex(),
        "message": MESSAGE,
        "sql": _sql(connection, first - 1, last),
        "first": first,
        "last": last,
        "signed": {
            str(seq): sorted(hashes)
            for seq, hashes in signed.items()
            if seq >= first and (last is None or seq <= last)
        },
    }
    try:
        worker = subprocess.Popen(  # noqa: S603 (this interpreter, a file of this package)
            [sys.executable, "-I", "-S", str(WORKER)],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.DEVNULL,
        )
    except OSError:
        return None
    assert worker.stdin is not None
    try:
        worker.stdin.write(json.dumps(job).encode())
        worker.stdin.close()
    except OSError:
        return worker  # it died at once: its result is simply missing
    return worker


def _result(worker: subprocess.Popen[bytes] | None) -> dict[str, Any]:
    """A worker's answer, or ``{}`` (nothing proved) when it failed in any way."""
    if worker is None:
        return {}
    assert worker.stdout is not None
    output = worker.stdout.read()
    worker.stdout.close()
    if worker.wait() != 0:
        return {}
    try:
        result = json.loads(output)
    except ValueError:
        return {}
    return result if isinstance(result, dict) else {}


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
