"""Logical ids: the R4 ``id`` datatype, exactly."""

from __future__ import annotations

import uuid

from chartkeeper.core.ids import is_valid_id, new_id


def test_valid_ids_and_the_ones_that_are_not() -> None:
    assert is_valid_id("abc-1.2")
    assert is_valid_id(new_id())
    assert not is_valid_id("abc\n")
    assert not is_valid_id("a" * 65)
    assert not is_valid_id("bad$id")


def test_new_ids_are_time_ordered_uuid7_and_unique() -> None:
    """Server-assigned ids sort in the order they were made (the store's keys then grow at
    their right-hand edge), even many within one millisecond, and stay valid FHIR ids."""
    made = [new_id() for _ in range(20_000)]
    assert made == sorted(made)
    assert len(set(made)) == len(made)
    for ident in made[:100]:
        parsed = uuid.UUID(ident)
        assert parsed.version == 7 and parsed.variant == uuid.RFC_4122
        assert is_valid_id(ident) and len(ident) == 36
