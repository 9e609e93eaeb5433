"""Server-assigned resource ids."""

from __future__ import annotations

import os
import re
import threading
import time
import uuid

ID_PATTERN = re.compile(r"^[A-Za-z0-9\-.]{1,64}$")


_lock = threading.Lock()
_last = [0, 0]  # the last id's millisecond and 12-bit sequence


def new_id() -> str:
    """A fresh logical id: a time-ordered UUID (version 7, RFC 9562), valid as a FHIR ``id``.

    Ids made one after another sort one after another, so the store's primary keys and owner
    indexes grow at their right-hand edge instead of at random pages: a Bundle's commit then
    dirties a few pages per index rather than one per resource (measured on a 1.7 GB store,
    where random UUID4 keys made each commit write tens of MB). 48 bits of milliseconds, a
    12-bit sequence within the millisecond, 62 random bits.
    """
    now = time.time_ns() // 1_000_000
    with _lock:
        millis, sequence = _last
        if now <= millis:  # same millisecond (or the clock stepped back): keep counting
            now, sequence = millis, sequence + 1
            if sequence > 0xFFF:
                now, sequence = millis + 1, 0
        else:
            sequence = 0
        _last[0], _last[1] = now, sequence
    random = int.from_bytes(os.urandom(8), "big") & ((1 << 62) - 1)
    value = (now << 80) | (0x7 << 76) | (sequence << 64) | (0b10 << 62) | random
    return str(uuid.UUID(int=value))


def is_valid_id(value: str) -> bool:
    """True when ``value`` is a valid FHIR logical id (R4 ``id`` datatype)."""
    return bool(ID_PATTERN.fullmatch(value))
