"""The ledger's canonical JSON is fast (orjson) and byte for byte what ``json`` writes, so the
hash chain does not depend on which of the two serialised an entry."""

from __future__ import annotations

import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chartkeeper.privacy.audit import NullLedger
from chartkeeper.privacy.audit.chain import canonical_json


def reference(value: Any) -> str:
    return json.dumps(
        value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False
    )


scalars = (
    st.text()  # every code point, control characters, U+2028, lone surrogates included
    | st.integers(min_value=-(2**80), max_value=2**80)
    | st.booleans()
    | st.none()
)
values = st.recursive(
    scalars,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(), inner, max_size=4),
    max_leaves=20,
)


@settings(max_examples=400, deadline=None)
@given(values)
def test_canonical_json_is_json_s_canonical_form(value: Any) -> None:
    assert canonical_json(value) == reference(value)


def test_what_json_refuses_stays_refused() -> None:
    with pytest.raises(ValueError):
        canonical_json({"x": float("nan")})
    with pytest.raises(TypeError):
        canonical_json({"x": object()})


def test_a_null_ledger_records_nothing() -> None:
    ledger = NullLedger()
    assert ledger.records is False
    ledger.buffered().add({}, patient_ids=["p1"], agent="x", action="R", outcome="0")
    assert len(ledger.buffered()) == 0
    assert ledger.append_now({}, patient_ids=[], agent="x", action="R", outcome="0") == 0
    ledger.close()
