"""Short write transactions on the identity tables, the way the store writes (one SQLite writer)."""

from __future__ import annotations

from chartkeeper.store.work_db import WorkDatabase


class IdentityDatabase(WorkDatabase):
    """An engine plus the writer lock; ``write()`` runs ``BEGIN IMMEDIATE`` on SQLite."""
