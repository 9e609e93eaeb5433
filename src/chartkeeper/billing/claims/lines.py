"""Claim.diagnosis and Claim.item as the 837's HI codes and 2400 service lines.

Diagnoses are ordered by ``sequence`` (the first is the principal, HI ABK); an item's
``diagnosisSequence`` values become pointers to positions in that order (SV107), 0 for a
sequence no diagnosis has, so the scrubber can flag it.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from chartkeeper.billing import systems
from chartkeeper.billing.claims.fhir_read import (
    Json,
    as_dict,
    as_list,
    code_of,
    decimal,
    fhir_date,
)
from chartkeeper.billing.claims.parties import Located
from chartkeeper.billing.x12.claim_model import ServiceLine


def diagnoses(claim: Json) -> tuple[tuple[str, ...], Located]:
    """ICD-10-CM codes in sequence order, and each one's location."""
    codes: list[str] = []
    located: Located = {}
    for position, index in enumerate(_diagnosis_order(claim)):
        item = as_dict(as_list(claim.get("diagnosis"))[index])
        codes.append(code_of(item.get("diagnosisCodeableConcept"), systems.ICD10CM))
        located[f"diagnosis[{position}]"] = f"Claim.diagnosis[{index}].diagnosisCodeableConcept"
    return tuple(codes), located


def service_lines(claim: Json) -> tuple[tuple[ServiceLine, ...], Located]:
    """Every item, in order, as a service line with its locations."""
    order = _diagnosis_order(claim)
    sequences = [as_dict(as_list(claim.get("diagnosis"))[i]).get("sequence") for i in order]
    lines: list[ServiceLine] = []
    located: Located = {}
    for index, item in enumerate(as_list(claim.get("item"))):
        item = as_dict(item)
        lines.append(_line(item, sequences))
        at = f"Claim.item[{index}]"
        position = len(lines) - 1
        located[f"line[{position}]"] = at
        located.update(
            {
                f"line[{position}].{name}": f"{at}.{element}"
                for name, element in _LINE_ELEMENTS.items()
            }
        )
        if "net" not in item and "unitPrice" in item:
            located[f"line[{position}].charge"] = f"{at}.unitPrice"
        if "servicedDate" not in item and "servicedPeriod" in item:
            located[f"line[{position}].service_date"] = f"{at}.servicedPeriod.start"
    return tuple(lines), located


_LINE_ELEMENTS = {
    "procedure_code": "productOrService",
    "modifiers": "modifier",
    "units": "quantity",
    "charge": "net",
    "service_date": "servicedDate",
    "diagnosis_pointers": "diagnosisSequence",
    "revenue_code": "revenue",
}


def _line(item: Json, sequences: list[object]) -> ServiceLine:
    units = decimal(as_dict(item.get("quantity")).get("value"))
    units = Decimal(1) if units is None else units
    return ServiceLine(
        code_of(item.get("productOrService"), systems.HCPCS, systems.CPT),
        _charge(item, units),
        units,
        _served(item),
        tuple(code for code in (code_of(m) for m in as_list(item.get("modifier"))) if code),
        tuple(_pointer(s, sequences) for s in as_list(item.get("diagnosisSequence"))),
        code_of(item.get("revenue"), systems.REVENUE_CODE) or code_of(item.get("revenue")),
    )


def _charge(item: Json, units: Decimal) -> Decimal:
    """``net``, else ``unitPrice`` times quantity, else 0 (the scrubber flags a zero charge)."""
    net = decimal(as_dict(item.get("net")).get("value"))
    if net is not None:
        return net
    price = decimal(as_dict(item.get("unitPrice")).get("value"))
    return price * units if price is not None else Decimal(0)


def _served(item: Json) -> date | None:
    served = fhir_date(item.get("servicedDate"))
    if served is None:
        served = fhir_date(as_dict(item.get("servicedPeriod")).get("start"))
    return served


def _pointer(sequence: object, sequences: list[object]) -> int:
    return sequences.index(sequence) + 1 if sequence in sequences else 0


def _diagnosis_order(claim: Json) -> list[int]:
    """Indexes of ``Claim.diagnosis`` sorted by sequence (missing sequences last, stable)."""
    items = as_list(claim.get("diagnosis"))

    def key(index: int) -> tuple[int, int]:
        sequence = as_dict(items[index]).get("sequence")
        return (sequence if isinstance(sequence, int) else 1 << 30, index)

    return sorted((i for i in range(len(items)) if isinstance(items[i], dict)), key=key)
