"""The focal insurance of a Claim as the 837's 2000B subscriber, 2010BB payer and 2000C patient.

Reads FHIR R4 Coverage (http://hl7.org/fhir/R4/coverage.html): ``subscriberId`` is the member
id, ``subscriber`` the insured (absent: the beneficiary), ``relationship`` the patient's
relationship to the insured, ``payor[0]`` the payer Organization and ``class`` (type group) the
group number. A patient who is the insured (relationship ``self``) has no 2000C loop (TR3
005010X222A1 2000C: "required when the patient is not the subscriber").
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from chartkeeper.billing import systems
from chartkeeper.billing.claims.fhir_read import (
    Json,
    as_dict,
    as_list,
    code_of,
    codings,
    identifier,
    reference,
    text,
    where_system,
)
from chartkeeper.billing.claims.parties import Located, missing_person, person
from chartkeeper.billing.x12.claim_model import Payer, Person, Subscriber

#: Source of Payment Typology (PHDSC), the code system US Core and CARIN use for Coverage.type
PAYMENT_TYPOLOGY = "urn:oid:2.16.840.1.113883.3.221.5"
COVERAGE_CLASS = "http://terminology.hl7.org/CodeSystem/coverage-class"

#: Payment typology prefix → SBR09 claim filing indicator (longest prefix wins)
_FILING = {"1": "MB", "2": "MC", "311": "CH", "32": "VA", "5": "CI", "6": "BL"}
#: FHIR subscriber-relationship → PAT01 individual relationship code (2000C)
_RELATIONSHIPS = {"spouse": "01", "common": "53", "child": "19"}
#: Claim.insurance.sequence → SBR01 payer responsibility
_RESPONSIBILITY = {1: "P", 2: "S", 3: "T"}

Resolve = Callable[[str], Json | None]


@dataclass(frozen=True)
class Insured:
    """The subscriber, the patient when not the subscriber, and PAT01."""

    subscriber: Subscriber
    patient: Person | None
    relationship: str
    locations: Located


def focal_insurance(claim: Json) -> tuple[int | None, Json]:
    """The focal ``Claim.insurance`` (else the first) and its index."""
    items = as_list(claim.get("insurance"))
    for index, item in enumerate(items):
        if isinstance(item, dict) and item.get("focal") is True:
            return index, item
    for index, item in enumerate(items):
        if isinstance(item, dict):
            return index, item
    return None, {}


def insured(claim: Json, resolve: Resolve, beneficiary: Json) -> Insured:
    """Read the focal Coverage; missing pieces become empty fields with locations."""
    index, insurance = focal_insurance(claim)
    at = "Claim.insurance" if index is None else f"Claim.insurance[{index}]"
    coverage = as_dict(resolve(reference(insurance.get("coverage"))) or {})
    if coverage.get("resourceType") != "Coverage":
        coverage = {}
    self_insured = _is_self(coverage)
    holder = beneficiary if self_insured else _subscriber_resource(coverage, resolve, beneficiary)
    member = text(coverage.get("subscriberId"))
    subscriber_person, person_at = person(holder or {"resourceType": "Patient"}, member)
    payer, payer_at = _payer(coverage, resolve)
    group, group_at = _group(coverage)
    sequence = insurance.get("sequence")
    subscriber = Subscriber(
        subscriber_person,
        payer,
        _RESPONSIBILITY.get(sequence, "P") if isinstance(sequence, int) else "P",
        group,
        _filing(coverage.get("type")),
    )
    patient, patient_at = person(beneficiary) if beneficiary else (None, missing_person("Patient"))
    located = {
        "subscriber": f"{at}.coverage",
        "subscriber.responsibility": f"{at}.sequence",
        "subscriber.group_number": group_at,
        "subscriber.claim_filing": "Coverage.type",
        "subscriber.member_id": "Coverage.subscriberId",
        "subscriber.person.member_id": "Coverage.subscriberId",
        "claim.patient_relationship": "Coverage.relationship",
        **{_key("subscriber.person", k): v for k, v in person_at.items()},
        **{_key("subscriber.payer", k): v for k, v in payer_at.items()},
        **{_key("patient", k): v for k, v in patient_at.items()},
    }
    if self_insured:
        return Insured(subscriber, None, "18", located)
    return Insured(subscriber, patient, _relationship(coverage), located)


def coverage_references(coverage: Json) -> list[str]:
    """The references a Coverage adds: beneficiary, subscriber and payers."""
    found = [reference(coverage.get(name)) for name in ("beneficiary", "subscriber")]
    found.extend(reference(payor) for payor in as_list(coverage.get("payor")))
    return [ref for ref in found if ref]


def _key(prefix: str, name: str) -> str:
    return f"{prefix}.{name}" if name else prefix


def _is_self(coverage: Json) -> bool:
    """Self when the relationship says so, or when no other subscriber is named."""
    code = code_of(coverage.get("relationship"))
    if code:
        return code == "self"
    subscriber = reference(coverage.get("subscriber"))
    return not subscriber or subscriber == reference(coverage.get("beneficiary"))


def _subscriber_resource(coverage: Json, resolve: Resolve, beneficiary: Json) -> Json:
    ref = reference(coverage.get("subscriber"))
    if not ref:
        return beneficiary
    return as_dict(resolve(ref) or {"resourceType": ref.partition("/")[0] or "RelatedPerson"})


def _relationship(coverage: Json) -> str:
    code = code_of(coverage.get("relationship"))
    return _RELATIONSHIPS.get(code, "G8" if code else "21")


def _payer(coverage: Json, resolve: Resolve) -> tuple[Payer, Located]:
    payors = as_list(coverage.get("payor"))
    organization = as_dict(resolve(reference(payors[0])) or {}) if payors else {}
    value = Payer(text(organization.get("name")), identifier(organization, systems.PAYER_ID))
    located = {
        "": "Coverage.payor[0]" if payors else "Coverage.payor",
        "name": "Organization.name",
        "payer_id": where_system("Organization.identifier", systems.PAYER_ID),
    }
    return value, located


def _group(coverage: Json) -> tuple[str, str]:
    for index, item in enumerate(as_list(coverage.get("class"))):
        item = as_dict(item)
        if code_of(item.get("type"), COVERAGE_CLASS) == "group" or code_of(item.get("type")) == (
            "group"
        ):
            return text(item.get("value")), f"Coverage.class[{index}].value"
    return "", "Coverage.class"


def _filing(concept: object) -> str:
    for coding in codings(concept):
        if coding.get("system") != PAYMENT_TYPOLOGY:
            continue
        code = text(coding.get("code"))
        for prefix in sorted(_FILING, key=len, reverse=True):
            if code.startswith(prefix):
                return _FILING[prefix]
    return "CI"
