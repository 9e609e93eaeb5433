"""Write 837P (005010X222A1) and 837I (005010X223A2) claim batches as X12 interchanges.

Loop structure follows the TR3s: 1000A submitter, 1000B receiver, 2000A/2010AA billing
provider, 2000B/2010BA/2010BB subscriber and payer, 2000C/2010CA patient, 2300 claim, 2310x
providers, 2400 service lines. Each claim gets its own 2000B (and 2000C) under the single
2000A, which keeps the HL hierarchy trivially correct. Written here because pyx12 validates
claims but does not build them, and the writer must run ten times faster than it validates.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from chartkeeper.billing.x12.claim_model import (
    IMPLEMENTATION_GUIDES,
    Address,
    Claim,
    ClaimBatch,
    Person,
    Provider,
    ServiceLine,
)
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
from chartkeeper.billing.x12.npi import is_valid_npi
from chartkeeper.billing.x12.segments import DEFAULT_SEPARATORS, Separators, write_segments
from chartkeeper.core.errors import InvalidError

_TAXONOMY = re.compile(r"[0-9A-Z]{9}X")


def write_837(
    batches: Sequence[ClaimBatch],
    control: ControlNumbers,
    envelope: Envelope,
    separators: Separators = DEFAULT_SEPARATORS,
) -> str:
    """One interchange: a GS group per kind of claim, an ST transaction per batch."""
    segments: list[SegmentSpec] = []
    isa_number = control.next_interchange()
    segments.append(isa_segment(envelope, isa_number, separators.repetition, separators.component))
    groups = 0
    for kind, version in IMPLEMENTATION_GUIDES.items():
        of_kind = [batch for batch in batches if batch.kind == kind]
        if not of_kind:
            continue
        groups += 1
        gs_number = control.next_group()
        segments.append(gs_segment(envelope, gs_number, version))
        for batch in of_kind:
            body = transaction_body(batch)
            segments.extend(wrap_transaction("837", control.next_transaction(), version, body))
        segments.append(("GE", (str(len(of_kind)), str(gs_number))))
    segments.append(("IEA", (str(groups), f"{isa_number:09d}")))
    return write_segments(segments, separators)


def transaction_body(batch: ClaimBatch) -> list[SegmentSpec]:
    """The segments between ST and SE of one batch."""
    _check_npi(batch.billing_provider, "billing provider")
    billing = batch.billing_provider
    out: list[SegmentSpec] = [
        ("BHT", ("0019", "00", batch.reference, d8(batch.created), batch.created_time, "CH")),
        (
            "NM1",
            ("41", "2", batch.submitter.name, "", "", "", "", "46", batch.submitter.identifier),
        ),
        ("PER", ("IC", batch.submitter.contact_name, "TE", batch.submitter.phone)),
        ("NM1", ("40", "2", batch.receiver.name, "", "", "", "", "46", batch.receiver.identifier)),
        ("HL", ("1", "", "20", "1")),
    ]
    if billing.taxonomy:
        out.append(("PRV", ("BI", "PXC", billing.taxonomy)))
    out.append(_nm1("85", billing))
    out.extend(_address(billing.address))
    out.append(("REF", ("EI", billing.tin)))
    hl = 1
    for claim in batch.claims:
        hl = _subscriber_and_claim(out, batch, claim, hl)
    return out


def _subscriber_and_claim(out: list[SegmentSpec], batch: ClaimBatch, claim: Claim, hl: int) -> int:
    """2000B (+ 2000C) and the 2300 claim; returns the last HL number used."""
    sub = claim.subscriber
    subscriber_hl = hl + 1
    has_patient = claim.patient is not None
    out.append(("HL", (str(subscriber_hl), "1", "22", "1" if has_patient else "0")))
    relationship = "" if has_patient else "18"
    sbr = (sub.responsibility, relationship, sub.group_number, "", "", "", "", "", sub.claim_filing)
    out.append(("SBR", sbr))
    out.extend(_person("IL", sub.person, with_id=True))
    out.append(("NM1", ("PR", "2", sub.payer.name, "", "", "", "", "PI", sub.payer.payer_id)))
    last_hl = subscriber_hl
    if claim.patient is not None:
        last_hl += 1
        out.append(("HL", (str(last_hl), str(subscriber_hl), "23", "0")))
        out.append(("PAT", (claim.patient_relationship,)))
        out.extend(_person("QC", claim.patient, with_id=False))
    if batch.kind == "837P":
        _professional_claim(out, claim)
    else:
        _institutional_claim(out, claim)
    return last_hl


def _professional_claim(out: list[SegmentSpec], claim: Claim) -> None:
    """2300, 2310A referring, 2310B rendering and the 2400 SV1 lines of an 837P."""
    place = (claim.facility_code, "B", claim.frequency)
    clm = (claim.claim_id, amount(claim.total_charge), "", "", place, "Y", "A", "Y", "Y")
    out.append(("CLM", clm))
    out.append(_hi(claim.diagnoses))
    if claim.referring is not None:
        out.append(_nm1("DN", _checked(claim.referring, "referring provider")))
    if claim.rendering is not None:
        out.append(_nm1("82", _checked(claim.rendering, "rendering provider")))
        if claim.rendering.taxonomy:
            out.append(("PRV", ("PE", "PXC", claim.rendering.taxonomy)))
    for number, line in enumerate(claim.lines, start=1):
        out.append(("LX", (str(number),)))
        out.append(("SV1", _sv1(line)))
        out.extend(_service_date(line))


def _institutional_claim(out: list[SegmentSpec], claim: Claim) -> None:
    """2300, 2310A attending, 2310D rendering, 2310F referring and 2400 SV2 lines of an 837I."""
    facility = (claim.facility_code, "A", claim.frequency)
    clm = (claim.claim_id, amount(claim.total_charge), "", "", facility, "", "A", "Y", "Y")
    out.append(("CLM", clm))
    dates = [line.service_date for line in claim.lines if line.service_date]
    start = claim.statement_from or min(dates, default=None)
    end = claim.statement_to or max(dates, default=None)
    if start is None or end is None:
        raise InvalidError(f"claim {claim.claim_id} has no statement dates")
    out.append(("DTP", ("434", "RD8", f"{d8(start)}-{d8(end)}")))
    out.append(("CL1", (claim.admission_type, claim.admission_source, claim.patient_status)))
    principal, *others = _hi(claim.diagnoses)[1]
    out.append(("HI", (principal,)))
    if others:
        out.append(("HI", tuple(("ABF", code[1]) for code in others)))
    roles = (
        ("71", claim.attending, "AT"),
        ("82", claim.rendering, ""),
        ("DN", claim.referring, ""),
    )
    for code, provider, prv in roles:
        if provider is None:
            continue
        out.append(_nm1(code, _checked(provider, f"provider {code}")))
        if prv and provider.taxonomy:
            out.append(("PRV", (prv, "PXC", provider.taxonomy)))
    for number, line in enumerate(claim.lines, start=1):
        # SV202 (the HCPCS code) is situational: room and board lines carry only a revenue code
        procedure = ("HC", line.procedure_code, *line.modifiers) if line.procedure_code else ""
        sv2 = (line.revenue_code, procedure, amount(line.charge), "UN", amount(line.units))
        out.append(("LX", (str(number),)))
        out.append(("SV2", sv2))
        out.extend(_service_date(line))


def _sv1(line: ServiceLine) -> tuple[str | tuple[str, ...], ...]:
    procedure = ("HC", line.procedure_code, *line.modifiers)
    pointers = tuple(str(p) for p in line.diagnosis_pointers)
    return (procedure, amount(line.charge), "UN", amount(line.units), "", "", pointers)


def _hi(diagnoses: Sequence[str]) -> SegmentSpec:
    """HI with the principal (ABK) and other (ABF) ICD-10-CM codes, dots removed."""
    if not diagnoses or len(diagnoses) > 12:
        raise InvalidError("a claim carries 1 to 12 diagnosis codes")
    codes = [code.replace(".", "") for code in diagnoses]
    return ("HI", (("ABK", codes[0]), *(("ABF", code) for code in codes[1:])))


def _nm1(entity: str, provider: Provider) -> SegmentSpec:
    kind = "2" if provider.is_organization else "1"
    first = "" if provider.is_organization else provider.first_name
    return ("NM1", (entity, kind, provider.last_name, first, "", "", "", "XX", provider.npi))


def _person(entity: str, person: Person, *, with_id: bool) -> list[SegmentSpec]:
    qualifier, member = ("MI", person.member_id) if with_id else ("", "")
    name = (entity, "1", person.last_name, person.first_name, person.middle_name, "", "")
    out: list[SegmentSpec] = [("NM1", (*name, qualifier, member)), *_address(person.address)]
    if person.birth_date is not None:
        out.append(("DMG", ("D8", d8(person.birth_date), person.gender)))
    return out


def _service_date(line: ServiceLine) -> list[SegmentSpec]:
    if line.service_date is None:
        return []
    return [("DTP", ("472", "D8", d8(line.service_date)))]


def _address(address: Address | None) -> list[SegmentSpec]:
    if address is None:
        return []
    return [
        ("N3", (address.line1, address.line2)),
        ("N4", (address.city, address.state, address.postal_code)),
    ]


def _checked(provider: Provider, role: str) -> Provider:
    _check_npi(provider, role)
    return provider


def _check_npi(provider: Provider, role: str) -> None:
    """NPI check digit, and the taxonomy's shape (NUCC code set: nine characters then X)."""
    if not is_valid_npi(provider.npi):
        raise InvalidError(f"the {role} NPI fails its check digit (Luhn with prefix 80840)")
    if provider.taxonomy and not _TAXONOMY.fullmatch(provider.taxonomy):
        raise InvalidError(f"the {role} taxonomy is not a NUCC taxonomy code")
