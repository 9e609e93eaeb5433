"""Tests of the synthetic demo hospital generator (chartkeeper.demo)."""

from __future__ import annotations

import base64
import importlib
import re
import statistics
import time
from collections import Counter
from collections.abc import Iterator
from datetime import date
from typing import Any

import pytest

from chartkeeper.demo import duplicate_pairs, generate_hospital
from chartkeeper.demo.ids import is_valid_npi, make_npi

Resource = dict[str, Any]
ICD10 = "http://hl7.org/fhir/sid/icd-10-cm"
SNOMED = "http://snomed.info/sct"
NOTE_TYPES = {"11506-3", "34117-2", "18842-5", "34111-5"}


@pytest.fixture(scope="module")
def bundles() -> list[Resource]:
    return list(generate_hospital(patients=50, seed=1))


@pytest.fixture(scope="module")
def patient_bundles(bundles: list[Resource]) -> list[Resource]:
    return bundles[1:]


def resources(bundle: Resource) -> list[Resource]:
    return [e["resource"] for e in bundle["entry"]]


def all_resources(bundles: list[Resource]) -> Iterator[Resource]:
    for bundle in bundles:
        yield from resources(bundle)


def of_type(bundles: list[Resource], resource_type: str) -> list[Resource]:
    return [r for r in all_resources(bundles) if r["resourceType"] == resource_type]


def references(value: Any) -> Iterator[str]:
    """Every Reference.reference string anywhere inside ``value``."""
    if isinstance(value, dict):
        for key, item in value.items():
            if key == "reference" and isinstance(item, str):
                yield item
            else:
                yield from references(item)
    elif isinstance(value, list):
        for item in value:
            yield from references(item)


def note_text(doc: Resource) -> str:
    return base64.b64decode(doc["content"][0]["attachment"]["data"]).decode()


# determinism ---------------------------------------------------------------------------------


def test_same_seed_gives_identical_output() -> None:
    assert list(generate_hospital(8, seed=7)) == list(generate_hospital(8, seed=7))


def test_different_seed_gives_different_output() -> None:
    one, two = list(generate_hospital(5, seed=1)), list(generate_hospital(5, seed=2))
    assert one[0] != two[0]
    assert one[1:] != two[1:]
    ids_one = {r["id"] for r in all_resources(one)}
    assert not ids_one & {r["id"] for r in all_resources(two)}


def test_patient_does_not_depend_on_how_many_come_before_or_after() -> None:
    few = {b["entry"][0]["resource"]["id"]: b for b in generate_hospital(6, seed=3)}
    many = {b["entry"][0]["resource"]["id"]: b for b in generate_hospital(12, seed=3)}
    shared = [pid for pid in few if pid in many]
    assert len(shared) >= 7  # hospital bundle + six patients
    for pid in shared:
        assert few[pid] == many[pid]


def test_today_moves_the_history() -> None:
    late = list(generate_hospital(3, seed=1, today=date(2026, 11, 1)))
    early = list(generate_hospital(3, seed=1, today=date(2020, 1, 1)))
    assert late[1] != early[1]
    for r in of_type(early, "Encounter"):
        assert r["period"]["start"][:10] <= "2020-01-01"


# bundle shape --------------------------------------------------------------------------------


def test_bundles_are_idempotent_transactions(bundles: list[Resource]) -> None:
    seen: set[str] = set()
    for bundle in bundles:
        assert bundle["resourceType"] == "Bundle"
        assert bundle["type"] == "transaction"
        for entry in bundle["entry"]:
            r = entry["resource"]
            assert entry["fullUrl"] == f"urn:uuid:{r['id']}"
            assert entry["request"] == {"method": "PUT", "url": f"{r['resourceType']}/{r['id']}"}
            assert r["id"] not in seen
            seen.add(r["id"])


def test_hospital_bundle_comes_first(bundles: list[Resource]) -> None:
    counts = Counter(r["resourceType"] for r in resources(bundles[0]))
    assert set(counts) == {"Organization", "Location", "Practitioner", "PractitionerRole"}
    assert 18 <= counts["Practitioner"] <= 25
    assert counts["PractitionerRole"] == counts["Practitioner"]
    assert counts["Location"] >= 5


def test_hospital_organization_and_npis(bundles: list[Resource]) -> None:
    orgs = [r for r in resources(bundles[0]) if r["resourceType"] == "Organization"]
    hospital = next(o for o in orgs if o["name"] == "Riverside Community Hospital (demo)")
    npi = hospital["identifier"][0]
    assert npi["system"] == "http://hl7.org/fhir/sid/us-npi"
    assert is_valid_npi(npi["value"])
    departments = {o["name"] for o in orgs if o.get("partOf")}
    assert {
        "Emergency Department",
        "Internal Medicine",
        "Surgery",
        "Cardiology",
        "Pediatrics",
        "Behavioral Health",
        "Laboratory",
    } <= departments
    for o in orgs:
        if o.get("partOf"):
            assert o["partOf"]["reference"] == f"Organization/{hospital['id']}"
    for p in of_type(bundles[:1], "Practitioner"):
        assert is_valid_npi(p["identifier"][0]["value"])
        assert p["name"][0]["family"] and p["name"][0]["given"]


def test_npi_check_digit() -> None:
    assert make_npi("123456789") == "1234567893"  # CMS's published example
    assert is_valid_npi("1234567893")
    assert not is_valid_npi("1234567890")


def test_every_patient_bundle_starts_with_its_patient(patient_bundles: list[Resource]) -> None:
    for bundle in patient_bundles:
        rs = resources(bundle)
        assert rs[0]["resourceType"] == "Patient"
        assert sum(r["resourceType"] == "Patient" for r in rs) == 1


def test_references_resolve_within_bundle_or_hospital(bundles: list[Resource]) -> None:
    hospital = {f"{r['resourceType']}/{r['id']}" for r in resources(bundles[0])}
    for bundle in bundles:
        local = {f"{r['resourceType']}/{r['id']}" for r in resources(bundle)}
        for ref in references(bundle["entry"]):
            assert not ref.startswith("urn:uuid:")
            assert ref in local or ref in hospital, ref


# content -------------------------------------------------------------------------------------


def test_patients_are_plainly_fake(patient_bundles: list[Resource]) -> None:
    patients = of_type(patient_bundles, "Patient")
    for p in patients:
        ids = {i["type"]["coding"][0]["code"]: i for i in p["identifier"]}
        assert ids["MR"]["value"].isdigit()
        if "SS" in ids:
            assert re.fullmatch(r"999-\d\d-\d{4}", ids["SS"]["value"])
            assert ids["SS"]["system"] == "http://hl7.org/fhir/sid/us-ssn"
        assert all(re.fullmatch(r"555-555-01\d\d", t["value"]) for t in p["telecom"])
        assert p["address"][0]["city"] == "Riverbend"
        assert p["generalPractitioner"] and p["maritalStatus"] and p["communication"]
        age = 2026 - int(p["birthDate"][:4])
        assert 0 <= age <= 96
    assert any("deceasedDateTime" in p for p in of_type(list(generate_hospital(200)), "Patient"))


def test_mrns_are_unique(patient_bundles: list[Resource]) -> None:
    mrns = [p["identifier"][0]["value"] for p in of_type(patient_bundles, "Patient")]
    assert len(mrns) == len(set(mrns))


def test_encounters_of_all_three_classes(patient_bundles: list[Resource]) -> None:
    encounters = of_type(patient_bundles, "Encounter")
    assert {e["class"]["code"] for e in encounters} == {"AMB", "EMER", "IMP"}
    for e in encounters:
        if e["class"]["code"] == "IMP" and e["status"] == "finished":
            assert (
                e["hospitalization"]["admitSource"] and e["hospitalization"]["dischargeDisposition"]
            )
            assert e["period"]["end"] > e["period"]["start"]
        assert e["participant"][0]["type"][0]["coding"][0]["code"] == "ATND"
        assert e["serviceProvider"] and e["location"]


def test_conditions_carry_icd10_and_snomed(patient_bundles: list[Resource]) -> None:
    for c in of_type(patient_bundles, "Condition"):
        systems = {coding["system"] for coding in c["code"]["coding"]}
        assert systems == {ICD10, SNOMED}
        assert c["clinicalStatus"] and c["verificationStatus"] and c["recorder"]


def test_lab_values_track_conditions() -> None:
    bundles = list(generate_hospital(150, seed=1))[1:]
    diabetic, other = [], []
    for bundle in bundles:
        rs = resources(bundle)
        has_dm = any(
            r["resourceType"] == "Condition"
            and r["code"]["coding"][0]["code"] in ("E11.9", "E10.9")
            for r in rs
        )
        a1c = [
            r["valueQuantity"]["value"]
            for r in rs
            if r["resourceType"] == "Observation" and r["code"]["coding"][0]["code"] == "4548-4"
        ]
        (diabetic if has_dm else other).extend(a1c)
    assert diabetic and other
    assert statistics.mean(diabetic) > statistics.mean(other) + 1.5


def test_labs_have_units_ranges_and_interpretation(patient_bundles: list[Resource]) -> None:
    labs = [
        o
        for o in of_type(patient_bundles, "Observation")
        if o.get("category", [{}])[0].get("coding", [{}])[0].get("code") == "laboratory"
    ]
    assert labs
    for o in labs:
        assert o["valueQuantity"]["system"] == "http://unitsofmeasure.org"
        assert "low" in o["referenceRange"][0] and "high" in o["referenceRange"][0]
        assert o["interpretation"][0]["coding"][0]["code"] in ("H", "L", "N")
        assert o["encounter"]
    reports = of_type(patient_bundles, "DiagnosticReport")
    assert {r["code"]["coding"][0]["code"] for r in reports} >= {"51990-0", "58410-2"}


def test_some_results_still_preliminary() -> None:
    bundles = list(generate_hospital(150, seed=1))[1:]
    statuses = Counter(o["status"] for o in of_type(bundles, "Observation"))
    assert statuses["final"] > 20 * statuses["preliminary"] > 0


def test_medications_have_rxnorm_and_sig(patient_bundles: list[Resource]) -> None:
    for m in of_type(patient_bundles, "MedicationRequest"):
        coding = m["medicationCodeableConcept"]["coding"][0]
        assert coding["system"] == "http://www.nlm.nih.gov/research/umls/rxnorm"
        dosage = m["dosageInstruction"][0]
        assert dosage["text"] and dosage["timing"]["repeat"] and dosage["route"]


def test_notes_are_shorthand_text(patient_bundles: list[Resource]) -> None:
    docs = of_type(patient_bundles, "DocumentReference")
    assert {d["type"]["coding"][0]["code"] for d in docs} == NOTE_TYPES
    corpus = " ".join(note_text(d) for d in docs)
    for term in (
        "Denies",
        "r/o",
        "FHx",
        "NKDA",
        "y/o",
        "PO",
        "prn",
        "f/u",
        "h/o",
        "s/p",
        "WNL",
        "PT",
    ):
        assert term in corpus, term
    for d in docs:
        assert d["content"][0]["attachment"]["contentType"] == "text/plain"
        assert d["context"]["encounter"]


def test_pt_means_patient_in_some_notes_and_physical_therapy_in_others(
    patient_bundles: list[Resource],
) -> None:
    texts = [note_text(d) for d in of_type(patient_bundles, "DocumentReference")]
    assert any(re.search(r"\bPT is an? \d", t) for t in texts)
    assert any("PHYSICAL THERAPY" in t or "home PT" in t or "PT/OT" in t for t in texts)


def test_inpatient_stays_record_code_status(patient_bundles: list[Resource]) -> None:
    orders = [
        o
        for o in of_type(patient_bundles, "Observation")
        if o["code"]["coding"][0]["code"] == "100822-6"
    ]
    admissions = [e for e in of_type(patient_bundles, "Encounter") if e["class"]["code"] == "IMP"]
    assert len(orders) == len(admissions) > 0
    assert {o["valueCodeableConcept"]["text"] for o in orders} <= {"Full code", "DNR"}


def test_coverage_and_care_teams(bundles: list[Resource], patient_bundles: list[Resource]) -> None:
    payors = {
        f"Organization/{o['id']}": o["name"]
        for o in resources(bundles[0])
        if o["resourceType"] == "Organization"
    }
    coverages = of_type(patient_bundles, "Coverage")
    assert len(coverages) >= 0.75 * len(patient_bundles)
    for c in coverages:
        assert payors[c["payor"][0]["reference"]].endswith("(demo)")
    for bundle in patient_bundles:
        rs = resources(bundle)
        chronic = any(
            r["resourceType"] == "Condition"
            and r["category"][0]["coding"][0]["code"] == "problem-list-item"
            for r in rs
        )
        assert chronic == any(r["resourceType"] == "CareTeam" for r in rs)


def test_some_notes_unsigned(patient_bundles: list[Resource]) -> None:
    docs = of_type(patient_bundles, "DocumentReference")
    status = Counter(d["docStatus"] for d in docs)
    assert status["final"] > status["preliminary"] > 0
    for d in docs:
        assert ("authenticator" in d) == (d["docStatus"] == "final")


def test_some_inpatient_stays_lack_a_discharge_summary(patient_bundles: list[Resource]) -> None:
    summarized = {
        d["context"]["encounter"][0]["reference"]
        for d in of_type(patient_bundles, "DocumentReference")
        if d["type"]["coding"][0]["code"] == "18842-5"
    }
    finished = [
        f"Encounter/{e['id']}"
        for e in of_type(patient_bundles, "Encounter")
        if e["class"]["code"] == "IMP" and e["status"] == "finished"
    ]
    missing = [e for e in finished if e not in summarized]
    assert finished and missing
    assert len(missing) < len(finished) / 2


def test_duplicates_point_at_existing_patients(patient_bundles: list[Resource]) -> None:
    pairs = duplicate_pairs(50, 1)
    assert pairs
    patients = {p["id"]: p for p in of_type(patient_bundles, "Patient")}
    for original, twin in pairs:
        a, b = patients[original], patients[twin]
        assert a["identifier"][0]["value"] != b["identifier"][0]["value"]
        same = (a["name"] == b["name"], a["birthDate"] == b["birthDate"])
        assert same != (True, True)  # one realistic registration error
        assert a["gender"] == b["gender"]
        assert set(a) - {"deceasedDateTime", "deceasedBoolean"} <= set(b) | {"deceasedBoolean"}


def test_duplicate_share_is_about_three_percent() -> None:
    share = len(duplicate_pairs(1000, 1)) / 1000
    assert 0.02 <= share <= 0.04


# validation and speed ------------------------------------------------------------------------

_MODELS: dict[str, Any] = {}


def _model(resource_type: str) -> Any:
    if resource_type not in _MODELS:
        module = importlib.import_module(f"fhir.resources.R4B.{resource_type.lower()}")
        _MODELS[resource_type] = getattr(module, resource_type)
    return _MODELS[resource_type]


def test_every_resource_of_twenty_patients_is_valid_r4b() -> None:
    count = 0
    for bundle in generate_hospital(20, seed=5):
        for resource in resources(bundle):
            _model(resource["resourceType"]).model_validate(resource)
            count += 1
    assert count > 500


def test_generation_time_report() -> None:
    start = time.perf_counter()
    bundles = list(generate_hospital(300, seed=1))
    elapsed = time.perf_counter() - start
    total = sum(len(b["entry"]) for b in bundles[1:])
    print(
        f"\ndemo: 300 patients ({len(bundles) - 1} records, {total} resources) in "
        f"{elapsed:.2f}s; ~{elapsed / 300 * 1000:.1f}s per 1,000 patients; "
        f"{total / (len(bundles) - 1):.1f} resources per record"
    )
