"""Deterministic identifiers: resource ids (uuid5), NPIs with a valid check digit, MRNs."""

from __future__ import annotations

import uuid
from collections import Counter

# Fixed namespace so the same seed always yields the same ids on every machine.
NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "https://chartkeeper.example.org/demo-hospital")

_MRN_SPACE = 9_000_000
_MRN_MULTIPLIER = 7_368_787  # coprime with _MRN_SPACE, so distinct inputs give distinct MRNs


def resource_id(seed: int, scope: str, kind: str, n: int) -> str:
    """The id of the ``n``-th resource of ``kind`` within ``scope`` for ``seed``."""
    return str(uuid.uuid5(NAMESPACE, f"{seed}:{scope}:{kind}:{n}"))


class IdMaker:
    """Hands out successive deterministic ids for one scope (the hospital, or one patient)."""

    def __init__(self, seed: int, scope: str) -> None:
        self.seed = seed
        self.scope = scope
        self._counts: Counter[str] = Counter()

    def next(self, kind: str) -> str:
        """A fresh id for a resource of ``kind``."""
        self._counts[kind] += 1
        return resource_id(self.seed, self.scope, kind, self._counts[kind])


def luhn_check_digit(payload: str) -> int:
    """The Luhn check digit to append to ``payload``."""
    total = 0
    for position, char in enumerate(reversed(payload)):
        digit = int(char)
        if position % 2 == 0:
            digit *= 2
            if digit > 9:
                digit -= 9
        total += digit
    return (10 - total % 10) % 10


def make_npi(base9: str) -> str:
    """A 10-digit NPI: nine digits plus the Luhn check digit computed with the 80840 prefix."""
    return base9 + str(luhn_check_digit("80840" + base9))


def is_valid_npi(npi: str) -> bool:
    """True when ``npi`` is ten digits and passes the NPI Luhn check."""
    return len(npi) == 10 and npi.isdigit() and make_npi(npi[:9]) == npi


def make_mrn(seed: int, record: int) -> str:
    """A 7-digit medical record number, unique per (seed, record) for up to 9 million records."""
    offset = (seed * 104_729) % _MRN_SPACE
    return str(1_000_000 + (record * _MRN_MULTIPLIER + offset) % _MRN_SPACE)
