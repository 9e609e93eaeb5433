"""Parse 835 remittance advice (005010X221A1) into a pure remittance model.

Loops read: header (BPR payment, TRN trace), 1000A payer and 1000B payee (N1), 2100 claim
payment (CLP, CAS), 2110 service payment (SVC, DTM, CAS, LQ), and the PLB provider
adjustments of the summary. Other segments are skipped. Posting is left to the caller: this
module only reads, so a file that fails never leaves anything half posted.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date
from decimal import Decimal

from chartkeeper.billing.x12.segments import (
    Segment,
    Transaction,
    date_value,
    number_element,
    read_interchanges,
    x12_error,
)


@dataclass(frozen=True)
class Adjustment:
    """One CAS adjustment: group (CO, PR, OA, PI, CR), CARC reason code and amount."""

    group: str
    reason: str
    amount: Decimal
    quantity: Decimal | None = None


@dataclass(frozen=True)
class ServicePayment:
    """A 2110 SVC line with its adjustments and RARC remark codes (LQ*HE)."""

    procedure: tuple[str, ...]
    charge: Decimal
    paid: Decimal
    revenue_code: str = ""
    units: Decimal | None = None
    service_date: date | None = None
    adjustments: tuple[Adjustment, ...] = ()
    remarks: tuple[str, ...] = ()


@dataclass(frozen=True)
class ClaimPayment:
    """A 2100 CLP claim: status, charge, paid, patient responsibility and adjustments."""

    claim_id: str
    status: str
    charge: Decimal
    paid: Decimal
    patient_responsibility: Decimal
    filing_indicator: str = ""
    payer_claim_id: str = ""
    adjustments: tuple[Adjustment, ...] = ()
    services: tuple[ServicePayment, ...] = ()


@dataclass(frozen=True)
class ProviderAdjustment:
    """One PLB adjustment: provider, fiscal period date, reason, reference and amount."""

    provider_id: str
    fiscal_date: date | None
    reason: str
    reference: str
    amount: Decimal


@dataclass(frozen=True)
class Remittance:
    """One 835 transaction: the payment, who paid whom, the claims and provider adjustments."""

    handling_code: str
    amount: Decimal
    payment_method: str
    payment_date: date | None
    trace_number: str
    payer_name: str = ""
    payer_id: str = ""
    payee_name: str = ""
    payee_id: str = ""
    claims: tuple[ClaimPayment, ...] = ()
    provider_adjustments: tuple[ProviderAdjustment, ...] = ()

    @property
    def is_balanced(self) -> bool:
        """BPR02 equals the claim payments less the provider adjustments (TR3 1.10.2.1)."""
        paid = sum((c.paid for c in self.claims), Decimal(0))
        adjusted = sum((p.amount for p in self.provider_adjustments), Decimal(0))
        return paid - adjusted == self.amount


def parse_835(text: str, *, strict_counts: bool = True) -> list[Remittance]:
    """Every 835 transaction in ``text``, read after its envelopes are checked."""
    remittances: list[Remittance] = []
    for interchange in read_interchanges(text, strict_counts=strict_counts):
        for group in interchange.groups:
            remittances.extend(parse_remittance(t) for t in group.transactions)
    return remittances


def parse_remittance(transaction: Transaction) -> Remittance:
    """One ST/SE 835 transaction set."""
    st = transaction.st
    if st.get(1) != "835":
        raise x12_error("ST", st.position, f"not an 835: {st.get(1)}")
    reader = _Reader()
    for seg in transaction.body:
        handler = _HANDLERS.get(seg.id)
        if handler is not None:
            handler(reader, seg)
    return reader.finish(st)


@dataclass
class _Reader:
    remittance: Remittance | None = None
    claims: list[ClaimPayment] = field(default_factory=list)
    claim: ClaimPayment | None = None
    services: list[ServicePayment] = field(default_factory=list)
    plb: list[ProviderAdjustment] = field(default_factory=list)

    def close_claim(self) -> None:
        if self.claim is not None:
            self.claims.append(replace(self.claim, services=tuple(self.services)))
        self.claim, self.services = None, []

    def finish(self, st: Segment) -> Remittance:
        self.close_claim()
        if self.remittance is None:
            raise x12_error("BPR", st.position + 1, "required BPR segment is missing")
        return replace(
            self.remittance, claims=tuple(self.claims), provider_adjustments=tuple(self.plb)
        )

    def header(self, seg: Segment) -> Remittance:
        if self.remittance is None:
            raise x12_error(seg.id, seg.position, "segment before the required BPR")
        return self.remittance


def _bpr(r: _Reader, seg: Segment) -> None:
    r.remittance = Remittance(
        seg.get(1), number_element(seg, 2), seg.get(4), _date(seg, seg.get(16)), trace_number=""
    )


def _trn(r: _Reader, seg: Segment) -> None:
    r.remittance = replace(r.header(seg), trace_number=seg.get(2))


def _n1(r: _Reader, seg: Segment) -> None:
    if seg.get(1) == "PR":
        r.remittance = replace(r.header(seg), payer_name=seg.get(2), payer_id=seg.get(4))
    elif seg.get(1) == "PE":
        r.remittance = replace(r.header(seg), payee_name=seg.get(2), payee_id=seg.get(4))


def _clp(r: _Reader, seg: Segment) -> None:
    r.close_claim()
    r.claim = ClaimPayment(
        seg.get(1),
        seg.get(2),
        number_element(seg, 3),
        number_element(seg, 4),
        number_element(seg, 5),
        filing_indicator=seg.get(6),
        payer_claim_id=seg.get(7),
    )


def _cas(r: _Reader, seg: Segment) -> None:
    found = tuple(_adjustments(seg))
    if r.services:
        last = r.services[-1]
        r.services[-1] = replace(last, adjustments=last.adjustments + found)
    elif r.claim is not None:
        r.claim = replace(r.claim, adjustments=r.claim.adjustments + found)
    else:
        raise x12_error(seg.id, seg.position, "CAS outside a claim payment (2100)")


def _adjustments(seg: Segment) -> list[Adjustment]:
    out = []
    for start in range(2, 20, 3):
        reason = seg.get(start)
        if not reason:
            continue
        quantity = number_element(seg, start + 2) if seg.get(start + 2) else None
        out.append(Adjustment(seg.get(1), reason, number_element(seg, start + 1), quantity))
    return out


def _svc(r: _Reader, seg: Segment) -> None:
    if r.claim is None:
        raise x12_error(seg.id, seg.position, "SVC outside a claim payment (2100)")
    units = number_element(seg, 5) if seg.get(5) else None
    procedure = tuple(seg.components(1))
    service = ServicePayment(
        procedure, number_element(seg, 2), number_element(seg, 3), seg.get(4), units
    )
    r.services.append(service)


def _dtm(r: _Reader, seg: Segment) -> None:
    if r.services and seg.get(1) in ("472", "150") and r.services[-1].service_date is None:
        r.services[-1] = replace(r.services[-1], service_date=_date(seg, seg.get(2)))


def _lq(r: _Reader, seg: Segment) -> None:
    if r.services and seg.get(1) == "HE":
        last = r.services[-1]
        r.services[-1] = replace(last, remarks=(*last.remarks, seg.get(2)))


def _plb(r: _Reader, seg: Segment) -> None:
    r.close_claim()
    fiscal = _date(seg, seg.get(2))
    for start in range(3, 15, 2):
        if not seg.get(start):
            continue
        reason, _, reference = seg.get(start).partition(seg.component_separator)
        amount = number_element(seg, start + 1)
        r.plb.append(ProviderAdjustment(seg.get(1), fiscal, reason, reference, amount))


def _date(seg: Segment, value: str) -> date | None:
    return date_value(seg, value) if value else None


_HANDLERS: dict[str, Callable[[_Reader, Segment], None]] = {
    "BPR": _bpr,
    "TRN": _trn,
    "N1": _n1,
    "CLP": _clp,
    "CAS": _cas,
    "SVC": _svc,
    "DTM": _dtm,
    "LQ": _lq,
    "PLB": _plb,
}
