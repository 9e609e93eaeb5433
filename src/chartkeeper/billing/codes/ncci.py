"""NCCI procedure-to-procedure edits and MUE unit limits in CMS's published layouts.

Placeholder signatures wired into `chartkeeper.billing.codes.loaders`;
the scrubber work fills them in.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from chartkeeper.billing.codes.model import CodeEntry
from chartkeeper.core.errors import InvalidError


def parse_ptp(lines: Iterable[str]) -> Iterator[CodeEntry]:
    """Entries of one file."""
    raise InvalidError("not supported yet")
    yield from ()


def parse_mue(lines: Iterable[str]) -> Iterator[CodeEntry]:
    """Entries of one file."""
    raise InvalidError("not supported yet")
    yield from ()


def ptp_version(name: str) -> tuple[str, str] | None:
    """Version and start date from a file name."""
    return None


def mue_version(name: str) -> tuple[str, str] | None:
    """Version and start date from a file name."""
    return None
