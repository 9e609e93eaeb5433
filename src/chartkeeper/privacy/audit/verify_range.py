"""The hot loop of ``audit verify``, and one seq range of a SQLite ledger proved on its own.

Standard library only, no chartkeeper imports: ``verify`` also runs this file as a separate
Python process (``python -I -S verify_range.py``, about 20 ms to start, where importing
chartkeeper would cost 300 ms) for each range of a large SQLite ledger beyond the first, so
that the walk uses every core. The job arrives on stdin as JSON (the key never appears on a
command line) and the result leaves on stdout.

A range only ever *proves* entries intact: it starts from the stored ``entry_hash`` of the entry
before it (its anchor), and ``verify`` accepts it only when that anchor is the hash the previous
range ended on. Anything else (a bad entry, a missing anchor, a worker that fails) leaves the
rest to the sequential walk, which then names the first problem exactly as it always did.
"""

from __future__ import annotations

import hashlib
import json
import sqlite3
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from json.encoder import encode_basestring
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from hashlib import _Hash

BLOCK_SIZE = 64  # SHA-256's block size, as HMAC needs
STREAM_ROWS = 5000
GAP, ALTERED, REWRITTEN = "gap", "altered", "rewritten"


def hmac_states(key: bytes) -> tuple[_Hash, _Hash]:
    """The inner and outer SHA-256 states of HMAC (RFC 2104) keyed with ``key``, to copy."""
    if len(key) > BLOCK_SIZE:
        key = hashlib.sha256(key).digest()
    key = key.ljust(BLOCK_SIZE, b"\0")
    return (
        hashlib.sha256(bytes(byte ^ 0x36 for byte in key)),
        hashlib.sha256(bytes(byte ^ 0x5C for byte in key)),
    )


@dataclass
class Position:
    """How far a walk got: the seq it expects next and the hash that entry must chain to."""

    expected: int
    last: str


def check_rows(
    rows: Sequence[Any],
    states: tuple[_Hash, _Hash],
    message: str,
    signed: dict[int, set[str]],
    position: Position,
) -> tuple[int, str] | None:
    """The hot loop: one HMAC per row over the stored canonical text, nothing re-serialised.

    ``rows`` are ``(seq, recorded_at, event, patient_ids, agent, action, outcome, entry_hash)``
    in seq order; ``message`` is ``chain.MESSAGE``. Returns the index of the first bad row and
    what is wrong with it, or None; ``position`` moves past every good row.
    """
    inner_copy, outer_copy, quote = states[0].copy, states[1].copy, encode_basestring
    expected, last = position.expected, position.last
    failure: tuple[int, str] | None = None
    for index, row in enumerate(rows):
        seq, recorded_at, event, patient_ids, agent, action, outcome, entry_hash = row
        if seq != expected:
            failure = (index, GAP)
            break
        inner = inner_copy()
        try:
            content = (last, quote(action), quote(agent), event, quote(outcome), quote(patient_ids))
            inner.update((message % (*content, recorded_at, seq)).encode())
        except (TypeError, ValueError):  # a tampered column of the wrong type
            failure = (index, ALTERED)
            break
        outer = outer_copy()
        outer.update(inner.digest())
        if outer.hexdigest() != entry_hash:
            failure = (index, ALTERED)
            break
        if seq in signed and signed[seq] != {entry_hash}:
            failure = (index, REWRITTEN)
            break
        last = entry_hash
        expected += 1
    position.expected, position.last = expected, last
    return failure


def prove_range(job: dict[str, Any]) -> dict[str, Any]:
    """Prove entries ``first`` to ``last`` (to the end when None) chain from entry ``first - 1``.

    ``job["sql"]`` selects the hashed columns and ``entry_hash`` of entries ``first - 1`` to
    ``last`` in seq order. Returns ``proven`` and, when proven, the ``anchor`` it started from,
    the ``next`` seq after the range and the ``hash`` it ended on.
    """
    first, last = job["first"], job["last"]
    signed = {int(seq): set(hashes) for seq, hashes in job["signed"].items()}
    uri = Path(job["database"]).resolve().as_uri() + "?mode=ro"  # a verifier never writes
    connection = sqlite3.connect(uri, uri=True, timeout=30)
    try:
        cursor = connection.execute(job["sql"])
        anchor = cursor.fetchone()
        if anchor is None or anchor[0] != first - 1 or not isinstance(anchor[7], str):
            return {"proven": False}
        position = Position(first, anchor[7])
        states = hmac_states(bytes.fromhex(job["key"]))
        while chunk := cursor.fetchmany(STREAM_ROWS):
            if check_rows(chunk, states, job["message"], signed, position) is not None:
                return {"proven": False}
    finally:
        connection.close()
    if last is not None and position.expected != last + 1:
        return {"proven": False}
    return {"proven": True, "anchor": anchor[7], "next": position.expected, "hash": position.last}


def main() -> None:
    json.dump(prove_range(json.load(sys.stdin)), sys.stdout)


if __name__ == "__main__":
    main()
