"""Write 835 remittance advice (005010X221A1) from the pure remittance model.

For tests, the demo's simulated payer and the posting benchmark: chartkeeper receives 835s,
it never pays claims. Loops follow the TR3: header (BPR, TRN, DTM*405), 1000A payer (N1*PR,
N3, N4, PER*BL), 1000B payee (N1*PE), 2000 header number (LX), 2100 claim payment (CLP, CAS,
NM1*QC, DTM*232/233), 2110 service payment (SVC, DTM*472, CAS, LQ*HE) and the PLB summary.

What `parse_835` reads back gives the same `Remittance` when each claim's and line's
adjustments are listed group by group (CAS segments are written one per group code, in the
order the groups first appear, six adjustments at most per segment). What the model does not
carry (payer address, bank details, patient names, statement dates) comes from the optional
`PayerDetails` and `PatientDetails` arguments.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

from chartkeeper.billing.x12.claim_model import Address
from chartkeeper.billing.x12.envelope import (
    ControlNumbers,
    Envelope,
    SegmentSpec,
    amount,
    d8,
    gs_segment,
    isa_segment,
    wrap_transaction,
)
from chartkeeper.billing.x12.parse835 import (
    Adjustment,
    ClaimPayment,
    ProviderAdjustment,
    Remittance,
    ServicePayment,
)
from chartkeeper.billing.x12.segments import DEFAULT_SEPARATORS, Separators, write_segments
from chartkeeper.core.errors import InvalidError

VERSION = "005010X221A1"
#: BPR04 payment methods that move money electronically and so need the bank elements.
_ELECTRONIC = {"ACH", "BOP", "FWT"}


#: The simulated payer's address (synthetic).
SIMULATED_PAYER_ADDRESS = Address("1 SIMULATED PAYER WAY", "SPRINGFIELD", "IL", "62701")


@dataclass(frozen=True)
class PayerDetails:
    """What a payer writes that the model does not keep: its address, contact and bank.

    The defaults describe chartkeeper's simulated payer (synthetic values).
    """

    address: Address = SIMULATED_PAYER_ADDRESS
    contact_name: str = "PROVIDER SERVICES"
    phone: str = "8005550100"
    #: TRN03 and BPR10: "1" followed by the payer's EIN
    company_id: str = "1999999999"
    sender_routing: str = "999999999"
    sender_account: str = "000111222"
    receiver_routing: str = "999999998"
    receiver_account: str = "000333444"


@dataclass(frozen=True)
class PatientDetails:
    """The 2100 NM1*QC patient of one claim payment, and its statement period (DTM*232/233)."""

    last_name: str = ""
    first_name: str = ""
    member_id: str = ""
    statement_from: date | None = None
    statement_to: date | None = None


def write_835(
    remittances: Sequence[Remittance],
    control: ControlNumbers,
    envelope: Envelope,
    *,
    payer: PayerDetails | None = None,
    patients: Mapping[str, PatientDetails] | None = None,
    separators: Separators = DEFAULT_SEPARATORS,
) -> str:
    """One interchange with one HP group holding an ST/SE transaction per remittance.

    ``patients`` is keyed by CLP01 (the patient control number); a claim without an entry gets
    an NM1*QC without a name.
    """
    details = payer or PayerDetails()
    known = patients or {}
    isa_number = control.next_interchange()
    gs_number = control.next_group()
    segments: list[SegmentSpec] = [
        isa_segment(envelope, isa_number, separators.repetition, separators.component),
        gs_segment(envelope, gs_number, VERSION, "HP"),
    ]
    for remittance in remittances:
        body = transaction_body(remittance, envelope.created.date(), details, known)
        segments.extend(wrap_transaction("835", control.next_transaction(), VERSION, body))
    segments.append(("GE", (str(len(remittances)), str(gs_number))))
    segments.append(("IEA", ("1", f"{isa_number:09d}")))
    return write_segments(segments, separators)


def transaction_body(
    remittance: Remittance,
    produced: date,
    payer: PayerDetails,
    patients: Mapping[str, PatientDetails],
) -> list[SegmentSpec]:
    """The segments between ST and SE of one remittance."""
    if not remittance.payee_id:
        raise InvalidError("an 835 needs the payee's identifier (N1*PE N104)")
    out: list[SegmentSpec] = [
        _bpr(remittance, payer, produced),
        ("TRN", ("1", remittance.trace_number, payer.company_id)),
        ("DTM", ("405", d8(produced))),
        *_payer_loop(remittance, payer),
        *_payee_loop(remittance),
    ]
    if remittance.claims:
        out.append(("LX", ("1",)))
    for claim in remittance.claims:
        _claim(out, claim, patients.get(claim.claim_id, PatientDetails()))
    out.extend(_plb(remittance.provider_adjustments, produced))
    return out


def _bpr(remittance: Remittance, payer: PayerDetails, produced: date) -> SegmentSpec:
    """BPR: payment amount and method; ACH/BOP/FWT also carry the two bank accounts."""
    when = d8(remittance.payment_date or produced)
    head = (remittance.handling_code, amount(remittance.amount), "C", remittance.payment_method)
    if remittance.payment_method not in _ELECTRONIC:
        return ("BPR", (*head, *[""] * 11, when))
    bank = (
        "CCP",
        "01",
        payer.sender_routing,
        "DA",
        payer.sender_account,
        payer.company_id,
        "",
        "01",
        payer.receiver_routing,
        "DA",
        payer.receiver_account,
    )
    return ("BPR", (*head, *bank, when))


def _payer_loop(remittance: Remittance, payer: PayerDetails) -> list[SegmentSpec]:
    """1000A: N1*PR (N103 XV with the payer id when there is one), N3, N4, PER*BL."""
    ident = ("XV", remittance.payer_id) if remittance.payer_id else ()
    address = payer.address
    return [
        ("N1", ("PR", remittance.payer_name, *ident)),
        ("N3", (address.line1, address.line2)),
        ("N4", (address.city, address.state, address.postal_code)),
        ("PER", ("BL", payer.contact_name, "TE", payer.phone)),
    ]


def _payee_loop(remittance: Remittance) -> list[SegmentSpec]:
    """1000B: N1*PE with the NPI (XX) when the id is 10 digits, else the TIN (FI)."""
    payee_id = remittance.payee_id
    qualifier = "XX" if len(payee_id) == 10 and payee_id.isdigit() else "FI"
    return [("N1", ("PE", remittance.payee_name, qualifier, payee_id))]


def _claim(out: list[SegmentSpec], claim: ClaimPayment, patient: PatientDetails) -> None:
    """2100 and its 2110 service lines."""
    clp = (
        claim.claim_id,
        claim.status,
        amount(claim.charge),
        amount(claim.paid),
        amount(claim.patient_responsibility) if claim.patient_responsibility else "",
        claim.filing_indicator or "12",
        claim.payer_claim_id,
    )
    out.append(("CLP", clp))
    out.extend(_cas(claim.adjustments))
    name = ("QC", "1", patient.last_name, patient.first_name, "", "", "")
    member = ("MI", patient.member_id) if patient.member_id else ()
    out.append(("NM1", (*name, *member)))
    if patient.statement_from is not None:
        out.append(("DTM", ("232", d8(patient.statement_from))))
    if patient.statement_to is not None:
        out.append(("DTM", ("233", d8(patient.statement_to))))
    for service in claim.services:
        _service(out, service)


def _service(out: list[SegmentSpec], service: ServicePayment) -> None:
    units = amount(service.units) if service.units is not None else ""
    svc = (
        tuple(service.procedure),
        amount(service.charge),
        amount(service.paid),
        service.revenue_code,
        units,
    )
    out.append(("SVC", svc))
    if service.service_date is not None:
        out.append(("DTM", ("472", d8(service.service_date))))
    out.extend(_cas(service.adjustments))
    out.extend(("LQ", ("HE", remark)) for remark in service.remarks)


def _cas(adjustments: Sequence[Adjustment]) -> list[SegmentSpec]:
    """One CAS per group code (first-appearance order), six reason trios per segment."""
    groups: dict[str, list[Adjustment]] = {}
    for adjustment in adjustments:
        groups.setdefault(adjustment.group, []).append(adjustment)
    out: list[SegmentSpec] = []
    for group, items in groups.items():
        for start in range(0, len(items), 6):
            elements: list[str] = [group]
            for item in items[start : start + 6]:
                quantity = amount(item.quantity) if item.quantity is not None else ""
                elements.extend((item.reason, amount(item.amount), quantity))
            out.append(("CAS", tuple(elements)))
    return out


def _plb(adjustments: Sequence[ProviderAdjustment], produced: date) -> list[SegmentSpec]:
    """PLB segments: consecutive adjustments of one provider and date share one (six at most)."""
    out: list[SegmentSpec] = []
    run: list[ProviderAdjustment] = []
    for item in (*adjustments, None):
        if run and (
            item is None
            or len(run) == 6
            or (item.provider_id, item.fiscal_date) != (run[0].provider_id, run[0].fiscal_date)
        ):
            pairs: list[str | tuple[str, ...]] = []
            for entry in run:
                reason = (entry.reason, entry.reference) if entry.reference else entry.reason
                pairs.extend((reason, amount(entry.amount)))
            fiscal = d8(run[0].fiscal_date or produced)
            out.append(("PLB", (run[0].provider_id, fiscal, *pairs)))
            run = []
        if item is not None:
            run.append(item)
    return out
