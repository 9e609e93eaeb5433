"""Blocking: a few short keys per record, so only records that share a key are compared.

Online, a caller stores ``(key, patient_id)`` rows and fetches the candidates of a new record
by its keys; in batch, ``candidate_pairs`` makes every pair that shares a key. Each key is
selective on its own (a birth date *and* a name initial, not a birth year alone), and the keys
are chosen so that a true pair almost always shares at least one, whatever single field is
mistyped, missing or swapped. Pairs completeness on FEBRL is measured in ``bench/``.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from chartkeeper.mpi.matching.features import Features
from chartkeeper.mpi.matching.names import soundex
from chartkeeper.mpi.matching.table import IntArray

#: Blocks larger than this are skipped in batch: such a key (a placeholder birth date, a
#: shared clinic phone) says little, and its pairs would grow with the square of its size.
MAX_BLOCK = 500


def _date_key(digits: str) -> str:
    """Year plus day and month in sorted order, so a day/month transposition shares the key."""
    month, day = sorted((digits[4:6], digits[6:8]))
    return digits[:4] + month + day


def blocking_keys(f: Features) -> list[str]:
    """The blocking keys of one record (at most about ten short strings)."""
    keys: list[str] = []
    initials = sorted({name[0] for name in (f.given, f.family) if name})
    if len(f.birth_date) == 8:
        date = _date_key(f.birth_date)
        keys += [f"d:{date}:{initial}" for initial in initials] or [f"d:{date}"]
    for identifier in f.identifiers:
        keys.append(f"i:{identifier.kind}:{identifier.exact}")
    if f.family and f.given:
        keys.append(f"n:{soundex(f.family) or f.family[:4]}:{f.given[0]}:{f.birth_date[:4]}")
    if f.given_phonetic and f.family_phonetic:  # either order: swapped names share it
        names = ":".join(sorted((f.given_phonetic, f.family_phonetic)))
        keys.append(f"m:{names}:{f.postal_code[:1]}")
    if f.phone:
        keys.append(f"p:{f.phone}")
    if f.email:
        keys.append(f"e:{f.email}"[:128])
    if f.postal_code and f.family:
        keys.append(f"a:{f.postal_code}:{f.family[:3]}")
    if f.postal_code and f.address_number:
        keys.append(f"h:{f.postal_code}:{f.address_number}")
    if f.street and f.address_number:
        street = f.street.split()[0]
        keys.append(f"s:{f.postal_code[:2]}:{f.address_number}:{street}"[:128])
    return keys


def _key_rows(keys_per_record: Sequence[Sequence[str]]) -> tuple[IntArray, IntArray]:
    """(key id, record) for each distinct key of each record, sorted by key then record."""
    index: dict[str, int] = {}
    flat = [key for keys in keys_per_record for key in keys]
    key_ids = np.fromiter(
        (index.setdefault(key, len(index)) for key in flat), dtype=np.int64, count=len(flat)
    )
    rows = np.repeat(
        np.arange(len(keys_per_record), dtype=np.int64), [len(keys) for keys in keys_per_record]
    )
    combined = np.unique(key_ids * np.int64(max(len(keys_per_record), 1)) + rows)
    size = max(len(keys_per_record), 1)
    return combined // size, combined % size


def _block_pairs(key_ids: IntArray, rows: IntArray, max_block: int) -> IntArray:
    """Every (earlier, later) record pair inside each block, blocks of equal size at once."""
    starts = np.flatnonzero(np.r_[True, key_ids[1:] != key_ids[:-1]])
    sizes = np.diff(np.r_[starts, key_ids.shape[0]])
    found: list[IntArray] = [np.zeros((0, 2), dtype=np.int64)]
    for size in np.unique(sizes[(sizes >= 2) & (sizes <= max_block)]):
        first = starts[sizes == size]
        members = rows[first[:, None] + np.arange(size)[None, :]]
        upper, lower = np.triu_indices(int(size), 1)
        found.append(np.stack([members[:, upper].ravel(), members[:, lower].ravel()], axis=1))
    return np.concatenate(found)


def _unique(pairs: IntArray, size: int) -> IntArray:
    codes = np.unique(pairs[:, 0] * np.int64(size) + pairs[:, 1])
    return np.stack([codes // size, codes % size], axis=1)


def candidate_pairs(
    keys_per_record: Sequence[Sequence[str]], max_block: int = MAX_BLOCK
) -> IntArray:
    """Record pairs ``(i, j)``, ``i < j``, that share at least one key, each once (n x 2)."""
    key_ids, rows = _key_rows(keys_per_record)
    return _unique(_block_pairs(key_ids, rows, max_block), max(len(keys_per_record), 1))


def link_pairs(
    left_keys: Sequence[Sequence[str]],
    right_keys: Sequence[Sequence[str]],
    max_block: int = MAX_BLOCK,
) -> IntArray:
    """Pairs ``(i, j)`` of a left record and a right record that share a key (n x 2)."""
    offset = len(left_keys)
    key_ids, rows = _key_rows([*left_keys, *right_keys])
    pairs = _block_pairs(key_ids, rows, max_block)
    pairs = pairs[(pairs[:, 0] < offset) & (pairs[:, 1] >= offset)]
    pairs[:, 1] -= offset
    return _unique(pairs, max(len(right_keys), offset, 1))
