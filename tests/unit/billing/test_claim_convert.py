"""FHIR Claim → 837: complete claims survive write, pyx12 and parse; gaps are located."""

from __future__ import annotations

import copy
from dataclasses import replace
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import pytest

from chartkeeper.billing import systems
from chartkeeper.billing.claims.batches import group
from chartkeeper.billing.claims.convert import (
    coverage_references,
    references_of,
    to_scrub_claim,
)
from chartkeeper.billing.claims.coverage import PAYMENT_TYPOLOGY
from chartkeeper.billing.scrub.model import ScrubClaim
from chartkeeper.billing.x12.claim_model import Address, Contact, Person
from chartkeeper.billing.x12.envelope import Envelope, SequentialControlNumbers
from chartkeeper.billing.x12.parse837 import parse_837
from chartkeeper.billing.x12.scrub import scrub
from chartkeeper.billing.x12.write837 import write_837
from chartkeeper.core.errors import InvalidError, NotSupportedError

TODAY = date(2026, 11, 27)
SUBMITTER = Contact("RIVERSIDE BILLING", "SUB01", contact_name="PAT BILLER", phone="2175550100")
RECEIVER = Contact("CLEARING HOUSE", "REC01")
NOW = datetime(2026, 11, 27, 9, 30)

Json = dict[str, Any]


def _coding(system: str, code: str) -> Json:
    return {"coding": [{"system": system, "code": code}]}


def _address(line: str, city: str = "SPRINGFIELD", zip_code: str = "62701-1234") -> list[Json]:
    return [{"line": [line], "city": city, "state": "IL", "postalCode": zip_code}]


def resources() -> dict[str, Json]:
    """The resources a claim refers to: patient, insured spouse, payer, clinic, clinicians;
    and twins of the patient (``Patient/p0``..``p19``) for claims of other patients."""
    found = _resources()
    for n in range(20):
        found.setdefault(f"Patient/p{n}", {**found["Patient/p1"], "id": f"p{n}"})
    return found


def _resources() -> dict[str, Json]:
    return {
        "Patient/p1": {
            "resourceType": "Patient",
            "id": "p1",
            "name": [
                {"use": "nickname", "family": "DOE", "given": ["JJ"]},
                {"use": "official", "family": "DOE", "given": ["JANE", "Q"]},
            ],
            "birthDate": "1980-04-12",
            "gender": "female",
            "address": _address("12 ELM STREET"),
        },
        "RelatedPerson/r1": {
            "resourceType": "RelatedPerson",
            "id": "r1",
            "name": [{"family": "DOE", "given": ["JOHN"]}],
            "birthDate": "1978-01-30",
            "gender": "male",
            "address": _address("12 ELM STREET"),
        },
        "Coverage/c1": {
            "resourceType": "Coverage",
            "id": "c1",
            "status": "active",
            "subscriberId": "XYZ123456",
            "beneficiary": {"reference": "Patient/p1"},
            "relationship": _coding(systems.SUBSCRIBER_RELATIONSHIP, "self"),
            "payor": [{"reference": "Organization/payer"}],
            "type": _coding(PAYMENT_TYPOLOGY, "521"),
            "class": [
                {
                    "type": _coding(
                        "http://terminology.hl7.org/CodeSystem/coverage-class", "group"
                    ),
                    "value": "GRP100",
                }
            ],
        },
        "Organization/payer": {
            "resourceType": "Organization",
            "id": "payer",
            "name": "ACME HEALTH PLAN",
            "identifier": [{"system": systems.PAYER_ID, "value": "ACME1"}],
        },
        "Organization/clinic": {
            "resourceType": "Organization",
            "id": "clinic",
            "name": "RIVERSIDE CLINIC",
            "identifier": [
                {"system": systems.EIN, "value": "123456789"},
                {"system": systems.NPI, "value": "1234567893"},
            ],
            "type": [_coding(systems.NUCC_TAXONOMY, "207Q00000X")],
            "address": [
                {
                    "line": ["400 RIVER ROAD", "SUITE 2"],
                    "city": "SPRINGFIELD",
                    "state": "IL",
                    "postalCode": "62704-1111",
                }
            ],
        },
        "Practitioner/quinn": {
            "resourceType": "Practitioner",
            "id": "quinn",
            "name": [{"family": "QUINN", "given": ["HARPER"]}],
            "identifier": [{"system": systems.NPI, "value": "1245319599"}],
            "qualification": [{"code": _coding(systems.NUCC_TAXONOMY, "207Q00000X")}],
        },
        "Practitioner/morgan": {
            "resourceType": "Practitioner",
            "id": "morgan",
            "name": [{"family": "MORGAN", "given": ["ALEX"]}],
            "identifier": [{"system": systems.NPI, "value": "1679576722"}],
        },
    }


def _team(role: str, practitioner: str, sequence: int) -> Json:
    return {
        "sequence": sequence,
        "provider": {"reference": f"Practitioner/{practitioner}"},
        "role": _coding(systems.CARE_TEAM_ROLE, role),
    }


def _diagnosis(sequence: int, code: str) -> Json:
    return {
        "sequence": sequence,
        "diagnosisCodeableConcept": _coding(systems.ICD10CM, code),
    }


def professional_claim(number: str = "PCN0001", patient: str = "p1") -> Json:
    """An office claim: two HCPCS lines, one with a modifier and a unit price."""
    return {
        "resourceType": "Claim",
        "id": number.lower(),
        "status": "active",
        "identifier": [{"system": systems.CLAIM_NUMBER, "value": number}],
        "type": _coding(systems.CLAIM_TYPE, "professional"),
        "use": "claim",
        "created": "2026-11-20",
        "patient": {"reference": f"Patient/{patient}"},
        "provider": {"reference": "Organization/clinic"},
        "priority": _coding(systems.PROCESS_PRIORITY, "normal"),
        "insurance": [{"sequence": 1, "focal": True, "coverage": {"reference": "Coverage/c1"}}],
        "careTeam": [_team("rendering", "quinn", 1), _team("referring", "morgan", 2)],
        # out of order on purpose: sequence decides the principal diagnosis
        "diagnosis": [_diagnosis(2, "I10"), _diagnosis(1, "E11.9")],
        "item": [
            {
                "sequence": 1,
                "diagnosisSequence": [1, 2],
                "productOrService": _coding(systems.HCPCS, "G0439"),
                "servicedDate": "2026-11-02",
                "locationCodeableConcept": _coding(systems.PLACE_OF_SERVICE, "11"),
                "quantity": {"value": 1},
                "net": {"value": 175.5, "currency": "USD"},
            },
            {
                "sequence": 2,
                "diagnosisSequence": [2],
                "productOrService": _coding(systems.HCPCS, "J1100"),
                "modifier": [_coding(systems.HCPCS, "JW")],
                "servicedDate": "2026-11-02",
                "quantity": {"value": 4},
                "unitPrice": {"value": 2.25, "currency": "USD"},
            },
        ],
    }


def _info(sequence: int, category: str, system: str, code: str) -> Json:
    return {
        "sequence": sequence,
        "category": _coding(systems.SUPPORTING_INFO, category),
        "code": _coding(system, code),
    }


def institutional_claim(number: str = "INST0001") -> Json:
    """An outpatient hospital claim (bill type 0131) with revenue codes and an attending."""
    claim = professional_claim(number)
    claim["type"] = _coding(systems.CLAIM_TYPE, "institutional")
    claim["billablePeriod"] = {"start": "2026-11-02", "end": "2026-11-03"}
    claim["careTeam"] = [_team("attending", "quinn", 1)]
    claim["supportingInfo"] = [
        _info(1, "typeofbill", systems.TYPE_OF_BILL, "0131"),
        _info(2, "admtype", systems.ADMIT_TYPE, "3"),
        _info(3, "pointoforigin", systems.POINT_OF_ORIGIN, "1"),
        _info(4, "discharge-status", systems.DISCHARGE_STATUS, "01"),
    ]
    claim["item"] = [
        {
            "sequence": 1,
            "revenue": _coding(systems.REVENUE_CODE, "0450"),
            "productOrService": _coding(systems.HCPCS, "G0380"),
            "servicedDate": "2026-11-02",
            "quantity": {"value": 1},
            "net": {"value": 310},
        },
        {
            "sequence": 2,
            "revenue": _coding(systems.REVENUE_CODE, "0636"),
            "productOrService": _coding(systems.HCPCS, "J1100"),
            "servicedDate": "2026-11-03",
            "quantity": {"value": 2},
            "net": {"value": 4.5},
        },
    ]
    return claim


def with_spouse_subscriber(store: dict[str, Json]) -> dict[str, Json]:
    """The same store, the patient now covered as the spouse of a RelatedPerson."""
    store = copy.deepcopy(store)
    coverage = store["Coverage/c1"]
    coverage["subscriber"] = {"reference": "RelatedPerson/r1"}
    coverage["relationship"] = _coding(systems.SUBSCRIBER_RELATIONSHIP, "spouse")
    return store


def convert(claim: Json, store: dict[str, Json] | None = None) -> ScrubClaim:
    """The claim converted against ``store`` (default: `resources`)."""
    found = resources() if store is None else store
    return to_scrub_claim(claim, found.get, TODAY)


def interchange(*scrubs: ScrubClaim) -> str:
    """An 837 of the converted claims, as a release would group them."""
    batches = group(scrubs, SUBMITTER, RECEIVER, "test", NOW)
    return write_837(batches, SequentialControlNumbers(), Envelope("SUB01", "REC01", NOW))


def test_a_professional_claim_becomes_the_837p_it_describes() -> None:
    result = convert(professional_claim())
    claim = result.claim
    assert result.kind == "837P"
    assert result.patient_key == "p1"
    assert result.created == TODAY
    assert claim.claim_id == "PCN0001"
    assert claim.diagnoses == ("E11.9", "I10")
    assert claim.facility_code == "11"
    assert claim.patient is None
    subscriber = claim.subscriber
    assert subscriber.person == Person(
        "DOE",
        "JANE",
        date(1980, 4, 12),
        "F",
        Address("12 ELM STREET", "SPRINGFIELD", "IL", "627011234"),
        member_id="XYZ123456",
        middle_name="Q",
    )
    assert (subscriber.payer.name, subscriber.payer.payer_id) == ("ACME HEALTH PLAN", "ACME1")
    assert (subscriber.group_number, subscriber.claim_filing) == ("GRP100", "CI")
    first, second = claim.lines
    assert (first.procedure_code, first.charge, first.units) == ("G0439", Decimal("175.5"), 1)
    assert first.diagnosis_pointers == (1, 2)
    assert second.diagnosis_pointers == (2,)
    assert (second.modifiers, second.charge, second.units) == (("JW",), Decimal("9.00"), 4)
    assert claim.total_charge == Decimal("184.50")
    assert claim.rendering is not None and claim.rendering.taxonomy == "207Q00000X"
    assert claim.referring is not None and claim.referring.npi == "1679576722"
    billing = result.billing_provider
    assert (billing.npi, billing.tin, billing.taxonomy) == ("1234567893", "123456789", "207Q00000X")
    assert billing.is_organization and billing.address is not None
    assert billing.address.line2 == "SUITE 2"


@pytest.mark.parametrize("build", [professional_claim, institutional_claim])
def test_a_converted_claim_validates_with_pyx12_and_parses_back(build: Any) -> None:
    result = convert(build())
    text = interchange(result)
    assert scrub(text) == []
    [batch] = parse_837(text)
    assert batch.kind == result.kind
    assert batch.billing_provider == result.billing_provider
    [parsed] = batch.claims
    expected = result.claim
    if result.kind == "837I":  # SV2 carries no diagnosis pointers
        expected = replace(
            expected, lines=tuple(replace(x, diagnosis_pointers=(1,)) for x in expected.lines)
        )
    assert parsed == expected


def test_an_institutional_claim_reads_bill_type_and_encounter_codes() -> None:
    claim = convert(institutional_claim()).claim
    assert (claim.facility_code, claim.frequency) == ("13", "1")
    assert (claim.statement_from, claim.statement_to) == (date(2026, 11, 2), date(2026, 11, 3))
    assert (claim.admission_type, claim.admission_source, claim.patient_status) == ("3", "1", "01")
    assert [line.revenue_code for line in claim.lines] == ["0450", "0636"]
    assert claim.attending is not None and claim.attending.last_name == "QUINN"
    assert claim.rendering is None


def test_a_spouse_is_the_subscriber_and_the_patient_gets_a_2000c_loop() -> None:
    store = with_spouse_subscriber(resources())
    result = convert(professional_claim(), store)
    claim = result.claim
    assert claim.subscriber.person.first_name == "JOHN"
    assert claim.subscriber.person.member_id == "XYZ123456"
    assert claim.patient is not None and claim.patient.first_name == "JANE"
    assert claim.patient.member_id == ""
    assert claim.patient_relationship == "01"
    assert result.locations["subscriber.person.birth_date"] == "RelatedPerson.birthDate"
    assert result.locations["patient.birth_date"] == "Patient.birthDate"
    text = interchange(result)
    assert scrub(text) == []
    assert parse_837(text)[0].claims == (claim,)


def test_missing_birth_date_member_id_and_payer_id_are_empty_and_located() -> None:
    store = resources()
    del store["Patient/p1"]["birthDate"]
    del store["Coverage/c1"]["subscriberId"]
    store["Organization/payer"]["identifier"] = []
    result = convert(professional_claim(), store)
    person = result.claim.subscriber.person
    assert person.birth_date is None
    assert person.member_id == ""
    assert result.claim.subscriber.payer.payer_id == ""
    locations = result.locations
    assert locations["subscriber.person.birth_date"] == "Patient.birthDate"
    assert locations["subscriber.member_id"] == "Coverage.subscriberId"
    assert locations["subscriber.person.member_id"] == "Coverage.subscriberId"
    assert locations["subscriber.payer.payer_id"] == (
        f"Organization.identifier.where(system='{systems.PAYER_ID}')"
    )


def test_unresolvable_references_give_an_empty_claim_not_an_error() -> None:
    result = to_scrub_claim(professional_claim(), lambda _ref: None, TODAY)
    claim = result.claim
    assert result.billing_provider.npi == ""
    assert claim.subscriber.person.last_name == ""
    assert claim.subscriber.payer.payer_id == ""
    assert claim.rendering is not None and claim.rendering.npi == ""
    assert result.locations["billing_provider.npi"] == "Claim.provider"
    assert result.locations["subscriber"] == "Claim.insurance[0].coverage"


def test_every_model_location_maps_to_a_fhirpath() -> None:
    locations = convert(professional_claim()).locations
    assert locations["claim"] == "Claim"
    assert locations["line[1].procedure_code"] == "Claim.item[1].productOrService"
    assert locations["line[1].charge"] == "Claim.item[1].unitPrice"
    assert locations["line[0].charge"] == "Claim.item[0].net"
    # diagnosis[0] is the principal, the second element of Claim.diagnosis
    assert locations["diagnosis[0]"] == "Claim.diagnosis[1].diagnosisCodeableConcept"
    assert locations["diagnosis[1]"] == "Claim.diagnosis[0].diagnosisCodeableConcept"
    assert locations["subscriber.person.last_name"] == "Patient.name[1].family"
    assert locations["subscriber.person.middle_name"] == "Patient.name[1].given[1]"
    assert locations["billing_provider.npi"] == (
        f"Organization.identifier.where(system='{systems.NPI}')"
    )
    assert locations["rendering"] == "Claim.careTeam[0].provider"
    assert locations["rendering.npi"] == f"Practitioner.identifier.where(system='{systems.NPI}')"
    assert locations["rendering.taxonomy"] == "Practitioner.qualification[0].code"
    assert locations["attending.npi"] == "Claim.careTeam"
    assert locations["claim.facility_code"] == "Claim.item[0].locationCodeableConcept"
    person_fields = ("last_name", "first_name", "middle_name", "birth_date", "gender", "address")
    provider_fields = ("last_name", "first_name", "npi", "taxonomy", "tin", "address")
    line_fields = (
        "procedure_code",
        "modifiers",
        "units",
        "charge",
        "service_date",
        "diagnosis_pointers",
        "revenue_code",
    )
    expected = {
        "claim.claim_id",
        "claim.statement_from",
        "claim.statement_to",
        "subscriber.payer.name",
        "subscriber.payer.payer_id",
        "subscriber.group_number",
        "subscriber.claim_filing",
        *(f"subscriber.person.{f}" for f in person_fields),
        *(f"patient.{f}" for f in person_fields),
        *(
            f"{role}.{f}"
            for role in ("billing_provider", "rendering", "referring", "attending")
            for f in provider_fields
        ),
        *(f"line[{i}].{f}" for i in (0, 1) for f in line_fields),
    }
    assert expected - set(locations) == set()
    assert all(path.split(".")[0].split("[")[0] in _RESOURCE_TYPES for path in locations.values())


_RESOURCE_TYPES = {"Claim", "Patient", "RelatedPerson", "Coverage", "Organization", "Practitioner"}


def test_institutional_locations_point_at_supporting_info() -> None:
    locations = convert(institutional_claim()).locations
    assert locations["claim.facility_code"] == "Claim.supportingInfo[0].code"
    assert locations["claim.patient_status"] == "Claim.supportingInfo[3].code"
    assert locations["line[0].revenue_code"] == "Claim.item[0].revenue"
    assert locations["attending.npi"] == f"Practitioner.identifier.where(system='{systems.NPI}')"


def test_missing_institutional_codes_are_empty() -> None:
    claim = institutional_claim()
    del claim["supportingInfo"]
    del claim["billablePeriod"]
    result = convert(claim)
    assert (result.claim.facility_code, result.claim.frequency) == ("", "")
    assert result.claim.statement_from is None
    assert result.claim.patient_status == ""
    assert result.locations["claim.facility_code"] == "Claim.supportingInfo"


def test_unmatched_diagnosis_sequence_becomes_pointer_zero() -> None:
    claim = professional_claim()
    claim["item"][0]["diagnosisSequence"] = [7]
    claim["item"][1]["diagnosisSequence"] = []
    lines = convert(claim).claim.lines
    assert [line.diagnosis_pointers for line in lines] == [(0,), ()]


def test_coverage_type_sets_the_claim_filing_indicator() -> None:
    store = resources()
    store["Coverage/c1"]["type"] = _coding(PAYMENT_TYPOLOGY, "121")
    assert convert(professional_claim(), store).claim.subscriber.claim_filing == "MB"
    store["Coverage/c1"]["type"] = _coding(PAYMENT_TYPOLOGY, "2")
    assert convert(professional_claim(), store).claim.subscriber.claim_filing == "MC"
    del store["Coverage/c1"]["type"]
    assert convert(professional_claim(), store).claim.subscriber.claim_filing == "CI"


def test_only_a_non_claim_or_a_claim_without_items_is_refused() -> None:
    with pytest.raises(InvalidError, match="Not a Claim"):
        to_scrub_claim({"resourceType": "Patient"}, resources().get, TODAY)
    empty = professional_claim()
    empty["item"] = []
    with pytest.raises(InvalidError, match="no items"):
        convert(empty)
    oral = professional_claim()
    oral["type"] = _coding(systems.CLAIM_TYPE, "oral")
    with pytest.raises(NotSupportedError):
        convert(oral)


def test_references_are_read_in_two_steps() -> None:
    claim = professional_claim()
    assert references_of(claim) == [
        "Patient/p1",
        "Organization/clinic",
        "Coverage/c1",
        "Practitioner/quinn",
        "Practitioner/morgan",
    ]
    coverage = with_spouse_subscriber(resources())["Coverage/c1"]
    assert coverage_references(coverage) == [
        "Patient/p1",
        "RelatedPerson/r1",
        "Organization/payer",
    ]
    store = with_spouse_subscriber(resources())
    needed = set(references_of(claim)) | set(coverage_references(coverage))
    read: list[str] = []

    def resolve(ref: str) -> Json | None:
        read.append(ref)
        return store.get(ref)

    to_scrub_claim(claim, resolve, TODAY)
    assert set(read) <= needed
    assert set(read) == needed


def test_contained_resources_are_resolved() -> None:
    claim = professional_claim()
    organization = resources()["Organization/clinic"]
    claim["contained"] = [{**organization, "id": "billing"}]
    claim["provider"] = {"reference": "#billing"}
    store = resources()
    del store["Organization/clinic"]
    assert convert(claim, store).billing_provider.npi == "1234567893"


def test_a_care_team_qualification_overrides_the_practitioners_taxonomy() -> None:
    claim = professional_claim()
    claim["careTeam"][0]["qualification"] = _coding(systems.NUCC_TAXONOMY, "208D00000X")
    result = convert(claim)
    assert result.claim.rendering is not None
    assert result.claim.rendering.taxonomy == "208D00000X"
    assert result.locations["rendering.taxonomy"] == "Claim.careTeam[0].qualification"
