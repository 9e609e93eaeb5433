"""Build and store the FHIR Claim of an encounter from its billable ChargeItems.

In one transaction of the given (guarded, audited) FHIR context: read the encounter, its
billable ChargeItems, the patient's Coverage in force on the date of service and the billing
Organization; store the Claim (http://hl7.org/fhir/R4/claim.html); and mark each ChargeItem as
claimed by adding the Claim to its ``supportingInformation`` (R4 ChargeItem has no "billed"
status), so that building again is refused instead of billing twice. A Claim that was
cancelled or entered in error releases its ChargeItems.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from chartkeeper.billing import systems
from chartkeeper.billing.charges import claim_parts as parts
from chartkeeper.billing.charges.control import control_number_for
from chartkeeper.billing.charges.reading import (
    Resource,
    attending,
    day_of,
    ranked_diagnoses,
    read,
    read_reference,
    reference_id,
    referrer,
    search_all,
    service_day,
)
from chartkeeper.core.errors import ConflictError, InvalidError
from chartkeeper.core.ids import new_id
from chartkeeper.fhir.interactions.context import FhirContext
from chartkeeper.fhir.interactions.create import create_in
from chartkeeper.fhir.interactions.update import update_in
from chartkeeper.fhir.repository import ResourceTransaction

log = logging.getLogger(__name__)

#: Claim statuses that no longer bill their ChargeItems
RELEASED = {"cancelled", "entered-in-error"}
#: how far up Organization.partOf the billing provider (the one with an NPI) is looked for
MAX_DEPTH = 10


@dataclass
class BuiltClaim:
    """The stored Claim, and what was left off it (conditions without an ICD-10-CM code)."""

    claim: Resource
    notes: list[str] = field(default_factory=list)


def build_claim(ctx: FhirContext, encounter_id: str, today: date) -> dict[str, Any]:
    """Create the Claim of ``Encounter/encounter_id`` (see the module docstring)."""
    return build_claim_report(ctx, encounter_id, today).claim


def build_claim_report(ctx: FhirContext, encounter_id: str, today: date) -> BuiltClaim:
    """``build_claim``, with notes on what the claim could not carry."""
    with ctx.repository.transaction() as tx:
        encounter = read(tx, "Encounter", encounter_id)
        items = _unclaimed_items(ctx, tx, encounter_id)
        kind = parts.billing_of(encounter)[0]
        if kind == parts.INSTITUTIONAL and not (encounter.get("period") or {}).get("end"):
            raise InvalidError(
                f"Encounter/{encounter_id} has not ended: an inpatient claim (type of bill "
                f"{parts.TYPE_OF_BILL}) is built at discharge"
            )
        patient_id = reference_id(encounter.get("subject"), "Patient")
        if patient_id is None:
            raise InvalidError(f"Encounter/{encounter_id} has no Patient subject")
        coverage = _coverage(ctx, tx, patient_id, service_day(encounter))
        found = parts.diagnoses(ranked_diagnoses(tx, encounter))
        if not found.entries:
            raise InvalidError(
                f"Encounter/{encounter_id} has no diagnosis coded in ICD-10-CM: a claim needs one"
            )
        claim_id, number = _claim_id(ctx, tx)
        claim = _header(tx, encounter, number, coverage, today)
        _add_body(claim, encounter, found, items)
        stored, _ = create_in(ctx, tx, "Claim", claim, assigned_id=claim_id)
        for item in items:
            _mark_claimed(ctx, tx, item, claim_id)
    notes = [f"{ref} has no ICD-10-CM code: not on the claim" for ref in found.skipped]
    for note in notes:
        log.info("Claim/%s: %s", claim_id, note)
    return BuiltClaim(stored.resource(), notes)


def _header(
    tx: ResourceTransaction, encounter: Resource, number: str, coverage: Resource, today: date
) -> Resource:
    """Who bills whom for what period: everything but care team, diagnoses and lines."""
    claim: Resource = {
        "resourceType": "Claim",
        "identifier": [{"system": systems.CLAIM_NUMBER, "value": number}],
        "status": "active",
        "type": parts.concept(systems.CLAIM_TYPE, parts.billing_of(encounter)[0]),
        "use": "claim",
        "patient": dict(encounter["subject"]),
        "billablePeriod": _billable_period(encounter, service_day(encounter)),
        "created": today.isoformat(),
        "provider": _named(tx, _billing_organization(tx, encounter)),
        "priority": parts.concept(systems.PROCESS_PRIORITY, "normal"),
        "insurance": [
            {"sequence": 1, "focal": True, "coverage": {"reference": f"Coverage/{coverage['id']}"}}
        ],
    }
    insurer = reference_id(next(iter(coverage.get("payor") or []), None), "Organization")
    if insurer:
        claim["insurer"] = _named(tx, insurer)
    return claim


def _named(tx: ResourceTransaction, organization_id: str) -> Resource:
    """A reference to an Organization with its name as the display (statements show it)."""
    name = read(tx, "Organization", organization_id).get("name")
    reference: Resource = {"reference": f"Organization/{organization_id}"}
    return reference | {"display": str(name)} if name else reference


def _add_body(
    claim: Resource, encounter: Resource, found: parts.Diagnoses, items: list[Resource]
) -> None:
    """Care team, supporting information (institutional), diagnoses, lines and total."""
    kind, place, place_display = parts.billing_of(encounter)
    team = parts.care_team(kind, attending(encounter), referrer(encounter))
    shared = parts.LineContext(
        kind,
        parts.concept(systems.PLACE_OF_SERVICE, place, place_display),
        {"reference": f"Encounter/{encounter['id']}"},
        bool(team),
        found,
    )
    if team:
        claim["careTeam"] = team
    if kind == parts.INSTITUTIONAL:
        claim["supportingInfo"] = parts.supporting_info(encounter)
    claim["diagnosis"] = found.entries
    claim["item"] = [parts.line(n, item, shared) for n, item in enumerate(items, start=1)]
    claim["total"] = parts.money(sum((parts.charge_of(i) for i in items), Decimal(0)))


def claim_for_encounter(ctx: FhirContext, encounter_id: str) -> dict[str, Any] | None:
    """The Claim billing the encounter (``Claim?encounter=``): the active one when there is
    one, else the latest of the others; None when it was never billed."""
    with ctx.repository.reading() as tx:
        claims = search_all(ctx, tx, "Claim", [("encounter", f"Encounter/{encounter_id}")])
    if not claims:
        return None
    claims.sort(key=lambda c: ((c.get("meta") or {}).get("lastUpdated") or "", c["id"]))
    active = [c for c in claims if c.get("status") == "active"]
    return (active or claims)[-1]


def _unclaimed_items(
    ctx: FhirContext, tx: ResourceTransaction, encounter_id: str
) -> list[Resource]:
    """The billable ChargeItems, in occurrence order; refused when any is already claimed."""
    found = search_all(ctx, tx, "ChargeItem", [("context", f"Encounter/{encounter_id}")])
    items = [item for item in found if item.get("status") == "billable"]
    if not items:
        raise InvalidError(
            f"Encounter/{encounter_id} has no billable ChargeItems: capture its charges first"
        )
    for item in items:
        claim = _standing_claim(tx, item)
        if claim:
            raise InvalidError(
                f"Encounter/{encounter_id} is already on {claim}: ChargeItem/{item['id']} is "
                "billed there (cancel that Claim to bill the encounter again)"
            )
    items.sort(key=lambda i: (str(i.get("occurrenceDateTime") or ""), _charge_code(i), i["id"]))
    return items


def _charge_code(item: Resource) -> str:
    return str(((item.get("code") or {}).get("coding") or [{}])[-1].get("code") or "")


def _standing_claim(tx: ResourceTransaction, item: Resource) -> str | None:
    for info in item.get("supportingInformation") or []:
        claim_id = reference_id(info, "Claim")
        if claim_id is None:
            continue
        claim = read_reference(tx, info)
        if claim is not None and claim.get("status") not in RELEASED:
            return f"Claim/{claim_id}"
    return None


def _mark_claimed(ctx: FhirContext, tx: ResourceTransaction, item: Resource, claim_id: str) -> None:
    body = {key: value for key, value in item.items() if key != "meta"}
    body["supportingInformation"] = [
        *(item.get("supportingInformation") or []),
        {"reference": f"Claim/{claim_id}"},
    ]
    update_in(ctx, tx, "ChargeItem", str(item["id"]), body)


def _coverage(ctx: FhirContext, tx: ResourceTransaction, patient_id: str, day: date) -> Resource:
    """The patient's active Coverage whose period covers ``day`` (lowest ``order`` first)."""
    query = [("beneficiary", f"Patient/{patient_id}"), ("status", "active")]
    covering = [c for c in search_all(ctx, tx, "Coverage", query) if _covers(c, day)]
    if not covering:
        raise InvalidError(
            f"Patient/{patient_id} has no active Coverage on {day.isoformat()}: "
            "a claim needs the insurance it is billed to"
        )
    covering.sort(key=lambda c: (int(c.get("order") or 1_000_000), str(c["id"])))
    return covering[0]


def _covers(coverage: Resource, day: date) -> bool:
    period = coverage.get("period") or {}
    start, end = day_of(period.get("start")), day_of(period.get("end"))
    return (start is None or start <= day) and (end is None or day <= end)


def _billing_organization(tx: ResourceTransaction, encounter: Resource) -> str:
    """The serviceProvider, or the first Organization up its ``partOf`` chain with an NPI."""
    reference = encounter.get("serviceProvider")
    seen: set[str] = set()
    while (org_id := reference_id(reference, "Organization")) and org_id not in seen:
        if len(seen) >= MAX_DEPTH:
            break
        seen.add(org_id)
        organization = read(tx, "Organization", org_id)
        if any(i.get("system") == systems.NPI for i in organization.get("identifier") or []):
            return org_id
        reference = organization.get("partOf")
    raise InvalidError(
        f"Encounter/{encounter.get('id')} has no billing provider: neither its serviceProvider "
        "nor an Organization it is part of carries an NPI"
    )


def _billable_period(encounter: Resource, day: date) -> Resource:
    end = day_of((encounter.get("period") or {}).get("end")) or day
    return {"start": day.isoformat(), "end": end.isoformat()}


def _claim_id(ctx: FhirContext, tx: ResourceTransaction) -> tuple[str, str]:
    """A new Claim id whose control number no stored Claim has."""
    for _ in range(5):
        claim_id = new_id()
        number = control_number_for(claim_id)
        query = [("identifier", f"{systems.CLAIM_NUMBER}|{number}")]
        if not search_all(ctx, tx, "Claim", query):
            return claim_id, number
    raise ConflictError("Could not find an unused claim control number; retry")
