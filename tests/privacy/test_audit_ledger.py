"""The audit ledger: canonical form and hashing, event shape, keys, buffer, and appends."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import stat
import threading
import time
from collections.abc import Iterator, Sequence
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from alembic.script import ScriptDirectory
from hypothesis import given
from hypothesis import strategies as st
from sqlalchemy import Engine, func, select
from sqlalchemy import text as text_sql
from sqlalchemy.exc import IntegrityError

from chartkeeper.core.clock import FixedClock
from chartkeeper.core.errors import InvalidError, NotFoundError
from chartkeeper.privacy.actor import Actor
from chartkeeper.privacy.audit import (
    AuditBuffer,
    AuditKeys,
    AuditLedger,
    audit_event,
    compact,
    export_checkpoints,
    has_keys,
    load_keys,
    read_checkpoint_file,
)
from chartkeeper.privacy.audit.buffer import FLUSH_SIZE, WRITE_MAX_BATCHES, QueuedEntry
from chartkeeper.privacy.audit.chain import (
    GENESIS_HASH,
    Entry,
    EntryHasher,
    canonical_json,
    hashed_message,
)
from chartkeeper.privacy.audit.checkpoints import is_signature_valid
from chartkeeper.privacy.audit.pending import pending_entry
from chartkeeper.privacy.audit.query import AuditQuery, read_entry, search_ledger
from chartkeeper.store.audit_schema import (
    audit_checkpoints,
    audit_head,
    audit_ledger,
    audit_patients,
)
from chartkeeper.store.engine import make_engine
from chartkeeper.store.migrate import alembic_config, upgrade
from chartkeeper.store.repository import SqlRepository

NOW = datetime(2026, 3, 2, 9, 30, 15, 123456, tzinfo=UTC)
DR_LEE = Actor(
    kind="user",
    name="dr.lee",
    role="physician",
    practitioner_id="prac-7",
    source_address="10.1.2.3",
)

# --- canonical form and hashing -------------------------------------------------------------------


def test_canonical_json_sorts_keys_drops_spaces_and_keeps_utf8() -> None:
    text = canonical_json({"b": 1, "a": {"d": [1, 2], "c": "Zoë"}})
    assert text == '{"a":{"c":"Zoë","d":[1,2]},"b":1}'


def test_canonical_json_refuses_nan() -> None:
    with pytest.raises(ValueError):
        canonical_json({"x": float("nan")})


def test_the_hashed_message_is_prev_hash_then_the_canonical_content() -> None:
    message = hashed_message(
        GENESIS_HASH, 7, 1_700_000_000_000_000, '{"a":1}', "p1 p2", "dr.lee", "R", "0"
    )
    assert message == (
        GENESIS_HASH.encode()
        + b'{"action":"R","agent":"dr.lee","event":{"a":1},"outcome":"0",'
        + b'"patientIds":"p1 p2","recordedAt":1700000000000000,"seq":7}'
    )


texts = st.text(st.characters(codec="utf-8"), max_size=40)
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | texts,
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(texts, inner, max_size=4),
    max_leaves=12,
)


@given(
    seq=st.integers(1, 2**62),
    recorded_at=st.integers(0, 2**62),
    event=st.dictionaries(texts, json_values, max_size=5),
    patient_ids=texts,
    agent=texts,
    action=texts,
    outcome=texts,
)
def test_spliced_message_equals_canonical_json_of_the_whole_content(
    seq: int,
    recorded_at: int,
    event: dict[str, Any],
    patient_ids: str,
    agent: str,
    action: str,
    outcome: str,
) -> None:
    event_text = canonical_json(event)
    content = {
        "action": action,
        "agent": agent,
        "event": event,
        "outcome": outcome,
        "patientIds": patient_ids,
        "recordedAt": recorded_at,
        "seq": seq,
    }
    expected = (GENESIS_HASH + canonical_json(content)).encode("utf-8")
    spliced = hashed_message(
        GENESIS_HASH, seq, recorded_at, event_text, patient_ids, agent, action, outcome
    )
    assert spliced == expected


@given(key=st.binary(min_size=1, max_size=200), message=st.binary(max_size=3000))
def test_entry_hasher_is_hmac_sha256(key: bytes, message: bytes) -> None:
    expected = hmac.new(key, message, hashlib.sha256).hexdigest()
    assert EntryHasher(key).digest(message) == expected


# --- events --------------------------------------------------------------------------------------


def test_a_read_event_is_balp_shaped() -> None:
    event = audit_event(
        action="R",
        subtype="read",
        outcome="0",
        actor=DR_LEE,
        patient_ids=["pat-1"],
        resource="Observation/obs-9/_history/2",
        recorded=NOW,
    )
    assert event == {
        "resourceType": "AuditEvent",
        "type": {
            "system": "http://terminology.hl7.org/CodeSystem/audit-event-type",
            "code": "rest",
        },
        "subtype": [{"system": "http://hl7.org/fhir/restful-interaction", "code": "read"}],
        "action": "R",
        "recorded": "2026-03-02T09:30:15.123Z",
        "outcome": "0",
        "agent": [
            {
                "type": {
                    "coding": [
                        {
                            "system": "http://terminology.hl7.org/CodeSystem/v3-ParticipationType",
                            "code": "IRCP",
                        }
                    ]
                },
                "who": {"identifier": {"value": "dr.lee"}, "reference": "Practitioner/prac-7"},
                "requestor": True,
                "purposeOfUse": [
                    {
                        "coding": [
                            {
                                "system": "http://terminology.hl7.org/CodeSystem/v3-ActReason",
                                "code": "TREAT",
                            }
                        ]
                    }
                ],
                "role": [{"coding": [{"system": "urn:chartkeeper:role", "code": "physician"}]}],
                "network": {"address": "10.1.2.3", "type": "2"},
            },
            {
                "type": {
                    "coding": [
                        {"system": "http://dicom.nema.org/resources/ontology/DCM", "code": "110152"}
                    ]
                },
                "who": {"display": "chartkeeper"},
                "requestor": False,
            },
        ],
        "source": {
            "observer": {"display": "chartkeeper"},
            "type": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/security-source-type",
                    "code": "4",
                }
            ],
        },
        "entity": [
            {
                "what": {"reference": "Patient/pat-1"},
                "type": {
                    "system": "http://terminology.hl7.org/CodeSystem/audit-entity-type",
                    "code": "1",
                },
                "role": {
                    "system": "http://terminology.hl7.org/CodeSystem/object-role",
                    "code": "1",
                },
            },
            {
                "what": {"reference": "Observation/obs-9/_history/2"},
                "type": {
                    "system": "http://terminology.hl7.org/CodeSystem/audit-entity-type",
                    "code": "2",
                },
                "role": {
                    "system": "http://terminology.hl7.org/CodeSystem/object-role",
                    "code": "4",
                },
            },
        ],
    }


def test_a_search_event_names_every_patient_returned_and_carries_the_query_in_base64() -> None:
    query = "Observation?code=http://loinc.org|8867-4&_count=50"
    event = audit_event(
        action="E",
        subtype="search-type",
        outcome="0",
        actor=DR_LEE,
        patient_ids=["a", "b", "c"],
        query=query,
        recorded=NOW,
    )
    patients = [e["what"]["reference"] for e in event["entity"] if e["role"]["code"] == "1"]
    assert patients == ["Patient/a", "Patient/b", "Patient/c"]
    (query_entity,) = [e for e in event["entity"] if e["role"]["code"] == "24"]
    assert base64.b64decode(query_entity["query"]).decode() == query
    assert event["subtype"][0]["code"] == "search-type"


def test_a_failed_sign_in_is_a_dicom_login_with_a_minor_failure() -> None:
    client = Actor(kind="client", name="lab-feed", source_address="192.0.2.9")
    event = audit_event(
        action="E",
        subtype="login",
        outcome="4",
        actor=client,
        patient_ids=[],
        recorded=NOW,
        description="wrong password",
    )
    dicom = "http://dicom.nema.org/resources/ontology/DCM"
    assert event["type"] == {"system": dicom, "code": "110114"}
    assert event["subtype"] == [{"system": dicom, "code": "110122"}]
    assert event["outcome"] == "4"
    assert event["outcomeDesc"] == "wrong password"
    assert event["agent"][0]["type"]["coding"] == [{"system": dicom, "code": "110153"}]
    assert "entity" not in event


@pytest.mark.parametrize(
    ("subtype", "type_code", "subtype_code"),
    [
        ("break-the-glass", "110113", "110127"),
        ("permission-change", "110113", "110136"),
        ("export", "110106", "operation"),
        ("logout", "110114", "110123"),
    ],
)
def test_security_events_use_the_dicom_codes(
    subtype: str, type_code: str, subtype_code: str
) -> None:
    event = audit_event(
        action="E", subtype=subtype, outcome="0", actor=DR_LEE, patient_ids=[], recorded=NOW
    )
    assert event["type"]["code"] == type_code
    assert event["subtype"][0]["code"] == subtype_code


@pytest.mark.parametrize(
    "arguments",
    [
        {"subtype": "peek"},
        {"action": "X"},
        {"outcome": "1"},
    ],
)
def test_unknown_codes_are_refused(arguments: dict[str, str]) -> None:
    values = {"action": "R", "subtype": "read", "outcome": "0", **arguments}
    with pytest.raises(ValueError):
        audit_event(actor=DR_LEE, patient_ids=[], recorded=NOW, **values)


@pytest.mark.parametrize(
    "arguments",
    [
        {"patient_ids": ["has space"]},
        {"patient_ids": "pat-1"},
        {"agent": ""},
        {"action": "r"},
        {"outcome": "2"},
    ],
)
def test_entries_with_malformed_columns_are_refused(arguments: dict[str, Any]) -> None:
    values: dict[str, Any] = {
        "patient_ids": ["pat-1"],
        "agent": "dr.lee",
        "action": "R",
        "outcome": "0",
        **arguments,
    }
    with pytest.raises(ValueError):
        pending_entry({}, **values)


def test_a_very_long_agent_name_is_cut_to_the_column_not_refused() -> None:
    entry = pending_entry({}, patient_ids=[], agent="x" * 1000, action="E", outcome="4")
    assert entry.agent == "x" * 256


# --- keys and checkpoints ------------------------------------------------------------------------


def test_keys_are_made_private_on_first_use_and_loaded_after(tmp_path: Path) -> None:
    assert not has_keys(tmp_path)
    first = load_keys(tmp_path)
    directory = tmp_path / "keys"
    assert stat.S_IMODE(directory.stat().st_mode) == 0o700
    for name in ("audit-hmac.key", "audit-signing.pem"):
        assert stat.S_IMODE((directory / name).stat().st_mode) == 0o600
    second = load_keys(tmp_path)
    assert has_keys(tmp_path)
    assert second.hmac_key == first.hmac_key
    assert second.public_key_id == first.public_key_id
    assert first.hmac_key.hex() not in repr(first)


def test_keys_made_by_several_threads_at_once_are_the_same(tmp_path: Path) -> None:
    found: list[AuditKeys] = []
    threads = [threading.Thread(target=lambda: found.append(load_keys(tmp_path))) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len({keys.hmac_key for keys in found}) == 1
    assert len({keys.public_key_id for keys in found}) == 1
    assert sorted(p.name for p in (tmp_path / "keys").iterdir()) == [
        "audit-hmac.key",
        "audit-signing.pem",
    ]


def test_a_checkpoint_file_that_is_not_one_is_refused(tmp_path: Path) -> None:
    with pytest.raises(NotFoundError):
        read_checkpoint_file(tmp_path / "missing.json")
    (tmp_path / "other.json").write_text('{"resourceType": "Patient"}')
    with pytest.raises(InvalidError):
        read_checkpoint_file(tmp_path / "other.json")


# --- the buffer ----------------------------------------------------------------------------------


class RecordingWriter:
    """A real writer for the buffer's narrow interface: keeps batches, can be made to fail."""

    def __init__(self) -> None:
        self.batches: list[list[Any]] = []  # PendingEntry here: the tests add full events
        self.failing = False
        self.written = threading.Event()

    def __call__(self, entries: Sequence[QueuedEntry]) -> None:
        if self.failing:
            raise OSError("store unavailable")
        self.batches.append(list(entries))
        self.written.set()


def _add(buffer: AuditBuffer, count: int) -> None:
    for number in range(count):
        buffer.add({"n": number}, patient_ids=["pat-1"], agent="dr.lee", action="R", outcome="0")


def test_the_buffer_writes_a_full_batch_without_waiting_for_the_interval() -> None:
    writer = RecordingWriter()
    buffer = AuditBuffer(writer, FixedClock(NOW), interval=60, size=200)
    _add(buffer, 200)
    assert writer.written.wait(5)
    assert [len(batch) for batch in writer.batches] == [200]
    buffer.close()


def test_the_buffer_writes_a_partial_batch_after_the_interval() -> None:
    writer = RecordingWriter()
    buffer = AuditBuffer(writer, FixedClock(NOW), interval=0.05, size=200)
    _add(buffer, 3)
    assert writer.written.wait(5)
    assert [[entry.event["n"] for entry in batch] for batch in writer.batches] == [[0, 1, 2]]
    buffer.close()


def test_closing_the_buffer_writes_what_is_left_and_later_adds_go_straight_through() -> None:
    writer = RecordingWriter()
    buffer = AuditBuffer(writer, FixedClock(NOW), interval=60, size=200)
    _add(buffer, 5)
    buffer.close()
    assert sum(len(batch) for batch in writer.batches) == 5
    _add(buffer, 1)
    assert sum(len(batch) for batch in writer.batches) == 6


def test_a_failed_write_keeps_the_entries_for_the_next_flush() -> None:
    writer = RecordingWriter()
    buffer = AuditBuffer(writer, FixedClock(NOW), interval=60, size=200)
    _add(buffer, 4)
    writer.failing = True
    with pytest.raises(OSError):
        buffer.flush()
    assert len(buffer) == 4
    writer.failing = False
    buffer.close()
    assert [len(batch) for batch in writer.batches] == [4]


def test_buffered_entries_keep_the_time_they_were_added() -> None:
    writer = RecordingWriter()
    clock = FixedClock(NOW)
    buffer = AuditBuffer(writer, clock, interval=60, size=200)
    _add(buffer, 1)
    clock.advance(seconds=30)
    buffer.close()
    (entry,) = writer.batches[0]
    assert entry.recorded_at == 1_772_443_815_123_456


# --- appends on a real store ---------------------------------------------------------------------


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    upgrade(engine)
    yield engine
    engine.dispose()


def _event(number: int) -> dict[str, Any]:
    return audit_event(
        action="R",
        subtype="read",
        outcome="0",
        actor=DR_LEE,
        patient_ids=["pat-1"],
        resource=f"Observation/o{number}",
        recorded=NOW,
    )


def _count(engine: Engine, table: Any) -> int:
    with engine.connect() as connection:
        return int(connection.execute(select(func.count()).select_from(table)).scalar_one())


def test_an_entry_commits_and_rolls_back_with_the_change_it_records(engine: Engine) -> None:
    ledger = AuditLedger(engine, AuditKeys.generate(), FixedClock(NOW))
    repository = SqlRepository(engine)
    with pytest.raises(RuntimeError), repository.transaction() as tx:
        ledger.append(
            tx.connection, _event(1), patient_ids=["pat-1"], agent="dr.lee", action="U", outcome="0"
        )
        raise RuntimeError("the change failed")
    assert _count(engine, audit_ledger) == 0
    with repository.transaction() as tx:
        seq = ledger.append(
            tx.connection, _event(2), patient_ids=["pat-1"], agent="dr.lee", action="U", outcome="0"
        )
    assert seq == 1
    assert ledger.verify().ok


def test_appends_store_the_event_with_its_seq_as_id_and_index_its_patients(
    engine: Engine,
) -> None:
    keys = AuditKeys.generate()
    ledger = AuditLedger(engine, keys, FixedClock(NOW))
    ledger.append_now(
        _event(1), patient_ids=["pat-1", "pat-2", "pat-1"], agent="dr.lee", action="R", outcome="0"
    )
    with engine.connect() as connection:
        row = connection.execute(select(audit_ledger)).one()
        patients = connection.execute(select(audit_patients.c.patient_id)).scalars().all()
    assert json.loads(row.event)["id"] == "1"
    assert row.event == canonical_json({**_event(1), "id": "1"})
    assert row.patient_ids == "pat-1 pat-2"
    assert row.recorded_at == 1_772_443_815_123_456
    assert row.prev_hash == GENESIS_HASH
    assert sorted(patients) == ["pat-1", "pat-2"]
    # The documented formula, with nothing but the standard library:
    message = (GENESIS_HASH + canonical_json(Entry(**row._asdict()).content())).encode()
    assert hmac.new(keys.hmac_key, message, hashlib.sha256).hexdigest() == row.entry_hash


def test_concurrent_appends_get_contiguous_seqs_that_chain(engine: Engine) -> None:
    ledger = AuditLedger(engine, AuditKeys.generate(), FixedClock(NOW))
    errors: list[BaseException] = []

    def work() -> None:
        try:
            for number in range(15):
                ledger.append_now(
                    _event(number), patient_ids=["pat-1"], agent="dr.lee", action="R", outcome="0"
                )
        except BaseException as error:  # surfaced below
            errors.append(error)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    report = ledger.verify()
    assert (report.ok, report.entries, report.problem) == (True, 60, None)


def test_a_checkpoint_is_signed_every_n_entries_and_on_demand(engine: Engine) -> None:
    keys = AuditKeys.generate()
    ledger = AuditLedger(engine, keys, FixedClock(NOW), checkpoint_every=10)
    for number in range(25):
        ledger.append_now(
            _event(number), patient_ids=["pat-1"], agent="dr.lee", action="R", outcome="0"
        )
    on_demand = ledger.checkpoint()
    assert on_demand.seq == 25
    assert ledger.checkpoint() == on_demand  # the head already has one
    with engine.connect() as connection:
        seqs = connection.execute(select(audit_checkpoints.c.seq)).scalars().all()
    assert sorted(seqs) == [10, 20, 25]
    assert is_signature_valid(on_demand, keys.public_key_hex)


def test_exported_checkpoints_verify_with_the_public_key_they_carry(
    engine: Engine, tmp_path: Path
) -> None:
    keys = AuditKeys.generate()
    ledger = AuditLedger(engine, keys, FixedClock(NOW))
    ledger.append_now(_event(1), patient_ids=["pat-1"], agent="dr.lee", action="R", outcome="0")
    ledger.checkpoint()
    with engine.connect() as connection:
        assert export_checkpoints(connection, keys, tmp_path / "cp.json") == 1
    exported = read_checkpoint_file(tmp_path / "cp.json")
    (checkpoint,) = exported.checkpoints
    assert checkpoint.seq == 1
    assert is_signature_valid(checkpoint, exported.public_keys[keys.public_key_id])
    report = ledger.verify(tmp_path / "cp.json")
    assert (report.ok, report.checkpoints) == (True, 2)


def test_buffered_reads_reach_the_ledger_by_close(engine: Engine) -> None:
    ledger = AuditLedger(engine, AuditKeys.generate(), FixedClock(NOW))
    buffer = ledger.buffered()
    assert ledger.buffered() is buffer
    total = FLUSH_SIZE + 50
    for number in range(total):
        buffer.add(_event(number), patient_ids=["pat-1"], agent="dr.lee", action="R", outcome="0")
    deadline = time.monotonic() + 10
    while _count(engine, audit_ledger) < FLUSH_SIZE and time.monotonic() < deadline:
        time.sleep(0.02)
    assert _count(engine, audit_ledger) >= FLUSH_SIZE  # the first full batch, before any close
    ledger.close()
    assert _count(engine, audit_ledger) == total
    assert ledger.verify().entries == total


# --- batches: many rows per statement, written by the request that fills them ------------------


def test_a_large_batch_goes_in_chunks_that_chain_and_index_every_patient(engine: Engine) -> None:
    ledger = AuditLedger(engine, AuditKeys.generate(), FixedClock(NOW), checkpoint_every=100)
    # 64 + 64 + 16 + 4 + 4 + 1 + 1 + 1 rows: every statement shape, twice over for the first
    entries = [
        pending_entry(
            _event(number),
            patient_ids=[f"pat-{number}", "pat-x"],
            agent="dr.lee",
            action="R",
            outcome="0",
        )
        for number in range(155)
    ]
    with engine.begin() as connection:
        assert ledger.append_many(connection, entries[:3]) == 3
        assert ledger.append_many(connection, entries[3:]) == 155
    with engine.connect() as connection:
        seqs = connection.execute(select(audit_ledger.c.seq).order_by("seq")).scalars().all()
        events = connection.execute(select(audit_ledger.c.event).order_by("seq")).scalars().all()
        checkpoints = connection.execute(select(audit_checkpoints.c.seq)).scalars().all()
    assert seqs == list(range(1, 156))
    assert [json.loads(event)["entity"][1]["what"]["reference"] for event in events] == [
        f"Observation/o{number}" for number in range(155)
    ]
    with engine.connect() as connection:
        runs = connection.execute(
            select(audit_patients).where(audit_patients.c.patient_id == "pat-x")
        ).all()
        singles = connection.execute(
            select(func.count()).where(
                audit_patients.c.patient_id != "pat-x", audit_patients.c.seqs.is_(None)
            )
        ).scalar_one()
    # one row per patient per append: pat-x's entries of each append share one
    assert sorted(runs) == [
        ("pat-x", 1, "[1,2,3]"),
        ("pat-x", 4, "[" + ",".join(map(str, range(4, 156))) + "]"),
    ]
    assert singles == 155
    assert checkpoints == [155]  # crossing 100: the head after the append is signed
    report = ledger.verify()
    assert (report.ok, report.entries) == (True, 155)
    found = search_ledger(engine, AuditQuery(patient="pat-x", count=500))
    assert found.total == 155
    assert sorted(entry.seq for entry in found.entries) == list(range(1, 156))
    assert search_ledger(engine, AuditQuery(patient="pat-7")).total == 1


def test_an_append_outside_a_transaction_begins_one_for_the_caller(engine: Engine) -> None:
    ledger = AuditLedger(engine, AuditKeys.generate(), FixedClock(NOW))
    with engine.connect() as connection:
        ledger.append(
            connection, _event(1), patient_ids=["pat-1"], agent="dr.lee", action="R", outcome="0"
        )
        connection.rollback()
    assert _count(engine, audit_ledger) == 0
    with engine.connect() as connection:
        ledger.append(
            connection, _event(1), patient_ids=["pat-1"], agent="dr.lee", action="R", outcome="0"
        )
        connection.commit()
    assert ledger.verify().ok


def test_a_driver_error_in_an_append_is_raised_as_sqlalchemys(engine: Engine) -> None:
    ledger = AuditLedger(engine, AuditKeys.generate(), FixedClock(NOW))
    ledger.append_now(_event(1), patient_ids=["pat-1"], agent="dr.lee", action="R", outcome="0")
    with engine.begin() as connection:  # the head says 0 again: entry 1 would be a duplicate
        connection.execute(audit_head.update().values(seq=0))
    with pytest.raises(IntegrityError), engine.begin() as connection:
        ledger.append(
            connection, _event(2), patient_ids=["pat-1"], agent="dr.lee", action="R", outcome="0"
        )


def test_the_request_that_fills_a_batch_writes_it_in_its_own_thread() -> None:
    writer = RecordingWriter()
    threads: list[str] = []

    def try_write(entries: Sequence[QueuedEntry]) -> bool:
        threads.append(threading.current_thread().name)
        writer(entries)
        return True

    buffer = AuditBuffer(writer, FixedClock(NOW), interval=60, size=10, try_write=try_write)
    _add(buffer, 25)
    assert [len(batch) for batch in writer.batches] == [10, 10]
    assert threads == [threading.current_thread().name] * 2
    assert len(buffer) == 5
    buffer.close()
    assert [len(batch) for batch in writer.batches] == [10, 10, 5]


def test_a_full_batch_the_store_cannot_take_now_stays_queued_for_the_thread() -> None:
    writer = RecordingWriter()
    buffer = AuditBuffer(
        writer, FixedClock(NOW), interval=0.3, size=10, try_write=lambda entries: False
    )
    _add(buffer, 12)
    assert len(buffer) == 12  # nothing written by the adds themselves
    assert writer.written.wait(5)  # the background thread writes them, in batches of 10
    deadline = time.monotonic() + 5
    while len(buffer) and time.monotonic() < deadline:
        time.sleep(0.01)
    buffer.close()
    # the thread writes everything queued, in one transaction (up to WRITE_MAX_BATCHES batches)
    assert [[entry.event["n"] for entry in batch] for batch in writer.batches] == [list(range(12))]


def test_a_flush_writes_what_was_queued_when_it_began_in_few_transactions() -> None:
    writer = RecordingWriter()
    buffer = AuditBuffer(
        writer, FixedClock(NOW), interval=60, size=10, try_write=lambda entries: False
    )

    def arriving_meanwhile(entries: Sequence[QueuedEntry]) -> None:
        writer(entries)
        if len(writer.batches) == 1:
            _add(buffer, 5)  # requests go on while the batch is written

    buffer._write = arriving_meanwhile
    _add(buffer, 10 * WRITE_MAX_BATCHES + 9)
    assert writer.batches == []  # the store never free: full batches are left for the flush
    buffer.flush()
    sizes = [len(batch) for batch in writer.batches]
    assert sizes == [10 * WRITE_MAX_BATCHES, 9]  # the oldest first, in as few as allowed
    assert len(buffer) == 5  # what arrived meanwhile waits for the next flush
    buffer.close()
    assert sum(len(batch) for batch in writer.batches) == 10 * WRITE_MAX_BATCHES + 14


def test_a_failing_write_in_a_request_is_logged_and_the_entries_kept() -> None:
    writer = RecordingWriter()
    writer.failing = True
    buffer = AuditBuffer(writer, FixedClock(NOW), interval=60, size=3)
    _add(buffer, 4)  # the third add tries to write, fails, and the read goes on
    assert len(buffer) == 4
    writer.failing = False
    buffer.close()
    assert [[entry.event["n"] for entry in batch] for batch in writer.batches] == [[0, 1, 2, 3]]


def test_buffered_reads_through_the_ledger_are_all_written_by_close(engine: Engine) -> None:
    repository = SqlRepository(engine)
    ledger = AuditLedger(
        engine, AuditKeys.generate(), FixedClock(NOW), writer=repository.writer_lock
    )
    buffer = ledger.buffered()
    first = 2 * FLUSH_SIZE + FLUSH_SIZE // 4
    for number in range(first):
        ledger.record_read(DR_LEE, "R", "read", ["pat-1"], f"Observation/o{number}")
    assert len(buffer) < FLUSH_SIZE  # full batches went in from the adding thread
    with repository.transaction():  # SQLite: the writer is busy, a full batch waits for it
        for number in range(first, first + FLUSH_SIZE):
            ledger.record_read(DR_LEE, "R", "read", ["pat-1"], f"Observation/o{number}")
        if engine.dialect.name == "sqlite":
            assert len(buffer) >= FLUSH_SIZE
    ledger.close()
    report = ledger.verify()
    assert (report.ok, report.entries) == (True, first + FLUSH_SIZE)


# --- compact read entries ------------------------------------------------------------------------


NURSE_NO_ADDRESS = Actor(kind="user", name="nurse.ada", role="nurse", purpose="ETREAT")
PATIENT_USER = Actor(kind="user", name="pat.one", role="patient", patient_id="pat-1")
CLIENT = Actor(kind="client", name="lab-feed", source_address="192.0.2.9")

#: (actor, action, subtype, patients, resource, query, note): what the guard and the audit API
#: record, each kind of read once.
READS: list[tuple[Actor, str, str, list[str], str | None, str | None, str | None]] = [
    (DR_LEE, "R", "read", ["pat-1"], "Observation/obs-9", None, None),
    (DR_LEE, "R", "vread", ["pat-1"], "Observation/obs-9/_history/2", None, None),
    (NURSE_NO_ADDRESS, "E", "search-type", ["pat-2", "pat-1", "pat-2"], None, "Observation", None),
    (CLIENT, "E", "search-type", [], None, "*", None),
    (DR_LEE, "E", "operation", ["pat-3"], "Patient/pat-3", None, "break-the-glass: emergency"),
    (PATIENT_USER, "R", "history-instance", ["pat-1"], "Patient/pat-1", None, None),
    (CLIENT, "E", "operation", [], "Observation", None, None),
]


def _expected(number: int, seq: int) -> dict[str, Any]:
    """The full event a compact entry stands for: what ``audit_event`` builds for it."""
    actor, action, subtype, patients, resource, query, note = READS[number]
    event = audit_event(
        action=action,
        subtype=subtype,
        outcome="0",
        actor=actor,
        patient_ids=list(dict.fromkeys(patients)),
        resource=resource,
        query=query,
        recorded=NOW,
        description=note,
    )
    return {**event, "id": str(seq)}


def _record_reads(ledger: AuditLedger) -> None:
    for actor, action, subtype, patients, resource, query, note in READS:
        ledger.record_read(actor, action, subtype, patients, resource, query, note)
    ledger.buffered().flush()


def test_a_read_is_stored_compact_and_served_as_the_event_it_stands_for(engine: Engine) -> None:
    ledger = AuditLedger(engine, AuditKeys.generate(), FixedClock(NOW))
    _record_reads(ledger)
    with engine.connect() as connection:
        row = connection.execute(select(audit_ledger).where(audit_ledger.c.seq == 1)).one()
    assert row.event == (
        '[2,1,"read","Observation/obs-9",null,null,'
        '["user","dr.lee","physician","TREAT","prac-7",null,"10.1.2.3"]]'
    )
    assert (row.patient_ids, row.agent, row.action, row.outcome) == ("pat-1", "dr.lee", "R", "0")
    assert row.recorded_at == 1_772_443_815_123_456
    for number in range(len(READS)):
        found = read_entry(engine, number + 1)
        assert found is not None
        assert found[0].event == _expected(number, number + 1)
    page = search_ledger(engine, AuditQuery(count=100))
    assert page.total == len(READS)
    assert {entry.seq: entry.event for entry in page.entries} == {
        number + 1: _expected(number, number + 1) for number in range(len(READS))
    }
    assert ledger.verify().entries == len(READS)


def test_a_compact_entry_is_hashed_by_the_documented_formula(engine: Engine) -> None:
    keys = AuditKeys.generate()
    ledger = AuditLedger(engine, keys, FixedClock(NOW))
    _record_reads(ledger)
    with engine.connect() as connection:
        rows = connection.execute(select(audit_ledger).order_by(audit_ledger.c.seq)).all()
    for row in rows:
        message = (row.prev_hash + canonical_json(Entry(**row._asdict()).content())).encode()
        assert hmac.new(keys.hmac_key, message, hashlib.sha256).hexdigest() == row.entry_hash


def test_compact_and_full_entries_chain_in_one_ledger(engine: Engine) -> None:
    ledger = AuditLedger(engine, AuditKeys.generate(), FixedClock(NOW), checkpoint_every=12)
    for number in range(12):
        if number % 3:
            ledger.record_read(DR_LEE, "R", "read", ["pat-1"], f"Observation/o{number}")
        else:
            ledger.buffered().add(
                _event(number), patient_ids=["pat-1"], agent="dr.lee", action="R", outcome="0"
            )
    ledger.append_now(_event(99), patient_ids=["pat-1"], agent="dr.lee", action="U", outcome="0")
    ledger.close()
    report = ledger.verify()
    assert (report.ok, report.entries, report.checkpoints) == (True, 13, 1)  # at 12
    page = search_ledger(engine, AuditQuery(patient="pat-1", count=100))
    assert page.total == 13
    resources = {e.event["entity"][1]["what"]["reference"] for e in page.entries}
    assert resources == {f"Observation/o{n}" for n in [*range(12), 99]}


def test_the_patients_of_compact_entries_are_found_across_batches(engine: Engine) -> None:
    ledger = AuditLedger(engine, AuditKeys.generate(), FixedClock(NOW))
    buffer = ledger.buffered()
    expected: dict[str, set[int]] = {}
    for number in range(60):
        patients = [f"pat-{number % 4}"] if number % 10 else ["pat-0", "pat-1", "pat-9"]
        ledger.record_read(DR_LEE, "E", "search-type", patients, None, "Observation")
        for patient in patients:
            expected.setdefault(patient, set()).add(number + 1)
        if number % 25 == 24:
            buffer.flush()  # runs of a patient end with their batch
    ledger.close()
    for patient, seqs in expected.items():
        page = search_ledger(engine, AuditQuery(patient=patient, count=100))
        assert page.total == len(seqs) == len(page.entries)
        assert {entry.seq for entry in page.entries} == seqs
        assert all(
            f"Patient/{patient}"
            in {e["what"]["reference"] for e in entry.event["entity"] if "what" in e}
            for entry in page.entries
        )
    assert search_ledger(engine, AuditQuery(patient="pat-5")).total == 0


@pytest.mark.parametrize(
    ("arguments", "message"),
    [
        ({"action": "X"}, "not an audit action"),
        ({"subtype": "peek"}, "not an audit action"),
        ({"outcome": "2"}, "not an audit action"),
        ({"patient_ids": ["has space"]}, "not a Patient id"),
        ({"patient_ids": "pat-1"}, "not one string"),
        ({"actor": Actor(kind="user", name="")}, "must not be empty"),
    ],
)
def test_a_malformed_read_is_refused_when_recorded_not_when_written(
    arguments: dict[str, Any], message: str
) -> None:
    values: dict[str, Any] = {
        "actor": DR_LEE,
        "action": "R",
        "subtype": "read",
        "patient_ids": ["pat-1"],
        "outcome": "0",
        **arguments,
    }
    buffer = AuditBuffer(RecordingWriter(), FixedClock(NOW), interval=60)
    with pytest.raises(ValueError, match=message):
        buffer.add_read(**values)
    assert len(buffer) == 0
    buffer.close()


field_texts = st.text(st.characters(codec="utf-8"), max_size=30)
optional_texts = st.none() | field_texts


@given(
    seq=st.integers(1, 2**62),
    resource=optional_texts,
    query=optional_texts,
    note=optional_texts,
    name=field_texts.filter(bool),
    role=optional_texts,
    address=optional_texts,
    subtype=st.sampled_from(["read", "vread", "search-type", "operation", "history-instance"]),
)
def test_a_compact_text_is_canonical_json_and_renders_back(
    seq: int,
    resource: str | None,
    query: str | None,
    note: str | None,
    name: str,
    role: str | None,
    address: str | None,
    subtype: str,
) -> None:
    actor = Actor(kind="user", name=name, role=role, source_address=address)
    entry = compact.read_entry(1, actor, "R", subtype, ["pat-1"], resource, query, note)
    text = compact.compact_text(seq, entry)
    assert canonical_json(json.loads(text)) == text  # what verify and the docs rely on
    assert compact.claimed_seq(text) == seq
    event = compact.render(
        text, seq=seq, recorded_at=1, patient_ids="pat-1", action="R", outcome="0"
    )
    expected = audit_event(
        action="R",
        subtype=subtype,
        outcome="0",
        actor=actor,
        patient_ids=["pat-1"],
        resource=resource,
        query=query,
        recorded=datetime(1970, 1, 1, tzinfo=UTC),
        description=note,
    )
    assert event == {**expected, "id": str(seq)}


def test_a_damaged_compact_entry_is_served_as_unreadable_not_as_an_error() -> None:
    event = compact.render(
        '[2,7,"read"]', seq=7, recorded_at=1, patient_ids="", action="R", outcome="0"
    )
    assert event["id"] == "7"
    assert "audit verify" in event["outcomeDesc"]
    cut = compact.render("[2,7,", seq=7, recorded_at=1, patient_ids="", action="R", outcome="0")
    assert "audit verify" in cut["outcomeDesc"]


def _append_as_before(engine: Engine, keys: AuditKeys, events: list[dict[str, Any]]) -> None:
    """Append full entries exactly as the ledger did before compact entries (migration 0006's
    schema: one ``audit_patients`` row per patient per entry), by the documented formula."""
    hasher, prev_hash = EntryHasher(keys.hmac_key), GENESIS_HASH
    with engine.begin() as connection:
        for seq, event in enumerate(events, start=1):
            patients = [e["what"]["reference"].removeprefix("Patient/") for e in event["entity"]]
            patients = [p for p in patients if "/" not in p]
            text = canonical_json({**event, "id": str(seq)})
            recorded_at = 1_772_443_815_123_456
            entry_hash = hasher.digest(
                hashed_message(
                    prev_hash, seq, recorded_at, text, " ".join(patients), "dr.lee", "R", "0"
                )
            )
            connection.execute(
                audit_ledger.insert().values(
                    seq=seq,
                    recorded_at=recorded_at,
                    event=text,
                    patient_ids=" ".join(patients),
                    agent="dr.lee",
                    action="R",
                    outcome="0",
                    entry_hash=entry_hash,
                    prev_hash=prev_hash,
                )
            )
            for patient in patients:
                connection.execute(
                    text_sql("INSERT INTO audit_patients (patient_id, seq) VALUES (:p, :s)"),
                    {"p": patient, "s": seq},
                )
            prev_hash = entry_hash
        connection.execute(
            audit_head.update().values(
                seq=len(events), entry_hash=prev_hash, key_id=keys.hmac_key_id
            )
        )


def test_a_ledger_written_before_compact_entries_still_verifies_and_is_searched(
    database_url: str,
) -> None:
    engine = make_engine(database_url)
    try:
        script = ScriptDirectory.from_config(alembic_config())
        before = script.get_revision("0007").down_revision
        assert isinstance(before, str)
        upgrade(engine, before)  # the schema before compact entries: full events only
        keys = AuditKeys.generate()
        events = [
            audit_event(
                action="R",
                subtype="read",
                outcome="0",
                actor=DR_LEE,
                patient_ids=["pat-1", "pat-2"] if number == 2 else ["pat-1"],
                resource=f"Observation/o{number}",
                recorded=NOW,
            )
            for number in range(5)
        ]
        _append_as_before(engine, keys, events)
        upgrade(engine)
        ledger = AuditLedger(engine, keys, FixedClock(NOW))
        assert ledger.verify().entries == 5
        ledger.record_read(DR_LEE, "R", "read", ["pat-1"], "Observation/new-1")
        ledger.record_read(DR_LEE, "R", "read", ["pat-2", "pat-1"], "Observation/new-2")
        ledger.close()
        report = ledger.verify()
        assert (report.ok, report.entries) == (True, 7)
        page = search_ledger(engine, AuditQuery(patient="pat-1", count=100))
        assert page.total == 7
        by_seq = {entry.seq: entry.event for entry in page.entries}
        assert by_seq[1] == {**events[0], "id": "1"}  # an old entry, served as stored
        assert by_seq[7]["entity"][2]["what"]["reference"] == "Observation/new-2"
        assert search_ledger(engine, AuditQuery(patient="pat-2")).total == 2
    finally:
        engine.dispose()
