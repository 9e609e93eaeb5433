"""Index rows from resources: exact rows for hand-written resources, parity with fhirpathpy."""

from __future__ import annotations

import json
import re
from decimal import Decimal
from pathlib import Path
from typing import Any

import fhirpathpy
import pytest
from fhirpathpy.models import models

from chartkeeper.fhir.dates import parse_date_range
from chartkeeper.fhir.fhirpath_lite import FHIRPATH_OPTIONS, compile_expression
from chartkeeper.fhir.index_rows import MAX_MICROS, MIN_MICROS, CompositeRow, IndexRows
from chartkeeper.fhir.indexing import extract_index, fallback_params
from chartkeeper.fhir.searchparams import load_registry

SHARED = Path(__file__).resolve().parents[2].parent / "shared"
SYNTHEA = SHARED / "data" / "synthea" / "r4" / "samples"
EXAMPLES = SHARED / "data" / "fhir-r4" / "fhir-test-cases" / "examples"
KEY_TYPES = (
    "Patient", "Practitioner", "PractitionerRole", "Organization", "Location", "Encounter",
    "EpisodeOfCare", "Condition", "Observation", "Procedure", "MedicationRequest",
    "MedicationStatement", "MedicationAdministration", "Medication", "AllergyIntolerance",
    "Immunization", "DiagnosticReport", "DocumentReference", "Composition", "CarePlan", "CareTeam",
    "Goal", "ServiceRequest", "Task", "Communication", "Appointment", "Coverage", "Claim",
    "ClaimResponse", "ExplanationOfBenefit", "Account", "ChargeItem", "Consent", "AuditEvent",
    "Provenance", "Device", "ImagingStudy", "Specimen", "Group", "List", "Binary",
)  # fmt: skip
#: Expressions of the key types allowed to need fhirpathpy, with why. None today.
FALLBACK_ALLOWED: dict[tuple[str, str], str] = {}


def rng(text: str) -> tuple[int, int]:
    return parse_date_range(text)


def of(rows: list[Any], param: str) -> list[Any]:
    return [row[1:] for row in rows if row[0] == param]


# -- hand-written resources -------------------------------------------------------------------

PATIENT: dict[str, Any] = {
    "resourceType": "Patient",
    "id": "p1",
    "meta": {
        "lastUpdated": "2024-05-06T07:08:09.123Z",
        "tag": [{"system": "urn:tags", "code": "demo", "display": "Demo Data"}],
        "security": [{"system": "urn:sec", "code": "R"}],
        "profile": ["http://hl7.org/fhir/us/core/StructureDefinition/us-core-patient"],
        "source": "urn:source:ehr",
    },
    "text": {"status": "generated", "div": '<div xmlns="x"><p>Zoë &amp; <b>Ann</b></p></div>'},
    "identifier": [
        {
            "system": "urn:mrn",
            "value": "12345",
            "type": {
                "coding": [
                    {"system": "http://terminology.hl7.org/CodeSystem/v2-0203", "code": "MR"}
                ],
                "text": "Medical Record",
            },
        }
    ],
    "active": True,
    "name": [{"family": "Müller", "given": ["Zoë", "Ann"], "prefix": ["Dr."], "text": "Dr. Zoë"}],
    "telecom": [{"system": "phone", "value": "555-1"}, {"system": "email", "value": "z@x.org"}],
    "gender": "female",
    "birthDate": "1974-12-25",
    "deceasedBoolean": False,
    "address": [{"line": ["1 Main St"], "city": "Springfield", "postalCode": "01234"}],
    "managingOrganization": {"reference": "http://x/fhir/Organization/o1"},
}


def test_patient_strings() -> None:
    rows = extract_index(PATIENT)
    assert of(rows.strings, "name") == [
        ("muller", "Müller"),
        ("zoe", "Zoë"),
        ("ann", "Ann"),
        ("dr.", "Dr."),
        ("dr. zoe", "Dr. Zoë"),
    ]
    assert of(rows.strings, "family") == [("muller", "Müller")]
    assert of(rows.strings, "given") == [("zoe", "Zoë"), ("ann", "Ann")]
    assert of(rows.strings, "address") == [
        ("1 main st", "1 Main St"),
        ("springfield", "Springfield"),
        ("01234", "01234"),
    ]
    assert of(rows.strings, "address-city") == [("springfield", "Springfield")]


def test_patient_tokens() -> None:
    rows = extract_index(PATIENT)
    assert of(rows.tokens, "_id") == [(None, "p1", None)]
    assert of(rows.tokens, "identifier") == [("urn:mrn", "12345", "medical record")]
    assert of(rows.tokens, "identifier:of-type") == [
        ("http://terminology.hl7.org/CodeSystem/v2-0203", "MR|12345", None)
    ]
    assert of(rows.tokens, "telecom") == [("phone", "555-1", None), ("email", "z@x.org", None)]
    assert of(rows.tokens, "phone") == [("phone", "555-1", None)]
    assert of(rows.tokens, "email") == [("email", "z@x.org", None)]
    assert of(rows.tokens, "gender") == [(None, "female", None)]
    assert of(rows.tokens, "active") == [(None, "true", None)]
    assert of(rows.tokens, "deceased") == [(None, "false", None)]
    assert of(rows.tokens, "_tag") == [("urn:tags", "demo", "demo data")]
    assert of(rows.tokens, "_security") == [("urn:sec", "R", None)]


def test_patient_dates_references_uris() -> None:
    rows = extract_index(PATIENT)
    assert of(rows.dates, "birthdate") == [rng("1974-12-25")]
    assert of(rows.dates, "_lastUpdated") == [rng("2024-05-06T07:08:09.123Z")]
    assert of(rows.references, "organization") == [
        ("Organization", "o1", "http://x/fhir/Organization/o1")
    ]
    assert of(rows.uris, "_profile") == [
        ("http://hl7.org/fhir/us/core/StructureDefinition/us-core-patient",)
    ]
    assert of(rows.uris, "_source") == [("urn:source:ehr",)]
    assert rows.patient_ids == ["p1"]


def test_narrative_and_content() -> None:
    rows = extract_index(PATIENT)
    assert rows.narrative == "Zoë & Ann"
    words = rows.content.split(" ")
    assert "Müller" in words and "Springfield" in words and "Demo" in words
    assert "urn:mrn" not in words and "p1" not in words and "Patient" not in words
    assert "http://x/fhir/Organization/o1" not in rows.content and "<div" not in rows.content


OBSERVATION: dict[str, Any] = {
    "resourceType": "Observation",
    "id": "bp",
    "status": "final",
    "category": [{"coding": [{"system": "urn:cat", "code": "vital-signs"}], "text": "Vitals"}],
    "code": {
        "coding": [
            {"system": "http://loinc.org", "code": "85354-9", "display": "Blood pressure"},
            {"system": "urn:local", "code": "BP"},
        ],
        "text": "BP panel",
    },
    "subject": {"reference": "Patient/1"},
    "performer": [
        {"reference": "http://x/fhir/Patient/9"},
        {"reference": "Patient/2/_history/4"},
        {"reference": "#contained-1"},
        {"reference": "urn:uuid:6a7b"},
        {"display": "Nurse Joy"},
    ],
    "effectiveDateTime": "2021-03-04T05:06:07+02:00",
    "component": [
        {
            "code": {"coding": [{"system": "http://loinc.org", "code": "8480-6"}]},
            "valueQuantity": {
                "value": 120,
                "unit": "mmHg",
                "system": "http://unitsofmeasure.org",
                "code": "mm[Hg]",
            },
        },
        {
            "code": {"coding": [{"system": "http://loinc.org", "code": "8462-4"}]},
            "valueQuantity": {"value": 80.5, "unit": "mmHg"},
        },
    ],
}


def test_observation_simple_params() -> None:
    rows = extract_index(OBSERVATION)
    assert of(rows.tokens, "code") == [
        ("http://loinc.org", "85354-9", "blood pressure"),
        ("urn:local", "BP", "bp panel"),
    ]
    assert of(rows.tokens, "category") == [("urn:cat", "vital-signs", "vitals")]
    assert of(rows.tokens, "component-code") == [
        ("http://loinc.org", "8480-6", None),
        ("http://loinc.org", "8462-4", None),
    ]
    assert of(rows.quantities, "component-value-quantity") == [
        (120.0, "http://unitsofmeasure.org", "mm[Hg]", "mmHg"),
        (80.5, None, None, "mmHg"),
    ]
    assert of(rows.quantities, "value-quantity") == []
    assert of(rows.dates, "date") == [rng("2021-03-04T05:06:07+02:00")]


def test_observation_references_and_patients() -> None:
    rows = extract_index(OBSERVATION)
    assert of(rows.references, "subject") == [("Patient", "1", None)]
    assert of(rows.references, "patient") == [("Patient", "1", None)]
    assert of(rows.references, "performer") == [
        ("Patient", "9", "http://x/fhir/Patient/9"),
        ("Patient", "2", None),
        (None, None, "urn:uuid:6a7b"),
    ]
    assert rows.patient_ids == ["1", "2"]  # the absolute url is another server's


def test_observation_composites() -> None:
    rows = extract_index(OBSERVATION)
    combo = [r for r in rows.composites if r.param == "combo-code-value-quantity"]
    assert combo == [
        CompositeRow(
            "combo-code-value-quantity",
            "http://loinc.org",
            "8480-6",
            quantity_value=120.0,
            quantity_system="http://unitsofmeasure.org",
            quantity_code="mm[Hg]",
        ),
        CompositeRow("combo-code-value-quantity", "http://loinc.org", "8462-4", 80.5),
    ]
    component = [r for r in rows.composites if r.param == "component-code-value-quantity"]
    assert [(r.code, r.quantity_value) for r in component] == [("8480-6", 120.0), ("8462-4", 80.5)]
    assert not [r for r in rows.composites if r.param == "code-value-quantity"]


@pytest.mark.parametrize(
    ("value", "param", "expected"),
    [
        (
            {"valueCodeableConcept": {"coding": [{"system": "urn:s", "code": "pos"}]}},
            "code-value-concept",
            {"token_system": "urn:s", "token_code": "pos"},
        ),
        (
            {"valuePeriod": {"start": "2020-01-01"}},
            "code-value-date",
            {"date_low": rng("2020-01-01")[0], "date_high": MAX_MICROS},
        ),
        (
            {"valueDateTime": "2020"},
            "code-value-date",
            dict(zip(("date_low", "date_high"), rng("2020"), strict=True)),
        ),
        ({"valueString": "Négatif"}, "code-value-string", {"string_value": "negatif"}),
        (
            {"valueQuantity": {"value": 5, "system": "urn:u", "code": "mg"}},
            "code-value-quantity",
            {"quantity_value": 5.0, "quantity_system": "urn:u", "quantity_code": "mg"},
        ),
    ],
)
def test_observation_value_composites(
    value: dict[str, Any], param: str, expected: dict[str, Any]
) -> None:
    resource = {
        "resourceType": "Observation",
        "code": {"coding": [{"system": "urn:c", "code": "x"}]},
        **value,
    }
    rows = [r for r in extract_index(resource).composites if r.param == param]
    assert rows == [CompositeRow(param, "urn:c", "x", **expected)]


def test_observation_value_params() -> None:
    resource = {"resourceType": "Observation", "valueCodeableConcept": {"text": "Trace"}}
    rows = extract_index(resource)
    assert of(rows.tokens, "value-concept") == [(None, None, "trace")]
    assert of(rows.strings, "value-string") == [("trace", "Trace")]


def test_encounter_period() -> None:
    closed = {
        "resourceType": "Encounter",
        "period": {"start": "2020-01-01", "end": "2020-01-03T10:00:00Z"},
    }
    assert of(extract_index(closed).dates, "date") == [
        (rng("2020-01-01")[0], rng("2020-01-03T10:00:00Z")[1])
    ]
    open_end = {"resourceType": "Encounter", "period": {"start": "2020-01-01"}}
    assert of(extract_index(open_end).dates, "date") == [(rng("2020-01-01")[0], MAX_MICROS)]
    open_start = {"resourceType": "Encounter", "period": {"end": "2020"}}
    assert of(extract_index(open_start).dates, "date") == [(MIN_MICROS, rng("2020")[1])]


@pytest.mark.parametrize(
    ("onset", "table", "param", "expected"),
    [
        ({"onsetDateTime": "2019-06"}, "dates", "onset-date", [rng("2019-06")]),
        (
            {"onsetPeriod": {"start": "2019", "end": "2020"}},
            "dates",
            "onset-date",
            [(rng("2019")[0], rng("2020")[1])],
        ),
        (
            {
                "onsetAge": {
                    "value": 52,
                    "unit": "yr",
                    "system": "http://unitsofmeasure.org",
                    "code": "a",
                }
            },
            "quantities",
            "onset-age",
            [(52.0, "http://unitsofmeasure.org", "a", "yr")],
        ),
        (
            {"onsetRange": {"low": {"value": 1, "code": "a"}, "high": {"value": 2, "code": "a"}}},
            "quantities",
            "onset-age",
            [(1.0, None, "a", None), (2.0, None, "a", None)],
        ),
        ({"onsetString": "Childhood"}, "strings", "onset-info", [("childhood", "Childhood")]),
        ({"onsetString": "Childhood"}, "dates", "onset-date", []),
    ],
)
def test_condition_onset_variants(
    onset: dict[str, Any], table: str, param: str, expected: list[Any]
) -> None:
    rows = extract_index({"resourceType": "Condition", **onset})
    assert of(getattr(rows, table), param) == expected


def test_medication_request() -> None:
    resource = {
        "resourceType": "MedicationRequest",
        "status": "active",
        "intent": "order",
        "medicationCodeableConcept": {
            "coding": [{"system": "urn:rx", "code": "123", "display": "Aspirin"}]
        },
        "subject": {"reference": "Group/g1"},
        "authoredOn": "2022-02-02",
        "requester": {"reference": "Practitioner/d1"},
        "dosageInstruction": [{"timing": {"event": ["2022-02-03", "2022-02-04"]}}],
    }
    rows = extract_index(resource)
    assert of(rows.tokens, "code") == [("urn:rx", "123", "aspirin")]
    assert of(rows.tokens, "status") == [(None, "active", None)]
    assert of(rows.references, "medication") == []
    assert of(rows.references, "patient") == []
    assert of(rows.references, "subject") == [("Group", "g1", None)]
    assert of(rows.references, "requester") == [("Practitioner", "d1", None)]
    assert of(rows.dates, "authoredon") == [rng("2022-02-02")]
    assert of(rows.dates, "date") == [rng("2022-02-03"), rng("2022-02-04")]
    assert rows.patient_ids == []  # a Group subject is no Patient compartment
    by_reference = {**resource, "medicationReference": {"reference": "Medication/m1"}}
    del by_reference["medicationCodeableConcept"]
    assert of(extract_index(by_reference).references, "medication") == [("Medication", "m1", None)]


def test_money_number_and_canonical() -> None:
    charge = {
        "resourceType": "ChargeItem",
        "priceOverride": {"value": 12.5, "currency": "EUR"},
        "factorOverride": 0.8,
        "definitionCanonical": ["http://x.org/ChargeItemDefinition/cid|1.0"],
    }
    rows = extract_index(charge)
    assert of(rows.quantities, "price-override") == [(12.5, "urn:iso:std:iso:4217", "EUR", "EUR")]
    assert of(rows.numbers, "factor-override") == [(0.8,)]
    request = {
        "resourceType": "ServiceRequest",
        "instantiatesCanonical": ["http://x.org/PlanDefinition/p"],
    }
    assert of(extract_index(request).references, "instantiates-canonical") == [
        (None, None, "http://x.org/PlanDefinition/p")
    ]


def test_document_reference_relationship_composite() -> None:
    resource = {
        "resourceType": "DocumentReference",
        "relatesTo": [{"code": "replaces", "target": {"reference": "DocumentReference/d0"}}],
    }
    rows = extract_index(resource).composites
    assert rows == [
        CompositeRow("relationship", None, "replaces", string_value="DocumentReference/d0")
    ]


def test_group_characteristic_value() -> None:
    resource = {
        "resourceType": "Group",
        "characteristic": [
            {"code": {"coding": [{"code": "smoker"}]}, "valueBoolean": True, "exclude": False},
            {"code": {"text": "no code"}, "valueBoolean": True, "exclude": False},
        ],
    }
    rows = extract_index(resource).composites
    assert rows == [CompositeRow("characteristic-value", None, "smoker", token_code="true")]


def test_bad_values_are_skipped() -> None:
    rows = extract_index(
        {"resourceType": "Patient", "id": "p", "birthDate": "not-a-date", "name": "x"}
    )
    assert of(rows.dates, "birthdate") == [] and of(rows.strings, "name") == []


def test_component_definitions_keep_their_url() -> None:
    composite = load_registry().lookup("Observation", "code-value-quantity")
    assert composite is not None
    assert [c.definition for c in composite.component] == [
        "http://hl7.org/fhir/SearchParameter/clinical-code",
        "http://hl7.org/fhir/SearchParameter/Observation-value-quantity",
    ]


# -- compiler coverage and parity with fhirpathpy ---------------------------------------------


@pytest.mark.parametrize("resource_type", KEY_TYPES)
def test_key_type_expressions_compile_fast(resource_type: str) -> None:
    found = fallback_params(resource_type)
    assert [f for f in found if (resource_type, f[0]) not in FALLBACK_ALLOWED] == []
    for definition in load_registry().for_type(resource_type).values():
        if definition.type == "composite" and definition.expression:
            base = compile_expression(definition.expression, resource_type)
            assert base.fast and base.branches, definition.code


def _plain(value: Any) -> Any:
    if isinstance(value, Decimal):
        return float(value)
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_plain(v) for v in value]
    return value


def _canonical(values: list[Any]) -> set[str]:
    return {json.dumps(_plain(v), sort_keys=True) for v in values if v is not None}


def _reference_fhirpath(expression: str, resource_type: str, resource: dict[str, Any]) -> list[Any]:
    """fhirpathpy's answer; ``as`` read as ``ofType`` since fhirpathpy wants a singleton there and
    R4 expressions apply it to collections (R5 rewrote them with ``ofType``)."""
    text = re.sub(r"\b(?:DomainResource|Resource)\.", f"{resource_type}.", expression)
    text = re.sub(r" as (\w+)", r".ofType(\1)", text.replace(".as(", ".ofType("))
    compiled = fhirpathpy.compile(text, model=models["r4"], options=FHIRPATH_OPTIONS)
    return list(compiled(json.loads(json.dumps(resource)), None))


def _sample_resources() -> list[dict[str, Any]]:
    if not SYNTHEA.is_dir() or not EXAMPLES.is_dir():
        pytest.skip("../shared test material is absent")
    found: list[dict[str, Any]] = []
    per_type: dict[str, int] = {}
    for path in sorted(SYNTHEA.glob("*.json")):
        for entry in json.loads(path.read_text())["entry"]:
            kind = entry["resource"]["resourceType"]
            per_type[kind] = per_type.get(kind, 0) + 1
            if per_type[kind] <= 4:
                found.append(entry["resource"])
    for path in sorted(EXAMPLES.glob("*.json")):
        resource = json.loads(path.read_text())
        if resource.get("resourceType") in KEY_TYPES:
            found.append(resource)
    return found


@pytest.mark.shared
def test_fast_values_match_fhirpathpy() -> None:
    registry = load_registry()
    compared = 0
    for resource in _sample_resources():
        kind = resource["resourceType"]
        for definition in registry.for_type(kind).values():
            if not definition.expression or definition.type in ("composite", "special"):
                continue
            program = compile_expression(definition.expression, kind)
            fast = [value for value, _ in program.typed_values(resource)]
            expected = _reference_fhirpath(definition.expression, kind, resource)
            assert _canonical(fast) == _canonical(expected), (kind, definition.code)
            compared += 1
    assert compared > 1000


def _synthea_resources() -> list[dict[str, Any]]:
    """The sample bundles' resources, ``urn:uuid`` references rewritten as a server stores them."""
    if not SYNTHEA.is_dir():
        pytest.skip("../shared test material is absent")
    found: list[dict[str, Any]] = []
    for path in sorted(SYNTHEA.glob("*.json")):
        text = path.read_text()
        for entry in json.loads(text)["entry"]:
            local = f"{entry['resource']['resourceType']}/{entry['resource']['id']}"
            text = text.replace(f'"{entry["fullUrl"]}"', f'"{local}"')
        found += [entry["resource"] for entry in json.loads(text)["entry"]]
    return found


@pytest.mark.shared
def test_synthea_resources_index_fully() -> None:
    for resource in _synthea_resources():
        rows = extract_index(resource)
        assert isinstance(rows, IndexRows)
        assert (None, resource["id"], None) in of(rows.tokens, "_id")
        if resource["resourceType"] not in ("Organization", "Practitioner"):
            assert len(rows.patient_ids) == 1, resource["resourceType"]
        if resource["resourceType"] == "Observation":
            assert of(rows.tokens, "code") and of(rows.dates, "date")
            assert rows.composites or resource.get("valueQuantity") is None


@pytest.mark.shared
def test_official_examples_index_without_errors() -> None:
    if not EXAMPLES.is_dir():
        pytest.skip("../shared test material is absent")
    for path in sorted(EXAMPLES.glob("*.json")):
        resource = json.loads(path.read_text())
        rows = extract_index(resource)
        if resource.get("id"):
            assert of(rows.tokens, "_id") == [(None, resource["id"], None)], path.name
