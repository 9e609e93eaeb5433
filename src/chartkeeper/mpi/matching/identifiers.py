"""Identifiers as keyed hashes that still show a typo.

Designated identifiers must never be stored in plaintext in the match index, yet a mistyped SSN
is strong evidence ("one digit off") that plain hashes would lose. So each value is stored as:

* ``exact``: HMAC-SHA-256(key, "exact" | kind | value), 9 bytes;
* ``variants``: one 6-byte HMAC-SHA-256 per *masked variant*: slot ``i`` (0 <= i < n - 1) is
  the value with the adjacent pair ``i, i+1`` replaced by wildcards (and the slot number).

Two values of the same length share slot ``i`` exactly when they agree everywhere except at
positions ``i`` and ``i+1``: one substituted character (it lies in two pairs), one swapped
adjacent pair, or two neighbouring substitutions; values that differ more share no slot.
Masking pairs rather than single positions and swapped pairs halves the hashes (8 for an SSN,
not 17) for the same typos found. The slot number is hashed too, so equal hashes never show a
pattern inside one value. Comparison is slot by slot, which also makes it a vectorised equality
test in batch. Without the key none of this can be reversed; with it, a 9-digit SSN could be
brute-forced from any of its hashes, which is why the key stays with the deployment
(``chartkeeper.mpi.keys``).
"""

from __future__ import annotations

import base64
import hashlib
from functools import lru_cache
from typing import NamedTuple

from chartkeeper.mpi.matching.text import split_words

#: Identifier kinds the engine compares, in comparison order.
COMPARED_KINDS = ("ssn", "dl", "passport")
#: Values longer than this are compared exactly only (no variants).
MAX_VARIANT_LENGTH = 20
#: Multiples of 3 bytes: their base64 has no padding, so many can be decoded in one call.
EXACT_BYTES = 9
VARIANT_BYTES = 6
_WILDCARD = "\x00"
_WILDCARDS = b"\x00\x00"
#: Values that stand for "unknown" on registration forms.
_PLACEHOLDERS = frozenset({"123456789", "987654321", "unknown", "none", "na"})
_BLOCK = 64  # SHA-256 block size in bytes
_SLOTS = [f"{slot}|".encode() for slot in range(MAX_VARIANT_LENGTH)]


class HashedIdentifier(NamedTuple):
    """One identifier of a record, as hashes only (base64url text, JSON-ready)."""

    kind: str
    exact: str
    variants: str


def normalise_value(kind: str, value: str) -> str:
    """The comparable form: letters and digits only, lower-case; ``""`` for a placeholder.

    An SSN keeps only its digits; a value made of one repeated character is a placeholder.
    """
    text = "".join(split_words(value))  # not the cached ``words``: no plaintext kept
    if kind == "ssn":
        text = "".join(c for c in text if c.isdigit())
    if not text or text in _PLACEHOLDERS or len(set(text)) == 1:
        return ""
    return text


def masked_variants(value: str) -> list[bytes]:
    """The masked variants of ``value`` in slot order (see the module docstring), each
    prefixed by its slot number (``b"3|..."``) and encoded as UTF-8."""
    size = len(value)
    if size > MAX_VARIANT_LENGTH:
        return []
    if value.isascii():
        raw = value.encode()
        return [_SLOTS[i] + raw[:i] + _WILDCARDS + raw[i + 2 :] for i in range(size - 1)]
    masked = (value[:i] + _WILDCARD * 2 + value[i + 2 :] for i in range(size - 1))
    return [_SLOTS[slot] + text.encode() for slot, text in enumerate(masked)]


class KeyedHash:
    """HMAC-SHA-256 (RFC 2104) with the key's padded blocks hashed once, not per message.

    Byte-for-byte ``hmac.digest(key, message, "sha256")``, about three times faster: a record
    has a dozen or more variant hashes, and extraction runs for every registration.
    """

    def __init__(self, key: bytes) -> None:
        block = hashlib.sha256(key).digest() if len(key) > _BLOCK else key
        block = block.ljust(_BLOCK, b"\0")
        self._inner = hashlib.sha256(bytes(b ^ 0x36 for b in block))
        self._outer = hashlib.sha256(bytes(b ^ 0x5C for b in block))

    def digest(self, message: bytes) -> bytes:
        inner = self._inner.copy()
        inner.update(message)
        outer = self._outer.copy()
        outer.update(inner.digest())
        return outer.digest()

    def digests(self, prefix: bytes, messages: list[bytes], size: int) -> bytes:
        """The first ``size`` bytes of the digest of ``prefix + message``, for each, joined."""
        start, outer_start = self._inner.copy(), self._outer
        start.update(prefix)
        found = []
        for message in messages:
            inner = start.copy()
            inner.update(message)
            outer = outer_start.copy()
            outer.update(inner.digest())
            found.append(outer.digest()[:size])
        return b"".join(found)


@lru_cache(maxsize=8)
def _keyed(key: bytes) -> KeyedHash:
    return KeyedHash(key)


def hash_identifier(kind: str, value: str, key: bytes) -> HashedIdentifier | None:
    """Hash one identifier with ``key``; None when the value is empty or a placeholder."""
    normal = normalise_value(kind, value)
    if not normal:
        return None
    hasher = _keyed(key)
    exact = hasher.digest(f"exact|{kind}|{normal}".encode())[:EXACT_BYTES]
    blob = hasher.digests(f"variant|{kind}|".encode(), masked_variants(normal), VARIANT_BYTES)
    return HashedIdentifier(kind, _encode(exact), _encode(blob))


def _encode(raw: bytes) -> str:
    return base64.urlsafe_b64encode(raw).decode("ascii")


def decode(text: str) -> bytes:
    """The bytes of a base64url text written by this module (or of several, concatenated)."""
    return base64.urlsafe_b64decode(text)


def variant_slots(variants: str) -> list[bytes]:
    """The variant hashes of one identifier, one per slot."""
    raw = decode(variants)
    return [raw[i : i + VARIANT_BYTES] for i in range(0, len(raw), VARIANT_BYTES)]


def is_near(a: HashedIdentifier, b: HashedIdentifier) -> bool:
    """Whether two values agree except within one pair of neighbouring characters."""
    if len(a.variants) != len(b.variants) or not a.variants:
        return False
    slots = zip(variant_slots(a.variants), variant_slots(b.variants), strict=True)
    return any(x == y for x, y in slots)
