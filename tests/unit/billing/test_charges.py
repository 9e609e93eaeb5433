"""Charge capture on SQLite and PostgreSQL, through the system actor's guarded FHIR context.

``Hospital`` and the fixtures here build a small synthetic chart (payer, billing hospital and
its department, clinicians, a patient with Coverage and Conditions) that test_claim_build.py
reuses.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

import pytest

from chartkeeper.app import Services, build_services
from chartkeeper.billing import systems
from chartkeeper.billing.charges import demo_cdm_path
from chartkeeper.billing.charges.capture import (
    CDM_SYSTEM,
    CHARGE_SOURCE,
    REVENUE_EXTENSION,
    UnmatchedService,
    capture_encounter,
)
from chartkeeper.billing.charges.master import ChargeMaster, RegistryChargeMaster
from chartkeeper.billing.codes.loaders import open_code_file
from chartkeeper.billing.codes.registry import CodeRegistry
from chartkeeper.core.clock import FixedClock
from chartkeeper.core.errors import InvalidError, NotFoundError
from chartkeeper.core.settings import load_settings
from chartkeeper.fhir.interactions.context import FhirContext
from chartkeeper.fhir.interactions.create import create_in
from chartkeeper.fhir.interactions.search import search

SNOMED = "http://snomed.info/sct"
ACT = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
PARTICIPATION = "http://terminology.hl7.org/CodeSystem/v3-ParticipationType"
TODAY = date(2026, 3, 2)
Resource = dict[str, Any]


@pytest.fixture
def services(database_url: str, tmp_path: Path) -> Iterator[Services]:
    settings = load_settings({"data_dir": str(tmp_path), "database_url": database_url}, environ={})
    clock = FixedClock(datetime(2026, 3, 2, 9, 0, tzinfo=UTC))
    built = build_services(settings, clock=clock)
    yield built
    built.close()


@pytest.fixture
def cdm(services: Services) -> RegistryChargeMaster:
    """The demo CDM loaded as code set kind cdm, in force from 2026-01-01."""
    registry = CodeRegistry(services.engine, services.clock)
    opened = open_code_file("cdm", demo_cdm_path())
    registry.load("cdm", opened.entries, "demo-2026", (date(2026, 1, 1), None), opened.source)
    return RegistryChargeMaster(registry)


def make(ctx: FhirContext, resource: Resource) -> str:
    """Store ``resource`` through the guarded context; its new id."""
    with ctx.repository.transaction() as tx:
        stored, _ = create_in(ctx, tx, resource["resourceType"], resource)
    return stored.id


def ref(kind: str, resource_id: str) -> Resource:
    return {"reference": f"{kind}/{resource_id}"}


def found(ctx: FhirContext, kind: str, items: list[tuple[str, str]]) -> list[Resource]:
    bundle = search(ctx, kind, items, raw=False).body or {}
    return [entry["resource"] for entry in bundle.get("entry", [])]


@dataclass
class Hospital:
    """The synthetic chart: ids of everything a claim refers to."""

    ctx: FhirContext
    payer: str
    hospital: str
    department: str
    attending: str
    referrer: str
    patient: str
    conditions: dict[str, str]

    def condition(self, icd10: str | None, snomed: str, text: str) -> str:
        codings = [{"system": SNOMED, "code": snomed, "display": text}]
        if icd10:
            codings.insert(0, {"system": systems.ICD10CM, "code": icd10, "display": text})
        return make(
            self.ctx,
            {
                "resourceType": "Condition",
                "subject": ref("Patient", self.patient),
                "code": {"coding": codings, "text": text},
            },
        )

    def encounter(
        self, klass: str, type_code: str, start: str, end: str | None, **more: Any
    ) -> str:
        participants = [
            {
                "type": [{"coding": [{"system": PARTICIPATION, "code": "ATND"}]}],
                "individual": ref("Practitioner", self.attending),
            }
        ]
        if more.pop("referred", False):
            participants.append(
                {
                    "type": [{"coding": [{"system": PARTICIPATION, "code": "REF"}]}],
                    "individual": ref("Practitioner", self.referrer),
                }
            )
        period = {"start": start} | ({"end": end} if end else {})
        body: Resource = {
            "resourceType": "Encounter",
            "status": "finished" if end else "in-progress",
            "class": {"system": ACT, "code": klass},
            "type": [{"coding": [{"system": SNOMED, "code": type_code}]}],
            "subject": ref("Patient", self.patient),
            "participant": participants,
            "period": period,
            "serviceProvider": ref("Organization", self.department),
        }
        ranked = more.pop("diagnoses", [])
        if ranked:
            body["diagnosis"] = [
                {"condition": ref("Condition", self.conditions[key]), "rank": rank}
                for rank, key in ranked
            ]
        body.update(more)
        return make(self.ctx, body)

    def procedure(self, encounter: str, snomed: str, when: str, **more: Any) -> str:
        body: Resource = {
            "resourceType": "Procedure",
            "status": more.pop("status", "completed"),
            "code": {"coding": [{"system": SNOMED, "code": snomed}]},
            "subject": ref("Patient", self.patient),
            "encounter": ref("Encounter", encounter),
            "performedDateTime": when,
        }
        body.update(more)
        return make(self.ctx, body)

    def coverage(self, start: str, end: str | None = None, status: str = "active") -> str:
        period = {"start": start} | ({"end": end} if end else {})
        return make(
            self.ctx,
            {
                "resourceType": "Coverage",
                "status": status,
                "subscriberId": "ACM10000001",
                "beneficiary": ref("Patient", self.patient),
                "relationship": {
                    "coding": [{"system": systems.SUBSCRIBER_RELATIONSHIP, "code": "self"}]
                },
                "period": period,
                "payor": [ref("Organization", self.payer)],
            },
        )


def _organization(name: str, **more: Any) -> Resource:
    return {"resourceType": "Organization", "active": True, "name": name, **more}


def _practitioner(family: str, npi: str) -> Resource:
    return {
        "resourceType": "Practitioner",
        "identifier": [{"system": systems.NPI, "value": npi}],
        "name": [{"family": family, "given": ["Test"]}],
    }


@pytest.fixture
def hospital(services: Services) -> Hospital:
    ctx = services.fhir
    payer = make(
        ctx,
        _organization(
            "Acme Health Plan (synthetic)",
            identifier=[{"system": systems.PAYER_ID, "value": "ACME01"}],
        ),
    )
    billing = make(
        ctx,
        _organization(
            "Riverside Test Hospital",
            identifier=[
                {"system": systems.NPI, "value": "1234567893"},
                {"system": systems.EIN, "value": "987654321"},
            ],
            type=[{"coding": [{"system": systems.NUCC_TAXONOMY, "code": "282N00000X"}]}],
            address=[
                {
                    "line": ["1 Hospital Plaza"],
                    "city": "Riverside",
                    "state": "OH",
                    "postalCode": "45000",
                }
            ],
        ),
    )
    department = make(
        ctx, _organization("Emergency Department", partOf=ref("Organization", billing))
    )
    patient = make(
        ctx,
        {
            "resourceType": "Patient",
            "name": [{"family": "Testpatient", "given": ["Synthetic"]}],
            "gender": "female",
            "birthDate": "1960-05-04",
        },
    )
    chart = Hospital(
        ctx,
        payer,
        billing,
        department,
        make(ctx, _practitioner("Attending", "1245319599")),
        make(ctx, _practitioner("Referrer", "1679576722")),
        patient,
        {},
    )
    for key, icd, snomed, text in [
        ("pneumonia", "J18.9", "233604007", "Pneumonia"),
        ("snomed_only", None, "38341003", "Hypertensive disorder"),
        ("htn", "I10", "59621000", "Essential hypertension"),
        ("dm2", "E11.9", "44054006", "Type 2 diabetes mellitus"),
        ("hld", "E78.5", "55822004", "Hyperlipidemia"),
        ("ckd", "N18.30", "433144002", "Chronic kidney disease stage 3"),
        ("oa_knee", "M17.11", "239873007", "Osteoarthritis of right knee"),
    ]:
        chart.conditions[key] = chart.condition(icd, snomed, text)
    return chart


ED_DIAGNOSES = [
    (1, "pneumonia"),
    (2, "snomed_only"),
    (3, "htn"),
    (4, "dm2"),
    (5, "hld"),
    (6, "ckd"),
]


def ed_visit(chart: Hospital) -> tuple[str, dict[str, str]]:
    """An ED visit: an ECG (for hypertension), a chest X-ray (no CDM row), a splint not done."""
    encounter = chart.encounter(
        "EMER",
        "50849002",
        "2026-02-10T08:00:00-05:00",
        "2026-02-10T12:30:00-05:00",
        referred=True,
        diagnoses=ED_DIAGNOSES,
    )
    procedures = {
        "ecg": chart.procedure(
            encounter,
            "29303009",
            "2026-02-10T08:20:00-05:00",
            reasonReference=[ref("Condition", chart.conditions["htn"])],
        ),
        "cxr": chart.procedure(encounter, "399208008", "2026-02-10T08:40:00-05:00"),
        "splint": chart.procedure(
            encounter, "274474001", "2026-02-10T09:00:00-05:00", status="not-done"
        ),
    }
    return encounter, procedures


def _concept(chart: Hospital, key: str) -> Resource:
    with chart.ctx.repository.reading() as tx:
        stored = tx.read("Condition", chart.conditions[key])
    assert stored is not None
    return dict(stored.resource()["code"])


def test_an_ed_visit_is_charged_from_the_encounter_class_and_its_procedures(
    hospital: Hospital, cdm: RegistryChargeMaster
) -> None:
    encounter, procedures = ed_visit(hospital)
    result = capture_encounter(hospital.ctx, encounter, cdm, TODAY)

    assert result.cdm_version == "demo-2026"
    assert result.existing == []
    visit, ecg = result.created
    diagnoses = [_concept(hospital, key) for _, key in ED_DIAGNOSES]
    common = {
        "resourceType": "ChargeItem",
        "status": "billable",
        "subject": ref("Patient", hospital.patient),
        "context": ref("Encounter", encounter),
        "performer": [{"actor": ref("Practitioner", hospital.attending)}],
        "performingOrganization": ref("Organization", hospital.department),
        "quantity": {"value": 1},
        "enteredDate": "2026-03-02",
    }
    assert {k: v for k, v in visit.items() if k not in ("id", "meta")} == common | {
        "identifier": [{"system": CHARGE_SOURCE, "value": f"Encounter/{encounter}#CK-ED-VISIT"}],
        "code": {
            "coding": [
                {"system": systems.HCPCS, "code": "G0382"},
                {
                    "system": CDM_SYSTEM,
                    "code": "CK-ED-VISIT",
                    "display": "Emergency department visit level 3",
                },
            ],
            "text": "Emergency department visit level 3",
        },
        "occurrenceDateTime": "2026-02-10T08:00:00-05:00",
        "priceOverride": {"value": 650.0, "currency": "USD"},
        "reason": diagnoses,
        "extension": [
            {
                "url": REVENUE_EXTENSION,
                "valueCodeableConcept": {
                    "coding": [{"system": systems.REVENUE_CODE, "code": "0450"}]
                },
            }
        ],
    }
    assert ecg["identifier"][0]["value"] == f"Procedure/{procedures['ecg']}#CK-ECG"
    assert ecg["code"]["coding"][0] == {"system": systems.HCPCS, "code": "G0404"}
    assert ecg["occurrenceDateTime"] == "2026-02-10T08:20:00-05:00"
    assert ecg["service"] == [ref("Procedure", procedures["ecg"])]
    assert ecg["reason"] == [_concept(hospital, "htn")]
    assert ecg["priceOverride"] == {"value": 95.0, "currency": "USD"}
    assert sorted(result.unmatched, key=lambda u: u.source) == sorted(
        [
            UnmatchedService(
                f"Procedure/{procedures['cxr']}", (f"{SNOMED}|399208008",), "no CDM row"
            ),
            UnmatchedService(
                f"Procedure/{procedures['splint']}",
                (),
                "status is not-done: only completed procedures are charged",
            ),
        ],
        key=lambda u: u.source,
    )


def test_capturing_again_does_not_charge_twice_but_adds_what_is_new(
    hospital: Hospital, cdm: RegistryChargeMaster
) -> None:
    encounter, _ = ed_visit(hospital)
    first = capture_encounter(hospital.ctx, encounter, cdm, TODAY)
    again = capture_encounter(hospital.ctx, encounter, cdm, TODAY)
    assert again.created == []
    assert sorted(i["id"] for i in again.existing) == sorted(i["id"] for i in first.created)
    late = hospital.procedure(encounter, "40701008", "2026-02-10T10:00:00-05:00")
    third = capture_encounter(hospital.ctx, encounter, cdm, TODAY)
    [echo] = third.created
    assert echo["service"] == [ref("Procedure", late)]
    assert echo["code"]["coding"][0]["code"] == "C8929"
    stored = found(hospital.ctx, "ChargeItem", [("context", f"Encounter/{encounter}")])
    assert len(stored) == 3 == len(third.items)


def test_an_inpatient_stay_is_charged_room_and_board_per_day_and_device_lines(
    hospital: Hospital, cdm: RegistryChargeMaster
) -> None:
    encounter = hospital.encounter(
        "IMP",
        "305408004",
        "2026-02-01T10:00:00-05:00",
        "2026-02-04T09:00:00-05:00",
        diagnoses=[(1, "oa_knee"), (2, "htn")],
    )
    tka = hospital.procedure(encounter, "609588000", "2026-02-01T13:00:00-05:00")
    pt = hospital.procedure(encounter, "91251008", "2026-02-02T10:00:00-05:00")
    result = capture_encounter(hospital.ctx, encounter, cdm, TODAY)
    lines = {
        item["code"]["coding"][-1]["code"]: (
            [c["code"] for c in item["code"]["coding"] if c["system"] == systems.HCPCS],
            item["quantity"]["value"],
            item["priceOverride"]["value"],
            [e.get("valueCode") for e in item.get("extension", []) if "valueCode" in e],
            [s["reference"] for s in item.get("service", [])],
        )
        for item in result.created
    }
    assert lines == {
        "CK-ROOM-MEDSURG": ([], 3, 5550.0, [], []),
        "CK-OR-TKA": ([], 1, 9200.0, [], [f"Procedure/{tka}"]),
        "CK-IMPLANT-KNEE": (["C1776"], 1, 5600.0, [], [f"Procedure/{tka}"]),
        "CK-PT-ESTIM": (["G0283"], 1, 85.0, ["GP"], [f"Procedure/{pt}"]),
    }
    assert result.unmatched == []


def test_a_stay_that_has_not_ended_gets_no_room_charge_yet(
    hospital: Hospital, cdm: RegistryChargeMaster
) -> None:
    encounter = hospital.encounter("IMP", "32485007", "2026-02-01T10:00:00-05:00", None)
    result = capture_encounter(hospital.ctx, encounter, cdm, TODAY)
    assert result.created == []
    assert result.unmatched == [
        UnmatchedService(
            f"Encounter/{encounter}",
            (),
            "CK-ROOM-MEDSURG is charged per day, at discharge: the stay has not ended",
        )
    ]


def test_a_visit_the_cdm_does_not_price_is_reported_and_charges_nothing(
    hospital: Hospital, cdm: RegistryChargeMaster
) -> None:
    encounter = hospital.encounter(
        "AMB", "11429006", "2026-02-03T09:00:00-05:00", "2026-02-03T09:30:00-05:00"
    )
    result = capture_encounter(hospital.ctx, encounter, cdm, TODAY)
    assert result.created == []
    assert result.unmatched == [
        UnmatchedService(
            f"Encounter/{encounter}", (f"{ACT}|AMB", f"{SNOMED}|11429006"), "no CDM row"
        )
    ]
    assert found(hospital.ctx, "ChargeItem", [("context", f"Encounter/{encounter}")]) == []


def test_no_cdm_for_the_date_of_service_and_unknown_or_cancelled_encounters_are_refused(
    hospital: Hospital, cdm: RegistryChargeMaster
) -> None:
    early = hospital.encounter(
        "AMB", "390906007", "2025-12-03T09:00:00-05:00", "2025-12-03T09:30:00-05:00"
    )
    with pytest.raises(InvalidError) as caught:
        capture_encounter(hospital.ctx, early, cdm, TODAY)
    assert caught.value.message == (
        "No charge description master is loaded for 2025-12-03: "
        "load one with 'chartkeeper codes load cdm FILE'"
    )
    with pytest.raises(NotFoundError):
        capture_encounter(hospital.ctx, "no-such-encounter", cdm, TODAY)
    cancelled = hospital.encounter(
        "AMB", "390906007", "2026-02-03T09:00:00-05:00", None, status="cancelled"
    )
    with pytest.raises(InvalidError) as refused:
        capture_encounter(hospital.ctx, cancelled, cdm, TODAY)
    assert refused.value.message == (
        f"Encounter/{cancelled} is cancelled: only encounters that took place are charged"
    )


def test_a_fixed_charge_master_serves_any_date(hospital: Hospital) -> None:
    opened = open_code_file("cdm", demo_cdm_path())
    master = ChargeMaster.from_entries("fixed", opened.entries)
    encounter = hospital.encounter(
        "AMB", "390906007", "2020-06-01T09:00:00-05:00", "2020-06-01T09:20:00-05:00"
    )
    [item] = capture_encounter(hospital.ctx, encounter, master, TODAY).created
    assert item["code"]["coding"][0]["code"] == "G0463"
    assert item["priceOverride"]["value"] == 210.0
