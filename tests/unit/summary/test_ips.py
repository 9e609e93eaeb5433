"""The International Patient Summary built from plain records: sections, selection, narrative
and the document's shape (checked by our validator and by the fhir.resources models)."""

from __future__ import annotations

from typing import Any

from fhir.resources.R4B import get_fhir_model_class

from chartkeeper.fhir.validation import reference_issues, validation_issues
from chartkeeper.summary.ips import PatientSummary, build_document, summarise

BASE = "https://ck.example.org/fhir"
NOW = "2026-01-15T09:30:00.000Z"
LOINC = "http://loinc.org"
CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"
PATIENT = {
    "resourceType": "Patient",
    "id": "p1",
    "name": [{"family": "Quill", "given": ["Ada"]}],
    "birthDate": "1961-04-02",
}
Resource = dict[str, Any]


def res(kind: str, ident: str, **fields: Any) -> Resource:
    """A resource of Patient p1."""
    subject_key = (
        "patient" if kind in ("AllergyIntolerance", "Immunization", "Consent") else "subject"
    )
    return {"resourceType": kind, "id": ident, subject_key: {"reference": "Patient/p1"}, **fields}


def concept(code: str, text: str, system: str = "http://snomed.info/sct") -> Resource:
    return {"coding": [{"system": system, "code": code}], "text": text}


def condition(ident: str, status: str, text: str = "Asthma", **fields: Any) -> Resource:
    clinical = {"coding": [{"system": CLINICAL, "code": status}]}
    return res(
        "Condition", ident, clinicalStatus=clinical, code=concept("195967001", text), **fields
    )


def observation(
    ident: str, code: str, category: str, when: str, value: float, **fields: Any
) -> Resource:
    fields = {"status": "final", **fields}
    return res(
        "Observation",
        ident,
        category=[{"coding": [{"code": category}]}],
        code=concept(code, f"Test {code}", LOINC),
        effectiveDateTime=when,
        valueQuantity={"value": value, "unit": "mg/dL"},
        **fields,
    )


def record_of(*resources: Resource) -> dict[str, list[Resource]]:
    out: dict[str, list[Resource]] = {}
    for resource in resources:
        out.setdefault(resource["resourceType"], []).append(resource)
    return out


def document(*resources: Resource, medications: dict[str, Resource] | None = None) -> Resource:
    summary = summarise(PATIENT, record_of(*resources), medications)
    return build_document(summary, BASE, NOW)


def sections(doc: Resource) -> dict[str, Resource]:
    return {s["code"]["coding"][0]["code"]: s for s in doc["entry"][0]["resource"]["section"]}


def assert_valid(doc: Resource) -> None:
    get_fhir_model_class("Bundle").model_validate(doc)  # the fhir.resources (R4B) models
    for n, entry in enumerate(doc["entry"]):
        prefix = f"Bundle.entry[{n}].resource"
        assert validation_issues(entry["resource"], prefix) == []  # as on write
        assert reference_issues(entry["resource"], prefix) == []
    urls = [e["fullUrl"] for e in doc["entry"]]
    assert len(urls) == len(set(urls))
    composition = doc["entry"][0]["resource"]
    targets = [composition["subject"]["reference"], composition["author"][0]["reference"]]
    targets += [e["reference"] for s in composition["section"] for e in s.get("entry", [])]
    assert set(targets) <= set(urls), "every Composition reference resolves in the Bundle"
    for section in composition["section"]:
        div = section["text"]["div"]
        assert section["text"]["status"] == "generated"
        assert div.startswith('<div xmlns="http://www.w3.org/1999/xhtml">')
        assert ("entry" in section) != ("emptyReason" in section)


def test_an_empty_record_has_the_three_required_sections_each_saying_why_it_is_empty() -> None:
    doc = document()
    assert_valid(doc)
    assert doc["type"] == "document"
    assert doc["identifier"]["value"].startswith("urn:uuid:")
    assert doc["timestamp"] == NOW
    composition = doc["entry"][0]["resource"]
    assert composition["type"]["coding"][0]["code"] == "60591-5"
    assert (composition["status"], composition["date"]) == ("final", NOW)
    assert composition["subject"] == {"reference": f"{BASE}/Patient/p1"}
    assert composition["title"] == "International Patient Summary"
    assert composition["confidentiality"] == "N"
    found = sections(doc)
    assert list(found) == ["11450-4", "10160-0", "48765-2"]
    for section in found.values():
        assert section["emptyReason"]["coding"][0]["code"] == "unavailable"
        assert "No information about" in section["text"]["div"]
    kinds = [e["resource"]["resourceType"] for e in doc["entry"]]
    assert kinds == ["Composition", "Patient", "Device"]


def test_each_section_lists_what_the_record_holds_in_ips_order() -> None:
    resources = [
        condition("c-active", "active"),
        condition("c-old", "resolved", "Fractured wrist"),
        res("MedicationRequest", "m1", status="active", intent="order",
            medicationCodeableConcept=concept("860975", "Metformin"),
            dosageInstruction=[{"text": "500 mg twice daily"}]),
        res("MedicationRequest", "m-old", status="completed", intent="order",
            medicationCodeableConcept=concept("314076", "Lisinopril")),
        res("AllergyIntolerance", "a1", code=concept("91936005", "Penicillin"), criticality="high",
            reaction=[{"manifestation": [concept("247472004", "Hives")]}]),
        res("Immunization", "i1", status="completed", vaccineCode=concept("140", "Influenza"),
            occurrenceDateTime="2025-10-01"),
        observation("lab1", "2345-7", "laboratory", "2025-11-01", 250, interpretation=[
            {"coding": [{"code": "H"}]}]),
        res("Procedure", "pr1", status="completed", code=concept("73761001", "Colonoscopy"),
            performedDateTime="2024-02-02"),
        res("DeviceUseStatement", "d1", status="active", device={"display": "Pacemaker"}),
        observation("hr", "8867-4", "vital-signs", "2025-12-01", 72),
        res("CarePlan", "cp1", status="active", intent="plan", title="Diabetes follow-up"),
        res("Observation", "dnr", status="final",
            code=concept("100822-6", "Resuscitation orders", LOINC),
            valueCodeableConcept=concept("304253006", "Do not resuscitate"),
            effectiveDateTime="2025-06-01"),
        res("Observation", "smoke", status="final",
            code=concept("72166-2", "Tobacco smoking status", LOINC),
            valueCodeableConcept=concept("8517006", "Ex-smoker"), effectiveDateTime="2024-01-01"),
    ]  # fmt: skip
    doc = document(*resources)
    assert_valid(doc)
    found = sections(doc)
    assert list(found) == [
        "11450-4", "10160-0", "48765-2", "11369-6", "30954-2", "47519-4", "46264-8",
        "8716-3", "11348-0", "18776-5", "42348-3", "29762-2",
    ]  # fmt: skip

    def listed(code: str) -> list[str]:
        return [e["reference"].removeprefix(f"{BASE}/") for e in found[code]["entry"]]

    assert listed("11450-4") == ["Condition/c-active"]
    assert listed("11348-0") == ["Condition/c-old"]
    assert listed("10160-0") == ["MedicationRequest/m1"]
    assert listed("30954-2") == ["Observation/lab1"]
    assert listed("8716-3") == ["Observation/hr"]
    assert listed("42348-3") == ["Observation/dnr"]
    assert listed("29762-2") == ["Observation/smoke"]
    assert "500 mg twice daily" in found["10160-0"]["text"]["div"]
    assert "<td>High</td>" in found["30954-2"]["text"]["div"]
    assert "<td>Hives</td>" in found["48765-2"]["text"]["div"]
    in_bundle = {e["fullUrl"].removeprefix(f"{BASE}/") for e in doc["entry"]}
    assert "MedicationRequest/m-old" not in in_bundle


def test_results_and_vital_signs_keep_the_latest_observation_of_each_code() -> None:
    doc = document(
        observation("glu-2023", "2345-7", "laboratory", "2023-05-01", 90),
        observation("glu-2025", "2345-7", "laboratory", "2025-05-01T08:00:00Z", 180),
        observation("glu-2024", "2345-7", "laboratory", "2024-05-01", 100),
        observation("na", "2951-2", "laboratory", "2022-01-01", 140),
        observation("hr-old", "8867-4", "vital-signs", "2020-01-01", 60),
        observation("hr-new", "8867-4", "vital-signs", "2025-01-01", 88),
        observation("wrong", "2345-7", "laboratory", "2026-01-01", 999, status="entered-in-error"),
    )
    assert_valid(doc)
    found = sections(doc)
    results = [e["reference"].rsplit("/", 1)[1] for e in found["30954-2"]["entry"]]
    assert results == ["glu-2025", "na"]
    assert [e["reference"].rsplit("/", 1)[1] for e in found["8716-3"]["entry"]] == ["hr-new"]


def test_a_reports_results_travel_in_the_bundle_without_being_listed_twice() -> None:
    results = [{"reference": "Observation/k-old"}, {"reference": "Observation/k-new"}]
    report = res("DiagnosticReport", "r1", status="final", code=concept("24323-8", "Panel", LOINC),
                 effectiveDateTime="2025-01-02", result=results)  # fmt: skip
    doc = document(
        report,
        observation("k-old", "2823-3", "laboratory", "2025-01-01", 4.1),
        observation("k-new", "2823-3", "laboratory", "2025-01-03", 4.4),
    )
    assert_valid(doc)
    listed = [e["reference"].rsplit("/", 1)[1] for e in sections(doc)["30954-2"]["entry"]]
    assert listed == ["r1", "k-new"]
    in_bundle = [e["resource"]["id"] for e in doc["entry"]]
    assert in_bundle.count("k-new") == 1 and "k-old" in in_bundle


def test_a_required_section_whose_entries_are_all_past_is_nil_known() -> None:
    doc = document(condition("c1", "resolved"))
    assert_valid(doc)
    problems = sections(doc)["11450-4"]
    assert problems["emptyReason"]["coding"][0]["code"] == "nilknown"
    assert "1 earlier or inactive" in problems["text"]["div"]
    assert "11348-0" in sections(doc)


def test_narrative_escapes_what_a_client_wrote() -> None:
    hostile = '<script>alert("x")</script> & <b onclick="y">'
    doc = document(condition("c1", "active", hostile))
    assert_valid(doc)
    div = sections(doc)["11450-4"]["text"]["div"]
    assert "<script" not in div and "<b " not in div
    assert '&lt;script&gt;alert("x")&lt;/script&gt; &amp; &lt;b' in div


def test_high_criticality_allergies_come_first_and_refuted_ones_not_at_all() -> None:
    low = res("AllergyIntolerance", "a-low", code=concept("1", "Dust"), criticality="low",
              recordedDate="2025-01-01")  # fmt: skip
    high = res("AllergyIntolerance", "a-high", code=concept("2", "Peanut"), criticality="high",
               recordedDate="2020-01-01")  # fmt: skip
    refuted = res("AllergyIntolerance", "a-no", code=concept("3", "Latex"),
                  verificationStatus={"coding": [{"code": "refuted"}]})  # fmt: skip
    summary: PatientSummary = summarise(PATIENT, record_of(low, high, refuted))
    allergies = summary.section("allergies")
    assert allergies is not None
    assert [a["id"] for a in allergies.resources] == ["a-high", "a-low"]


def test_a_restricted_record_makes_the_document_restricted() -> None:
    label = {"system": "http://terminology.hl7.org/CodeSystem/v3-Confidentiality", "code": "R"}
    doc = document(condition("c1", "active", meta={"security": [label]}))
    assert doc["entry"][0]["resource"]["confidentiality"] == "R"


def test_a_medication_named_by_reference_is_carried_in_the_bundle() -> None:
    request = res("MedicationRequest", "m1", status="active", intent="order",
                  medicationReference={"reference": "Medication/med1"})  # fmt: skip
    medication = {"resourceType": "Medication", "id": "med1", "code": concept("1", "Warfarin")}
    doc = document(request, medications={"Medication/med1": medication})
    assert_valid(doc)
    assert f"{BASE}/Medication/med1" in [e["fullUrl"] for e in doc["entry"]]
