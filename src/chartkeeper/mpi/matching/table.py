"""Features in columns, for scoring many pairs at once with numpy and rapidfuzz.

Each text field is kept twice: the strings (an object array, for ``rapidfuzz.process.cpdist``
over the pairs still undecided) and integer codes (equal strings, equal codes; code 0 is the
empty string), so exact agreement and "missing" are integer comparisons over all pairs.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import numpy.typing as npt

from chartkeeper.mpi.matching.features import Features
from chartkeeper.mpi.matching.identifiers import (
    COMPARED_KINDS,
    EXACT_BYTES,
    VARIANT_BYTES,
    decode,
)
from chartkeeper.mpi.matching.names import nickname_keys

IntArray = npt.NDArray[np.int64]
BoolArray = npt.NDArray[np.bool_]
ObjectArray = npt.NDArray[np.object_]

#: Text fields of ``Features`` that are compared or looked up as strings.
TEXT_FIELDS = (
    "given",
    "given_phonetic",
    "family",
    "family_phonetic",
    "birth_date",
    "sex",
    "phone",
    "email",
    "address_number",
    "street",
    "address_other",
    "city",
    "state",
    "postal_code",
)


@dataclass
class Column:
    """One text field over all records: the strings and their integer codes (0 = empty)."""

    values: ObjectArray
    codes: IntArray
    vocabulary: list[str]


@dataclass
class IdentifierColumn:
    """One identifier kind over all records: exact hashes (0 = none) and variant slots."""

    exact: IntArray
    variants: IntArray  # records x slots, 0 = no variant in that slot


@dataclass
class FeatureTable:
    """Columns for a sequence of features; row ``i`` is ``features[i]``."""

    size: int
    text: dict[str, Column] = field(default_factory=dict)
    identifiers: dict[str, IdentifierColumn] = field(default_factory=dict)
    given_all: list[frozenset[str]] = field(default_factory=list)
    family_parts: list[frozenset[str]] = field(default_factory=list)
    nickname_bits: npt.NDArray[np.uint64] = field(
        default_factory=lambda: np.zeros((0, 1), np.uint64)
    )
    has_nickname: BoolArray = field(default_factory=lambda: np.zeros(0, bool))  # per name code
    has_given_all: BoolArray = field(default_factory=lambda: np.zeros(0, bool))
    has_family_parts: BoolArray = field(default_factory=lambda: np.zeros(0, bool))
    date_parts: IntArray = field(default_factory=lambda: np.zeros((0, 3), np.int64))
    date_digits: npt.NDArray[np.uint8] = field(default_factory=lambda: np.zeros((0, 8), np.uint8))


_NONE: frozenset[str] = frozenset()


def _column(values: list[str]) -> Column:
    index: dict[str, int] = {"": 0}
    codes = np.fromiter(
        (index.setdefault(v, len(index)) for v in values), dtype=np.int64, count=len(values)
    )
    array = np.empty(len(values), dtype=object)
    array[:] = values
    return Column(array, codes, list(index))


def _as_int64(raw: bytes, width: int) -> IntArray:
    """Big-endian chunks of ``width`` bytes as int64 (zero-padded on the left)."""
    chunks = np.frombuffer(raw, dtype=np.uint8).reshape(-1, width)
    padded = np.zeros((chunks.shape[0], 8), dtype=np.uint8)
    padded[:, 8 - width :] = chunks
    return padded.view(">i8").astype(np.int64).ravel()


def _identifier_columns(features: Sequence[Features]) -> dict[str, IdentifierColumn]:
    """Every compared identifier kind as a column; each kind's hashes decoded in one call
    (their base64 texts concatenate into one valid text, see ``identifiers``)."""
    found: dict[str, tuple[list[int], list[str], list[str]]] = {
        k: ([], [], []) for k in COMPARED_KINDS
    }
    for row, item in enumerate(features):
        for hashed in item.identifiers:
            rows, exact, variants = found.get(hashed.kind, ([], [], []))
            if not rows or rows[-1] != row:  # the first of its kind in a record
                rows.append(row)
                exact.append(hashed.exact)
                variants.append(hashed.variants)
    return {kind: _identifier_column(len(features), *found[kind]) for kind in COMPARED_KINDS}


def _identifier_column(
    size: int, rows: list[int], exact_texts: list[str], variant_texts: list[str]
) -> IdentifierColumn:
    exact = np.zeros(size, dtype=np.int64)
    row_array = np.array(rows, dtype=np.int64)
    if rows:
        raw = np.frombuffer(decode("".join(exact_texts)), dtype=np.uint8)
        exact[row_array] = raw.reshape(-1, EXACT_BYTES)[:, :8].copy().view(">i8").ravel()
    slots = np.array([len(t) for t in variant_texts], dtype=np.int64) * 3 // 4 // VARIANT_BYTES
    width = max(int(slots.max()) if rows else 0, 1)
    variants = np.zeros((size, width), dtype=np.int64)
    if rows and slots.sum():
        values = _as_int64(decode("".join(variant_texts)), VARIANT_BYTES)
        starts = np.cumsum(slots) - slots
        within = np.arange(values.shape[0]) - np.repeat(starts, slots)
        variants[np.repeat(row_array, slots), within] = values
    return IdentifierColumn(exact, variants)


def _date_parts(dates: list[str]) -> IntArray:
    """year, month, day per record; -1 where unknown."""
    parts = np.full((len(dates), 3), -1, dtype=np.int64)
    for row, text in enumerate(dates):
        for column, (start, end) in enumerate(((0, 4), (4, 6), (6, 8))):
            if len(text) >= end:
                parts[row, column] = int(text[start:end])
    return parts


def _nickname_bits(names: list[str]) -> npt.NDArray[np.uint64]:
    """Per given-name code, a bitset of ``nickname_keys``: two names are nickname-equivalent
    exactly when their bitsets share a bit."""
    keys = [nickname_keys(name) for name in names]
    shared = Counter(key for found in keys for key in found)
    bit_of: dict[str, int] = {}
    for key in sorted(k for k, n in shared.items() if n > 1):  # a key of one name links none
        bit_of[key] = len(bit_of)
    bits = np.zeros((len(names), max(1, -(-len(bit_of) // 64))), dtype=np.uint64)
    for row, found in enumerate(keys):
        for key in found & bit_of.keys():
            bit = bit_of[key]
            bits[row, bit // 64] |= np.uint64(1 << (bit % 64))
    return bits


def _date_digits(dates: list[str]) -> npt.NDArray[np.uint8]:
    """The eight characters of each full date as bytes (zeros for partial or missing)."""
    raw = b"".join(d.encode("ascii") if len(d) == 8 else bytes(8) for d in dates)
    return np.frombuffer(raw, dtype=np.uint8).reshape(len(dates), 8)


def _finish(table: FeatureTable) -> FeatureTable:
    """Fill the arrays derived from the text columns and name sets."""
    table.has_given_all = np.array([bool(s) for s in table.given_all], dtype=bool)
    table.has_family_parts = np.array([bool(s) for s in table.family_parts], dtype=bool)
    table.nickname_bits = _nickname_bits(table.text["given"].vocabulary)
    table.has_nickname = np.asarray(table.nickname_bits.any(axis=1), dtype=bool)
    dates = table.text["birth_date"]
    table.date_parts = _date_parts(dates.vocabulary)[dates.codes]
    table.date_digits = _date_digits(dates.vocabulary)[dates.codes]
    return table


def build_table(features: Sequence[Features]) -> FeatureTable:
    """The columns of ``features``, ready for ``comparisons.gamma``."""
    table = FeatureTable(size=len(features))
    transposed = zip(*features, strict=True) if features else ((),) * len(Features._fields)
    columns = dict(zip(Features._fields, transposed, strict=True))
    for name in TEXT_FIELDS:
        table.text[name] = _column(list(columns.get(name, ())))
    table.identifiers = _identifier_columns(features)
    table.given_all = [frozenset(v) if v else _NONE for v in columns.get("given_all", ())]
    table.family_parts = [frozenset(v) if v else _NONE for v in columns.get("family_parts", ())]
    return _finish(table)
