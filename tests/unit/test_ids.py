"""Logical ids: the R4 ``id`` datatype, exactly."""

from __future__ import annotations

from chartkeeper.core.ids import is_valid_id, new_id


def test_valid_ids_and_the_ones_that_are_not() -> None:
    assert is_valid_id("abc-1.2")
    assert is_valid_id(new_id())
    assert not is_valid_id("abc\n")
    assert not is_valid_id("a" * 65)
    assert not is_valid_id("bad$id")
