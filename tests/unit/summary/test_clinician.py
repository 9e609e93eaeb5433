"""The shaping rules of the clinician summary, one by one, over plain resource dicts."""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chartkeeper.summary.care_team import care_team
from chartkeeper.summary.chart_elements import author_of, display_names, local_reference
from chartkeeper.summary.clinician import PatientRecord, build_summary
from chartkeeper.summary.clinician_items import (
    active_medications,
    active_problems,
    allergies,
    last_addressed,
)
from chartkeeper.summary.clinician_orders import (
    advance_directives,
    code_status,
    fulfilled_orders,
    pending_orders,
    referrals,
)
from chartkeeper.summary.trends import abnormal_flag, direction, latest_results

Json = dict[str, Any]
CLINICAL = "http://terminology.hl7.org/CodeSystem/condition-clinical"


def status(code: str) -> Json:
    return {"coding": [{"system": CLINICAL, "code": code}]}


def condition(ident: str, clinical: str = "active", **extra: Any) -> Json:
    return {
        "resourceType": "Condition",
        "id": ident,
        "clinicalStatus": status(clinical),
        "code": {"text": ident},
        "recordedDate": "2020-01-01",
        **extra,
    }


def observation(ident: str, day: str, value: float | None = None, **extra: Any) -> Json:
    body: Json = {
        "resourceType": "Observation",
        "id": ident,
        "status": "final",
        "code": {"coding": [{"system": "http://loinc.org", "code": "2823-3"}], "text": "K"},
        "effectiveDateTime": day,
        **extra,
    }
    if value is not None:
        body["valueQuantity"] = {"value": value, "unit": "mmol/L"}
    return body


# --- last addressed ------------------------------------------------------------------------


def test_a_problem_was_last_addressed_by_the_newest_resource_naming_it() -> None:
    cond = {"reference": "Condition/c1"}
    resources = [
        {
            "resourceType": "Encounter",
            "id": "e-old",
            "period": {"start": "2024-01-01"},
            "diagnosis": [{"condition": cond}],
        },
        {
            "resourceType": "Encounter",
            "id": "e-new",
            "period": {"start": "2025-03-01"},
            "reasonReference": [cond],
        },
        {
            "resourceType": "Procedure",
            "id": "pr",
            "performedDateTime": "2024-06-01",
            "status": "completed",
            "reasonReference": [cond],
        },
        {
            "resourceType": "Observation",
            "id": "unrelated",
            "effectiveDateTime": "2026-01-01",
            "status": "final",
            "reasonReference": [{"reference": "Condition/c2"}],
        },
        {
            "resourceType": "Observation",
            "id": "error",
            "effectiveDateTime": "2026-01-02",
            "status": "entered-in-error",
            "reasonReference": [cond],
        },
    ]
    assert last_addressed(resources)["Condition/c1"] == ("2025-03-01", "Encounter/e-new")
    [problem] = active_problems([condition("c1")], last_addressed(resources), {})
    assert (problem.last_addressed, problem.last_addressed_by) == ("2025-03-01", "Encounter/e-new")


def test_a_problem_nothing_addressed_falls_back_to_its_recorded_date() -> None:
    [problem] = active_problems([condition("c1", onsetDateTime="2019-05-01")], {}, {})
    assert (problem.onset, problem.last_addressed) == ("2019-05-01", "2020-01-01")
    assert problem.last_addressed_by == "Condition/c1"


def test_only_active_recurring_or_relapsed_problems_are_listed() -> None:
    conditions = [
        condition("active"),
        condition("recurrence", "recurrence"),
        condition("relapse", "relapse"),
        condition("resolved", "resolved"),
        condition("inactive", "inactive"),
        condition("refuted", verificationStatus={"coding": [{"code": "refuted"}]}),
    ]
    assert {p.reference for p in active_problems(conditions, {}, {})} == {
        "Condition/active",
        "Condition/recurrence",
        "Condition/relapse",
    }


# --- medications and allergies -------------------------------------------------------------


def test_active_medications_are_active_or_held_orders_and_active_statements() -> None:
    resources = [
        {
            "resourceType": "MedicationRequest",
            "id": s,
            "status": s,
            "authoredOn": day,
            "medicationCodeableConcept": {"text": s},
            "dosageInstruction": [{"text": f"{s} dose"}],
        }
        for s, day in (
            ("active", "2025-01-01"),
            ("on-hold", "2025-02-01"),
            ("stopped", "2025-03-01"),
        )
    ] + [
        {
            "resourceType": "MedicationStatement",
            "id": "st",
            "status": "active",
            "medicationReference": {"reference": "Medication/x", "display": "Aspirin"},
            "dosage": [{"text": "81 mg daily"}],
            "effectiveDateTime": "2024-01-01",
        },
        {"resourceType": "MedicationStatement", "id": "done", "status": "completed"},
    ]
    found = active_medications(resources, {})
    assert [(m.reference, m.title, m.dosage) for m in found] == [
        ("MedicationRequest/on-hold", "on-hold", "on-hold dose"),
        ("MedicationRequest/active", "active", "active dose"),
        ("MedicationStatement/st", "Aspirin", "81 mg daily"),
    ]


def test_high_criticality_allergies_come_first_and_resolved_ones_go() -> None:
    def allergy(ident: str, criticality: str, day: str, **extra: Any) -> Json:
        return {
            "resourceType": "AllergyIntolerance",
            "id": ident,
            "criticality": criticality,
            "recordedDate": day,
            "code": {"text": ident},
            **extra,
        }

    found = allergies(
        [
            allergy("new-low", "low", "2025-01-01"),
            allergy("old-high", "high", "2001-01-01"),
            allergy(
                "gone", "high", "2024-01-01", clinicalStatus={"coding": [{"code": "resolved"}]}
            ),
        ],
        {},
    )
    assert [a.reference for a in found] == [
        "AllergyIntolerance/old-high",
        "AllergyIntolerance/new-low",
    ]


# --- results: flags and trends -------------------------------------------------------------


@pytest.mark.parametrize(
    ("element", "flag"),
    [
        ({"interpretation": [{"coding": [{"code": "HH"}]}]}, "HH"),
        ({"interpretation": [{"coding": [{"code": "A"}]}]}, "A"),
        (
            {
                "valueQuantity": {"value": 6.1},
                "referenceRange": [{"low": {"value": 3.5}, "high": {"value": 5.1}}],
            },
            "H",
        ),
        ({"valueQuantity": {"value": 3.0}, "referenceRange": [{"low": {"value": 3.5}}]}, "L"),
        (
            {
                "valueQuantity": {"value": 4.0},
                "referenceRange": [{"low": {"value": 3.5}, "high": {"value": 5.1}}],
            },
            "",
        ),
        ({"valueQuantity": {"value": 9.0}}, ""),  # no range, no interpretation: no verdict
        ({"valueQuantity": {"value": 4.0}, "interpretation": [{"coding": [{"code": "N"}]}]}, ""),
    ],
)
def test_abnormal_flags_come_from_the_interpretation_or_the_range(element: Json, flag: str) -> None:
    assert abnormal_flag(element) == flag


@pytest.mark.parametrize(
    ("values", "expected"),
    [
        ([4.0, 4.5, 5.0], "up"),
        ([5.0, 4.5, 4.0], "down"),
        ([4.0, 4.05, 3.98, 4.02], "steady"),
        ([4.0], ""),
        ([], ""),
    ],
)
def test_direction_is_the_slope_over_the_window(values: list[float], expected: str) -> None:
    assert direction(values) == expected


def test_the_latest_result_per_code_carries_its_previous_values() -> None:
    observations = [
        observation("k1", "2025-01-01", 4.0),
        observation("k3", "2025-03-01", 5.6, referenceRange=[{"high": {"value": 5.1}}]),
        observation("k2", "2025-02-01", 4.8),
        observation("k-error", "2025-04-01", 9.9, status="entered-in-error"),
    ]
    [potassium] = latest_results(observations, {})
    assert (potassium.reference, potassium.value, potassium.flag, potassium.flag_label) == (
        "Observation/k3",
        "5.6 mmol/L",
        "H",
        "High",
    )
    assert potassium.trend == "up"
    assert [(p.reference, p.value) for p in potassium.previous] == [
        ("Observation/k2", "4.8 mmol/L"),
        ("Observation/k1", "4.0 mmol/L"),
    ]


def test_blood_pressure_components_trend_as_their_own_series() -> None:
    def panel(ident: str, day: str, systolic: int) -> Json:
        loinc = "http://loinc.org"
        return observation(
            ident,
            day,
            code={"coding": [{"system": loinc, "code": "85354-9"}]},
            component=[
                {
                    "code": {"coding": [{"system": loinc, "code": "8480-6"}], "text": "Systolic"},
                    "valueQuantity": {"value": systolic, "unit": "mmHg"},
                    "interpretation": [{"coding": [{"code": "H"}]}] if systolic > 140 else [],
                },
                {
                    "code": {"coding": [{"system": loinc, "code": "8462-4"}], "text": "Diastolic"},
                    "valueQuantity": {"value": 80, "unit": "mmHg"},
                },
            ],
        )

    results = {
        r.code: r
        for r in latest_results([panel("a", "2025-01-01", 120), panel("b", "2025-02-01", 160)], {})
    }
    assert set(results) == {"8480-6", "8462-4"}
    assert (results["8480-6"].value, results["8480-6"].flag, results["8480-6"].trend) == (
        "160 mmHg",
        "H",
        "up",
    )
    assert results["8462-4"].trend == "steady" and results["8462-4"].reference == "Observation/b"


# --- orders, referrals, code status, directives ----------------------------------------------


def request(ident: str, state: str = "active", **extra: Any) -> Json:
    return {
        "resourceType": "ServiceRequest",
        "id": ident,
        "status": state,
        "intent": "order",
        "code": {"text": ident},
        "authoredOn": "2025-01-01",
        **extra,
    }


def test_pending_orders_are_open_requests_no_final_report_fulfils() -> None:
    resources = [
        request("waiting"),
        request("draft", "draft"),
        request("done"),
        request("revoked", "revoked"),
        request("preliminary-only"),
        {
            "resourceType": "DiagnosticReport",
            "id": "r1",
            "status": "final",
            "basedOn": [{"reference": "ServiceRequest/done"}],
        },
        {
            "resourceType": "DiagnosticReport",
            "id": "r2",
            "status": "preliminary",
            "basedOn": [{"reference": "ServiceRequest/preliminary-only"}],
        },
    ]
    requests = [r for r in resources if r["resourceType"] == "ServiceRequest"]
    pending = pending_orders(requests, fulfilled_orders(resources), "", {})
    assert sorted(o.reference for o in pending) == [
        "ServiceRequest/draft",
        "ServiceRequest/preliminary-only",
        "ServiceRequest/waiting",
    ]


def test_referrals_by_category_or_outside_performer_with_their_task() -> None:
    outside = {"reference": "Organization/other", "display": "Other clinic"}
    requests = [
        request("by-category", category=[{"coding": [{"code": "3457005"}]}]),
        request("by-performer", performer=[outside]),
        request("in-house", performer=[{"reference": "Organization/home"}]),
        request("closed", category=[{"text": "Referral"}]),
    ]
    task = {
        "resourceType": "Task",
        "id": "t",
        "status": "completed",
        "intent": "order",
        "focus": {"reference": "ServiceRequest/closed"},
        "authoredOn": "2025-02-01",
    }
    found = referrals(requests, [task], set(), "Organization/home", {})
    assert [(r.reference, r.open) for r in found] == [
        ("ServiceRequest/by-category", True),
        ("ServiceRequest/by-performer", True),
        ("ServiceRequest/closed", False),
    ]
    assert found[1].performer == "Other clinic" and found[2].task == "Task/t"
    assert [o.reference for o in pending_orders(requests, set(), "Organization/home", {})] == [
        "ServiceRequest/in-house"
    ]


def test_code_status_is_the_newest_cpr_order_observation() -> None:
    def cpr(ident: str, day: str, text: str, state: str = "final") -> Json:
        return {
            "resourceType": "Observation",
            "id": ident,
            "status": state,
            "effectiveDateTime": day,
            "code": {"coding": [{"system": "http://loinc.org", "code": "100822-6"}]},
            "valueCodeableConcept": {"text": text},
        }

    found = code_status(
        [
            cpr("a", "2024-01-01", "Full code"),
            cpr("b", "2025-01-01", "DNR"),
            cpr("c", "2026-01-01", "Wrong", "entered-in-error"),
            observation("x", "2027-01-01", 1.0),
        ],
        {},
    )
    assert found is not None and (found.reference, found.detail) == ("Observation/b", "DNR")
    assert code_status([observation("x", "2027-01-01", 1.0)], {}) is None


def test_advance_directives_are_adr_consents_and_directive_documents() -> None:
    resources = [
        {
            "resourceType": "Consent",
            "id": "adr",
            "status": "active",
            "dateTime": "2024-01-01",
            "scope": {"coding": [{"code": "adr"}]},
            "category": [{"text": "Living will"}],
        },
        {
            "resourceType": "Consent",
            "id": "privacy",
            "status": "active",
            "scope": {"coding": [{"code": "patient-privacy"}]},
        },
        {
            "resourceType": "DocumentReference",
            "id": "doc",
            "status": "current",
            "date": "2025-01-01",
            "type": {"coding": [{"system": "http://loinc.org", "code": "42348-3"}]},
        },
        {
            "resourceType": "DocumentReference",
            "id": "old",
            "status": "superseded",
            "type": {"coding": [{"code": "75320-2"}]},
        },
    ]
    found = advance_directives(resources, {})
    assert [(d.reference, d.title) for d in found] == [
        ("DocumentReference/doc", "42348-3"),
        ("Consent/adr", "Living will"),
    ]


# --- care team and authors -------------------------------------------------------------------


def test_the_care_team_joins_gp_team_members_and_latest_attending() -> None:
    patient = {
        "resourceType": "Patient",
        "id": "p",
        "generalPractitioner": [{"reference": "Practitioner/gp"}],
    }
    teams = [
        {
            "resourceType": "CareTeam",
            "id": "now",
            "status": "active",
            "period": {"start": "2020-01-01"},
            "participant": [
                {"member": {"reference": "Practitioner/nurse"}, "role": [{"text": "Nurse"}]},
                {"member": {"reference": "Patient/p"}},
            ],
        },
        {
            "resourceType": "CareTeam",
            "id": "past",
            "status": "inactive",
            "participant": [{"member": {"reference": "Practitioner/old"}}],
        },
    ]
    attender = [{"coding": [{"code": "ATND"}]}]
    encounters = [
        {
            "resourceType": "Encounter",
            "id": "e1",
            "period": {"start": "2024-01-01"},
            "participant": [{"individual": {"reference": "Practitioner/old"}}],
        },
        {
            "resourceType": "Encounter",
            "id": "e2",
            "period": {"start": "2025-01-01"},
            "participant": [
                {"individual": {"reference": "Practitioner/resident"}},
                {"type": attender, "individual": {"reference": "Practitioner/att"}},
            ],
        },
    ]
    names = {"Practitioner/gp": "Gale Gray", "Practitioner/nurse": "Nia Nurse"}
    found = [(c.name, c.role, c.reference) for c in care_team(patient, teams, encounters, names)]
    assert found == [
        ("Gale Gray", "General practitioner", "Patient/p"),
        ("Nia Nurse", "Nurse", "CareTeam/now"),
        ("Practitioner/att", "Attending (latest encounter)", "Encounter/e2"),
    ]


@pytest.mark.parametrize(
    ("resource", "author"),
    [
        (
            {
                "resourceType": "Condition",
                "recorder": {"reference": "Practitioner/r"},
                "asserter": {"reference": "Practitioner/a", "display": "Asserting Doc"},
            },
            "Asserting Doc",
        ),
        (
            {"resourceType": "Condition", "recorder": {"reference": "Practitioner/r"}},
            "Rita Recorder",
        ),
        (
            {"resourceType": "MedicationRequest", "requester": {"reference": "Practitioner/x"}},
            "Practitioner/x",
        ),
        (
            {"resourceType": "Procedure", "performer": [{"actor": {"display": "Surgeon S"}}]},
            "Surgeon S",
        ),
        (
            {
                "resourceType": "Immunization",
                "performer": [{"actor": {"reference": "Practitioner/r"}}],
            },
            "Rita Recorder",
        ),
        (
            {"resourceType": "DocumentReference", "author": [{"reference": "Practitioner/r"}]},
            "Rita Recorder",
        ),
        (
            {
                "resourceType": "Encounter",
                "participant": [
                    {"individual": {"display": "Att"}, "type": [{"coding": [{"code": "ATND"}]}]}
                ],
            },
            "Att",
        ),
        ({"resourceType": "Observation"}, ""),
    ],
)
def test_the_author_of_each_kind_of_resource(resource: Json, author: str) -> None:
    names = display_names(
        [
            {
                "resourceType": "Practitioner",
                "id": "r",
                "name": [{"given": ["Rita"], "family": "Recorder"}],
            }
        ]
    )
    assert author_of(resource, names) == author


def test_references_are_reduced_to_type_and_id() -> None:
    assert local_reference({"reference": "http://x/fhir/Condition/c1/_history/2"}) == "Condition/c1"
    assert local_reference({"reference": "urn:uuid:1234"}) == ""
    assert local_reference({"display": "no reference"}) == ""


# --- the whole summary -----------------------------------------------------------------------


def test_an_empty_record_gives_an_empty_summary() -> None:
    summary = build_summary(PatientRecord({"resourceType": "Patient", "id": "p"}, []))
    body = summary.to_json()
    assert body["patient"] == {"reference": "Patient/p", "name": "", "birth_date": "", "gender": ""}
    assert body["code_status"] is None
    lists = {k: v for k, v in body.items() if isinstance(v, list)}
    assert len(lists) == 13 and not any(lists.values())


def test_code_status_observations_stay_out_of_the_vitals_and_labs() -> None:
    cpr = {
        "resourceType": "Observation",
        "id": "cpr",
        "status": "final",
        "effectiveDateTime": "2025-01-01",
        "category": [{"coding": [{"code": "vital-signs"}]}],
        "code": {"coding": [{"code": "100822-6"}]},
        "valueCodeableConcept": {"text": "DNR"},
    }
    lab = observation("k", "2025-01-01", 4.0, category=[{"coding": [{"code": "laboratory"}]}])
    summary = build_summary(PatientRecord({"resourceType": "Patient", "id": "p"}, [cpr, lab]))
    assert summary.vitals == [] and [r.reference for r in summary.labs] == ["Observation/k"]
    assert summary.code_status is not None and summary.code_status.detail == "DNR"


def test_results_of_the_same_day_are_listed_by_name() -> None:
    def named(ident: str, code: str, title: str) -> Json:
        return observation(
            ident, "2025-01-01", 1.0, code={"coding": [{"code": code}], "text": title}
        )

    found = latest_results(
        [named("b", "2", "Beta"), named("a", "1", "Alpha"), named("c", "3", "Gamma")], {}
    )
    assert [r.title for r in found] == ["Alpha", "Beta", "Gamma"]


# --- robustness: odd shapes never raise -------------------------------------------------------

ELEMENTS = (
    "code", "clinicalStatus", "verificationStatus", "category", "status", "component",
    "valueQuantity", "interpretation", "referenceRange", "reasonReference", "diagnosis",
    "participant", "performer", "recorder", "asserter", "requester", "author", "reaction",
    "criticality", "dosageInstruction", "dosage", "medicationReference", "basedOn", "focus",
    "scope", "type", "period", "effectiveDateTime", "recordedDate", "onsetAge", "member",
    "generalPractitioner", "managingOrganization", "class", "vaccineCode",
)  # fmt: skip
TYPES = ("Condition", "Observation", "Encounter", "AllergyIntolerance", "MedicationRequest",
         "MedicationStatement", "ServiceRequest", "Task", "Consent", "DocumentReference",
         "CareTeam", "Procedure", "Immunization", "DiagnosticReport")  # fmt: skip
INNER_KEYS = (*ELEMENTS, "coding", "text", "value", "reference", "display", "start", "high",
              "low", "individual", "actor", "condition", "manifestation")  # fmt: skip
LEAVES = st.one_of(
    st.none(), st.booleans(), st.integers(), st.floats(), st.text(max_size=5),
    st.sampled_from(["active", "final", "H", "adr", "2025-01-01", "ATND", "Condition/c"]),
)  # fmt: skip
ODD_VALUES = st.recursive(
    LEAVES,
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(st.sampled_from(INNER_KEYS), inner, max_size=4)
    ),
    max_leaves=12,
)
ODD_RESOURCES = st.builds(
    lambda kind, ident, fields: {"resourceType": kind, "id": ident, **fields},
    st.sampled_from(TYPES),
    st.text(min_size=1, max_size=3),
    st.dictionaries(st.sampled_from(ELEMENTS), ODD_VALUES, max_size=6),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(ODD_RESOURCES, max_size=6), st.dictionaries(st.sampled_from(ELEMENTS), ODD_VALUES))
def test_odd_shapes_never_raise(resources: list[Json], patient_fields: Json) -> None:
    """Stored records are validated, but the summary must not be what breaks on one that
    was not: every element of the wrong shape reads as absent."""
    patient = {"resourceType": "Patient", "id": "p", **patient_fields}
    body = build_summary(PatientRecord(patient, resources)).to_json()
    assert body["patient"]["reference"] == "Patient/p"
