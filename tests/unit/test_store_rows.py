"""``store.rows.stored``: rows of ``resources`` (no method) and ``history`` (their method)."""

from __future__ import annotations

from sqlalchemy import create_engine, insert, select

from chartkeeper.store import schema
from chartkeeper.store.rows import stored


def test_resources_rows_are_puts_and_history_rows_keep_their_method() -> None:
    engine = create_engine("sqlite://")
    schema.resources.create(engine)
    schema.history.create(engine)
    values = {
        "res_type": "Patient",
        "res_id": "p1",
        "version_id": 2,
        "last_updated": 5,
        "deleted": False,
        "patient_id": "p1",
        "body": "{}",
    }
    with engine.begin() as connection:
        connection.execute(insert(schema.resources).values(values))
        connection.execute(insert(schema.history).values({**values, "method": "PATCH"}))
        current = stored(connection.execute(select(schema.resources)).one())
        version = stored(connection.execute(select(schema.history)).one())
    assert (current.method, current.version_id, current.patient_id) == ("PUT", 2, "p1")
    assert (version.method, version.body, version.deleted) == ("PATCH", "{}", False)
