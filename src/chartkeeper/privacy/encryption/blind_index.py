"""Search indexes and searches over encrypted identifiers, through the keyed blind index.

On write, the token rows of an encrypted value hold its blind index instead of the value
(``identifier`` and ``identifier:of-type``), the ``_content`` document is rebuilt without it,
and the ``_text`` document loses any copy of it. On search, every ``identifier`` value also
matches its blind index, so ``identifier=http://hl7.org/fhir/sid/us-ssn|999-12-3456``,
``identifier=999-12-3456`` (no system) and ``identifier:of-type=...|SS|999-12-3456`` find the
record, ignoring hyphens, spaces and case in the number
(http://hl7.org/fhir/R4/search.html#token).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from chartkeeper.fhir.index_rows import IndexRows
from chartkeeper.fhir.indexing import content
from chartkeeper.fhir.search_request import (
    CompositeValue,
    Criterion,
    SearchRequest,
    SearchValue,
    TokenValue,
)
from chartkeeper.privacy.encryption.cipher import FieldCipher
from chartkeeper.privacy.encryption.identifiers import Sealed, without_sealed_values

OF_TYPE = ":of-type"
#: a value shorter than this is not scrubbed from narrative text (it would mangle other words)
MIN_SCRUBBED = 4
Token = tuple[str, str | None, str | None, str | None]


def blinded_index(
    index: IndexRows, sealed: list[Sealed], sealed_resource: dict[str, Any], cipher: FieldCipher
) -> IndexRows:
    """``index`` with no trace of the ``sealed`` values (see the module docstring)."""
    if not sealed:
        return index
    pairs = {(s.system, s.value) for s in sealed}
    values = {s.value for s in sealed}
    tokens = [_blinded_token(row, pairs, values, cipher) for row in index.tokens]
    narrative = index.narrative
    for value in values:
        if len(value) >= MIN_SCRUBBED:
            narrative = narrative.replace(value, " ")
    return replace(
        index,
        tokens=tokens,
        strings=[row for row in index.strings if row[2] not in values],
        uris=[row for row in index.uris if row[1] not in values],
        narrative=narrative,
        content=content(without_sealed_values(sealed_resource)),
    )


def _blinded_token(
    row: Token, pairs: set[tuple[str | None, str]], values: set[str], cipher: FieldCipher
) -> Token:
    param, system, code, text = row
    if code is None:
        return row
    if (system, code) in pairs:
        return (param, system, cipher.blind_index(code), text)
    if param.endswith(OF_TYPE):
        type_code, bar, value = code.partition("|")
        if bar and value in values:
            return (param, system, f"{type_code}|{cipher.blind_index(value)}", text)
    return row


def blinded_search(request: SearchRequest, cipher: FieldCipher) -> SearchRequest:
    """``request`` whose ``identifier`` criteria also match blind indexes (chains and
    ``_has`` included); the request itself is left as it was."""
    criteria = [_blinded_criterion(c, cipher) for c in request.criteria]
    if all(new is old for new, old in zip(criteria, request.criteria, strict=True)):
        return request
    return replace(request, criteria=criteria)


def _blinded_criterion(criterion: Criterion, cipher: FieldCipher) -> Criterion:
    changes: dict[str, Any] = {}
    if criterion.chain is not None:
        changes["chain"] = _blinded_criterion(criterion.chain, cipher)
    if criterion.has is not None:
        changes["has"] = _blinded_criterion(criterion.has, cipher)
    if _is_identifier_search(criterion):
        extra = [v for v in (_blinded_value(value, cipher) for value in criterion.values) if v]
        if extra:
            changes["values"] = [*criterion.values, *extra]
    return replace(criterion, **changes) if changes else criterion


def _is_identifier_search(criterion: Criterion) -> bool:
    return (
        criterion.name == "identifier"
        and criterion.param_type == "token"
        and criterion.modifier in (None, "not", "of-type")
        and criterion.missing is None
    )


def _blinded_value(value: SearchValue, cipher: FieldCipher) -> SearchValue | None:
    if isinstance(value, TokenValue) and value.code:
        return TokenValue(value.system, cipher.blind_index(value.code))
    if isinstance(value, CompositeValue) and isinstance(value.second, TokenValue):
        second = value.second
        if second.code:
            return CompositeValue(
                value.first, TokenValue(second.system, cipher.blind_index(second.code))
            )
    return None
