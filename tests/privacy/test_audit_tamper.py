"""Tampering with the ledger in the database is found, and the first damaged entry is named.

Each test edits the tables directly with SQL, as someone with database access would (on
PostgreSQL after disabling the append-only triggers, on SQLite after dropping them), then
asserts the exact message of ``verify`` and of ``chartkeeper audit verify``.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from sqlalchemy import Connection, Engine, select, text
from sqlalchemy.exc import DBAPIError

from chartkeeper.cli.main import cli
from chartkeeper.core.clock import FixedClock
from chartkeeper.privacy.actor import Actor
from chartkeeper.privacy.audit import AuditKeys, AuditLedger, audit_event, load_keys, verify
from chartkeeper.privacy.audit.chain import EntryHasher, canonical_json, hashed_message
from chartkeeper.privacy.audit.checkpoints import export_checkpoints
from chartkeeper.privacy.audit.compact import read_entry
from chartkeeper.privacy.audit.keys import AuditKeyMismatchError
from chartkeeper.privacy.audit.pending import pending_entry
from chartkeeper.store.audit_schema import APPEND_ONLY_TABLES, audit_ledger
from chartkeeper.store.engine import WRITE_OPTION, make_engine
from chartkeeper.store.migrate import upgrade

ENTRIES = 300
NOW = datetime(2026, 3, 2, 9, 30, tzinfo=UTC)
NURSE = Actor(kind="user", name="nurse.okafor", role="nurse", source_address="10.0.4.17")


@dataclass
class Store:
    """A migrated store holding a ledger of ``ENTRIES`` entries (checkpoints at 100, 200, 300)."""

    url: str
    engine: Engine
    keys: AuditKeys
    ledger: AuditLedger
    data_dir: Path

    def tamper(self, *statements: str, **parameters: Any) -> None:
        """Run SQL as an intruder: the append-only triggers are out of the way meanwhile."""
        with _writing(self.engine) as connection:
            postgresql = connection.dialect.name == "postgresql"
            for table in APPEND_ONLY_TABLES:
                if postgresql:
                    connection.execute(text(f"ALTER TABLE {table} DISABLE TRIGGER USER"))
                else:
                    for verb in ("update", "delete"):
                        connection.execute(text(f"DROP TRIGGER IF EXISTS {table}_no_{verb}"))
            for statement in statements:
                connection.execute(text(statement), parameters)
            if postgresql:
                for table in APPEND_ONLY_TABLES:
                    connection.execute(text(f"ALTER TABLE {table} ENABLE TRIGGER USER"))

    def row(self, seq: int) -> Any:
        with self.engine.connect() as connection:
            return connection.execute(select(audit_ledger).where(audit_ledger.c.seq == seq)).one()

    def problem(self, checkpoint: Path | None = None) -> str | None:
        report = self.ledger.verify(checkpoint)
        assert report.ok is (report.problem is None)
        return report.problem

    def cli(self, *args: str) -> Any:
        arguments = ["--data-dir", str(self.data_dir), "--database-url", self.url, *args]
        return CliRunner().invoke(cli, arguments)


@contextmanager
def _writing(engine: Engine) -> Iterator[Connection]:
    """A write transaction (``BEGIN IMMEDIATE`` on SQLite), committed unless the body raises."""
    connection = engine.connect().execution_options(**{WRITE_OPTION: True})
    with connection, connection.begin():
        yield connection


def _entry(number: int) -> Any:
    patients = [f"pat-{number % 37}"] if number % 10 else ["pat-1", "pat-2", "pat-3"]
    event = audit_event(
        action="R",
        subtype="read" if number % 10 else "search-type",
        outcome="0",
        actor=NURSE,
        patient_ids=patients,
        resource=f"Observation/obs-{number}" if number % 10 else None,
        query=None if number % 10 else "Observation?patient=pat-1,pat-2,pat-3",
        recorded=NOW,
    )
    return pending_entry(event, patient_ids=patients, agent=NURSE.name, action="R", outcome="0")


def _compact(number: int) -> Any:
    """Entry ``number`` as a compact read (as the guard records reads) and, every 25th, with
    its whole event (as writes, sign-ins and refusals are): both formats in one chain."""
    if number % 25 == 0:
        return _entry(number)
    patients = [f"pat-{number % 37}"] if number % 10 else ["pat-1", "pat-2", "pat-3"]
    if number % 10:
        return read_entry(
            1_772_443_800_000_000 + number,
            NURSE,
            "R",
            "read",
            patients,
            f"Observation/obs-{number}",
        )
    query = "Observation?patient=pat-1,pat-2,pat-3"
    return read_entry(
        1_772_443_800_000_000 + number, NURSE, "E", "search-type", patients, None, query
    )


@pytest.fixture(params=["full", "compact"])
def store(request: pytest.FixtureRequest, database_url: str, tmp_path: Path) -> Iterator[Store]:
    """The ledger of full entries (as written before compact reads existed), or of compact
    reads with a full entry every 25th: every tampering below is tried on both."""
    engine = make_engine(database_url)
    upgrade(engine)
    keys = load_keys(tmp_path)
    ledger = AuditLedger(engine, keys, FixedClock(NOW), checkpoint_every=100)
    make = _entry if request.param == "full" else _compact
    for start in range(0, ENTRIES, 50):
        with _writing(engine) as connection:
            ledger.append_many(connection, [make(n) for n in range(start, start + 50)])
    yield Store(database_url, engine, keys, ledger, tmp_path)
    engine.dispose()


#: With ``walk="ranges"``: 300 entries in five ranges, 1-60 proved in the test's process and
#: 61-120, 121-180, 181-240 and 241- in worker processes.
RANGE_STARTS = [1, 61, 121, 181, 241]


@pytest.fixture(autouse=True, params=["serial", "ranges"])
def walk(request: pytest.FixtureRequest, database_url: str, monkeypatch: pytest.MonkeyPatch) -> str:
    """Every tampering is also tried with the SQLite ledger cut into ranges proved by worker
    processes (as large ledgers are): the sequential walk must still name the same entry."""
    if request.param == "ranges":
        if not database_url.startswith("sqlite"):
            pytest.skip("ranges are proved in parallel on a SQLite file only")
        monkeypatch.setattr(verify, "RANGE_ENTRIES", 20)
        monkeypatch.setattr(verify, "_cores", lambda: len(RANGE_STARTS))
    return str(request.param)


def _resumed_at(monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Records where each sequential stream of the walk starts."""
    starts: list[int] = []
    stream = verify._stream

    def spy(connection: Connection, first: int = 1, last: int | None = None) -> Any:
        starts.append(first)
        return stream(connection, first, last)

    monkeypatch.setattr(verify, "_stream", spy)
    return starts


# --- an untouched ledger -------------------------------------------------------------------------


def test_an_untouched_ledger_verifies(store: Store) -> None:
    report = store.ledger.verify()
    assert (report.ok, report.entries, report.seq, report.problem) == (True, 300, 300, None)
    assert report.checkpoints == 3
    result = store.cli("audit", "verify")
    assert result.exit_code == 0, result.output
    assert result.stdout == "audit ledger intact: 300 entries, 3 signed checkpoints checked\n"


def test_the_ranges_prove_the_whole_ledger_in_parallel(
    store: Store, walk: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    starts = _resumed_at(monkeypatch)
    assert store.problem() is None
    # the first range in this process, then the (empty) rest after the last proved range
    assert starts == ([1, 301] if walk == "ranges" else [1])


def test_the_sequential_walk_resumes_at_the_first_range_not_proved(
    store: Store, walk: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    store.tamper("UPDATE audit_ledger SET agent = 'dr.mallory' WHERE seq = 200")
    starts = _resumed_at(monkeypatch)
    assert store.problem() == "entry 200 was altered"
    assert starts == ([1, 181] if walk == "ranges" else [1])


def test_a_worker_that_fails_proves_nothing_and_the_walk_goes_on(
    store: Store, walk: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    broken = tmp_path / "broken_worker.py"
    broken.write_text("import sys\nsys.exit(3)\n")
    monkeypatch.setattr(verify, "WORKER", broken)
    store.tamper("UPDATE audit_ledger SET outcome = '4' WHERE seq = 250")
    starts = _resumed_at(monkeypatch)
    assert store.problem() == "entry 250 was altered"
    assert starts == ([1, 61] if walk == "ranges" else [1])


@pytest.mark.parametrize(
    ("statements", "problem"),
    [
        (["UPDATE audit_ledger SET agent = 'x' WHERE seq = 120"], "entry 120 was altered"),
        (["UPDATE audit_ledger SET agent = 'x' WHERE seq = 121"], "entry 121 was altered"),
        (["UPDATE audit_ledger SET entry_hash = prev_hash WHERE seq = 60"], "entry 60 was altered"),
        (["DELETE FROM audit_ledger WHERE seq = 120"], "entry 120 is missing (deleted)"),
        (["DELETE FROM audit_ledger WHERE seq = 121"], "entry 121 is missing (deleted)"),
        (["DELETE FROM audit_ledger WHERE seq = 241"], "entry 241 is missing (deleted)"),
        (
            ["DELETE FROM audit_ledger WHERE seq BETWEEN 100 AND 130"],
            "entries 100 to 130 are missing (deleted)",
        ),
        (
            [
                "UPDATE audit_ledger SET seq = -1 WHERE seq = 120",
                "UPDATE audit_ledger SET seq = 120 WHERE seq = 121",
                "UPDATE audit_ledger SET seq = 121 WHERE seq = -1",
            ],
            "entries 120 and 121 are out of order",
        ),
    ],
    ids=[
        "edit-last-of-range",
        "edit-first-of-range",
        "edit-hash-before-a-worker-anchor",
        "delete-last-of-range",
        "delete-first-of-range",
        "delete-first-of-open-range",
        "delete-across-ranges",
        "swap-across-ranges",
    ],
)
def test_tampering_at_a_range_boundary_is_named(
    store: Store, statements: list[str], problem: str
) -> None:
    store.tamper(*statements)
    assert store.problem() == problem


# --- edits ---------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "edit",
    [
        "UPDATE audit_ledger SET event = replace(event, 'nurse.okafor', 'dr.x') WHERE seq = 142",
        "UPDATE audit_ledger SET agent = 'dr.mallory' WHERE seq = 142",
        "UPDATE audit_ledger SET patient_ids = '' WHERE seq = 142",
        "UPDATE audit_ledger SET outcome = '4' WHERE seq = 142",
        "UPDATE audit_ledger SET recorded_at = recorded_at + 1 WHERE seq = 142",
        "UPDATE audit_ledger SET entry_hash = prev_hash WHERE seq = 142",
    ],
    ids=["event", "agent", "patient_ids", "outcome", "recorded_at", "entry_hash"],
)
def test_an_edited_entry_is_named(store: Store, edit: str) -> None:
    store.tamper(edit)
    assert store.problem() == "entry 142 was altered"
    result = store.cli("audit", "verify")
    assert result.exit_code == 65
    assert "audit ledger damaged: entry 142 was altered" in result.stderr
    assert "141 entries verified before it" in result.stderr


def test_an_edit_to_the_first_entry_is_named(store: Store) -> None:
    store.tamper("UPDATE audit_ledger SET agent = 'someone' WHERE seq = 1")
    assert store.problem() == "entry 1 was altered"


# --- deletions -----------------------------------------------------------------------------------


def test_a_deleted_entry_is_named(store: Store) -> None:
    store.tamper("DELETE FROM audit_ledger WHERE seq = 142")
    report = store.ledger.verify()
    assert (report.ok, report.problem, report.seq, report.entries) == (
        False,
        "entry 142 is missing (deleted)",
        142,
        141,
    )


def test_several_deleted_entries_are_named(store: Store) -> None:
    store.tamper("DELETE FROM audit_ledger WHERE seq BETWEEN 142 AND 150")
    assert store.problem() == "entries 142 to 150 are missing (deleted)"


def test_a_deletion_hidden_by_renumbering_the_rest_is_named(store: Store) -> None:
    store.tamper(
        "DELETE FROM audit_ledger WHERE seq = 142",
        "UPDATE audit_ledger SET seq = -seq WHERE seq > 142",
        "UPDATE audit_ledger SET seq = -seq - 1 WHERE seq < 0",
        "UPDATE audit_head SET seq = 299",
    )
    assert store.problem() == "entry 142 is missing (deleted)"


# --- insertions ----------------------------------------------------------------------------------


def _forge(store: Store, seq: int, prev_hash: str) -> dict[str, Any]:
    """A plausible row made without the HMAC key (it can only guess the hash)."""
    event = canonical_json({**_entry(seq).event, "id": str(seq)})
    return {
        "seq": seq,
        "recorded_at": 1,
        "event": event,
        "patient_ids": "pat-9",
        "agent": "nurse.okafor",
        "action": "R",
        "outcome": "0",
        "entry_hash": "ab" * 32,
        "prev_hash": prev_hash,
    }


INSERT = (
    "INSERT INTO audit_ledger (seq, recorded_at, event, patient_ids, agent, action, outcome, "
    "entry_hash, prev_hash) VALUES (:seq, :recorded_at, :event, :patient_ids, :agent, :action, "
    ":outcome, :entry_hash, :prev_hash)"
)


def test_a_forged_entry_inserted_in_the_middle_is_named(store: Store) -> None:
    forged = _forge(store, 142, store.row(141).entry_hash)
    store.tamper(
        "UPDATE audit_ledger SET seq = -seq WHERE seq >= 142",
        "UPDATE audit_ledger SET seq = -seq + 1 WHERE seq < 0",
        INSERT,
        **forged,
    )
    assert store.problem() == "an entry was inserted before 142"


def test_a_forged_entry_with_the_next_entrys_links_rewired_is_named(store: Store) -> None:
    forged = _forge(store, 142, store.row(141).entry_hash)
    store.tamper(
        "UPDATE audit_ledger SET seq = -seq WHERE seq >= 142",
        "UPDATE audit_ledger SET seq = -seq + 1 WHERE seq < 0",
        "UPDATE audit_ledger SET prev_hash = :entry_hash WHERE seq = 143",
        INSERT,
        **forged,
    )
    assert store.problem() == "an entry was inserted before 142"


def test_a_forged_entry_appended_at_the_end_is_named(store: Store) -> None:
    store.tamper(INSERT, **_forge(store, 301, store.row(300).entry_hash))
    assert store.problem() == "an entry was inserted after 300"


def test_a_copy_of_an_earlier_entry_inserted_is_named(store: Store) -> None:
    copy = store.row(5)._asdict()
    store.tamper(
        "UPDATE audit_ledger SET seq = -seq WHERE seq >= 142",
        "UPDATE audit_ledger SET seq = -seq + 1 WHERE seq < 0",
        INSERT,
        **{**copy, "seq": 142},
    )
    assert store.problem() == "an entry was inserted before 142"


# --- reordering ----------------------------------------------------------------------------------


def _swap(store: Store, first: int, second: int) -> None:
    store.tamper(
        "UPDATE audit_ledger SET seq = -1 WHERE seq = :first",
        "UPDATE audit_ledger SET seq = :first WHERE seq = :second",
        "UPDATE audit_ledger SET seq = :second WHERE seq = -1",
        first=first,
        second=second,
    )


def test_two_swapped_neighbours_are_named(store: Store) -> None:
    _swap(store, 142, 143)
    assert store.problem() == "entries 142 and 143 are out of order"


def test_two_swapped_distant_entries_are_named(store: Store) -> None:
    _swap(store, 142, 250)
    assert store.problem() == "entries 142 and 250 are out of order"


# --- truncation ----------------------------------------------------------------------------------


def test_a_truncated_tail_is_found_from_the_head(store: Store) -> None:
    store.tamper(
        "DELETE FROM audit_ledger WHERE seq > 290",
        "DELETE FROM audit_checkpoints WHERE seq > 290",
    )
    assert store.problem() == "the ledger ends at 290 but the head records entry 300"


def test_a_truncated_tail_is_found_from_a_stored_checkpoint(store: Store) -> None:
    store.tamper("DELETE FROM audit_ledger WHERE seq > 290")
    report = store.ledger.verify()
    assert (report.problem, report.seq, report.entries) == (
        "the ledger ends at 290 but checkpoint 300 was signed",
        291,
        290,
    )


def test_a_truncated_tail_covered_up_is_found_from_an_exported_checkpoint(store: Store) -> None:
    exported = store.data_dir / "offsite" / "checkpoints.json"
    result = store.cli("audit", "checkpoint", "--export", str(exported))
    assert result.exit_code == 0, result.output
    assert "signed checkpoint at entry 300" in result.stdout
    assert f"exported 3 checkpoints to {exported}" in result.stdout
    store.tamper(
        "DELETE FROM audit_ledger WHERE seq > 290",
        "DELETE FROM audit_patients WHERE seq > 290",
        "DELETE FROM audit_checkpoints WHERE seq > 290",
        "UPDATE audit_head SET seq = 290, entry_hash = :hash",
        hash=store.row(290).entry_hash,
    )
    assert store.problem() is None  # what the machine alone can tell
    expected = "the ledger ends at 290 but checkpoint 300 was signed"
    assert store.problem(exported) == expected
    result = store.cli("audit", "verify", "--checkpoint", str(exported))
    assert result.exit_code == 65
    assert f"audit ledger damaged: {expected}" in result.stderr


# --- someone holding the HMAC key ----------------------------------------------------------------


def test_a_chain_rewritten_with_the_key_is_caught_by_the_signed_checkpoint(store: Store) -> None:
    hasher = EntryHasher(store.keys.hmac_key)
    prev_hash = store.row(141).entry_hash
    statements, values = [], {}
    for seq in range(142, ENTRIES + 1):
        row = store.row(seq)
        agent = "dr.mallory" if seq == 142 else row.agent
        message = hashed_message(
            prev_hash, seq, row.recorded_at, row.event, row.patient_ids, agent, row.action, "0"
        )
        entry_hash = hasher.digest(message)
        statements.append(
            f"UPDATE audit_ledger SET agent = :agent{seq}, entry_hash = :hash{seq}, "
            f"prev_hash = :prev{seq} WHERE seq = {seq}"
        )
        values.update({f"agent{seq}": agent, f"hash{seq}": entry_hash, f"prev{seq}": prev_hash})
        prev_hash = entry_hash
    store.tamper(*statements, "UPDATE audit_head SET entry_hash = :head", head=prev_hash, **values)
    assert store.problem() == ("entry 200 does not match its signed checkpoint: it was rewritten")


def test_a_forged_checkpoint_signature_is_named(store: Store) -> None:
    store.tamper("UPDATE audit_checkpoints SET signature = :bad WHERE seq = 200", bad="00" * 64)
    assert store.problem() == "checkpoint 200 has a bad signature"


def test_a_tampered_exported_checkpoint_is_named(store: Store) -> None:
    exported = store.data_dir / "checkpoints.json"
    with store.engine.connect() as connection:
        export_checkpoints(connection, store.keys, exported)
    exported.write_text(exported.read_text().replace('"seq": 300', '"seq": 301'))
    assert store.problem(exported) == "exported checkpoint 301 has a bad signature"


# --- the database refuses edits ------------------------------------------------------------------


@pytest.mark.parametrize(
    "statement",
    [
        "UPDATE audit_ledger SET agent = 'x' WHERE seq = 1",
        "DELETE FROM audit_ledger WHERE seq = 1",
        "DELETE FROM audit_patients",
        "UPDATE audit_checkpoints SET signature = 'x'",
    ],
)
def test_the_database_refuses_to_change_the_ledger(store: Store, statement: str) -> None:
    with pytest.raises(DBAPIError, match="append-only"), _writing(store.engine) as connection:
        connection.execute(text(statement))
    assert store.problem() is None


def test_postgresql_refuses_to_truncate_the_ledger(store: Store) -> None:
    if store.engine.dialect.name != "postgresql":
        pytest.skip("TRUNCATE is PostgreSQL's")
    with pytest.raises(DBAPIError, match="append-only"), _writing(store.engine) as connection:
        connection.execute(text("TRUNCATE audit_ledger"))


# --- the CLI without its keys --------------------------------------------------------------------


def test_verify_without_the_keys_that_wrote_the_ledger_says_so(store: Store) -> None:
    for key in (store.data_dir / "keys").glob("audit-*"):
        key.unlink()
    result = store.cli("audit", "verify")
    assert result.exit_code == 66
    assert "there were no audit keys in" in result.stderr
    again = store.cli("audit", "verify")  # the keys made meanwhile are not the ledger's
    assert again.exit_code == 65
    assert "the ledger was written with audit key" in again.stderr


def test_appending_with_other_keys_is_refused_rather_than_forking_the_chain(store: Store) -> None:
    stranger = AuditLedger(store.engine, AuditKeys.generate(), FixedClock(NOW))
    with pytest.raises(AuditKeyMismatchError):
        stranger.append_now(
            _entry(1).event, patient_ids=["pat-1"], agent="x", action="R", outcome="0"
        )
    assert stranger.verify().problem == (
        f"the ledger was written with audit key {store.keys.hmac_key_id}, not with the key in "
        f"use ({stranger.keys.hmac_key_id}): verify with the keys that wrote it"
    )
    assert store.problem() is None
