"""The patient control number of a claim (CLM01 of the 837, CLP01 of the 835): 20 characters.

X12 allows at most 20 characters, so the Claim id (a 36-character UUID) cannot be sent as it
is. The number is ``CK`` and 18 base32 characters (A-Z, 2-7: 90 bits) taken from the id. A
chartkeeper id is a version 7 UUID: 48 bits of milliseconds, 4 fixed version bits, a 12-bit
sequence within the millisecond, 2 fixed variant bits and 62 random bits. The fixed bits carry
nothing, so the 90 bits are the milliseconds, the sequence and the first 30 random bits.
Within one process two ids never share milliseconds and sequence, so their numbers differ;
ids made by two processes in the same millisecond with the same sequence collide with
probability 2^-30 per pair, and ``build_claim`` checks the number is unused before storing.
Any other id is hashed (SHA-256) and its first 90 bits used.
"""

from __future__ import annotations

import hashlib
import uuid

ALPHABET = "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567"
PREFIX = "CK"
BITS = 90


def _bits_of(claim_id: str) -> int:
    try:
        parsed = uuid.UUID(claim_id)
    except ValueError:
        parsed = None
    if parsed is not None and parsed.version == 7 and len(claim_id) == 36:
        value = parsed.int
        millis = value >> 80
        sequence = (value >> 64) & 0xFFF
        random = value & ((1 << 62) - 1)
        return (millis << 42) | (sequence << 30) | (random >> 32)
    digest = hashlib.sha256(claim_id.encode()).digest()
    return int.from_bytes(digest[:12], "big") >> (96 - BITS)


def control_number_for(claim_id: str) -> str:
    """``CK`` + 18 upper-case base32 characters derived from ``claim_id`` (20 in all)."""
    bits = _bits_of(claim_id)
    chars = [ALPHABET[(bits >> shift) & 0x1F] for shift in range(BITS - 5, -1, -5)]
    return PREFIX + "".join(chars)
