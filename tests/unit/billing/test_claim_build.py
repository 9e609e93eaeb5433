"""Building FHIR Claims from captured charges, on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import pytest

from chartkeeper.billing import systems
from chartkeeper.billing.charges.capture import CDM_SYSTEM, capture_encounter
from chartkeeper.billing.charges.claim_build import (
    build_claim,
    build_claim_report,
    claim_for_encounter,
)
from chartkeeper.billing.charges.claim_parts import C4BB_DIAGNOSIS_TYPE
from chartkeeper.billing.charges.control import control_number_for
from chartkeeper.billing.charges.master import RegistryChargeMaster
from chartkeeper.core.errors import InvalidError
from chartkeeper.core.ids import new_id
from chartkeeper.fhir.interactions.update import update_in
from tests.unit.billing import test_charges as chart
from tests.unit.billing.test_charges import TODAY, Hospital, ed_visit, found, ref

#: the synthetic chart and the demo CDM of test_charges.py, on both databases
services, cdm, hospital = chart.services, chart.cdm, chart.hospital

Resource = dict[str, Any]


def _concept(system: str, code: str, display: str | None = None) -> Resource:
    coding = {"system": system, "code": code} | ({"display": display} if display else {})
    return {"coding": [coding]}


def _dx(sequence: int, code: str, display: str, principal: bool = False) -> Resource:
    kind = (
        _concept(systems.DIAGNOSIS_TYPE, "principal")
        if principal
        else _concept(C4BB_DIAGNOSIS_TYPE, "secondary")
    )
    return {
        "sequence": sequence,
        "diagnosisCodeableConcept": _concept(systems.ICD10CM, code, display),
        "type": [kind],
    }


def _usd(value: float) -> Resource:
    return {"value": value, "currency": "USD"}


def test_an_ed_visit_becomes_a_professional_claim(
    hospital: Hospital, cdm: RegistryChargeMaster
) -> None:
    coverage = hospital.coverage("2025-01-01")
    hospital.coverage("2020-01-01", "2024-12-31")  # an older plan: not in force on the date
    encounter, _ = ed_visit(hospital)
    captured = capture_encounter(hospital.ctx, encounter, cdm, TODAY)
    built = build_claim_report(hospital.ctx, encounter, TODAY)
    claim = built.claim

    number = claim["identifier"][0]["value"]
    assert number == control_number_for(claim["id"])
    assert len(number) == 20 and number.startswith("CK") and number.isalnum()
    place = _concept(systems.PLACE_OF_SERVICE, "23", "Emergency Room - Hospital")
    common = {
        "careTeamSequence": [1],
        "servicedDate": "2026-02-10",
        "locationCodeableConcept": place,
        "quantity": {"value": 1},
        "encounter": [ref("Encounter", encounter)],
    }
    assert {k: v for k, v in claim.items() if k not in ("id", "meta")} == {
        "resourceType": "Claim",
        "identifier": [{"system": systems.CLAIM_NUMBER, "value": number}],
        "status": "active",
        "type": _concept(systems.CLAIM_TYPE, "professional"),
        "use": "claim",
        "patient": ref("Patient", hospital.patient),
        "billablePeriod": {"start": "2026-02-10", "end": "2026-02-10"},
        "created": "2026-03-02",
        "provider": ref("Organization", hospital.hospital) | {"display": "Riverside Test Hospital"},
        "priority": _concept(systems.PROCESS_PRIORITY, "normal"),
        "insurance": [{"sequence": 1, "focal": True, "coverage": ref("Coverage", coverage)}],
        "insurer": ref("Organization", hospital.payer)
        | {"display": "Acme Health Plan (synthetic)"},
        "careTeam": [
            {
                "sequence": 1,
                "provider": ref("Practitioner", hospital.attending),
                "role": _concept(systems.CARE_TEAM_ROLE, "rendering"),
            },
            {
                "sequence": 2,
                "provider": ref("Practitioner", hospital.referrer),
                "role": _concept(systems.CARE_TEAM_ROLE, "referring"),
            },
        ],
        "diagnosis": [
            _dx(1, "J18.9", "Pneumonia", principal=True),
            _dx(2, "I10", "Essential hypertension"),
            _dx(3, "E11.9", "Type 2 diabetes mellitus"),
            _dx(4, "E78.5", "Hyperlipidemia"),
            _dx(5, "N18.30", "Chronic kidney disease stage 3"),
        ],
        "item": [
            {
                "sequence": 1,
                **common,
                "diagnosisSequence": [1, 2, 3, 4],  # at most 4 pointers on an 837P line
                "productOrService": _concept(systems.HCPCS, "G0382")
                | {"text": "Emergency department visit level 3"},
                "unitPrice": _usd(650.0),
                "net": _usd(650.0),
            },
            {
                "sequence": 2,
                **common,
                "diagnosisSequence": [1, 2],  # the principal and the ECG's own reason
                "productOrService": _concept(systems.HCPCS, "G0404")
                | {"text": "Electrocardiogram, 12 leads, tracing only"},
                "unitPrice": _usd(95.0),
                "net": _usd(95.0),
            },
        ],
        "total": _usd(745.0),
    }
    assert built.notes == [
        f"Condition/{hospital.conditions['snomed_only']} has no ICD-10-CM code: not on the claim"
    ]
    items = found(hospital.ctx, "ChargeItem", [("context", f"Encounter/{encounter}")])
    assert len(items) == len(captured.created) == 2
    for item in items:
        assert item["status"] == "billable"
        assert item["supportingInformation"] == [ref("Claim", claim["id"])]
    assert claim_for_encounter(hospital.ctx, encounter) == claim


def test_an_inpatient_stay_becomes_an_institutional_claim(
    hospital: Hospital, cdm: RegistryChargeMaster
) -> None:
    hospital.coverage("2025-06-01", "2026-12-31")
    encounter = hospital.encounter(
        "IMP",
        "305408004",
        "2026-02-01T10:00:00-05:00",
        "2026-02-04T09:00:00-05:00",
        diagnoses=[(1, "oa_knee"), (2, "htn")],
        hospitalization={
            "admitSource": _concept("http://terminology.hl7.org/CodeSystem/admit-source", "outp"),
            "dischargeDisposition": _concept(
                "http://terminology.hl7.org/CodeSystem/discharge-disposition", "snf"
            ),
        },
    )
    hospital.procedure(encounter, "609588000", "2026-02-01T13:00:00-05:00")
    hospital.procedure(encounter, "91251008", "2026-02-02T10:00:00-05:00")
    capture_encounter(hospital.ctx, encounter, cdm, TODAY)
    claim = build_claim(hospital.ctx, encounter, TODAY)

    assert claim["type"] == _concept(systems.CLAIM_TYPE, "institutional")
    assert claim["billablePeriod"] == {"start": "2026-02-01", "end": "2026-02-04"}
    assert claim["careTeam"] == [
        {
            "sequence": 1,
            "provider": ref("Practitioner", hospital.attending),
            "role": _concept(systems.CARE_TEAM_ROLE, "attending"),
        }
    ]
    assert [
        (i["category"]["coding"][0]["code"], i.get("code")) for i in claim["supportingInfo"]
    ] == [
        ("typeofbill", _concept(systems.TYPE_OF_BILL, "0111")),
        ("admtype", _concept(systems.ADMIT_TYPE, "3")),
        ("pointoforigin", _concept(systems.POINT_OF_ORIGIN, "2")),
        ("discharge-status", _concept(systems.DISCHARGE_STATUS, "03")),
        ("admissionperiod", None),
    ]
    assert claim["supportingInfo"][4]["timingPeriod"] == {
        "start": "2026-02-01T10:00:00-05:00",
        "end": "2026-02-04T09:00:00-05:00",
    }
    lines = [
        (
            i["sequence"],
            i["productOrService"]["coding"][0]["code"],
            i["revenue"]["coding"][0]["code"],
            i["servicedDate"],
            i["quantity"]["value"],
            i["unitPrice"]["value"],
            i["net"]["value"],
            [m["coding"][0]["code"] for m in i.get("modifier", [])],
            i["locationCodeableConcept"]["coding"][0]["code"],
            "diagnosisSequence" in i,
        )
        for i in claim["item"]
    ]
    assert lines == [
        (1, "CK-ROOM-MEDSURG", "0120", "2026-02-01", 3, 1850.0, 5550.0, [], "21", False),
        (2, "C1776", "0278", "2026-02-01", 1, 5600.0, 5600.0, [], "21", False),
        (3, "CK-OR-TKA", "0360", "2026-02-01", 1, 9200.0, 9200.0, [], "21", False),
        (4, "G0283", "0420", "2026-02-02", 1, 85.0, 85.0, ["GP"], "21", False),
    ]
    room = claim["item"][0]["productOrService"]
    assert room == {
        "coding": [{"system": CDM_SYSTEM, "code": "CK-ROOM-MEDSURG"}],
        "text": "Room and board, semi-private, medical/surgical (per day)",
    }
    assert claim["total"] == _usd(20435.0)
    assert [d["diagnosisCodeableConcept"]["coding"][0]["code"] for d in claim["diagnosis"]] == [
        "M17.11",
        "I10",
    ]


def test_no_active_coverage_on_the_date_of_service_is_refused_and_nothing_is_written(
    hospital: Hospital, cdm: RegistryChargeMaster
) -> None:
    hospital.coverage("2020-01-01", "2025-12-31")
    hospital.coverage("2026-01-01", status="cancelled")
    encounter, _ = ed_visit(hospital)
    capture_encounter(hospital.ctx, encounter, cdm, TODAY)
    with pytest.raises(InvalidError) as caught:
        build_claim(hospital.ctx, encounter, TODAY)
    assert caught.value.message == (
        f"Patient/{hospital.patient} has no active Coverage on 2026-02-10: "
        "a claim needs the insurance it is billed to"
    )
    assert found(hospital.ctx, "Claim", [("patient", f"Patient/{hospital.patient}")]) == []
    items = found(hospital.ctx, "ChargeItem", [("context", f"Encounter/{encounter}")])
    assert [i.get("supportingInformation") for i in items] == [None, None]
    assert claim_for_encounter(hospital.ctx, encounter) is None


def test_building_again_is_refused_until_the_claim_is_cancelled(
    hospital: Hospital, cdm: RegistryChargeMaster
) -> None:
    hospital.coverage("2025-01-01")
    encounter, _ = ed_visit(hospital)
    capture_encounter(hospital.ctx, encounter, cdm, TODAY)
    first = build_claim(hospital.ctx, encounter, TODAY)
    with pytest.raises(InvalidError) as caught:
        build_claim(hospital.ctx, encounter, TODAY)
    assert caught.value.message.startswith(
        f"Encounter/{encounter} is already on Claim/{first['id']}: ChargeItem/"
    )
    cancelled = {k: v for k, v in first.items() if k != "meta"} | {"status": "cancelled"}
    with hospital.ctx.repository.transaction() as tx:
        update_in(hospital.ctx, tx, "Claim", first["id"], cancelled)
    second = build_claim(hospital.ctx, encounter, TODAY)
    assert second["id"] != first["id"]
    assert second["identifier"][0]["value"] != first["identifier"][0]["value"]
    assert second["total"] == first["total"]
    assert claim_for_encounter(hospital.ctx, encounter) == second


def test_an_encounter_without_charges_or_billable_diagnoses_is_refused(
    hospital: Hospital, cdm: RegistryChargeMaster
) -> None:
    hospital.coverage("2025-01-01")
    bare = hospital.encounter(
        "AMB", "390906007", "2026-02-03T09:00:00-05:00", "2026-02-03T09:30:00-05:00"
    )
    with pytest.raises(InvalidError) as caught:
        build_claim(hospital.ctx, bare, TODAY)
    assert caught.value.message == (
        f"Encounter/{bare} has no billable ChargeItems: capture its charges first"
    )
    capture_encounter(hospital.ctx, bare, cdm, TODAY)
    with pytest.raises(InvalidError) as undiagnosed:
        build_claim(hospital.ctx, bare, TODAY)
    assert undiagnosed.value.message == (
        f"Encounter/{bare} has no diagnosis coded in ICD-10-CM: a claim needs one"
    )


def test_control_numbers_are_20_characters_and_unique() -> None:
    numbers = {control_number_for(new_id()) for _ in range(20_000)}
    assert len(numbers) == 20_000
    assert {len(n) for n in numbers} == {20}
    assert all(n.startswith("CK") and n[2:].isalnum() and n.isupper() for n in numbers)
    assert control_number_for("not-a-uuid") == control_number_for("not-a-uuid")
    assert len(control_number_for("not-a-uuid")) == 20
    fixed = "01900000-0000-7001-8000-000000000000"
    assert control_number_for(fixed) != control_number_for("01900000-0000-7002-8000-000000000000")
