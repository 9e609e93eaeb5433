"""Required fields: what the 837 must carry for the payer to accept the claim at all.

ASC X12 TR3 005010X222A1 (837P) and 005010X223A2 (837I): 2010AA billing provider (NM109 NPI,
REF*EI TIN, N3/N4), 2010BA subscriber (NM1, N3/N4, DMG, member id), 2010BB payer, 2010CA
patient, 2300 HI diagnoses and (837I) DTP*434 statement dates, 2310A attending; NPI check digit
per 45 CFR 162.406.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache

from chartkeeper.billing.scrub.context import ScrubContext
from chartkeeper.billing.scrub.model import Issue, ScrubClaim
from chartkeeper.billing.scrub.rule import Rule
from chartkeeper.billing.x12.claim_model import Address, Claim, Person, Provider
from chartkeeper.billing.x12.npi import is_valid_npi

RULE = Rule(
    id="required-fields",
    title="Required claim fields",
    severity="error",
    checks=(
        "patient name, birth date, gender M/F/U, address; subscriber name and member id; payer "
        "name and id; billing NPI (check digit), TIN, address; other NPIs valid; a diagnosis and a "
        "line; line dates; 837I statement dates, attending provider and revenue codes"
    ),
    source="TR3 005010X222A1 and 005010X223A2 loops 2010AA, 2010BA, 2010BB, 2010CA, 2300, 2310A",
    category="invalid",
)
GENDERS = frozenset({"M", "F", "U"})
#: USPS state, district, territory and military codes (TR3 N402 uses them for US addresses).
STATES = frozenset(
    {
        "AL",
        "AK",
        "AZ",
        "AR",
        "CA",
        "CO",
        "CT",
        "DE",
        "DC",
        "FL",
        "GA",
        "HI",
        "ID",
        "IL",
        "IN",
        "IA",
        "KS",
        "KY",
        "LA",
        "ME",
        "MD",
        "MA",
        "MI",
        "MN",
        "MS",
        "MO",
        "MT",
        "NE",
        "NV",
        "NH",
        "NJ",
        "NM",
        "NY",
        "NC",
        "ND",
        "OH",
        "OK",
        "OR",
        "PA",
        "RI",
        "SC",
        "SD",
        "TN",
        "TX",
        "UT",
        "VT",
        "VA",
        "WA",
        "WV",
        "WI",
        "WY",
        "AS",
        "GU",
        "MP",
        "PR",
        "VI",
        "UM",
        "FM",
        "MH",
        "PW",
        "AA",
        "AE",
        "AP",
    }
)
valid_npi = lru_cache(maxsize=1 << 12)(is_valid_npi)


def _missing(where: str, what: str) -> Issue:
    return RULE.issue(where, f"The {what} is missing", f"Enter the {what}")


def _address(
    where: str, address: Address | None, whose: str, zip_digits: tuple[int, ...] = (5, 9)
) -> Iterator[Issue]:
    """Street, city, state and ZIP present; the state a USPS code; the ZIP 5 or 9 digits (the
    billing provider's must be 9: TR3 2010AA N403)."""
    if address is None or not all(
        (address.line1, address.city, address.state, address.postal_code)
    ):
        yield _missing(f"{where}.address", f"{whose} address (street, city, state, ZIP)")
        return
    if address.state.strip().upper() not in STATES:
        message = f"The {whose} state '{address.state}' is not a US state or territory code"
        yield RULE.issue(f"{where}.address", message, "Use the two-letter USPS code, e.g. OH")
    postal = address.postal_code.strip()
    if not (postal.isascii() and postal.isdigit() and len(postal) in zip_digits):
        wanted = " or ".join(f"{n}" for n in zip_digits)
        message = f"The {whose} ZIP code '{postal}' is not {wanted} digits"
        yield RULE.issue(f"{where}.address", message, "Enter the ZIP code (ZIP+4 for a provider)")


def _person(where: str, person: Person, whose: str, is_patient: bool = True) -> Iterator[Issue]:
    """Name always; birth date, gender and address when the person is the patient (a
    subscriber who is not the patient needs only a name and member id: 2010BA N3/N4, DMG)."""
    if not person.last_name.strip() or not person.first_name.strip():
        yield _missing(f"{where}.last_name", f"{whose} name (last and first)")
    if not is_patient:
        return
    if person.birth_date is None:
        yield _missing(f"{where}.birth_date", f"{whose} birth date")
    if person.gender.strip().upper() not in GENDERS:
        message = f"The {whose} gender '{person.gender}' is not M, F or U"
        yield RULE.issue(f"{where}.gender", message, "Use M, F or U (unknown)")
    yield from _address(where, person.address, whose)


def _npi(where: str, provider: Provider | None, whose: str) -> Iterator[Issue]:
    if provider is None:
        return
    if not provider.npi:
        yield _missing(f"{where}.npi", f"{whose} NPI")
    elif not valid_npi(provider.npi):
        message = f"The {whose} NPI {provider.npi} is not a valid NPI (check digit)"
        yield RULE.issue(f"{where}.npi", message, "Check the NPI in NPPES", provider.npi)


def _parties(scrub: ScrubClaim) -> Iterator[Issue]:
    claim = scrub.claim
    subscriber = claim.subscriber
    yield from _person("subscriber.person", subscriber.person, "subscriber", claim.patient is None)
    if not subscriber.person.member_id.strip():
        yield _missing("subscriber.person.member_id", "subscriber member id")
    if claim.patient is not None:
        yield from _person("patient", claim.patient, "patient")
    if not subscriber.payer.name.strip():
        yield _missing("subscriber.payer.name", "payer name")
    if not subscriber.payer.payer_id.strip():
        yield _missing("subscriber.payer.payer_id", "payer id")
    billing = scrub.billing_provider
    yield from _npi("billing_provider", billing, "billing provider")
    tin = billing.tin.replace("-", "")
    if len(tin) != 9 or not tin.isdigit():
        yield _missing("billing_provider.tin", "billing provider tax id (9-digit EIN or SSN)")
    yield from _address("billing_provider", billing.address, "billing provider", (9,))
    yield from _npi("rendering", claim.rendering, "rendering provider")
    yield from _npi("referring", claim.referring, "referring provider")
    yield from _npi("attending", claim.attending, "attending provider")


def _institutional(claim: Claim) -> Iterator[Issue]:
    if claim.statement_from is None:
        yield _missing("claim.statement_from", "statement from date")
    if claim.statement_to is None:
        yield _missing("claim.statement_to", "statement to date")
    if claim.attending is None:
        yield _missing("attending.npi", "attending provider")
    for index, line in enumerate(claim.lines):
        if not line.revenue_code.strip():
            yield _missing(f"line[{index}].revenue_code", "revenue code")


def _content(scrub: ScrubClaim) -> Iterator[Issue]:
    claim = scrub.claim
    if not claim.diagnoses:
        yield _missing("claim", "diagnosis (at least one)")
    if not claim.lines:
        yield _missing("claim", "service line (at least one)")
    for index, line in enumerate(claim.lines):
        if scrub.kind == "837P" and not line.procedure_code.strip():
            # SV101; on 837I SV202 is situational (a room-and-board line has only a revenue code)
            yield _missing(f"line[{index}].procedure_code", "procedure code")
        if line.service_date is None and claim.statement_from is None:
            yield _missing(f"line[{index}].service_date", "date of service")
    if scrub.kind == "837I":
        yield from _institutional(claim)


def check(scrub: ScrubClaim, context: ScrubContext) -> Iterator[Issue]:
    """The people and providers, then the claim's own content."""
    yield from _parties(scrub)
    yield from _content(scrub)
