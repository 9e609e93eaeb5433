"""People and organizations of a claim: FHIR Patient/RelatedPerson/Practitioner/Organization
as 837 `Person` and `Provider`, each with the FHIRPath of every field it was read from.

Locations are keyed by the model field name (``birth_date``, ``npi``) and the empty key for
the whole object; `convert` prefixes them with the role (``subscriber.person.``, ``rendering.``).
"""

from __future__ import annotations

from chartkeeper.billing import systems
from chartkeeper.billing.claims.fhir_read import (
    Json,
    address,
    as_dict,
    as_list,
    code_of,
    fhir_date,
    given,
    human_name,
    identifier,
    text,
    where_system,
)
from chartkeeper.billing.x12.claim_model import Person, Provider

Located = dict[str, str]

#: FHIR administrative gender → DMG03
_GENDERS = {"male": "M", "female": "F"}

_PERSON_FIELDS = ("last_name", "first_name", "middle_name", "birth_date", "gender", "address")
_PROVIDER_FIELDS = ("last_name", "first_name", "npi", "taxonomy", "tin", "address")


def person(resource: Json, member_id: str = "") -> tuple[Person, Located]:
    """A Patient or RelatedPerson as an 837 subscriber or patient (2010BA / 2010CA)."""
    kind = text(resource.get("resourceType")) or "Patient"
    index, name = human_name(resource)
    at = f"{kind}.name" if index is None else f"{kind}.name[{index}]"
    value = Person(
        text(name.get("family")),
        given(name, 0),
        fhir_date(resource.get("birthDate")),
        _GENDERS.get(text(resource.get("gender")), "U"),
        address(resource),
        member_id=member_id,
        middle_name=given(name, 1),
    )
    located = {
        "": kind,
        "last_name": f"{at}.family" if index is not None else at,
        "first_name": f"{at}.given[0]" if index is not None else at,
        "middle_name": f"{at}.given[1]" if index is not None else at,
        "birth_date": f"{kind}.birthDate",
        "gender": f"{kind}.gender",
        "address": _address_path(resource, kind),
    }
    return value, located


def provider(resource: Json, taxonomy: str = "", taxonomy_at: str = "") -> tuple[Provider, Located]:
    """An Organization or Practitioner as an 837 provider (NM1 with its NPI).

    ``taxonomy`` (a care team qualification) wins over the resource's own NUCC code.
    """
    kind = text(resource.get("resourceType"))
    if kind == "Organization":
        value, located = _organization(resource)
    else:
        value, located = _practitioner(resource, kind or "Practitioner")
    if taxonomy:
        value = Provider(
            value.last_name,
            value.npi,
            value.first_name,
            value.is_organization,
            taxonomy,
            value.tin,
            value.address,
        )
        located["taxonomy"] = taxonomy_at
    return value, located


def missing_provider(at: str) -> Located:
    """Locations of a provider the claim does not name: every field points at ``at``."""
    return {"": at, **{name: at for name in (*_PROVIDER_FIELDS, "is_organization")}}


def missing_person(at: str) -> Located:
    """Locations of a person the claim does not name."""
    return {"": at, **{name: at for name in _PERSON_FIELDS}}


def _organization(resource: Json) -> tuple[Provider, Located]:
    value = Provider(
        text(resource.get("name")),
        identifier(resource, systems.NPI),
        is_organization=True,
        taxonomy=_nucc_type(resource),
        tin=identifier(resource, systems.EIN),
        address=address(resource),
    )
    located = {
        "": "Organization",
        "last_name": "Organization.name",
        "first_name": "Organization.name",
        "is_organization": "Organization",
        "npi": where_system("Organization.identifier", systems.NPI),
        "taxonomy": "Organization.type",
        "tin": where_system("Organization.identifier", systems.EIN),
        "address": _address_path(resource, "Organization"),
    }
    return value, located


def _practitioner(resource: Json, kind: str) -> tuple[Provider, Located]:
    index, name = human_name(resource)
    at = f"{kind}.name" if index is None else f"{kind}.name[{index}]"
    taxonomy, taxonomy_at = _qualification(resource, kind)
    value = Provider(
        text(name.get("family")),
        identifier(resource, systems.NPI),
        given(name, 0),
        taxonomy=taxonomy,
        tin=identifier(resource, systems.EIN),
        address=address(resource),
    )
    located = {
        "": kind,
        "last_name": f"{at}.family" if index is not None else at,
        "first_name": f"{at}.given[0]" if index is not None else at,
        "is_organization": kind,
        "npi": where_system(f"{kind}.identifier", systems.NPI),
        "taxonomy": taxonomy_at,
        "tin": where_system(f"{kind}.identifier", systems.EIN),
        "address": _address_path(resource, kind),
    }
    return value, located


def _nucc_type(resource: Json) -> str:
    for concept in as_list(resource.get("type")):
        code = code_of(concept, systems.NUCC_TAXONOMY)
        if code:
            return code
    return ""


def _qualification(resource: Json, kind: str) -> tuple[str, str]:
    """The first NUCC taxonomy among ``Practitioner.qualification``, and where it is."""
    for index, item in enumerate(as_list(resource.get("qualification"))):
        code = code_of(as_dict(item).get("code"), systems.NUCC_TAXONOMY)
        if code:
            return code, f"{kind}.qualification[{index}].code"
    return "", f"{kind}.qualification"


def _address_path(resource: Json, kind: str) -> str:
    return f"{kind}.address[0]" if as_list(resource.get("address")) else f"{kind}.address"
