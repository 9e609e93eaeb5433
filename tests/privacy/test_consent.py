"""Patient Consent: permit, deny, nested exceptions, period, purpose, actor, action, labels."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest

from chartkeeper.fhir.visibility import FALSE, TRUE, AllOf, AnyOf, Match, Not
from chartkeeper.privacy.actor import Actor
from chartkeeper.privacy.consent import (
    Row,
    all_of,
    any_of,
    holds,
    negate,
    purposes_of,
    requester_for,
    restrictions,
)
from chartkeeper.privacy.decision import AccessContext, Decision, decide, search_filter
from chartkeeper.privacy.sensitivity import ACT_CODE

NOW = datetime(2026, 3, 1, 12, 0, tzinfo=UTC)
PATIENT = "pat-1"
TYPES_SYSTEM = "http://hl7.org/fhir/resource-types"
DR_ONE = Actor(kind="user", name="one", role="physician", practitioner_id="pr-1")
DR_TWO = Actor(kind="user", name="two", role="physician", practitioner_id="pr-2")


def practitioner(practitioner_id: str) -> list[dict[str, Any]]:
    return [
        {
            "role": {"coding": [{"code": "PRCP"}]},
            "reference": {"reference": f"Practitioner/{practitioner_id}"},
        }
    ]


def classes(*resource_types: str) -> list[dict[str, str]]:
    return [{"system": TYPES_SYSTEM, "code": t} for t in resource_types]


def labels(*codes: str) -> list[dict[str, str]]:
    return [{"system": ACT_CODE, "code": code} for code in codes]


def consent(provision: dict[str, Any], consent_id: str = "c1", **extra: Any) -> dict[str, Any]:
    return {
        "resourceType": "Consent",
        "id": consent_id,
        "status": "active",
        "scope": {
            "coding": [
                {
                    "system": "http://terminology.hl7.org/CodeSystem/consentscope",
                    "code": "patient-privacy",
                }
            ]
        },
        "patient": {"reference": f"Patient/{PATIENT}"},
        "provision": provision,
        **extra,
    }


def record(resource_type: str = "Observation", *codes: str) -> dict[str, Any]:
    body: dict[str, Any] = {
        "resourceType": resource_type,
        "id": "r1",
        "subject": {"reference": f"Patient/{PATIENT}"},
    }
    if codes:
        body["meta"] = {"security": labels(*codes)}
    return body


def read(
    who: Actor,
    consents: list[dict[str, Any]],
    resource: dict[str, Any] | None = None,
    interaction: str = "read",
    **facts: Any,
) -> Decision:
    resource = resource or record()
    context = AccessContext(
        now=facts.pop("now", NOW),
        relationships=frozenset({PATIENT}),
        consents=tuple(consents),
        **facts,
    )
    return decide(who, interaction, resource["resourceType"], resource, PATIENT, context)


# -- permit and deny -----------------------------------------------------------------------------


def test_a_deny_naming_a_practitioner_refuses_them_and_names_the_consent() -> None:
    deny_one = consent({"type": "deny", "actor": practitioner("pr-1")}, consent_id="no-dr-one")
    decision = read(DR_ONE, [deny_one])
    assert decision == Decision(
        False, "Consent/no-dr-one of Patient/pat-1 denies this access", "consent-deny", True
    )
    assert read(DR_TWO, [deny_one]).allowed


def test_a_permit_grants_nothing_beyond_the_role_and_relationship() -> None:
    permit_all = consent({"type": "permit"})
    front_desk = Actor(kind="user", name="fd", role="front_desk")
    assert not read(front_desk, [permit_all]).allowed
    outsider = AccessContext(now=NOW, consents=(permit_all,))
    assert not decide(DR_ONE, "read", "Observation", record(), PATIENT, outsider).allowed


def test_opt_out_with_an_exception_for_one_practitioner() -> None:
    opt_out = consent(
        {"type": "deny", "provision": [{"type": "permit", "actor": practitioner("pr-1")}]}
    )
    assert read(DR_ONE, [opt_out]).allowed
    assert read(DR_TWO, [opt_out]).rule == "consent-deny"


def test_a_nested_deny_of_one_class_within_a_permit() -> None:
    no_notes = consent(
        {"type": "permit", "provision": [{"type": "deny", "class": classes("DocumentReference")}]}
    )
    assert read(DR_ONE, [no_notes], record("Observation")).allowed
    assert not read(DR_ONE, [no_notes], record("DocumentReference")).allowed


def test_an_exception_to_an_exception() -> None:
    # deny everything; except permit Observations; except deny HIV-labelled Observations
    layered = consent(
        {
            "type": "deny",
            "provision": [
                {
                    "type": "permit",
                    "class": classes("Observation"),
                    "provision": [{"type": "deny", "securityLabel": labels("HIV")}],
                }
            ],
        }
    )
    granted = frozenset({"HIV"})
    assert read(DR_ONE, [layered], record("Observation"), sensitivity_grants=granted).allowed
    assert not read(
        DR_ONE, [layered], record("Observation", "HIV"), sensitivity_grants=granted
    ).allowed
    assert not read(DR_ONE, [layered], record("Condition"), sensitivity_grants=granted).allowed


def test_a_deny_among_siblings_beats_a_permit() -> None:
    siblings = consent(
        {
            "type": "permit",
            "provision": [
                {"type": "permit", "class": classes("Observation")},
                {"type": "deny", "securityLabel": labels("HIV")},
            ],
        }
    )
    granted = frozenset({"HIV"})
    assert not read(
        DR_ONE, [siblings], record("Observation", "HIV"), sensitivity_grants=granted
    ).allowed


def test_a_deny_of_one_record() -> None:
    data = [{"meaning": "instance", "reference": {"reference": "Observation/r1"}}]
    one = consent({"type": "deny", "data": data})
    assert not read(DR_ONE, [one], record("Observation")).allowed
    other = {**record("Observation"), "id": "r2"}
    assert read(DR_ONE, [one], other).allowed


def test_any_matching_deny_among_several_consents_refuses() -> None:
    permit = consent({"type": "permit"}, consent_id="ok")
    deny = consent({"type": "deny", "actor": practitioner("pr-1")}, consent_id="no")
    decision = read(DR_ONE, [permit, deny])
    assert decision.rule == "consent-deny" and "Consent/no" in decision.reason


# -- when, why, what for -------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("period", "applies"),
    [
        ({"start": "2026-01-01", "end": "2026-12-31"}, True),
        ({"start": "2026-03-01T12:00:00Z"}, True),
        ({"end": "2026-02-28"}, False),
        ({"start": "2027"}, False),
        ({"end": "2026-03"}, True),
    ],
)
def test_a_provision_applies_only_within_its_period(period: dict[str, str], applies: bool) -> None:
    timed = consent({"type": "deny", "period": period})
    assert read(DR_ONE, [timed]).allowed is not applies


def test_a_provision_applies_only_for_its_purpose_of_use() -> None:
    payment_only = consent(
        {"type": "deny", "purpose": [{"system": "v3-ActReason", "code": "HPAYMT"}]}
    )
    assert read(DR_ONE, [payment_only]).allowed
    biller = Actor(kind="user", name="b", role="biller", purpose="HPAYMT")
    assert not read(biller, [payment_only], record("Claim")).allowed


def test_a_purpose_covers_its_specializations() -> None:
    assert purposes_of("BTG") == {"BTG", "ETREAT", "TREAT"}
    treatment = consent({"type": "deny", "purpose": [{"code": "TREAT"}]})
    emergency_doctor = Actor(
        kind="user", name="e", role="physician", practitioner_id="pr-3", purpose="ETREAT"
    )
    assert not read(emergency_doctor, [treatment]).allowed
    emergency_only = consent({"type": "deny", "purpose": [{"code": "ETREAT"}]})
    assert read(DR_ONE, [emergency_only]).allowed


def test_a_provision_applies_only_to_its_actions() -> None:
    no_corrections = consent({"type": "deny", "action": [{"coding": [{"code": "correct"}]}]})
    assert read(DR_ONE, [no_corrections]).allowed
    assert not read(DR_ONE, [no_corrections], interaction="update").allowed


def test_reading_by_an_external_provider_is_a_disclosure() -> None:
    no_disclosure = consent({"type": "deny", "action": [{"coding": [{"code": "disclose"}]}]})
    referral = Actor(kind="user", name="x", role="external_provider", practitioner_id="ext-1")
    assert read(DR_ONE, [no_disclosure]).allowed
    assert not read(referral, [no_disclosure]).allowed


def test_an_organization_may_be_the_actor() -> None:
    no_org = consent(
        {"type": "deny", "actor": [{"role": {}, "reference": {"reference": "Organization/org-9"}}]}
    )
    partner = Actor(kind="user", name="p", role="external_provider", organization="org-9")
    assert not read(partner, [no_org]).allowed


# -- which consents count ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "change",
    [
        {"status": "inactive"},
        {"status": "draft"},
        {"scope": {"coding": [{"code": "research"}]}},
        {"patient": {"reference": "Patient/someone-else"}},
        {"resourceType": "Basic"},
    ],
)
def test_only_active_privacy_consents_of_the_patient_count(change: dict[str, Any]) -> None:
    deny_all = {**consent({"type": "deny"}), **change}
    assert read(DR_ONE, [deny_all]).allowed


def test_a_policy_rule_gives_a_root_without_type_its_rule() -> None:
    opt_out = consent({}, policyRule={"coding": [{"code": "OPTOUT"}]})
    assert not read(DR_ONE, [opt_out]).allowed
    opt_in = consent({}, policyRule={"coding": [{"code": "OPTIN"}]})
    assert read(DR_ONE, [opt_in]).allowed


def test_a_patients_own_consents_do_not_bind_them() -> None:
    patient = Actor(kind="user", name="p", role="patient", patient_id=PATIENT)
    assert read(patient, [consent({"type": "deny"})]).allowed


# -- never fail open -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "odd",
    [
        {"code": [{"coding": [{"system": "http://loinc.org", "code": "11506-3"}]}]},
        {"dataPeriod": {"start": "2020"}},
        {"class": [{"system": "http://example.org/profiles", "code": "x"}]},
        {"period": {"start": "not a date"}},
        {"data": [{"meaning": "related", "reference": {"reference": "Encounter/e1"}}]},
    ],
)
def test_criteria_we_cannot_evaluate_widen_a_deny_and_void_a_permit(odd: dict[str, Any]) -> None:
    assert not read(DR_ONE, [consent({"type": "deny", **odd})]).allowed
    release = consent({"type": "permit", "securityLabel": labels("ETH"), **odd})
    assert read(DR_ONE, [release], record("Observation", "ETH")).rule == "sensitivity-label"
    opt_out = consent({"type": "deny", "provision": [{"type": "permit", **odd}]})
    assert not read(DR_ONE, [opt_out]).allowed


def test_an_absolute_actor_reference_is_trusted_for_a_deny_only() -> None:
    absolute = [{"reference": {"reference": "https://elsewhere.example/fhir/Practitioner/pr-1"}}]
    assert not read(DR_ONE, [consent({"type": "deny", "actor": absolute})]).allowed
    release = consent({"type": "permit", "actor": absolute, "securityLabel": labels("ETH")})
    assert not read(DR_ONE, [release], record("Observation", "ETH")).allowed


def test_malformed_consents_are_ignored_or_refuse_but_never_raise() -> None:
    junk: list[dict[str, Any]] = [
        {"resourceType": "Consent", "status": "active", "patient": "Patient/pat-1"},
        consent([]),  # type: ignore[arg-type]
        consent({"type": "deny", "actor": "everyone", "provision": {"type": 3}}),
    ]
    decision = read(DR_ONE, junk)
    assert decision.rule in {"consent-deny", "treatment-relationship"}


# -- releasing sensitive records -----------------------------------------------------------------


def test_a_part_2_consent_releases_substance_use_records_to_the_named_recipient() -> None:
    part2 = consent(
        {"type": "permit", "actor": practitioner("pr-1"), "securityLabel": labels("ETH")}
    )
    decision = read(DR_ONE, [part2], record("Condition", "ETH"))
    assert decision.allowed and "released by the patient's Consent" in decision.reason
    assert read(DR_TWO, [part2], record("Condition", "ETH")).rule == "sensitivity-label"


def test_a_permit_limited_to_one_class_does_not_release_a_label() -> None:
    narrow = consent(
        {"type": "permit", "class": classes("Condition"), "securityLabel": labels("ETH")}
    )
    assert not read(DR_ONE, [narrow], record("Condition", "ETH")).allowed


def test_an_authorization_releases_psychotherapy_notes() -> None:
    authorization = consent(
        {"type": "permit", "actor": practitioner("pr-2"), "securityLabel": labels("PSYTHPN")}
    )
    note = record("DocumentReference", "PSYTHPN")
    assert read(DR_TWO, [authorization], note).allowed
    assert read(DR_ONE, [authorization], note).rule == "psychotherapy-note"


# -- break the glass -----------------------------------------------------------------------------


def test_break_the_glass_sets_a_restriction_aside_for_emergency_treatment() -> None:
    deny_one = consent({"type": "deny", "actor": practitioner("pr-1")})
    decision = read(DR_ONE, [deny_one], break_glass=frozenset({PATIENT}))
    assert decision.allowed and decision.rule == "break-the-glass"
    assert "164.522(a)(1)(iii)" in decision.reason


# -- the search side -----------------------------------------------------------------------------


def test_search_filter_carries_the_consent_conditions() -> None:
    no_notes = consent(
        {"type": "permit", "provision": [{"type": "deny", "class": classes("DocumentReference")}]}
    )
    context = AccessContext(now=NOW, relationships=frozenset({PATIENT}), consents=(no_notes,))
    found = search_filter(DR_ONE, None, context)
    (only,) = found.denied_by_consent
    assert (only.consent_id, only.patient_id) == ("c1", PATIENT)
    assert only.denied == Match(resource_types=frozenset({"DocumentReference"}))
    assert found.admits(record("Observation"), PATIENT)
    assert not found.admits(record("DocumentReference"), PATIENT)
    assert found.admits(record("DocumentReference"), "pat-other") is False  # out of reach anyway


def test_search_filter_leaves_out_consents_that_deny_nothing_and_emergency_patients() -> None:
    permit = consent({"type": "permit"})
    deny = consent({"type": "deny"}, consent_id="c2")
    facts = AccessContext(
        now=NOW,
        relationships=frozenset({PATIENT}),
        break_glass=frozenset({PATIENT}),
        consents=(permit, deny),
    )
    assert search_filter(DR_ONE, None, facts).denied_by_consent == ()
    calm = AccessContext(now=NOW, relationships=frozenset({PATIENT}), consents=(permit, deny))
    assert [r.consent_id for r in search_filter(DR_ONE, None, calm).denied_by_consent] == ["c2"]


def test_search_filter_releases_consented_labels_per_patient() -> None:
    part2 = consent(
        {"type": "permit", "actor": practitioner("pr-1"), "securityLabel": labels("ETH")}
    )
    facts = AccessContext(now=NOW, relationships=frozenset({PATIENT}), consents=(part2,))
    found = search_filter(DR_ONE, None, facts)
    assert found.visible_security_codes_by_patient == {PATIENT: {(ACT_CODE, "ETH")}}
    assert found.admits(record("Condition", "ETH"), PATIENT)


# -- the condition algebra -----------------------------------------------------------------------


def test_conditions_fold_constants_and_evaluate() -> None:
    obs = Match(resource_types=frozenset({"Observation"}))
    hiv = Match(security_labels=frozenset({(ACT_CODE, "HIV")}))
    assert all_of(TRUE, obs) is obs and all_of(obs, FALSE) is FALSE and all_of() is TRUE
    assert any_of(FALSE, obs) is obs and any_of(obs, TRUE) is TRUE and any_of() is FALSE
    assert negate(negate(obs)) is obs and negate(TRUE) is FALSE
    row = Row("Observation", frozenset({(ACT_CODE, "HIV")}), "Observation/1")
    assert holds(AllOf((obs, hiv)), row)
    assert not holds(Not(AnyOf((obs, hiv))), row)
    assert not holds(Match(references=frozenset({"Observation/2"})), row)


def test_restrictions_filter_by_patient() -> None:
    deny = consent({"type": "deny"})
    asking = requester_for(DR_ONE, "read", NOW)
    assert restrictions([deny], asking, "pat-2") == ()
    assert [r.denied for r in restrictions([deny], asking)] == [TRUE]
