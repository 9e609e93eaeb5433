"""Small code set files in the official layouts (tests/unit/billing/data) and a fake version."""

from __future__ import annotations

from pathlib import Path

from chartkeeper.billing.codes.icd10cm_tabular import parse_tabular
from chartkeeper.billing.codes.model import CodeEntry
from chartkeeper.billing.codes.registry import StoredCode

DATA = Path(__file__).resolve().parent / "data"
MINI_TABULAR = DATA / "icd10cm-tabular-mini-2026.xml"
MINI_HCPCS = DATA / "HCPC2026_JAN_ANWEB_mini.txt"
MINI_PCS_ORDER = DATA / "icd10pcs_order_mini_2026.txt"
MINI_PCS_TABLES = DATA / "icd10pcs_tables_mini_2026.xml"


def mini_entries() -> list[CodeEntry]:
    return list(parse_tabular(MINI_TABULAR))


def stored(entries: list[CodeEntry], version: str = "2026") -> list[StoredCode]:
    return [StoredCode("icd10cm", version, e.code, e.display, e.billable, e.extra) for e in entries]


class MemoryVersion:
    """A real in-memory implementation of ``checks.CodeVersion``."""

    def __init__(self, version: str | None, entries: list[CodeEntry], others: dict[str, list[str]]):
        self.version = version
        self.codes = {s.code: s for s in stored(entries, version or "")}
        self.others = others

    def get(self, code: str) -> StoredCode | None:
        return self.codes.get(code) if self.version else None

    def other_versions(self, code: str) -> list[str]:
        return self.others.get(code, [])

    def children(self, code: str, limit: int) -> list[str]:
        below = sorted(c for c, s in self.codes.items() if c.startswith(code) and s.billable)
        return below[:limit]
