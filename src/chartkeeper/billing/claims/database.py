"""The billing work tables' transactions (`store.work_db`): a unique-key race is a 409."""

from __future__ import annotations

from sqlalchemy import Engine

from chartkeeper.store.work_db import WorkDatabase


class BillingDatabase(WorkDatabase):
    """The store's work-table transactions, for the claim worklist and batches."""

    def __init__(self, engine: Engine) -> None:
        super().__init__(engine, conflict="A concurrent change to the claim worklist; retry")
