"""Account activity for statements, from FHIR Claims and the postings made by real 835s."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from sqlalchemy import Engine

from chartkeeper.billing import systems
from chartkeeper.billing.account_model import Adjustment
from chartkeeper.billing.remit.activity import AWAITING, account_activity, postings_for_claims
from chartkeeper.billing.x12.parse835 import ClaimPayment
from tests.unit.billing.test_remit_posting import (
    DRUG,
    VISIT,
    add_claim,
    co,
    open_store,
    post,
    pr,
    svc,
    text_of,
)

D = Decimal


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    yield from open_store(database_url)


PATIENT = {
    "resourceType": "Patient",
    "id": "pat-1",
    "name": [{"use": "official", "family": "Testperson", "given": ["Alex", "J"]}],
    "address": [
        {
            "line": ["1 Synthetic Way", "Apt 2"],
            "city": "Springfield",
            "state": "IL",
            "postalCode": "62701",
        }
    ],
}


def fhir_claim(claim_id: str, control: str, start: str) -> dict[str, Any]:
    return {
        "resourceType": "Claim",
        "id": claim_id,
        "identifier": [{"system": systems.CLAIM_NUMBER, "value": control}],
        "billablePeriod": {"start": start, "end": start},
        "provider": {"display": "Synthetic Clinic"},
        "insurance": [{"sequence": 1, "focal": True, "coverage": {"display": "Coverage Plan A"}}],
        "item": [
            {
                "sequence": 1,
                "productOrService": {
                    "coding": [
                        {
                            "system": systems.HCPCS,
                            "code": "G0463",
                            "display": "Hospital outpatient clinic visit",
                        }
                    ]
                },
                "servicedDate": start,
                "quantity": {"value": 1},
                "net": {"value": 150},
            },
            {
                "sequence": 2,
                "productOrService": {
                    "coding": [
                        {"system": systems.HCPCS, "code": "J1885", "display": "Ketorolac injection"}
                    ]
                },
                "servicedDate": start,
                "quantity": {"value": 2},
                "net": {"value": 40},
            },
        ],
    }


def test_a_paid_claim_shows_the_payment_and_what_the_patient_owes(engine: Engine) -> None:
    paid_id = add_claim(engine, "PCN1")
    waiting_id = add_claim(engine, "PCN2")
    visit = svc(VISIT, "70", co("45", "30"), pr("1", "20"), pr("2", "30"), remarks=("N130",))
    payment = ClaimPayment(
        "PCN1",
        "1",
        D("190"),
        D("102"),
        D("50"),
        "12",
        "P-1",
        services=(visit, svc(DRUG, "32", co("45", "8"))),
    )
    post(engine, text_of(payment))
    postings = postings_for_claims(engine, [paid_id, waiting_id])
    assert list(postings) == [paid_id]
    assert postings[paid_id][0]["payer_name"] == "SIMULATED HEALTH PLAN"
    claims = [
        fhir_claim(waiting_id, "PCN2", "2026-03-05"),
        fhir_claim(paid_id, "PCN1", "2026-03-02"),
    ]
    activity = account_activity(PATIENT, claims, postings, date(2026, 3, 20))
    assert (activity.patient_id, activity.patient_name) == ("pat-1", "Alex J Testperson")
    assert activity.address_lines == ("1 Synthetic Way", "Apt 2", "Springfield, IL 62701")
    first, second = activity.claims
    assert (first.claim_id, first.status, first.insurance_paid) == ("PCN1", "paid", D("102"))
    assert (first.payer_name, first.provider_name) == ("SIMULATED HEALTH PLAN", "Synthetic Clinic")
    assert first.billed == D("190") and first.lines[1].units == D("2")
    assert first.adjustments[:3] == (
        Adjustment("CO", "45", D("30"), ("N130",), 0),
        Adjustment("PR", "1", D("20"), ("N130",), 0),
        Adjustment("PR", "2", D("30"), ("N130",), 0),
    )
    assert first.patient_owes == D("50") and activity.balance == D("50")
    assert (second.claim_id, second.status, second.insurance_paid) == ("PCN2", AWAITING, D(0))
    assert second.payer_name == "Coverage Plan A" and second.service_from == date(2026, 3, 5)


def test_a_reversed_payment_leaves_the_claim_awaiting_then_the_correction_counts(
    engine: Engine,
) -> None:
    claim_id = add_claim(engine, "PCN1")
    first = ClaimPayment(
        "PCN1",
        "1",
        D("190"),
        D("140"),
        D("20"),
        "12",
        "P-1",
        services=(svc(VISIT, "100", co("45", "30"), pr("1", "20")), svc(DRUG, "40")),
    )
    post(engine, text_of(first))
    reversal = ClaimPayment("PCN1", "22", D("-190"), D("-140"), D("-20"), "12", "P-1")
    post(engine, text_of(reversal, trace="TRACE2"))
    claims = [fhir_claim(claim_id, "PCN1", "2026-03-02")]
    reversed_only = account_activity(
        PATIENT, claims, postings_for_claims(engine, [claim_id]), date(2026, 3, 20)
    )
    assert (reversed_only.claims[0].status, reversed_only.claims[0].insurance_paid) == (AWAITING, 0)
    assert reversed_only.balance == 0
    corrected = ClaimPayment(
        "PCN1",
        "1",
        D("190"),
        D("150"),
        D("10"),
        "12",
        "P-1b",
        services=(svc(VISIT, "110", co("45", "30"), pr("1", "10")), svc(DRUG, "40")),
    )
    post(engine, text_of(corrected, trace="TRACE3"))
    activity = account_activity(
        PATIENT,
        claims,
        postings_for_claims(engine, [claim_id]),
        date(2026, 3, 20),
        payer_names={claim_id: "Plan From Coverage"},
    )
    [found] = activity.claims
    assert (found.status, found.insurance_paid, found.patient_owes) == ("paid", D("150"), D("10"))
    assert found.payer_name == "Plan From Coverage"
