"""Releasing clean claims: one valid 837 per release, control numbers that never repeat, and
nothing written when a release fails (both stores)."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest
from sqlalchemy import Engine, func, select

from chartkeeper.billing.claims.batches import batch_x12, batches, preview_x12, release
from chartkeeper.billing.claims.worklist import ClaimWorklist
from chartkeeper.billing.scrub.model import Issue, ScrubClaim
from chartkeeper.billing.x12.claim_model import Provider
from chartkeeper.billing.x12.parse837 import parse_837
from chartkeeper.billing.x12.scrub import scrub
from chartkeeper.billing.x12.segments import read_interchanges
from chartkeeper.core.clock import FixedClock
from chartkeeper.core.errors import ChartkeeperError, InvalidError, NotFoundError
from chartkeeper.store.billing_schema import billing_batches, billing_claims, billing_counters
from chartkeeper.store.engine import make_engine
from chartkeeper.store.migrate import upgrade
from tests.unit.billing.test_claim_convert import (
    RECEIVER,
    SUBMITTER,
    convert,
    institutional_claim,
    professional_claim,
)

HELD = Issue("payer-id-missing", "error", "subscriber.payer.payer_id", "No payer id", "Add it")
START = datetime(2026, 11, 27, 9, 30, tzinfo=UTC)


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    built = make_engine(database_url)
    upgrade(built)
    yield built
    built.dispose()


class Claims:
    """FHIR Claims by id, scrubbed onto a worklist; ``build`` converts the current one."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self.fhir: dict[str, dict[str, Any]] = {}
        self.clock = FixedClock(START)
        self.worklist = ClaimWorklist(engine, self.clock)

    def add(self, claim_id: str, claim: dict[str, Any], issues: list[Issue] | None = None) -> None:
        self.fhir[claim_id] = claim
        self.worklist.record(claim_id, self.build(claim_id), issues or [])
        self.clock.advance(seconds=1)

    def build(self, claim_id: str) -> ScrubClaim:
        return convert(self.fhir[claim_id])

    def release(self, claim_ids: list[str] | None, build: Any = None) -> Any:
        return release(
            self.engine,
            self.clock,
            self.worklist,
            claim_ids,
            build or self.build,
            SUBMITTER,
            RECEIVER,
        )

    def x12(self, batch_id: str) -> str:
        return batch_x12(self.engine, batch_id)


@pytest.fixture
def claims(engine: Engine) -> Claims:
    return Claims(engine)


def _isa13(text: str) -> int:
    [interchange] = read_interchanges(text)
    return int(interchange.isa.get(13))


def _snapshot(engine: Engine) -> tuple[Any, ...]:
    """Everything a release writes: claim rows, batches, counters."""
    with engine.connect() as conn:
        rows = conn.execute(select(billing_claims).order_by(billing_claims.c.claim_id)).all()
        batches = conn.execute(select(func.count()).select_from(billing_batches)).scalar_one()
        counters = conn.execute(select(billing_counters).order_by(billing_counters.c.name)).all()
    return [tuple(r) for r in rows], batches, [tuple(c) for c in counters]


def test_a_release_is_one_valid_837_and_marks_the_claims_released(
    claims: Claims, engine: Engine
) -> None:
    claims.add("p1", professional_claim("PCN0001", "p1"))
    claims.add("p2", professional_claim("PCN0002", "p2"))
    claims.add("i1", institutional_claim("INST0001"))
    batch = claims.release(["p1", "i1", "p2"])
    assert (batch.kind, batch.claim_count, batch.total_cents) == ("837", 3, 18450 * 2 + 31450)
    assert batch.interchange_control == 1
    assert batch.created == int(START.timestamp() * 1_000_000) + 3_000_000
    text = claims.x12(batch.batch_id)
    assert _isa13(text) == 1
    assert scrub(text) == []
    parsed = parse_837(text)
    assert [(b.kind, [c.claim_id for c in b.claims]) for b in parsed] == [
        ("837P", ["PCN0001", "PCN0002"]),
        ("837I", ["INST0001"]),
    ]
    [interchange] = read_interchanges(text)
    assert [int(group.gs.get(6)) for group in interchange.groups] == [1, 2]
    for claim_id in ("p1", "p2", "i1"):
        row = claims.worklist.get(claim_id)
        assert row is not None and (row.status, row.batch_id) == ("released", batch.batch_id)
    assert batches(claims.engine) == [batch]
    in_batch, total = claims.worklist.items(batch_id=batch.batch_id)
    assert total == 3 and {row.claim_id for row in in_batch} == {"p1", "p2", "i1"}
    assert claims.worklist.counts()["released"] == 3


def test_control_numbers_increase_from_release_to_release(claims: Claims) -> None:
    for n in range(3):
        claims.add(f"c{n}", professional_claim(f"PCN000{n}", f"p{n}"))
    first = claims.release(["c0"])
    second = claims.release(["c1"])
    third = claims.release(None)  # every clean claim: c2
    assert [b.interchange_control for b in (first, second, third)] == [1, 2, 3]
    texts = [claims.x12(b.batch_id) for b in (first, second, third)]
    assert [_isa13(t) for t in texts] == [1, 2, 3]
    groups = [int(read_interchanges(t)[0].groups[0].gs.get(6)) for t in texts]
    assert groups == [1, 2, 3]
    assert [b.interchange_control for b in batches(claims.engine)] == [3, 2, 1]
    assert [b.interchange_control for b in batches(claims.engine, limit=1, offset=1)] == [2]
    with pytest.raises(InvalidError, match="no clean claims"):
        claims.release(None)


def test_held_claims_are_refused_by_name_and_nothing_is_written(
    claims: Claims, engine: Engine
) -> None:
    claims.add("ok", professional_claim("PCN0001", "p1"))
    claims.add("bad", professional_claim("PCN0002", "p2"), [HELD])
    before = _snapshot(engine)
    with pytest.raises(InvalidError) as refused:
        claims.release(["ok", "bad"])
    assert refused.value.message == (
        "Only clean claims can be released; not clean: Claim/bad (held)"
    )
    with pytest.raises(InvalidError, match="Not on the claim worklist: Claim/ghost"):
        claims.release(["ghost"])
    assert _snapshot(engine) == before


def test_a_failing_release_writes_nothing_and_uses_no_control_number(
    claims: Claims, engine: Engine
) -> None:
    claims.add("a", professional_claim("PCN0001", "p1"))
    claims.release(["a"])
    broken = professional_claim("PCN0002", "p2")
    claims.add("b", broken)
    claims.add("c", professional_claim("PCN0003", "p3"))

    def bad_npi(claim_id: str) -> ScrubClaim:
        built = claims.build(claim_id)
        if claim_id != "b":
            return built
        provider = replace(built.billing_provider, npi="1234567890")  # fails its check digit
        return replace(built, billing_provider=provider)

    before = _snapshot(engine)
    # the signature covers the billing NPI, so the mismatch is caught before writing
    with pytest.raises(InvalidError, match="Claim/b changed since it was scrubbed"):
        claims.release(["c", "b"], bad_npi)
    assert _snapshot(engine) == before
    # a claim recorded clean with an NPI write_837 refuses: the writer fails inside the
    # transaction, after the claims were marked and a number drawn; all of it rolls back
    bad = claims.build("b")
    bad = replace(bad, claim=replace(bad.claim, rendering=Provider("X", "1234567890")))
    claims.worklist.record("b", bad, [])
    before = _snapshot(engine)
    with pytest.raises(InvalidError, match="rendering provider NPI"):
        claims.release(
            ["c", "b"], lambda claim_id: bad if claim_id == "b" else claims.build(claim_id)
        )
    assert _snapshot(engine) == before
    assert claims.release(["c"]).interchange_control == 2


def test_preview_is_a_valid_837_that_uses_no_control_number(claims: Claims, engine: Engine) -> None:
    claims.add("a", professional_claim("PCN0001", "p1"))
    text = preview_x12(claims.build("a"), SUBMITTER, RECEIVER, START)
    assert _isa13(text) == 1
    assert scrub(text) == []
    assert [c.claim_id for c in parse_837(text)[0].claims] == ["PCN0001"]
    assert _snapshot(engine)[2] == []
    assert claims.release(["a"]).interchange_control == 1


def _race(engine_url: str, jobs: list[list[str]], fhir: dict[str, Any]) -> list[Any]:
    """Run each job (a list of single-claim releases) in its own thread, on its own engine,
    all starting together; answer every batch or error."""
    barrier = threading.Barrier(len(jobs))
    results: list[Any] = []
    lock = threading.Lock()

    def run(claim_ids: list[str]) -> None:
        engine = make_engine(engine_url)
        worker = Claims(engine)
        worker.fhir = fhir
        try:
            barrier.wait()
            for claim_id in claim_ids:
                try:
                    outcome: Any = worker.release([claim_id])
                except ChartkeeperError as error:
                    outcome = error
                with lock:
                    results.append(outcome)
        finally:
            engine.dispose()

    threads = [threading.Thread(target=run, args=(job,)) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


def test_concurrent_releases_never_reuse_a_control_number(
    claims: Claims, engine: Engine, database_url: str
) -> None:
    ids = [f"c{n}" for n in range(12)]
    for n, claim_id in enumerate(ids):
        claims.add(claim_id, professional_claim(f"PCN{n:04d}", f"p{n}"))
    jobs = [ids[0::3], ids[1::3], ids[2::3]]
    results = _race(database_url, jobs, claims.fhir)
    assert len(results) == 12
    assert all(not isinstance(r, Exception) for r in results), results
    numbers = sorted(r.interchange_control for r in results)
    assert numbers == list(range(1, 13))
    texts = [claims.x12(r.batch_id) for r in results]
    assert sorted(_isa13(t) for t in texts) == numbers
    assert claims.worklist.counts()["released"] == 12


def test_two_releases_of_the_same_claim_send_it_once(
    claims: Claims, engine: Engine, database_url: str
) -> None:
    claims.add("a", professional_claim("PCN0001", "p1"))
    results = _race(database_url, [["a"], ["a"], ["a"]], claims.fhir)
    sent = [r for r in results if not isinstance(r, Exception)]
    refused = [r for r in results if isinstance(r, Exception)]
    assert len(sent) == 1 and len(refused) == 2
    assert all(type(r).__name__ in ("InvalidError", "ConflictError") for r in refused)
    assert [b.batch_id for b in batches(claims.engine)] == [sent[0].batch_id]
    with engine.connect() as conn:
        counter = conn.execute(
            select(billing_counters.c.value).where(billing_counters.c.name == "isa")
        ).scalar_one()
    assert counter == 1


def test_an_unknown_batch_is_not_found(claims: Claims) -> None:
    with pytest.raises(NotFoundError):
        claims.x12("no-such-batch")
