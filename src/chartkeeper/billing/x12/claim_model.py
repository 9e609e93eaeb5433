"""A small, pure data model of a batch of 837 claims (professional or institutional).

Only what the 837P (005010X222A1) and 837I (005010X223A2) writers and parser carry: plain
frozen dataclasses, so that "837 → parse → the same claim" is a plain equality.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from typing import Literal

ClaimKind = Literal["837P", "837I"]

#: Implementation guide (GS08 / ST03) per kind of claim.
IMPLEMENTATION_GUIDES: dict[ClaimKind, str] = {"837P": "005010X222A1", "837I": "005010X223A2"}


@dataclass(frozen=True)
class Address:
    """A postal address (N3/N4)."""

    line1: str
    city: str
    state: str
    postal_code: str
    line2: str = ""


@dataclass(frozen=True)
class Provider:
    """A billing, rendering, referring or attending provider (NM1 with an NPI)."""

    last_name: str
    npi: str
    first_name: str = ""
    is_organization: bool = False
    taxonomy: str = ""
    tin: str = ""
    address: Address | None = None


@dataclass(frozen=True)
class Contact:
    """The submitter (1000A) or receiver (1000B) of the batch."""

    name: str
    identifier: str
    contact_name: str = ""
    phone: str = ""


@dataclass(frozen=True)
class Person:
    """A subscriber or patient (2010BA / 2010CA)."""

    last_name: str
    first_name: str = ""
    birth_date: date | None = None
    gender: str = "U"
    address: Address | None = None
    member_id: str = ""
    middle_name: str = ""


@dataclass(frozen=True)
class Payer:
    """The payer (2010BB)."""

    name: str
    payer_id: str


@dataclass(frozen=True)
class Subscriber:
    """The insured (2000B SBR + 2010BA)."""

    person: Person
    payer: Payer
    responsibility: str = "P"
    group_number: str = ""
    claim_filing: str = "CI"


@dataclass(frozen=True)
class ServiceLine:
    """One 2400 service line: SV1 (837P) or SV2 with a revenue code (837I)."""

    procedure_code: str
    charge: Decimal
    units: Decimal
    service_date: date | None = None
    modifiers: tuple[str, ...] = ()
    diagnosis_pointers: tuple[int, ...] = (1,)
    revenue_code: str = ""


@dataclass(frozen=True)
class Claim:
    """One 2300 claim with its subscriber, patient and lines.

    ``facility_code`` is CLM05-1: the place of service (837P) or facility type (837I).
    ``patient`` is None when the patient is the subscriber.
    """

    claim_id: str
    subscriber: Subscriber
    diagnoses: tuple[str, ...]
    lines: tuple[ServiceLine, ...]
    facility_code: str = "11"
    frequency: str = "1"
    patient: Person | None = None
    patient_relationship: str = "19"
    rendering: Provider | None = None
    referring: Provider | None = None
    attending: Provider | None = None
    statement_from: date | None = None
    statement_to: date | None = None
    admission_type: str = "1"
    admission_source: str = "7"
    patient_status: str = "01"

    @property
    def total_charge(self) -> Decimal:
        """CLM02: the sum of the line charges."""
        return sum((line.charge for line in self.lines), Decimal(0))


@dataclass(frozen=True)
class ClaimBatch:
    """Claims of one billing provider to one receiver: one 837 transaction set."""

    kind: ClaimKind
    submitter: Contact
    receiver: Contact
    billing_provider: Provider
    claims: tuple[Claim, ...] = field(default_factory=tuple)
    reference: str = "0001"
    created: date = date(2026, 1, 1)
    created_time: str = "1200"
