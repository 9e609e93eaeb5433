"""A real in-memory ``DuplicateIndex`` for the tests."""

from __future__ import annotations


class MemoryDuplicates:
    """Signatures of claims already seen, with their claim ids."""

    def __init__(self) -> None:
        self.seen: dict[str, list[str]] = {}

    def add(self, signature: str, claim_id: str) -> None:
        self.seen.setdefault(signature, []).append(claim_id)

    def find(self, signature: str, claim_id: str) -> str | None:
        return next((other for other in self.seen.get(signature, []) if other != claim_id), None)
