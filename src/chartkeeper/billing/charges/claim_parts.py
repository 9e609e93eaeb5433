"""The parts of a FHIR Claim built from an encounter: care team, diagnoses, supporting
information (institutional) and the lines made from its ChargeItems.

Shapes follow R4 Claim (http://hl7.org/fhir/R4/claim.html) with the codes of the CARIN Blue
Button IG (supporting information categories, care team roles, diagnosis types) and NUBC
(type of bill, admission type, point of origin, discharge status, revenue codes).
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from chartkeeper.billing import systems
from chartkeeper.billing.charges.reading import Resource, code_in, codings, day_of
from chartkeeper.billing.systems import C4BB_DIAGNOSIS_TYPE, CDM_SYSTEM, REVENUE_EXTENSION
from chartkeeper.core.errors import InvalidError

#: CARIN BB diagnosis types that ex-diagnosistype lacks ("secondary")
PROFESSIONAL, INSTITUTIONAL = "professional", "institutional"
#: Encounter class → (claim type, place of service)
CLASS_BILLING = {
    "AMB": (PROFESSIONAL, "11", "Office"),
    "EMER": (PROFESSIONAL, "23", "Emergency Room - Hospital"),
    "IMP": (INSTITUTIONAL, "21", "Inpatient Hospital"),
}
TYPE_OF_BILL = "0111"  # hospital inpatient, admit through discharge
#: Encounter.hospitalization.admitSource → (NUBC priority of admission, point of origin)
ADMISSION = {
    "emd": ("1", "1"),  # emergency; came from home (code 7 "emergency room" retired 2010)
    "hosp-trans": ("2", "4"),  # urgent; transfer from a hospital
    "psych": ("2", "4"),
    "rehab": ("3", "D"),  # from a distinct unit of the same hospital
    "nursing": ("3", "5"),  # from a skilled nursing facility
    "outp": ("3", "2"),  # elective; clinic or physician's office
    "gp": ("3", "2"),
    "mp": ("3", "2"),
    "born": ("4", "5"),  # newborn; born inside this hospital (newborn code 5)
}
#: Encounter.hospitalization.dischargeDisposition → NUBC patient discharge status
DISCHARGE = {
    "home": "01",
    "alt-home": "01",
    "hosp": "02",
    "snf": "03",
    "other-hcf": "05",
    "aadvice": "07",
    "exp": "20",
    "rehab": "62",
    "long": "63",
    "psy": "65",
    "oth": "70",
}
MAX_POINTERS = 4  # diagnosis pointers on an 837P line (SV107)


def concept(system: str, code: str, display: str | None = None) -> Resource:
    """A CodeableConcept of one coding."""
    coding = {"system": system, "code": code}
    return {"coding": [coding | {"display": display}] if display else [coding]}


def billing_of(encounter: Resource) -> tuple[str, str, str]:
    """(claim type, place of service code, its display) for the encounter's class."""
    code = str((encounter.get("class") or {}).get("code") or "")
    if code not in CLASS_BILLING:
        raise InvalidError(
            f"Encounter/{encounter.get('id')} has class '{code}': only AMB and EMER "
            "(professional) and IMP (institutional) encounters are billed"
        )
    return CLASS_BILLING[code]


def care_team(kind: str, attending: Resource | None, referrer: Resource | None) -> list[Resource]:
    """Sequence 1 the rendering (837P) or attending (837I) provider; then the referrer."""
    team = []
    if attending:
        role = "rendering" if kind == PROFESSIONAL else "attending"
        team.append({"provider": attending, "role": concept(systems.CARE_TEAM_ROLE, role)})
    if referrer:
        team.append({"provider": referrer, "role": concept(systems.CARE_TEAM_ROLE, "referring")})
    return [{"sequence": n, **member} for n, member in enumerate(team, start=1)]


@dataclass
class Diagnoses:
    """The claim's diagnoses, and the conditions left off for want of an ICD-10-CM code."""

    entries: list[Resource]
    by_code: dict[str, int]
    skipped: list[str]


def diagnoses(conditions: list[Resource]) -> Diagnoses:
    """Conditions in rank order → ICD-10-CM diagnoses; the first kept is the principal."""
    found = Diagnoses([], {}, [])
    for condition in conditions:
        coding = next(
            (c for c in codings(condition.get("code")) if c.get("system") == systems.ICD10CM),
            None,
        )
        if coding is None or not coding.get("code"):
            found.skipped.append(f"Condition/{condition.get('id')}")
            continue
        code = str(coding["code"])
        if code in found.by_code:
            continue
        sequence = len(found.entries) + 1
        kind = (
            concept(systems.DIAGNOSIS_TYPE, "principal")
            if sequence == 1
            else concept(C4BB_DIAGNOSIS_TYPE, "secondary")
        )
        icd = {"system": systems.ICD10CM, "code": code}
        if coding.get("display"):
            icd["display"] = str(coding["display"])
        found.entries.append(
            {"sequence": sequence, "diagnosisCodeableConcept": {"coding": [icd]}, "type": [kind]}
        )
        found.by_code[code] = sequence
    return found


def supporting_info(encounter: Resource) -> list[Resource]:
    """Type of bill, admission type, point of origin, discharge status, admission period."""
    stay = encounter.get("hospitalization") or {}
    source = _first_code(stay.get("admitSource"))
    admit_type, origin = ADMISSION.get(source or "", ("3", "1"))
    if _first_code(encounter.get("priority")) in {"EM", "S"}:
        admit_type = "1"
    discharge = DISCHARGE.get(_first_code(stay.get("dischargeDisposition")) or "home", "01")
    period = encounter.get("period") or {}
    info = [
        _info("typeofbill", concept(systems.TYPE_OF_BILL, TYPE_OF_BILL)),
        _info("admtype", concept(systems.ADMIT_TYPE, admit_type)),
        _info("pointoforigin", concept(systems.POINT_OF_ORIGIN, origin)),
        _info("discharge-status", concept(systems.DISCHARGE_STATUS, discharge)),
        {
            "category": concept(systems.SUPPORTING_INFO, "admissionperiod"),
            "timingPeriod": {"start": period.get("start"), "end": period.get("end")},
        },
    ]
    return [{"sequence": n, **entry} for n, entry in enumerate(info, start=1)]


def _info(category: str, code: Resource) -> Resource:
    return {"category": concept(systems.SUPPORTING_INFO, category), "code": code}


def _first_code(value: Any) -> str | None:
    for coding in codings(value):
        if coding.get("code"):
            return str(coding["code"])
    return None


def money(amount: Decimal) -> Resource:
    """Money in US dollars (a JSON number, exact for whole cents)."""
    return {"value": float(amount.quantize(Decimal("0.01"))), "currency": "USD"}


def charge_of(item: Resource) -> Decimal:
    """ChargeItem.priceOverride as Decimal dollars."""
    return Decimal(str((item.get("priceOverride") or {}).get("value", 0))).quantize(Decimal("0.01"))


@dataclass(frozen=True)
class LineContext:
    """What every line of one claim shares."""

    kind: str
    place: Resource
    encounter_ref: Resource
    has_care_team: bool
    diagnoses: Diagnoses


def line(sequence: int, item: Resource, shared: LineContext) -> Resource:
    """One Claim.item from one ChargeItem."""
    quantity = Decimal(str((item.get("quantity") or {}).get("value", 1)))
    net = charge_of(item)
    out: Resource = {"sequence": sequence}
    if shared.has_care_team:
        out["careTeamSequence"] = [1]
    if shared.kind == PROFESSIONAL:
        out["diagnosisSequence"] = _pointers(item, shared.diagnoses)
    out["productOrService"] = _product(item, shared.kind)
    modifiers = [
        concept(systems.HCPCS, str(e["valueCode"]))
        for e in item.get("extension") or []
        if e.get("url") == systems.MODIFIER_EXTENSION and e.get("valueCode")
    ]
    if modifiers:
        out["modifier"] = modifiers
    if shared.kind == INSTITUTIONAL:
        out["revenue"] = _revenue(item)
    serviced = day_of(item.get("occurrenceDateTime"))
    if serviced:
        out["servicedDate"] = serviced.isoformat()
    out["locationCodeableConcept"] = shared.place
    out["quantity"] = {"value": _number(quantity)}
    out["unitPrice"] = money(net / quantity if quantity else net)
    out["net"] = money(net)
    out["encounter"] = [shared.encounter_ref]
    return out


def _number(value: Decimal) -> int | float:
    return int(value) if value == value.to_integral_value() else float(value)


def _pointers(item: Resource, found: Diagnoses) -> list[int]:
    pointers = [1] if found.entries else []
    for reason in item.get("reason") or []:
        sequence = found.by_code.get(code_in(reason, systems.ICD10CM) or "")
        if sequence and sequence not in pointers:
            pointers.append(sequence)
    return pointers[:MAX_POINTERS]


def _product(item: Resource, kind: str) -> Resource:
    hcpcs = code_in(item.get("code"), systems.HCPCS)
    if hcpcs:
        # the charge master's description, for people reading the claim (and the statement)
        product = concept(systems.HCPCS, hcpcs)
        text = str((item.get("code") or {}).get("text") or "")
        return product | {"text": text} if text else product
    if kind == PROFESSIONAL:
        raise InvalidError(
            f"ChargeItem/{item.get('id')} has no HCPCS code: a professional claim line needs one"
        )
    cdm = code_in(item.get("code"), CDM_SYSTEM) or ""
    return {"coding": [{"system": CDM_SYSTEM, "code": cdm}], "text": item["code"].get("text", cdm)}


def _revenue(item: Resource) -> Resource:
    for extension in item.get("extension") or []:
        if extension.get("url") == REVENUE_EXTENSION:
            code = code_in(extension.get("valueCodeableConcept"), systems.REVENUE_CODE)
            if code:
                return concept(systems.REVENUE_CODE, code)
    raise InvalidError(
        f"ChargeItem/{item.get('id')} has no revenue code: an institutional claim line needs one"
    )
