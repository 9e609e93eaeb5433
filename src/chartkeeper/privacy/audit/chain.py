"""The hash chain: the canonical form of an entry and its HMAC, shared by appends and verify.

``entry_hash = HMAC-SHA-256(key, prev_hash || canonical JSON of the entry's content)`` where
``prev_hash`` is the previous entry's hash as 64 ASCII hex digits (64 zeros before entry 1) and
the content is ``{"action", "agent", "event", "outcome", "patientIds", "recordedAt", "seq"}``:
sorted keys, no spaces, UTF-8 (RFC 8785-like; AuditEvents hold no floats). The ``event`` is
stored in that canonical form, so verify splices the stored text in instead of re-serialising.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from json.encoder import encode_basestring
from typing import Any

import orjson

from chartkeeper.privacy.audit.verify_range import hmac_states
from chartkeeper.store.audit_schema import GENESIS_HASH

__all__ = ["GENESIS_HASH", "Entry", "EntryHasher", "canonical_json", "hashed_message"]

#: The canonical JSON of an entry's content, preceded by the previous hash. Strings go through
#: ``encode_basestring`` (exactly what ``json.dumps(..., ensure_ascii=False)`` writes).
_ORJSON_OPTIONS = (
    orjson.OPT_SORT_KEYS | orjson.OPT_PASSTHROUGH_DATACLASS | orjson.OPT_PASSTHROUGH_DATETIME
)
MESSAGE = (
    '%s{"action":%s,"agent":%s,"event":%s,"outcome":%s,"patientIds":%s,"recordedAt":%d,"seq":%d}'
)


def canonical_json(value: Any) -> str:
    """Sorted keys, no whitespace, non-ASCII kept as UTF-8, no NaN.

    orjson writes exactly these bytes for what AuditEvents hold (strings, integers, booleans,
    lists, objects) about ten times faster than ``json``, which every append would otherwise
    spend most of its time in. Whatever orjson refuses (lone surrogates, integers beyond 64
    bits, non-string keys, dataclasses, datetimes) and any output with a ``null`` in it (which
    may be a NaN orjson wrote as null) goes through ``json``, the reference.
    """
    try:
        text = orjson.dumps(value, option=_ORJSON_OPTIONS).decode("utf-8")
    except TypeError:
        text = "null"
    if "null" not in text:
        return text
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )


@dataclass(frozen=True)
class Entry:
    """One ledger row."""

    seq: int
    recorded_at: int
    event: str
    patient_ids: str
    agent: str
    action: str
    outcome: str
    entry_hash: str
    prev_hash: str

    def content(self) -> dict[str, Any]:
        """What the hash covers besides ``prev_hash``, as data."""
        return {
            "action": self.action,
            "agent": self.agent,
            "event": json.loads(self.event),
            "outcome": self.outcome,
            "patientIds": self.patient_ids,
            "recordedAt": self.recorded_at,
            "seq": self.seq,
        }


def hashed_message(
    prev_hash: str,
    seq: int,
    recorded_at: int,
    event: str,
    patient_ids: str,
    agent: str,
    action: str,
    outcome: str,
) -> bytes:
    """The bytes the HMAC covers: ``prev_hash`` then the canonical content."""
    text = MESSAGE % (
        prev_hash,
        encode_basestring(action),
        encode_basestring(agent),
        event,
        encode_basestring(outcome),
        encode_basestring(patient_ids),
        recorded_at,
        seq,
    )
    return text.encode("utf-8")


class EntryHasher:
    """HMAC-SHA-256 (RFC 2104) with the ledger key, its keyed states computed once.

    Copying two prepared SHA-256 states per message is what ``hmac`` does too, minus its Python
    wrapper, which would otherwise be most of verify's time.
    """

    def __init__(self, key: bytes) -> None:
        self.inner, self.outer = hmac_states(key)

    def digest(self, message: bytes) -> str:
        """The hex HMAC of ``message``."""
        inner = self.inner.copy()
        inner.update(message)
        outer = self.outer.copy()
        outer.update(inner.digest())
        return outer.hexdigest()

    def entry_hash(
        self, entry: Entry, *, seq: int | None = None, prev_hash: str | None = None
    ) -> str:
        """The hash ``entry`` should carry, optionally as if it sat at ``seq`` after ``prev_hash``.

        Returns an empty string when the row cannot be hashed at all (a tampered column of the
        wrong type), which never equals a stored hash.
        """
        try:
            message = hashed_message(
                entry.prev_hash if prev_hash is None else prev_hash,
                entry.seq if seq is None else seq,
                entry.recorded_at,
                entry.event,
                entry.patient_ids,
                entry.agent,
                entry.action,
                entry.outcome,
            )
        except (TypeError, ValueError):
            return ""
        return self.digest(message)
