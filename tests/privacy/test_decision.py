"""The access decision: role table, reach, sensitivity labels, break-the-glass, search filter."""

from __future__ import annotations

import time
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chartkeeper.privacy.actor import ROLES, Actor
from chartkeeper.privacy.decision import (
    AccessContext,
    Decision,
    decide,
    may_manage_users,
    search_filter,
)
from chartkeeper.privacy.rules import (
    COMPARTMENT_TYPES,
    CONFIGURATION,
    DIRECTORY,
    INTERACTIONS,
    PERMISSIONS,
    RESOURCE_TYPES,
    ROLE_PERMISSIONS,
    ROLE_SCOPE,
)
from chartkeeper.privacy.sensitivity import (
    ACT_CODE,
    CONFIDENTIALITY,
    LOCAL_PSYCHOTHERAPY_TYPE,
    PSYCHOTHERAPY_NOTE,
    SENSITIVE_LABELS,
    labels_to_add,
)

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
RULES = {
    "system",
    "role-permission",
    "patient-own-compartment",
    "treatment-relationship",
    "break-the-glass",
    "psychotherapy-note",
    "sensitivity-label",
    "consent-deny",
    "default-deny",
}
MINE, OTHER = "pat-1", "pat-2"


def actor(role: str | None, **extra: Any) -> Actor:
    ids: dict[str, Any] = {"practitioner_id": "pr-1"} if role in ("physician", "nurse") else {}
    if role == "external_provider":
        ids = {"practitioner_id": "ext-1", "organization": "org-9"}
    if role == "patient":
        ids = {"patient_id": MINE}
    return Actor(kind="user", name=f"{role}-user", role=role, **{**ids, **extra})


def record(resource_type: str, patient_id: str | None = MINE, **extra: Any) -> dict[str, Any]:
    body: dict[str, Any] = {"resourceType": resource_type, "id": f"{resource_type.lower()}-1"}
    if patient_id and resource_type != "Patient":
        body["subject"] = {"reference": f"Patient/{patient_id}"}
    return {**body, **extra}


def labelled(resource_type: str, *codes: str, **extra: Any) -> dict[str, Any]:
    security = [
        {"system": CONFIDENTIALITY if code in ("R", "V") else ACT_CODE, "code": code}
        for code in codes
    ]
    return record(resource_type, meta={"security": security}, **extra)


def context(**facts: Any) -> AccessContext:
    return AccessContext(now=NOW, **facts)


RELATED = context(relationships=frozenset({MINE}))

# -- the role table -----------------------------------------------------------------------------
#
# One cell per role and resource type. Letters are interactions: r read, s search, c create,
# u update, d delete. Lower case: allowed on any chart the role reaches by its scope (type-level
# search is always lower case: its results are filtered). Upper case: allowed only on a chart the
# actor is related to (treatment relationship, or a patient's own compartment). "-": never.

TYPES = (
    "Patient",
    "Observation",
    "Condition",
    "Encounter",
    "DocumentReference",
    "MedicationRequest",
    "Appointment",
    "Coverage",
    "Claim",
    "Practitioner",
    "AuditEvent",
    "Consent",
    "ValueSet",
)
# fmt: off
EXPECTED: dict[str, str] = {
    #                    Pat  Obs  Cond Enc  Doc  MedR Appt Cov  Clm  Prac  Aud Cons VS
    "admin":             "-    -    -    -    -    -    -    -    -    rscud -   -    rscud",
    "physician":         "sR   sRCU sRCU sRCU sRCU sRCU sR   -    -    rs    -   sR   rs",
    "nurse":             "sR   sRCU sRCU sRCU sRCU sR   sR   -    -    rs    -   sR   rs",
    "him_technician":    "rscu rs   rs   rs   rscu rs   rs   rs   rs   rs    -   rscu rs",
    "coder":             "rs   rs   rscu rs   rs   -    -    rs   rscu rs    -   -    rs",
    "biller":            "rs   -    -    rs   -    -    -    rscu rscu rs    -   -    rs",
    "front_desk":        "rscu -    -    -    -    -    rscu rscu -    rs    -   -    rs",
    "privacy_officer":   "rs   rs   rs   rs   rs   rs   rs   rs   rs   rs    rs  rscu rs",
    "auditor":           "-    -    -    -    -    -    -    -    -    -     rs  -    -",
    "patient":           "sR   sR   sR   sR   sR   sR   sR   sR   sR   rs    -   sR   rs",
    "external_provider": "sR   sR   sR   sR   sR   sR   -    -    -    rs    -   -    rs",
}
# fmt: on
TABLE_INTERACTIONS = ("read", "search", "create", "update", "delete")


def expected_allowed(cell: str, interaction: str, related: bool) -> bool:
    letter = interaction[0]
    return letter in cell or (related and letter.upper() in cell)


def ask(role: str, resource_type: str, interaction: str, related: bool) -> Decision:
    if interaction == "search":
        return decide(actor(role), "search", resource_type, None, None, RELATED)
    patient_id = (MINE if related else OTHER) if resource_type in COMPARTMENT_TYPES else None
    resource = record(resource_type, patient_id)
    if resource_type == "Patient":
        resource["id"] = patient_id
    return decide(actor(role), interaction, resource_type, resource, patient_id, RELATED)


def test_the_table_covers_every_role() -> None:
    assert set(EXPECTED) == set(ROLES) == set(ROLE_PERMISSIONS) == set(ROLE_SCOPE)
    assert all(len(cells.split()) == len(TYPES) for cells in EXPECTED.values())


@pytest.mark.parametrize("role", ROLES)
def test_role_by_type_by_interaction_by_relationship(role: str) -> None:
    wrong = []
    for resource_type, cell in zip(TYPES, EXPECTED[role].split(), strict=True):
        for interaction in TABLE_INTERACTIONS:
            for related in (True, False):
                decision = ask(role, resource_type, interaction, related)
                assert decision.reason and decision.rule in RULES, decision
                if decision.allowed != expected_allowed(cell, interaction, related):
                    wrong.append((resource_type, interaction, related, decision))
    assert not wrong, "\n".join(map(str, wrong))


@pytest.mark.parametrize("role", ROLES)
def test_a_refused_read_of_a_chart_out_of_reach_looks_like_a_missing_record(role: str) -> None:
    for resource_type in TYPES:
        cell = EXPECTED[role].split()[TYPES.index(resource_type)]
        decision = ask(role, resource_type, "read", related=False)
        if not decision.allowed:
            # a type the role may never read is refused openly (403); a chart out of reach is not
            assert decision.hide_existence == ("R" in cell or "r" in cell), (
                resource_type,
                decision,
            )


def test_minimum_necessary_refusal_names_role_and_regulation() -> None:
    decision = decide(
        actor("front_desk"), "read", "Observation", record("Observation"), MINE, RELATED
    )
    assert decision == Decision(
        False,
        "role:front_desk may not read Observation (minimum necessary, 45 CFR 164.502(b))",
        "role-permission",
    )


def test_nobody_deletes_clinical_data_or_writes_the_audit_ledger() -> None:
    for (role, resource_type), interactions in PERMISSIONS.items():
        if "delete" in interactions:
            assert role == "admin" and resource_type not in COMPARTMENT_TYPES
        if resource_type == "AuditEvent":
            assert interactions <= {"read", "vread", "search"}


def test_the_system_actor_may_do_everything() -> None:
    system = Actor(kind="system", name="chartkeeper", role="admin")
    for interaction in INTERACTIONS:
        decision = decide(
            system, interaction, "Observation", record("Observation"), OTHER, context()
        )
        assert decision.allowed and decision.rule == "system"


@pytest.mark.parametrize(
    ("who", "interaction", "resource_type"),
    [
        (Actor(kind="user", name="x", role=None), "read", "Observation"),
        (Actor(kind="user", name="x", role="surgeon"), "read", "Observation"),
        (Actor(kind="robot", name="x", role="physician"), "read", "Observation"),
        (actor("physician"), "peek", "Observation"),
        (actor("physician"), "read", "Observable"),
    ],
)
def test_unknown_roles_interactions_and_types_are_refused(
    who: Actor, interaction: str, resource_type: str
) -> None:
    decision = decide(who, interaction, resource_type, record("Observation"), MINE, RELATED)
    assert not decision.allowed and decision.rule == "default-deny"


# -- reach: own compartment, relationship, break-the-glass, outside every compartment --------------


def test_patients_read_their_own_chart_and_history_and_export_it() -> None:
    patient = actor("patient")
    for interaction in ("read", "vread", "history"):
        decision = decide(
            patient, interaction, "Observation", record("Observation"), MINE, context()
        )
        assert decision.allowed and decision.rule == "patient-own-compartment"
    own = record("Patient", id=MINE)
    for interaction in ("everything", "export"):
        assert decide(patient, interaction, "Patient", own, MINE, context()).allowed
    other = decide(patient, "everything", "Patient", record("Patient", id=OTHER), OTHER, context())
    assert not other.allowed and other.hide_existence
    assert other.rule == "patient-own-compartment"


def test_patients_write_nothing_and_see_no_audit_events() -> None:
    patient = actor("patient")
    assert not decide(
        patient, "update", "Observation", record("Observation"), MINE, context()
    ).allowed
    assert not decide(patient, "search", "AuditEvent", None, None, context()).allowed


def test_break_the_glass_reaches_a_chart_without_relationship_and_says_so() -> None:
    glass = context(break_glass=frozenset({OTHER}))
    decision = decide(
        actor("physician"), "read", "Observation", record("Observation", OTHER), OTHER, glass
    )
    assert decision.allowed and decision.rule == "break-the-glass"
    assert "logged for review" in decision.reason


def test_only_clinical_roles_break_the_glass() -> None:
    glass = context(break_glass=frozenset({MINE}))
    for role in ("admin", "patient"):
        decision = decide(
            actor(role), "read", "Observation", record("Observation", OTHER), OTHER, glass
        )
        assert not decision.allowed


def test_records_outside_every_compartment_are_staff_business_not_the_portals() -> None:
    orphan = record("Observation", None)
    assert decide(actor("physician"), "read", "Observation", orphan, None, context()).allowed
    for role in ("patient", "external_provider"):
        decision = decide(actor(role), "read", "Observation", orphan, None, context())
        assert not decision.allowed and decision.hide_existence


def test_orders_are_written_by_physicians_not_nurses() -> None:
    order = record("MedicationRequest")
    assert decide(actor("physician"), "create", "MedicationRequest", order, MINE, RELATED).allowed
    assert not decide(actor("nurse"), "create", "MedicationRequest", order, MINE, RELATED).allowed
    assert decide(
        actor("nurse"), "create", "Observation", record("Observation"), MINE, RELATED
    ).allowed


def test_only_the_administrator_manages_users() -> None:
    assert may_manage_users(actor("admin")).allowed
    assert not may_manage_users(actor("privacy_officer")).allowed
    assert may_manage_users(Actor(kind="system", name="chartkeeper")).allowed


# -- sensitivity labels --------------------------------------------------------------------------


@pytest.mark.parametrize("code", ["R", "V", "HIV", "ETH", "SUD", "PSY", "SEX", "SDV", "STD"])
def test_a_sensitive_label_needs_an_explicit_grant(code: str) -> None:
    resource = labelled("Condition", code)
    refused = decide(actor("physician"), "read", "Condition", resource, MINE, RELATED)
    assert not refused.allowed and refused.rule == "sensitivity-label" and refused.hide_existence
    assert code in refused.reason
    granted = context(relationships=frozenset({MINE}), sensitivity_grants=frozenset({code}))
    allowed = decide(actor("physician"), "read", "Condition", resource, MINE, granted)
    assert allowed.allowed and allowed.rule == "treatment-relationship"
    assert "explicit grant" in allowed.reason


def test_every_label_on_a_record_needs_its_own_grant() -> None:
    resource = labelled("Condition", "HIV", "ETH")
    half = context(relationships=frozenset({MINE}), sensitivity_grants=frozenset({"HIV"}))
    decision = decide(actor("coder"), "read", "Condition", resource, MINE, half)
    assert not decision.allowed and "ETH" in decision.reason


def test_ordinary_confidentiality_codes_need_no_grant() -> None:
    resource = labelled("Condition", "N")
    resource["meta"]["security"][0]["system"] = CONFIDENTIALITY
    assert decide(actor("physician"), "read", "Condition", resource, MINE, RELATED).allowed


def test_break_the_glass_releases_part_2_records_citing_the_medical_emergency_rule() -> None:
    glass = context(relationships=frozenset({MINE}), break_glass=frozenset({MINE}))
    decision = decide(
        actor("physician"), "read", "Condition", labelled("Condition", "ETH"), MINE, glass
    )
    assert decision.allowed and decision.rule == "break-the-glass"
    assert "42 CFR 2.51" in decision.reason


def test_break_the_glass_does_not_release_psychotherapy_notes() -> None:
    glass = context(break_glass=frozenset({MINE}))
    note = labelled("DocumentReference", "PSYTHPN", author=[{"reference": "Practitioner/pr-9"}])
    decision = decide(actor("physician"), "read", "DocumentReference", note, MINE, glass)
    assert not decision.allowed and decision.rule == "psychotherapy-note"


def test_psychotherapy_notes_are_seen_by_their_author_alone() -> None:
    note = labelled("DocumentReference", "PSYTHPN", author=[{"reference": "Practitioner/pr-1"}])
    author = decide(actor("physician"), "read", "DocumentReference", note, MINE, RELATED)
    assert author.allowed and "164.508(a)(2)" in author.reason
    colleague = decide(
        actor("physician", practitioner_id="pr-2"), "read", "DocumentReference", note, MINE, RELATED
    )
    assert not colleague.allowed and colleague.rule == "psychotherapy-note"
    for role in ("coder", "him_technician", "privacy_officer", "patient"):
        decision = decide(actor(role), "read", "DocumentReference", note, MINE, RELATED)
        assert not decision.allowed and decision.rule == "psychotherapy-note", role


def test_a_psychotherapy_grant_releases_the_note_for_a_documented_authorization() -> None:
    note = labelled("DocumentReference", "PSYTHPN")
    granted = context(sensitivity_grants=frozenset({"PSYTHPN"}))
    assert decide(actor("him_technician"), "read", "DocumentReference", note, MINE, granted).allowed


def test_a_note_typed_as_psychotherapy_is_one_even_without_the_label() -> None:
    note = record(
        "DocumentReference",
        type={
            "coding": [{"system": LOCAL_PSYCHOTHERAPY_TYPE[0], "code": LOCAL_PSYCHOTHERAPY_TYPE[1]}]
        },
    )
    decision = decide(actor("coder"), "read", "DocumentReference", note, MINE, context())
    assert decision.rule == "psychotherapy-note"
    assert labels_to_add(note) == [
        {
            "system": ACT_CODE,
            "code": "PSYTHPN",
            "display": "psychotherapy note information sensitivity",
        }
    ]
    assert labels_to_add(labelled("DocumentReference", "PSYTHPN")) == []


def test_patients_see_their_own_sensitive_data_but_not_very_restricted_or_psychotherapy_notes() -> (
    None
):
    patient = actor("patient")
    assert decide(
        patient, "read", "Condition", labelled("Condition", "HIV"), MINE, context()
    ).allowed
    assert decide(patient, "read", "Condition", labelled("Condition", "R"), MINE, context()).allowed
    refused = decide(patient, "read", "Condition", labelled("Condition", "V"), MINE, context())
    assert not refused.allowed and refused.rule == "sensitivity-label"
    note = labelled("DocumentReference", "PSYTHPN")
    assert not decide(patient, "read", "DocumentReference", note, MINE, context()).allowed


def test_writing_a_labelled_record_needs_the_same_grant_as_reading_it() -> None:
    resource = labelled("Observation", "HIV")
    assert not decide(actor("nurse"), "create", "Observation", resource, MINE, RELATED).allowed


# -- search filter --------------------------------------------------------------------------------


def test_search_filter_per_role_reach() -> None:
    facts = context(relationships=frozenset({MINE}), break_glass=frozenset({"pat-3"}))
    expected_patients: dict[str, frozenset[str] | None] = {
        "admin": frozenset(),
        "physician": frozenset({MINE, "pat-3"}),
        "nurse": frozenset({MINE, "pat-3"}),
        "external_provider": frozenset({MINE, "pat-3"}),
        "patient": frozenset({MINE}),
    }
    for role in ROLES:
        found = search_filter(actor(role), None, facts)
        assert found.patient_ids == expected_patients.get(role), role
        assert found.resource_types is not None and found.resource_types <= RESOURCE_TYPES
        assert found.include_non_patient_resources == bool(found.non_patient_resource_types)
        assert found.reason


def test_search_filter_types_follow_the_table() -> None:
    assert search_filter(actor("auditor"), None, context()).resource_types == frozenset(
        {"AuditEvent"}
    )
    biller = search_filter(actor("biller"), None, context()).resource_types or frozenset()
    assert {"Claim", "Coverage", "Encounter", "Patient"} <= biller
    assert not {"Observation", "DocumentReference", "Composition"} & biller
    refused = search_filter(actor("front_desk"), "Observation", context())
    assert refused.resource_types == frozenset() and "minimum necessary" in refused.reason
    assert search_filter(actor("coder"), "Claim", context()).resource_types == frozenset({"Claim"})


def test_the_portal_sees_only_directory_and_definitions_outside_its_compartment() -> None:
    found = search_filter(actor("patient"), None, context())
    assert found.non_patient_resource_types == (DIRECTORY | CONFIGURATION) & (
        found.resource_types or frozenset()
    )


def test_search_filter_hides_labels_without_grants_and_releases_them_under_emergency() -> None:
    facts = context(sensitivity_grants=frozenset({"HIV"}), break_glass=frozenset({OTHER}))
    found = search_filter(actor("physician"), "Observation", facts)
    assert found.hidden_security_codes == SENSITIVE_LABELS - {(ACT_CODE, "HIV")}
    assert found.visible_security_codes_by_patient[OTHER] == found.hidden_security_codes - {
        PSYCHOTHERAPY_NOTE
    }
    assert found.author_reference == "Practitioner/pr-1"
    assert found.author_exempt_codes == {PSYCHOTHERAPY_NOTE}


def test_search_filter_for_unknown_roles_and_the_system() -> None:
    nothing = search_filter(Actor(kind="user", name="x", role="wizard"), None, context())
    assert nothing.resource_types == frozenset() and nothing.patient_ids == frozenset()
    assert not nothing.include_non_patient_resources
    everything = search_filter(Actor(kind="system", name="chartkeeper"), None, context())
    assert everything.resource_types is None and everything.patient_ids is None
    assert not everything.hidden_security_codes


# -- properties ----------------------------------------------------------------------------------

LABEL_CODES = ("R", "V", "N", "HIV", "ETH", "PSYTHPN", "SEX")
PATIENTS = (MINE, OTHER, "pat-3", None)
SAMPLE_TYPES = ("Observation", "Condition", "DocumentReference", "Patient", "Practitioner", "Claim")
SAMPLE_CONSENTS = (
    {
        "resourceType": "Consent",
        "id": "deny-pr1",
        "status": "active",
        "patient": {"reference": f"Patient/{MINE}"},
        "provision": {"type": "deny", "actor": [{"reference": {"reference": "Practitioner/pr-1"}}]},
    },
    {
        "resourceType": "Consent",
        "id": "deny-obs-except-hiv",
        "status": "active",
        "patient": {"reference": f"Patient/{OTHER}"},
        "provision": {
            "type": "deny",
            "class": [{"system": "http://hl7.org/fhir/resource-types", "code": "Observation"}],
            "provision": [
                {"type": "permit", "securityLabel": [{"system": ACT_CODE, "code": "HIV"}]}
            ],
        },
    },
    {
        "resourceType": "Consent",
        "id": "no-conditions-for-treatment",
        "status": "active",
        "patient": {"reference": "Patient/pat-3"},
        "provision": {
            "type": "deny",
            "purpose": [{"code": "TREAT"}],
            "class": [{"system": "http://hl7.org/fhir/resource-types", "code": "Condition"}],
        },
    },
    {
        "resourceType": "Consent",
        "id": "release-eth",
        "status": "active",
        "patient": {"reference": f"Patient/{MINE}"},
        "provision": {
            "type": "permit",
            "securityLabel": [{"system": ACT_CODE, "code": "ETH"}],
        },
    },
)


@st.composite
def rows(draw: st.DrawFn) -> tuple[dict[str, Any], str | None]:
    resource_type = draw(st.sampled_from(SAMPLE_TYPES))
    patient_id = draw(st.sampled_from(PATIENTS))
    if resource_type == "Practitioner":
        patient_id = None
    codes = draw(st.lists(st.sampled_from(LABEL_CODES), max_size=3, unique=True))
    resource = labelled(resource_type, *codes)
    resource["meta"]["security"] = [
        {"system": CONFIDENTIALITY if c in ("R", "V", "N") else ACT_CODE, "code": c} for c in codes
    ]
    if draw(st.booleans()):
        resource["author"] = [{"reference": "Practitioner/pr-1", "display": "Dr One"}]
    if resource_type == "Patient" and patient_id:
        resource["id"] = patient_id
    return resource, patient_id


@st.composite
def contexts(draw: st.DrawFn) -> AccessContext:
    some = st.frozensets(st.sampled_from((MINE, OTHER, "pat-3")))
    return AccessContext(
        now=NOW,
        relationships=draw(some),
        break_glass=draw(some),
        sensitivity_grants=draw(st.frozensets(st.sampled_from(LABEL_CODES))),
        consents=tuple(
            draw(st.lists(st.sampled_from(SAMPLE_CONSENTS), unique_by=lambda c: str(c["id"])))
        ),
    )


@settings(max_examples=400, deadline=None)
@given(role=st.sampled_from(ROLES), row=rows(), facts=contexts())
def test_search_filter_returns_exactly_what_read_allows(
    role: str, row: tuple[dict[str, Any], str | None], facts: AccessContext
) -> None:
    resource, patient_id = row
    resource_type = resource["resourceType"]
    read = decide(actor(role), "read", resource_type, resource, patient_id, facts)
    admitted = search_filter(actor(role), None, facts).admits(resource, patient_id)
    assert admitted == read.allowed, read


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=8), inner, max_size=3)
    ),
    max_leaves=12,
)


@settings(max_examples=300, deadline=None)
@given(
    role=st.one_of(st.sampled_from(ROLES), st.none(), st.text(max_size=10)),
    kind=st.sampled_from(("user", "client", "robot", "")),
    interaction=st.one_of(st.sampled_from(sorted(INTERACTIONS)), st.text(max_size=10)),
    resource_type=st.one_of(st.sampled_from(TYPES), st.text(max_size=12)),
    resource=st.one_of(st.none(), st.dictionaries(st.text(max_size=10), json_values, max_size=5)),
    patient_id=st.one_of(st.none(), st.text(max_size=6)),
    consents=st.lists(st.dictionaries(st.text(max_size=10), json_values, max_size=5), max_size=2),
)
def test_decide_never_raises_and_refuses_what_it_does_not_know(
    role: str | None,
    kind: str,
    interaction: str,
    resource_type: str,
    resource: dict[str, Any] | None,
    patient_id: str | None,
    consents: list[dict[str, Any]],
) -> None:
    who = Actor(kind=kind, name="x", role=role, practitioner_id="pr-1", patient_id=patient_id)
    facts = context(consents=tuple(consents), relationships=frozenset({patient_id or ""}))
    decision = decide(who, interaction, resource_type, resource, patient_id, facts)
    assert isinstance(decision, Decision) and decision.reason and decision.rule in RULES
    unknown = (
        role not in ROLES
        or kind not in ("user", "client")
        or interaction not in INTERACTIONS
        or resource_type not in RESOURCE_TYPES
    )
    if unknown:
        assert not decision.allowed and decision.rule == "default-deny"
    search_filter(who, resource_type, facts)  # never raises either


def test_decide_speed(capsys: pytest.CaptureFixture[str]) -> None:
    """Prints µs per decision for a realistic read (labels, grant, two consents); no assertion."""
    facts = context(
        relationships=frozenset({MINE, OTHER}),
        sensitivity_grants=frozenset({"HIV"}),
        consents=SAMPLE_CONSENTS,
    )
    resource = labelled("Observation", "HIV", author=[{"reference": "Practitioner/pr-1"}])
    physician = actor("physician", practitioner_id="pr-2")
    rounds = 5_000
    start = time.perf_counter()
    for _ in range(rounds):
        decide(physician, "read", "Observation", resource, MINE, facts)
    per_call = (time.perf_counter() - start) / rounds * 1e6
    plain = record("Observation")
    start = time.perf_counter()
    for _ in range(rounds):
        decide(physician, "read", "Observation", plain, MINE, RELATED)
    plain_call = (time.perf_counter() - start) / rounds * 1e6
    start = time.perf_counter()
    for _ in range(rounds // 5):
        search_filter(physician, None, facts)
    filter_call = (time.perf_counter() - start) / (rounds // 5) * 1e6
    with capsys.disabled():
        print(
            f"\ndecide: {per_call:.1f} µs/call with labels and consents, "
            f"{plain_call:.1f} µs/call plain; search_filter: {filter_call:.1f} µs/call"
        )


def test_a_compartment_search_needs_reach_and_leaves_the_records_to_the_filter() -> None:
    physician = actor("physician")
    allowed = decide(physician, "search", "Observation", None, MINE, RELATED)
    assert allowed.allowed and "results filtered" in allowed.reason
    refused = decide(physician, "search", "Observation", None, OTHER, RELATED)
    assert not refused.allowed and refused.rule == "treatment-relationship"
    assert not decide(actor("patient"), "search", "Observation", None, OTHER, context()).allowed
