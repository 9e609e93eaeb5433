"""Parse 837P (005010X222A1) and 837I (005010X223A2) transactions into `ClaimBatch` objects.

Reads the loops the writer produces (1000A/B, 2000A/2010AA, 2000B/2010BA/BB, 2000C/2010CA,
2300, 2310x, 2400) and skips the rest of the TR3 (pay-to, 2320/2330 other payers, 2410 drug
data...) without error, so the TR3 examples parse. Structure is judged by the envelopes in
`segments`; loop-level validation is pyx12's job (see docs/x12.md).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import date

from chartkeeper.billing.x12.claim_model import (
    Address,
    Claim,
    ClaimBatch,
    ClaimKind,
    Contact,
    Payer,
    Person,
    Provider,
    ServiceLine,
    Subscriber,
)
from chartkeeper.billing.x12.segments import (
    Segment,
    Transaction,
    date_value,
    number_element,
    read_interchanges,
    x12_error,
)

KINDS: dict[str, ClaimKind] = {"005010X222A1": "837P", "005010X223A2": "837I"}
_DIAGNOSIS_QUALIFIERS = {"ABK", "ABF", "BK", "BF"}
_ICD10 = {"ABK", "ABF"}
_PROVIDER_ROLES = {"DN": "referring", "82": "rendering", "71": "attending"}


def parse_837(text: str, *, strict_counts: bool = True) -> list[ClaimBatch]:
    """Every batch (one per 2000A billing provider) in every 837 transaction of ``text``."""
    batches: list[ClaimBatch] = []
    for interchange in read_interchanges(text, strict_counts=strict_counts):
        for group in interchange.groups:
            for transaction in group.transactions:
                batches.extend(parse_transaction(transaction))
    return batches


def parse_transaction(transaction: Transaction) -> list[ClaimBatch]:
    """The batches of one ST/SE 837 transaction set."""
    st = transaction.st
    kind = KINDS.get(st.get(3))
    if st.get(1) != "837" or kind is None:
        raise x12_error("ST", st.position, f"not an 837P/837I: {st.get(1)} {st.get(3)}")
    reader = _Reader(kind)
    for seg in transaction.body:
        handler = _HANDLERS.get(seg.id)
        if handler is not None:
            handler(reader, seg)
    return reader.finish()


@dataclass
class _Reader:
    """The state of a walk through one 837 transaction: which loop the next segment is in."""

    kind: ClaimKind
    header: dict[str, object] = field(default_factory=dict)
    contacts: dict[str, Contact] = field(default_factory=dict)
    billing: Provider | None = None
    batches: list[ClaimBatch] = field(default_factory=list)
    claims: list[Claim] = field(default_factory=list)
    subscriber: Subscriber | None = None
    patient: Person | None = None
    relationship: str = "19"
    claim: Claim | None = None
    lines: list[ServiceLine] = field(default_factory=list)
    #: what N3/N4/DMG/PRV/REF apply to: "billing", "IL", "QC", a provider role, or ""
    entity: str = ""
    in_other_payer: bool = False

    def finish(self) -> list[ClaimBatch]:
        self.close_batch()
        return self.batches

    def close_claim(self) -> None:
        if self.claim is not None:
            self.claims.append(replace(self.claim, lines=tuple(self.lines)))
        self.claim, self.lines, self.in_other_payer = None, [], False

    def close_batch(self) -> None:
        self.close_claim()
        if self.billing is None:
            return
        header = self.header
        self.batches.append(
            ClaimBatch(
                self.kind,
                self.contacts.get("41", Contact("", "")),
                self.contacts.get("40", Contact("", "")),
                self.billing,
                tuple(self.claims),
                reference=str(header.get("reference", "")),
                created=header.get("created", date(1900, 1, 1)),  # type: ignore[arg-type]
                created_time=str(header.get("time", "")),
            )
        )
        self.claims = []


def _bht(r: _Reader, seg: Segment) -> None:
    r.header = {"reference": seg.get(3), "created": _date(seg, 4), "time": seg.get(5)}


def _hl(r: _Reader, seg: Segment) -> None:
    level = seg.get(3)
    r.close_claim()
    if level == "20":
        r.close_batch()
        r.billing, r.entity = None, "billing"
    elif level == "22":
        r.subscriber, r.patient, r.relationship, r.entity = None, None, "19", ""
    elif level == "23":
        r.entity = ""


def _nm1(r: _Reader, seg: Segment) -> None:
    code = seg.get(1)
    if r.in_other_payer:
        r.entity = ""
    elif code in ("41", "40"):
        r.contacts[code] = Contact(seg.get(3), seg.get(9))
        r.entity = code
    elif code == "85":
        taxonomy = str(r.header.pop("taxonomy", ""))
        r.billing = replace(_provider(seg), taxonomy=taxonomy)
        r.entity = "billing"
    elif code == "IL" and r.subscriber is None:
        person = Person(seg.get(3), seg.get(4), middle_name=seg.get(5), member_id=seg.get(9))
        r.subscriber = Subscriber(person, Payer("", ""), **r.header.get("sbr", {}))  # type: ignore[arg-type]
        r.entity = "IL"
    elif code == "PR" and r.subscriber is not None and r.claim is None:
        r.subscriber = replace(r.subscriber, payer=Payer(seg.get(3), seg.get(9)))
        r.entity = ""
    elif code == "QC":
        r.patient = Person(seg.get(3), seg.get(4), middle_name=seg.get(5))
        r.entity = "QC"
    elif code in _PROVIDER_ROLES and r.claim is not None and not r.lines:
        role = _PROVIDER_ROLES[code]
        r.claim = _with_provider(r.claim, role, _provider(seg))
        r.entity = role
    else:
        r.entity = ""


def _per(r: _Reader, seg: Segment) -> None:
    if r.entity == "41":
        contact = r.contacts["41"]
        r.contacts["41"] = replace(contact, contact_name=seg.get(2), phone=seg.get(4))


def _sbr(r: _Reader, seg: Segment) -> None:
    if r.claim is not None:
        r.in_other_payer = True
        return
    r.header["sbr"] = {
        "responsibility": seg.get(1),
        "group_number": seg.get(3),
        "claim_filing": seg.get(9),
    }


def _pat(r: _Reader, seg: Segment) -> None:
    r.relationship = seg.get(1)


def _n3(r: _Reader, seg: Segment) -> None:
    _set_address(r, Address(seg.get(1), "", "", "", line2=seg.get(2)))


def _n4(r: _Reader, seg: Segment) -> None:
    current = _current_address(r) or Address("", "", "", "")
    _set_address(r, replace(current, city=seg.get(1), state=seg.get(2), postal_code=seg.get(3)))


def _dmg(r: _Reader, seg: Segment) -> None:
    born, gender = _date(seg, 2), seg.get(3)
    if r.entity == "IL" and r.subscriber is not None:
        person = replace(r.subscriber.person, birth_date=born, gender=gender)
        r.subscriber = replace(r.subscriber, person=person)
    elif r.entity == "QC" and r.patient is not None:
        r.patient = replace(r.patient, birth_date=born, gender=gender)


def _ref(r: _Reader, seg: Segment) -> None:
    if r.entity == "billing" and r.billing is not None and seg.get(1) in ("EI", "SY"):
        r.billing = replace(r.billing, tin=seg.get(2))


def _prv(r: _Reader, seg: Segment) -> None:
    if r.entity == "billing" and r.billing is None:
        r.header["taxonomy"] = seg.get(3)
    elif r.entity == "billing" and r.billing is not None:
        r.billing = replace(r.billing, taxonomy=seg.get(3))
    elif r.claim is not None and r.entity in ("rendering", "attending"):
        provider: Provider = getattr(r.claim, r.entity)
        r.claim = _with_provider(r.claim, r.entity, replace(provider, taxonomy=seg.get(3)))


def _clm(r: _Reader, seg: Segment) -> None:
    r.close_claim()
    if r.subscriber is None:
        raise x12_error("CLM", seg.position, "claim without a subscriber (2000B/2010BA)")
    place = [*seg.components(5), "", "", ""]
    r.claim = Claim(
        seg.get(1),
        r.subscriber,
        (),
        (),
        facility_code=place[0],
        frequency=place[2],
        patient=r.patient,
        patient_relationship=r.relationship if r.patient else "19",
    )
    r.entity = ""


def _hi(r: _Reader, seg: Segment) -> None:
    if r.claim is None:
        return
    codes = list(r.claim.diagnoses)
    for element in seg.elements:
        qualifier, _, code = element.partition(seg.component_separator)
        code = code.split(seg.component_separator)[0]
        if qualifier in _DIAGNOSIS_QUALIFIERS:
            codes.append(_with_dot(code) if qualifier in _ICD10 else code)
    r.claim = replace(r.claim, diagnoses=tuple(codes))


def _dtp(r: _Reader, seg: Segment) -> None:
    if r.claim is None:
        return
    if seg.get(1) == "472" and r.lines:
        served = date_value(seg, seg.get(3).partition("-")[0])
        r.lines[-1] = replace(r.lines[-1], service_date=served)
    elif seg.get(1) == "434" and not r.lines:
        start, _, end = seg.get(3).partition("-")
        first = date_value(seg, start)
        last = date_value(seg, end) if end else first
        r.claim = replace(r.claim, statement_from=first, statement_to=last)


def _cl1(r: _Reader, seg: Segment) -> None:
    if r.claim is not None:
        r.claim = replace(
            r.claim,
            admission_type=seg.get(1),
            admission_source=seg.get(2),
            patient_status=seg.get(3),
        )


def _lx(r: _Reader, seg: Segment) -> None:
    r.entity = ""
    r.in_other_payer = False


def _sv1(r: _Reader, seg: Segment) -> None:
    procedure = seg.components(1)
    pointers = tuple(int(p) for p in seg.components(7) if p.isdigit())
    line = ServiceLine(
        procedure[1] if len(procedure) > 1 else "",
        number_element(seg, 2),
        number_element(seg, 4),
        modifiers=tuple(m for m in procedure[2:6] if m),
        diagnosis_pointers=pointers,
    )
    r.lines.append(line)


def _sv2(r: _Reader, seg: Segment) -> None:
    procedure = seg.components(2)
    line = ServiceLine(
        procedure[1] if len(procedure) > 1 else "",
        number_element(seg, 3),
        number_element(seg, 5),
        modifiers=tuple(m for m in procedure[2:6] if m),
        diagnosis_pointers=(1,),
        revenue_code=seg.get(1),
    )
    r.lines.append(line)


def _with_provider(claim: Claim, role: str, provider: Provider) -> Claim:
    if role == "referring":
        return replace(claim, referring=provider)
    if role == "attending":
        return replace(claim, attending=provider)
    return replace(claim, rendering=provider)


def _provider(seg: Segment) -> Provider:
    organization = seg.get(2) == "2"
    return Provider(seg.get(3), seg.get(9), first_name=seg.get(4), is_organization=organization)


def _current_address(r: _Reader) -> Address | None:
    if r.entity == "billing" and r.billing is not None:
        return r.billing.address
    if r.entity == "IL" and r.subscriber is not None:
        return r.subscriber.person.address
    if r.entity == "QC" and r.patient is not None:
        return r.patient.address
    return None


def _set_address(r: _Reader, address: Address) -> None:
    if r.entity == "billing" and r.billing is not None:
        r.billing = replace(r.billing, address=address)
    elif r.entity == "IL" and r.subscriber is not None:
        person = replace(r.subscriber.person, address=address)
        r.subscriber = replace(r.subscriber, person=person)
    elif r.entity == "QC" and r.patient is not None:
        r.patient = replace(r.patient, address=address)


def _with_dot(code: str) -> str:
    """ICD-10-CM codes travel without their dot, which always follows the third character."""
    return f"{code[:3]}.{code[3:]}" if len(code) > 3 else code


def _date(seg: Segment, number: int) -> date | None:
    return date_value(seg, seg.get(number)) if seg.get(number) else None


_HANDLERS: dict[str, Callable[[_Reader, Segment], None]] = {
    "BHT": _bht,
    "HL": _hl,
    "NM1": _nm1,
    "PER": _per,
    "SBR": _sbr,
    "PAT": _pat,
    "N3": _n3,
    "N4": _n4,
    "DMG": _dmg,
    "REF": _ref,
    "PRV": _prv,
    "CLM": _clm,
    "HI": _hi,
    "DTP": _dtp,
    "CL1": _cl1,
    "LX": _lx,
    "SV1": _sv1,
    "SV2": _sv2,
}
