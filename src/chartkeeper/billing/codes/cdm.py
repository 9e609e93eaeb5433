"""The charge description master: services, their billing codes and prices.

Placeholder signatures wired into `chartkeeper.billing.codes.loaders`;
the charge-capture work fills them in.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from chartkeeper.billing.codes.model import CodeEntry
from chartkeeper.core.errors import InvalidError


def parse(lines: Iterable[str]) -> Iterator[CodeEntry]:
    """Entries of one file."""
    raise InvalidError("not supported yet")
    yield from ()


def version_of_file(name: str) -> tuple[str, str] | None:
    """Version and start date from a file name."""
    return None
