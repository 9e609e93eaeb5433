"""The claim worklist on both stores: statuses, findings, duplicates, and what never moves back."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime

import pytest
from sqlalchemy import Engine, select

from chartkeeper.billing.claims.worklist import ClaimWorklist, change_status
from chartkeeper.billing.codes.registry import CodeRegistry
from chartkeeper.billing.scrub.context import ScrubContext
from chartkeeper.billing.scrub.engine import Scrubber
from chartkeeper.billing.scrub.model import Issue, ScrubClaim
from chartkeeper.billing.scrub.signature import claim_signature
from chartkeeper.core.clock import FixedClock
from chartkeeper.core.errors import ConflictError, InvalidError
from chartkeeper.store.billing_schema import billing_claims
from chartkeeper.store.engine import make_engine
from chartkeeper.store.migrate import upgrade
from tests.unit.billing.test_claim_convert import (
    convert,
    institutional_claim,
    professional_claim,
    resources,
)

ERROR = Issue(
    "subscriber-birth-date",
    "error",
    "subscriber.person.birth_date",
    "The subscriber has no birth date",
    "Record the birth date on the Patient",
)
WARNING = Issue("timely-filing-near", "warning", "claim", "Filing limit in 10 days", "Send soon")


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    built = make_engine(database_url)
    upgrade(built)
    yield built
    built.dispose()


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(datetime(2026, 11, 27, 9, 0, tzinfo=UTC))


@pytest.fixture
def worklist(engine: Engine, clock: FixedClock) -> ClaimWorklist:
    return ClaimWorklist(engine, clock)


def scrubbed(number: str = "PCN0001", patient: str = "p1") -> ScrubClaim:
    return convert(professional_claim(number, patient))


def test_a_claim_with_an_error_is_held_with_its_findings(worklist: ClaimWorklist) -> None:
    scrub = scrubbed()
    assert worklist.record("pcn1", scrub, [ERROR, WARNING]) == "held"
    row = worklist.get("pcn1")
    assert row is not None
    assert row.status == "held"
    assert row.control_number == "PCN0001"
    assert (row.patient_id, row.kind, row.payer_id, row.billing_npi) == (
        "p1",
        "837P",
        "ACME1",
        "1234567893",
    )
    assert (row.service_from, row.service_to, row.total_cents) == (
        "2026-11-02",
        "2026-11-02",
        18450,
    )
    assert row.signature == claim_signature(scrub)
    assert row.scrubbed_at == row.updated == 1_795_770_000_000_000
    assert row.batch_id is None
    assert row.findings[0] == {
        "rule": "subscriber-birth-date",
        "severity": "error",
        "location": "subscriber.person.birth_date",
        "message": "The subscriber has no birth date",
        "hint": "Record the birth date on the Patient",
        "code": "",
        "expression": "Patient.birthDate",
    }
    assert [f["rule"] for f in row.findings] == ["subscriber-birth-date", "timely-filing-near"]


def test_warnings_alone_leave_a_claim_clean_and_a_rescrub_moves_it(
    worklist: ClaimWorklist, clock: FixedClock
) -> None:
    scrub = scrubbed()
    assert worklist.record("pcn1", scrub, [WARNING]) == "clean"
    clock.advance(minutes=5)
    assert worklist.record("pcn1", scrub, [ERROR]) == "held"
    clock.advance(minutes=5)
    assert worklist.record("pcn1", scrub, []) == "clean"
    row = worklist.get("pcn1")
    assert row is not None and row.findings == []
    assert row.updated == int(clock.now().timestamp() * 1_000_000)


def test_institutional_service_dates_are_the_statement_dates(worklist: ClaimWorklist) -> None:
    worklist.record("inst1", convert(institutional_claim()), [])
    row = worklist.get("inst1")
    assert row is not None
    assert (row.kind, row.service_from, row.service_to, row.total_cents) == (
        "837I",
        "2026-11-02",
        "2026-11-03",
        31450,
    )


@pytest.mark.parametrize("sent", ["released", "paid", "partial", "denied", "reversed"])
def test_a_sent_claim_never_moves_back_on_a_rescrub(
    worklist: ClaimWorklist, engine: Engine, sent: str
) -> None:
    worklist.record("pcn1", scrubbed(), [])
    with engine.begin() as conn:
        conn.execute(billing_claims.update().values(status=sent, batch_id="b1"))
    before = worklist.get("pcn1")
    changed = replace(scrubbed(), patient_key="other")
    assert worklist.record("pcn1", changed, [ERROR]) == sent
    assert worklist.get("pcn1") == before


def test_a_control_number_used_by_another_claim_is_a_conflict(worklist: ClaimWorklist) -> None:
    worklist.record("pcn1", scrubbed("PCN0001"), [])
    with pytest.raises(
        ConflictError, match="Claim/pcn2 has the patient control number of Claim/pcn1"
    ):
        worklist.record("pcn2", scrubbed("PCN0001"), [])
    assert worklist.get("pcn2") is None


@pytest.mark.parametrize("number", ["", "X" * 21])
def test_a_claim_without_a_usable_control_number_is_held(
    worklist: ClaimWorklist, number: str
) -> None:
    scrub = scrubbed()
    scrub = replace(scrub, claim=replace(scrub.claim, claim_id=number))
    assert worklist.record("pcn1", scrub, []) == "held"
    assert worklist.record("pcn2", scrub, []) == "held"
    row = worklist.get("pcn1")
    assert row is not None and row.control_number.startswith("#")
    assert len(row.control_number) == 20
    assert row.control_number != (worklist.get("pcn2") or row).control_number
    assert [f["rule"] for f in row.findings] == ["claim-control-number"]
    assert row.findings[0]["expression"].startswith("Claim.identifier")


def test_the_duplicate_index_finds_another_claim_with_the_same_services(
    worklist: ClaimWorklist, engine: Engine, clock: FixedClock
) -> None:
    first = scrubbed("PCN0001")
    worklist.record("pcn1", first, [])
    signature = claim_signature(first)
    assert worklist.find(signature, "pcn1") is None  # itself is no duplicate
    assert worklist.find(signature, "PCN0001") is None  # nor when asked by its CLM01
    clock.advance(minutes=1)
    worklist.record("pcn2", scrubbed("PCN0002"), [ERROR])
    assert worklist.find(signature, "pcn2") == "pcn1"
    assert worklist.find(signature, "pcn3") == "pcn1"
    assert worklist.find(claim_signature(scrubbed("PCN0003", "p2")), "pcn3") is None
    with engine.begin() as conn:  # the payer took the first claim back
        conn.execute(billing_claims.update().values(status="released"))
        assert change_status(conn, ["pcn1"], "reversed", 0) == 1
    assert worklist.find(signature, "pcn3") == "pcn2"


def test_a_sent_claim_is_no_duplicate_of_a_copy_that_never_left(
    worklist: ClaimWorklist, engine: Engine, clock: FixedClock
) -> None:
    """The bill keyed in twice: the paid original stays clean, its held copy is the duplicate."""
    original = scrubbed("PCN0001")
    worklist.record("pcn1", original, [])
    with engine.begin() as conn:
        conn.execute(billing_claims.update().values(status="released"))
    clock.advance(minutes=1)
    worklist.record("pcn2", scrubbed("PCN0002"), [ERROR])
    signature = claim_signature(original)
    assert worklist.find(signature, "pcn2") == "pcn1"
    assert worklist.find(signature, "pcn1") is None
    assert worklist.find(signature, "PCN0001") is None


def test_items_page_by_status_oldest_first_and_counts_cover_every_status(
    worklist: ClaimWorklist, clock: FixedClock
) -> None:
    for n in range(5):
        worklist.record(f"c{n}", scrubbed(f"PCN000{n}", f"p{n}"), [ERROR] if n % 2 else [])
        clock.advance(seconds=1)
    page, total = worklist.items("clean", limit=2)
    assert total == 3
    assert [row.claim_id for row in page] == ["c0", "c2"]
    page, total = worklist.items("clean", limit=2, offset=2)
    assert [row.claim_id for row in page] == ["c4"]
    everything, total = worklist.items()
    assert total == 5 and [row.claim_id for row in everything] == ["c0", "c1", "c2", "c3", "c4"]
    assert worklist.counts() == {
        "held": 2,
        "clean": 3,
        "released": 0,
        "paid": 0,
        "partial": 0,
        "denied": 0,
        "reversed": 0,
    }
    with pytest.raises(InvalidError, match="Unknown claim status"):
        worklist.items("lost")


def test_by_control_number_finds_the_claim_an_835_names(worklist: ClaimWorklist) -> None:
    worklist.record("pcn1", scrubbed("PCN0001"), [])
    found = worklist.by_control_number("PCN0001")
    assert found is not None and found.claim_id == "pcn1"
    assert worklist.by_control_number("PCN9999") is None
    worklist.record("pcn2", scrubbed("PCN0002", "p2"), [])
    assert [row.claim_id for row in worklist.for_patient("p1")] == ["pcn1"]
    assert worklist.for_patient("p9") == []
    assert worklist.get("nope") is None


def test_set_status_follows_the_transitions(worklist: ClaimWorklist, engine: Engine) -> None:
    worklist.record("a", scrubbed("PCN0001", "p1"), [])
    worklist.record("b", scrubbed("PCN0002", "p2"), [ERROR])
    # a payer outcome needs a sent claim
    assert worklist.set_status(["a", "b"], "paid") == 0
    # a clean claim can be put on hold; a held one is already held
    assert worklist.set_status(["a", "b"], "held") == 1
    with engine.begin() as conn:
        conn.execute(billing_claims.update().values(status="released"))
    assert worklist.set_status(["a", "b"], "denied") == 2
    assert worklist.set_status(["a"], "reversed") == 1
    assert worklist.set_status(["a"], "paid") == 1
    with engine.connect() as conn:
        query = select(billing_claims.c.claim_id, billing_claims.c.status)
        statuses = {row.claim_id: row.status for row in conn.execute(query)}
    assert statuses == {"a": "paid", "b": "denied"}
    for refused in ("released", "clean", "lost"):
        with pytest.raises(InvalidError, match="cannot be set"):
            worklist.set_status(["a"], refused)


def test_the_real_scrubber_holds_a_claim_with_gaps_and_clears_it_once_fixed(
    engine: Engine, worklist: ClaimWorklist, clock: FixedClock
) -> None:
    scrubber = Scrubber(ScrubContext(CodeRegistry(engine, clock), duplicates=worklist))
    store = resources()
    del store["Patient/p1"]["birthDate"]
    gaps = convert(professional_claim(), store)
    assert worklist.record("pcn1", gaps, scrubber.scrub(gaps)) == "held"
    row = worklist.get("pcn1")
    assert row is not None
    errors = {(f["location"], f["expression"]) for f in row.findings if f["severity"] == "error"}
    assert errors == {("subscriber.person.birth_date", "Patient.birthDate")}
    fixed = convert(professional_claim())
    assert worklist.record("pcn1", fixed, scrubber.scrub(fixed)) == "clean"
    # the same services again under another claim number: a duplicate of pcn1
    again = convert(professional_claim("PCN0002"))
    issues = scrubber.scrub(again)
    assert worklist.record("pcn2", again, issues) == "held"
    duplicate = [i for i in issues if i.location == "claim" and i.severity == "error"]
    assert [i.message for i in duplicate] == [
        "The claim duplicates claim pcn1 (same patient, services and dates)"
    ]
