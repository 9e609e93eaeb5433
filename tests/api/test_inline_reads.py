"""Reads by id served on the event loop (SQLite) are audited like any other: every read gets its
ledger entry, none is written from the loop thread, and the chain verifies."""

from __future__ import annotations

import threading

from sqlalchemy import text
from starlette.testclient import TestClient

from chartkeeper.app import Services
from chartkeeper.privacy.audit import buffer as audit_buffer
from tests.api.conftest import patient, put


def test_every_inline_read_is_in_the_ledger(
    client: TestClient, services: Services, monkeypatch: object
) -> None:
    put(client, "/fhir/Patient/inl", {**patient(), "id": "inl"})
    writers: set[str] = set()
    write_full_batch = audit_buffer.AuditBuffer._write_full_batch

    def spy(self: audit_buffer.AuditBuffer) -> None:
        writers.add(threading.current_thread().name)
        write_full_batch(self)

    monkeypatch.setattr(audit_buffer.AuditBuffer, "_write_full_batch", spy)  # type: ignore[attr-defined]
    reads = 2 * audit_buffer.FLUSH_SIZE + 7  # more than two full batches
    for _ in range(reads):
        assert client.get("/fhir/Patient/inl").status_code == 200
    services.ledger.buffered().flush()
    with services.engine.connect() as connection:
        count = connection.execute(
            text("SELECT count(*) FROM audit_ledger WHERE action = 'R' AND outcome = '0'")
        ).scalar_one()
    assert count >= reads
    inline = client.app.state.inline_reads  # type: ignore[attr-defined]
    assert inline == (services.engine.dialect.name == "sqlite")
    if inline:  # a full batch is never written on the loop thread, so no request stalls on it
        assert not writers
    assert services.ledger.verify().ok
