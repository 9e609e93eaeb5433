"""Charge capture: an encounter's services, priced by the CDM, as FHIR ChargeItems.

What was done is read from the chart: the Encounter (its class and types) and the completed
Procedures of the encounter (``Procedure?encounter=``). Each service's codes are looked up in
the CDM version in force on the date of service; every row found becomes one ChargeItem
(http://hl7.org/fhir/R4/chargeitem.html), status ``billable``, coded with the HCPCS code billed
and the CDM charge code. Room and board rows (accommodation revenue codes) are one item whose
quantity is the days of the stay. Each item carries an identifier naming its source and charge
code, so capturing an encounter again creates only what is missing and never charges twice.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from chartkeeper.billing import systems
from chartkeeper.billing.charges.master import CdmRow, ChargeMasterSource
from chartkeeper.billing.charges.reading import (
    Resource,
    attending,
    codings,
    day_of,
    ranked_diagnoses,
    read,
    read_reference,
    reference_id,
    search_all,
    service_day,
)
from chartkeeper.billing.systems import CDM_SYSTEM, CHARGE_SOURCE, REVENUE_EXTENSION
from chartkeeper.core.errors import InvalidError
from chartkeeper.fhir.interactions.context import FhirContext
from chartkeeper.fhir.interactions.create import create_in
from chartkeeper.fhir.repository import ResourceTransaction

#: Encounter statuses of visits that did not take place: nothing to charge
NOT_HELD = {"planned", "arrived", "triaged", "cancelled", "entered-in-error"}


@dataclass(frozen=True, slots=True)
class UnmatchedService:
    """A service that produced no charge, and why (no CDM row, not completed...)."""

    source: str
    codes: tuple[str, ...]
    reason: str


@dataclass
class CaptureResult:
    """What capture did: items it created, items already there, services left uncharged."""

    encounter_id: str
    cdm_version: str
    created: list[Resource] = field(default_factory=list)
    existing: list[Resource] = field(default_factory=list)
    unmatched: list[UnmatchedService] = field(default_factory=list)

    @property
    def items(self) -> list[Resource]:
        """Every ChargeItem of the encounter: existing ones first, then the new ones."""
        return [*self.existing, *self.created]


@dataclass(frozen=True, slots=True)
class _Service:
    """One thing done, with what its charges need from the chart."""

    source: str
    codes: tuple[tuple[str, str], ...]
    occurrence: str
    performer: Resource | None
    reasons: tuple[Resource, ...]
    from_procedure: bool


def capture_encounter(
    ctx: FhirContext, encounter_id: str, cdm: ChargeMasterSource, today: date
) -> CaptureResult:
    """Create the ChargeItems of ``Encounter/encounter_id`` that do not exist yet, in one
    transaction; ``cdm`` gives the CDM version in force on the date of service."""
    with ctx.repository.transaction() as tx:
        encounter = read(tx, "Encounter", encounter_id)
        status = str(encounter.get("status") or "")
        if status in NOT_HELD:
            raise InvalidError(
                f"Encounter/{encounter_id} is {status}: only encounters that took place are charged"
            )
        day = service_day(encounter)
        master = cdm.on(day)
        if master is None:
            raise InvalidError(
                f"No charge description master is loaded for {day.isoformat()}: "
                "load one with 'chartkeeper codes load cdm FILE'"
            )
        result = CaptureResult(encounter_id, master.version)
        context = [("context", f"Encounter/{encounter_id}")]
        result.existing = search_all(ctx, tx, "ChargeItem", context)
        have = {_source_key(item) for item in result.existing}
        for service in _services(ctx, tx, encounter, result):
            rows = _rows(master.rows_for, service)
            if not rows:
                codes = tuple(f"{s}|{c}" for s, c in service.codes)
                result.unmatched.append(UnmatchedService(service.source, codes, "no CDM row"))
            for row in rows:
                if f"{service.source}#{row.charge_code}" in have:
                    continue
                item = _charge_item(encounter, service, row, today, result)
                if item is not None:
                    stored, _ = create_in(ctx, tx, "ChargeItem", item)
                    result.created.append(stored.resource())
    return result


def _source_key(item: Resource) -> str | None:
    for identifier in item.get("identifier") or []:
        if identifier.get("system") == CHARGE_SOURCE:
            return str(identifier.get("value"))
    return None


def _rows(rows_for: Any, service: _Service) -> list[CdmRow]:
    found: dict[str, CdmRow] = {}
    for system, code in service.codes:
        for row in rows_for(system, code):
            found.setdefault(row.charge_code, row)
    return list(found.values())


def _services(
    ctx: FhirContext, tx: ResourceTransaction, encounter: Resource, result: CaptureResult
) -> list[_Service]:
    diagnoses = tuple(c.get("code") or {} for c in ranked_diagnoses(tx, encounter))
    klass = encounter.get("class") or {}
    codes = [(str(klass.get("system")), str(klass.get("code")))] if klass.get("code") else []
    codes += [
        (str(c.get("system")), str(c.get("code")))
        for concept in encounter.get("type") or []
        for c in codings(concept)
    ]
    start = str((encounter.get("period") or {}).get("start"))
    services = [
        _Service(
            f"Encounter/{encounter['id']}",
            tuple(codes),
            start,
            attending(encounter),
            diagnoses,
            False,
        )
    ]
    encounter_ref = [("encounter", f"Encounter/{encounter['id']}")]
    for procedure in search_all(ctx, tx, "Procedure", encounter_ref):
        source = f"Procedure/{procedure['id']}"
        if procedure.get("status") != "completed":
            why = f"status is {procedure.get('status')}: only completed procedures are charged"
            result.unmatched.append(UnmatchedService(source, (), why))
            continue
        services.append(_procedure_service(tx, encounter, procedure, start, diagnoses))
    return services


def _procedure_service(
    tx: ResourceTransaction,
    encounter: Resource,
    procedure: Resource,
    start: str,
    diagnoses: tuple[Resource, ...],
) -> _Service:
    codes = tuple(
        (str(c.get("system")), str(c.get("code"))) for c in codings(procedure.get("code"))
    )
    performed = procedure.get("performedDateTime") or (procedure.get("performedPeriod") or {}).get(
        "start"
    )
    performer = next(
        (
            dict(p["actor"])
            for p in procedure.get("performer") or []
            if reference_id(p.get("actor"), "Practitioner")
        ),
        attending(encounter),
    )
    reasons = [
        (read_reference(tx, ref) or {}).get("code")
        for ref in procedure.get("reasonReference") or []
    ]
    reasons += procedure.get("reasonCode") or []
    found = tuple(r for r in reasons if r) or diagnoses
    return _Service(
        f"Procedure/{procedure['id']}", codes, str(performed or start), performer, found, True
    )


def _stay_days(encounter: Resource) -> int | None:
    period = encounter.get("period") or {}
    start, end = day_of(period.get("start")), day_of(period.get("end"))
    if start is None or end is None:
        return None
    return max((end - start).days, 1)


def _charge_item(
    encounter: Resource, service: _Service, row: CdmRow, today: date, result: CaptureResult
) -> Resource | None:
    quantity = row.units
    if row.per_day:
        days = _stay_days(encounter)
        if days is None:
            why = f"{row.charge_code} is charged per day, at discharge: the stay has not ended"
            result.unmatched.append(UnmatchedService(service.source, (), why))
            return None
        quantity *= days
    item: Resource = {
        "resourceType": "ChargeItem",
        "identifier": [{"system": CHARGE_SOURCE, "value": f"{service.source}#{row.charge_code}"}],
        "status": "billable",
        "code": _code(row),
        "subject": dict(encounter["subject"]),
        "context": {"reference": f"Encounter/{encounter['id']}"},
        "occurrenceDateTime": service.occurrence,
        "quantity": {"value": quantity},
        "priceOverride": {"value": _money(row.amount * quantity), "currency": "USD"},
        "enteredDate": today.isoformat(),
    }
    if service.performer:
        item["performer"] = [{"actor": service.performer}]
    if encounter.get("serviceProvider"):
        item["performingOrganization"] = dict(encounter["serviceProvider"])
    if service.reasons:
        item["reason"] = [dict(reason) for reason in service.reasons]
    if service.from_procedure:
        item["service"] = [{"reference": service.source}]
    extensions: list[Resource] = [
        {"url": systems.MODIFIER_EXTENSION, "valueCode": m} for m in row.modifiers
    ]
    if row.revenue_code:
        revenue = {"coding": [{"system": systems.REVENUE_CODE, "code": row.revenue_code}]}
        extensions.append({"url": REVENUE_EXTENSION, "valueCodeableConcept": revenue})
    if extensions:
        item["extension"] = extensions
    return item


def _code(row: CdmRow) -> Resource:
    cdm = {"system": CDM_SYSTEM, "code": row.charge_code, "display": row.description}
    coding = [{"system": systems.HCPCS, "code": row.hcpcs}, cdm] if row.hcpcs else [cdm]
    return {"coding": coding, "text": row.description}


def _money(amount: Decimal) -> float:
    """A dollar amount as a JSON number (exact for whole cents)."""
    return float(amount.quantize(Decimal("0.01")))
