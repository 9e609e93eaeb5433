"""A FHIR R4 Claim (with the resources it refers to) as the 837 claim the scrubber checks.

Mapping per docs/billing-claims.md; FHIR Claim: http://hl7.org/fhir/R4/claim.html, CARIN BB
supporting information and care team roles. Missing elements become empty strings or None, so
the scrubber reports them by location instead of the conversion failing; only a body that is
not a Claim, or has no items, is refused.

References are read through the caller's ``resolve`` (``"Patient/123"`` → resource or None),
one at a time as they are needed, so the caller decides how reads are guarded. To read them
ahead: `references_of` (the Claim's own), then `coverage_references` on each Coverage.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import date

from chartkeeper.billing import systems
from chartkeeper.billing.claims.coverage import coverage_references, insured
from chartkeeper.billing.claims.fhir_read import (
    Json,
    as_dict,
    as_list,
    code_of,
    fhir_date,
    has_code,
    identifier,
    reference,
    where_system,
)
from chartkeeper.billing.claims.lines import diagnoses, service_lines
from chartkeeper.billing.claims.parties import Located, missing_provider, provider
from chartkeeper.billing.scrub.model import ScrubClaim
from chartkeeper.billing.x12.claim_model import Claim, ClaimKind, Provider
from chartkeeper.core.errors import InvalidError, NotSupportedError

__all__ = ["coverage_references", "references_of", "to_scrub_claim"]

Resolve = Callable[[str], Json | None]

_KINDS: dict[str, ClaimKind] = {"professional": "837P", "institutional": "837I", "vision": "837P"}
#: CARIN BB care team roles → the claim's provider fields
_ROLES = ("rendering", "attending", "referring")
#: CARIN BB supporting information categories an 837I reads (CLM05, CL101-CL103)
_INSTITUTIONAL_INFO = ("typeofbill", "admtype", "pointoforigin", "discharge-status")


def to_scrub_claim(
    claim: Json, resolve: Resolve, today: date, patient_key: str | None = None
) -> ScrubClaim:
    """The 837 content of ``claim``, its billing provider, and where each field came from."""
    if not isinstance(claim, dict) or claim.get("resourceType") != "Claim":
        raise InvalidError("Not a Claim resource")
    if not [item for item in as_list(claim.get("item")) if isinstance(item, dict)]:
        raise InvalidError("The Claim has no items to bill", ("Claim.item",))
    kind = claim_kind(claim)
    read = _contained(claim, resolve)
    patient_ref = reference(claim.get("patient"))
    beneficiary = as_dict(read(patient_ref) or {}) if patient_ref else {}
    who = insured(claim, read, beneficiary)
    billing, billing_at = _billing_provider(claim, read)
    team, team_at = _care_team(claim, read)
    codes, codes_at = diagnoses(claim)
    lines, lines_at = service_lines(claim)
    value = Claim(
        identifier(claim, systems.CLAIM_NUMBER),
        who.subscriber,
        codes,
        lines,
        patient=who.patient,
        patient_relationship=who.relationship if who.patient is not None else "19",
        rendering=team.get("rendering"),
        referring=team.get("referring"),
        attending=team.get("attending"),
    )
    value, header_at = _with_header(claim, kind, value)
    locations = {
        "claim": "Claim",
        "claim.claim_id": where_system("Claim.identifier", systems.CLAIM_NUMBER),
        **header_at,
        **codes_at,
        **lines_at,
        **who.locations,
        **_prefixed("billing_provider", billing_at),
        **team_at,
    }
    key = patient_key if patient_key is not None else patient_ref.rpartition("/")[2]
    return ScrubClaim(value, kind, billing, key, today, locations)


def claim_kind(claim: Json) -> ClaimKind:
    """837P for professional (and vision) claims, 837I for institutional; missing type: 837P."""
    code = code_of(claim.get("type"), systems.CLAIM_TYPE) or code_of(claim.get("type"))
    if not code:
        return "837P"
    if code not in _KINDS:
        raise NotSupportedError(f"Claims of type {code} are not sent as an 837P or 837I")
    return _KINDS[code]


def references_of(claim: Json) -> list[str]:
    """Every reference of the Claim the conversion reads (not those inside its Coverages)."""
    found = [reference(claim.get("patient")), reference(claim.get("provider"))]
    found.extend(reference(as_dict(i).get("coverage")) for i in as_list(claim.get("insurance")))
    found.extend(reference(as_dict(m).get("provider")) for m in as_list(claim.get("careTeam")))
    unique = dict.fromkeys(ref for ref in found if ref and not ref.startswith("#"))
    return list(unique)


def _contained(claim: Json, resolve: Resolve) -> Resolve:
    """``resolve`` that also answers ``#id`` references to the Claim's contained resources."""
    contained = {
        f"#{r.get('id')}": r for r in as_list(claim.get("contained")) if isinstance(r, dict)
    }

    def read(ref: str) -> Json | None:
        if not ref:
            return None
        if ref.startswith("#"):
            return contained.get(ref)
        found = resolve(ref)
        return found if isinstance(found, dict) else None

    return read


def _billing_provider(claim: Json, read: Resolve) -> tuple[Provider, Located]:
    """``Claim.provider``; a missing one is an empty provider located at the reference."""
    resource = as_dict(read(reference(claim.get("provider"))) or {})
    if not resource:
        return Provider("", ""), missing_provider("Claim.provider")
    return provider(resource)


def _care_team(claim: Json, read: Resolve) -> tuple[dict[str, Provider], Located]:
    """The first care team member in each CARIN BB role, as a provider."""
    found: dict[str, Provider] = {}
    located: Located = {}
    for index, member in enumerate(as_list(claim.get("careTeam"))):
        member = as_dict(member)
        role = next(
            (r for r in _ROLES if has_code(member.get("role"), systems.CARE_TEAM_ROLE, r)), ""
        )
        if not role or role in found:
            continue
        taxonomy = code_of(member.get("qualification"), systems.NUCC_TAXONOMY)
        at = f"Claim.careTeam[{index}].qualification"
        resource = as_dict(read(reference(member.get("provider"))) or {})
        found[role], fields = provider(resource or {"resourceType": "Practitioner"}, taxonomy, at)
        located.update(_prefixed(role, {**fields, "": f"Claim.careTeam[{index}].provider"}))
    for role in _ROLES:
        if role not in found:
            located.update(_prefixed(role, missing_provider("Claim.careTeam")))
    return found, located


def _with_header(claim: Json, kind: ClaimKind, value: Claim) -> tuple[Claim, Located]:
    """CLM05 place of service or bill type, and the 837I statement dates and CL1 codes."""
    if kind == "837P":
        first = as_dict(as_list(claim.get("item"))[0])
        place = code_of(first.get("locationCodeableConcept"), systems.PLACE_OF_SERVICE)
        place = place or code_of(first.get("locationCodeableConcept"))
        return replace(value, facility_code=place), {
            "claim.facility_code": "Claim.item[0].locationCodeableConcept",
            "claim.frequency": "Claim",
            "claim.statement_from": "Claim.billablePeriod.start",
            "claim.statement_to": "Claim.billablePeriod.end",
        }
    info = _supporting(claim)
    bill, bill_at = info["typeofbill"]
    bill = bill[1:] if len(bill) == 4 and bill.startswith("0") else bill
    period = as_dict(claim.get("billablePeriod"))
    institutional = replace(
        value,
        facility_code=bill[:2],
        frequency=bill[-1:] if len(bill) >= 3 else "",
        statement_from=fhir_date(period.get("start")),
        statement_to=fhir_date(period.get("end")),
        admission_type=info["admtype"][0],
        admission_source=info["pointoforigin"][0],
        patient_status=info["discharge-status"][0],
    )
    return institutional, {
        "claim.facility_code": bill_at,
        "claim.frequency": bill_at,
        "claim.statement_from": "Claim.billablePeriod.start",
        "claim.statement_to": "Claim.billablePeriod.end",
        "claim.admission_type": info["admtype"][1],
        "claim.admission_source": info["pointoforigin"][1],
        "claim.patient_status": info["discharge-status"][1],
    }


def _supporting(claim: Json) -> dict[str, tuple[str, str]]:
    """CARIN BB supporting information by category: (code, location), first of each kept;
    the institutional categories are always present (empty code when the Claim lacks one)."""
    found: dict[str, tuple[str, str]] = {}
    for index, info in enumerate(as_list(claim.get("supportingInfo"))):
        info = as_dict(info)
        category = code_of(info.get("category"), systems.SUPPORTING_INFO)
        if category and category not in found:
            code = code_of(info.get("code")) or str(info.get("valueString", "")).strip()
            found[category] = (code, f"Claim.supportingInfo[{index}].code")
    missing = ("", "Claim.supportingInfo")
    return {name: found.get(name, missing) for name in _INSTITUTIONAL_INFO} | found


def _prefixed(prefix: str, located: Located) -> Located:
    return {(f"{prefix}.{k}" if k else prefix): v for k, v in located.items()}
