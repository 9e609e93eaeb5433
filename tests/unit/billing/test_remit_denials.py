"""The denial work queue over denials opened by real postings, on SQLite and PostgreSQL."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from decimal import Decimal

import pytest
from sqlalchemy import Engine

from chartkeeper.billing.remit.denials import DenialQueue
from chartkeeper.billing.x12.parse835 import ClaimPayment
from chartkeeper.core.clock import FixedClock
from chartkeeper.core.errors import InvalidError, NotFoundError
from chartkeeper.store.billing_schema import billing_denials
from tests.unit.billing.test_remit_posting import (
    DRUG,
    VISIT,
    add_claim,
    co,
    open_store,
    post,
    rows,
    svc,
    text_of,
)

D = Decimal


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    yield from open_store(database_url)


NOW = datetime(2026, 3, 11, 8, 0, tzinfo=UTC)


def two_denials(engine: Engine) -> DenialQueue:
    """PCN1 denied whole (190.00), PCN2 with its drug line denied (40.00)."""
    add_claim(engine, "PCN1", patient="pat-1")
    add_claim(engine, "PCN2", patient="pat-2")
    denied = ClaimPayment(
        "PCN1", "4", D("190"), D("0"), D("0"), "12", "P-1", adjustments=(co("16", "190"),)
    )
    partial = ClaimPayment(
        "PCN2",
        "1",
        D("190"),
        D("120"),
        D("0"),
        "12",
        "P-2",
        services=(
            svc(VISIT, "120", co("45", "30")),
            svc(DRUG, "0", co("50", "40"), remarks=("N115",)),
        ),
    )
    post(engine, text_of(denied, partial))
    return DenialQueue(engine, FixedClock(NOW))


def test_the_queue_lists_open_denials_largest_first_with_claim_and_patient(
    engine: Engine,
) -> None:
    queue = two_denials(engine)
    items, total = queue.items()
    assert total == 2
    assert [
        (d.control_number, d.patient_id, d.line, d.reason_code, d.amount_cents) for d in items
    ] == [
        ("PCN1", "pat-1", None, "16", 19000),
        ("PCN2", "pat-2", 1, "50", 4000),
    ]
    assert items[1].remarks == ("N115",) and items[1].claim_id == "claim-PCN2"
    page, total = queue.items(limit=1, offset=1)
    assert [d.control_number for d in page] == ["PCN2"] and total == 2


def test_a_biller_appeals_then_resolves_and_the_counts_follow(engine: Engine) -> None:
    queue = two_denials(engine)
    first = queue.items()[0][0]
    appealed = queue.update(first.denial_id, "appealed", "appeal sent with records", "biller-1")
    assert (appealed.state, appealed.note, appealed.updated_by) == (
        "appealed",
        "appeal sent with records",
        "biller-1",
    )
    assert appealed.updated == int(NOW.timestamp() * 1_000_000)
    assert queue.counts() == {
        "open": 1,
        "appealed": 1,
        "corrected": 0,
        "written_off": 0,
        "resolved": 0,
    }
    queue.update(first.denial_id, "resolved", "overturned on appeal", "biller-1")
    assert [d.denial_id for d in queue.items("resolved")[0]] == [first.denial_id]
    assert queue.items(None)[1] == 2


@pytest.mark.parametrize(
    ("path", "refused"),
    [
        ((), "open"),  # a note only: allowed, so refuse something else below
        (("written_off",), "appealed"),
        (("resolved",), "corrected"),
        (("appealed",), "corrected"),
    ],
)
def test_moves_outside_the_transitions_are_refused_and_change_nothing(
    engine: Engine, path: tuple[str, ...], refused: str
) -> None:
    queue = two_denials(engine)
    denial = queue.items()[0][0]
    for state in path:
        queue.update(denial.denial_id, state, "", "biller-1")
    before = queue.get(denial.denial_id)
    if not path:
        noted = queue.update(denial.denial_id, "open", "called the payer", "biller-2")
        assert (noted.state, noted.note) == ("open", "called the payer")
        return
    with pytest.raises(InvalidError, match=f"cannot go from '{before.state}' to '{refused}'"):
        queue.update(denial.denial_id, refused, "", "biller-1")
    assert queue.get(denial.denial_id) == before


def test_a_finished_denial_can_be_reopened(engine: Engine) -> None:
    queue = two_denials(engine)
    denial = queue.items()[0][0]
    queue.update(denial.denial_id, "written_off", "small balance", "biller-1")
    assert (
        queue.update(denial.denial_id, "open", "payer asked for records", "biller-1").state
        == "open"
    )


def test_unknown_states_and_denials_are_refused(engine: Engine) -> None:
    queue = two_denials(engine)
    with pytest.raises(InvalidError, match="Unknown denial state"):
        queue.items("lost")
    with pytest.raises(InvalidError, match="limit"):
        queue.items(limit=0)
    with pytest.raises(NotFoundError):
        queue.get("no-such-denial")
    denial = queue.items()[0][0]
    with pytest.raises(InvalidError, match="Unknown denial state"):
        queue.update(denial.denial_id, "lost", "", "biller-1")


def test_a_later_full_payment_resolves_the_open_denial(engine: Engine) -> None:
    queue = two_denials(engine)
    paid = ClaimPayment(
        "PCN1",
        "1",
        D("190"),
        D("152"),
        D("0"),
        "12",
        "P-1b",
        services=(svc(VISIT, "120", co("45", "30")), svc(DRUG, "32", co("45", "8"))),
    )
    post(engine, text_of(paid, trace="TRACE9"))
    states = {r["claim_id"]: (r["state"], r["note"]) for r in rows(engine, billing_denials)}
    assert states == {
        "claim-PCN1": ("resolved", "paid by a later remittance"),
        "claim-PCN2": ("open", ""),
    }
    assert queue.counts()["open"] == 1
