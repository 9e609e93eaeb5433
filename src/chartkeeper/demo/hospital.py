"""The shared hospital: Organization, departments, Locations, Practitioners, roles and payors."""

from __future__ import annotations

import random
from dataclasses import dataclass, field

from .fhirdata import NPI, NUCC, ROLE_CODE, Resource, concept, hl7_concept, ref
from .ids import IdMaker, make_npi
from .names import POSTAL_CODES, PRACTITIONER_FAMILY, PRACTITIONER_GIVEN, STATE, TOWN

HOSPITAL_NAME = "Riverside Community Hospital (demo)"

DEPARTMENTS: tuple[tuple[str, str], ...] = (
    ("emergency", "Emergency Department"),
    ("internal_medicine", "Internal Medicine"),
    ("surgery", "Surgery"),
    ("cardiology", "Cardiology"),
    ("pediatrics", "Pediatrics"),
    ("behavioral_health", "Behavioral Health"),
    ("laboratory", "Laboratory"),
    ("rehabilitation", "Rehabilitation Services"),
)

# key, name, department, v3-RoleCode type, type display, location-physical-type, its display
LOCATIONS: tuple[tuple[str, str, str | None, str, str, str, str], ...] = (
    (
        "campus",
        "Riverside Community Hospital - Main Campus",
        None,
        "HOSP",
        "Hospital",
        "bu",
        "Building",
    ),
    ("ed", "Emergency Department", "emergency", "ER", "Emergency room", "wa", "Ward"),
    ("icu", "Intensive Care Unit", "internal_medicine", "ICU", "Intensive care unit", "wa", "Ward"),
    ("med_ward", "4 West Medical Unit", "internal_medicine", "HU", "Hospital unit", "wa", "Ward"),
    ("surg_ward", "5 East Surgical Unit", "surgery", "HU", "Hospital unit", "wa", "Ward"),
    (
        "cardiac_unit",
        "3 North Cardiac Step-Down Unit",
        "cardiology",
        "HU",
        "Hospital unit",
        "wa",
        "Ward",
    ),
    ("peds_ward", "2 South Pediatric Unit", "pediatrics", "HU", "Hospital unit", "wa", "Ward"),
    (
        "bh_unit",
        "6 West Behavioral Health Unit",
        "behavioral_health",
        "HU",
        "Hospital unit",
        "wa",
        "Ward",
    ),
    (
        "im_clinic",
        "Internal Medicine Clinic",
        "internal_medicine",
        "GIM",
        "General internal medicine clinic",
        "wi",
        "Wing",
    ),
    ("peds_clinic", "Pediatric Clinic", "pediatrics", "PEDC", "Pediatrics clinic", "wi", "Wing"),
    ("cardio_clinic", "Cardiology Clinic", "cardiology", "OF", "Outpatient facility", "wi", "Wing"),
    ("surg_clinic", "General Surgery Clinic", "surgery", "OF", "Outpatient facility", "wi", "Wing"),
    (
        "bh_clinic",
        "Behavioral Health Clinic",
        "behavioral_health",
        "OF",
        "Outpatient facility",
        "wi",
        "Wing",
    ),
    (
        "rehab_clinic",
        "Outpatient Rehabilitation (PT/OT)",
        "rehabilitation",
        "OF",
        "Outpatient facility",
        "wi",
        "Wing",
    ),
    ("lab", "Hospital Laboratory", "laboratory", "HLAB", "Hospital laboratory", "wi", "Wing"),
)

# department, headcount, NUCC taxonomy code, its display, credential, practitioner-role code
STAFFING: tuple[tuple[str, int, str, str, str, str | None], ...] = (
    ("emergency", 3, "207P00000X", "Emergency Medicine Physician", "MD", "doctor"),
    ("internal_medicine", 5, "207R00000X", "Internal Medicine Physician", "MD", "doctor"),
    ("surgery", 3, "208600000X", "Surgery Physician", "MD", "doctor"),
    ("cardiology", 3, "207RC0000X", "Cardiovascular Disease Physician", "MD", "doctor"),
    ("pediatrics", 3, "208000000X", "Pediatrics Physician", "MD", "doctor"),
    ("behavioral_health", 2, "2084P0800X", "Psychiatry Physician", "DO", "doctor"),
    (
        "laboratory",
        1,
        "207ZP0102X",
        "Anatomic Pathology & Clinical Pathology Physician",
        "MD",
        "doctor",
    ),
    ("rehabilitation", 1, "225100000X", "Physical Therapist", "DPT", None),
)

PAYORS: tuple[tuple[str, str, str], ...] = (
    ("medicare", "Medicare (demo)", "1"),  # key, name, Source of Payment Typology code
    ("medicaid", "Medicaid (demo)", "2"),
    ("acme", "Acme Health Plan (demo)", "5"),
    ("bluevalley", "Blue Valley Mutual (demo)", "5"),
)
#: Electronic payer ids (loop 2010BB NM109) of the demo payors: made up, marked as demo.
PAYER_IDS = {
    "medicare": "DEMOMCR01",
    "medicaid": "DEMOMCD01",
    "acme": "DEMOACME1",
    "bluevalley": "DEMOBVM01",
}
PAYER_ID_SYSTEM = "https://chartkeeper.dev/fhir/sid/payer-id"
#: The hospital's (synthetic) employer identification number and its NUCC taxonomy.
HOSPITAL_EIN = "990000001"
EIN_SYSTEM = "urn:oid:2.16.840.1.113883.4.4"
HOSPITAL_TAXONOMY = ("282N00000X", "General Acute Care Hospital")

# Where each department's staff see patients.
HOME_LOCATION: dict[str, str] = {
    "emergency": "ed",
    "internal_medicine": "im_clinic",
    "surgery": "surg_clinic",
    "cardiology": "cardio_clinic",
    "pediatrics": "peds_clinic",
    "behavioral_health": "bh_clinic",
    "laboratory": "lab",
    "rehabilitation": "rehab_clinic",
}

# How each clinician abbreviates "patient" in notes; "PT" also means physical therapy elsewhere.
PATIENT_WORDS = ("Pt", "Pt", "pt", "PT", "Patient")


@dataclass(frozen=True)
class Clinician:
    """A staff practitioner."""

    id: str
    role_id: str
    npi: str
    given: str
    family: str
    credential: str
    department: str
    patient_word: str

    @property
    def display(self) -> str:
        return f"{self.given} {self.family}, {self.credential}"

    @property
    def short(self) -> str:
        return f"Dr. {self.family}" if self.credential in ("MD", "DO") else self.display


@dataclass
class Hospital:
    """Ids of the shared resources patients refer to, plus the resources themselves."""

    org_id: str
    departments: dict[str, str] = field(default_factory=dict)
    locations: dict[str, str] = field(default_factory=dict)
    payors: dict[str, tuple[str, str, str]] = field(default_factory=dict)  # key -> id, name, sop
    clinicians: list[Clinician] = field(default_factory=list)
    resources: list[Resource] = field(default_factory=list)

    def staff(self, department: str) -> list[Clinician]:
        """Clinicians of one department."""
        return [c for c in self.clinicians if c.department == department]


def _npi(rng: random.Random) -> str:
    return make_npi("1" + "".join(rng.choice("0123456789") for _ in range(8)))


def _address(line: str) -> Resource:
    """ZIP+4: a billing provider's address on a claim needs all nine digits (837 loop 2010AA)."""
    return {
        "use": "work",
        "line": [line],
        "city": TOWN,
        "state": STATE,
        "postalCode": f"{POSTAL_CODES[0]}-0100",
        "country": "US",
    }


def _organization(oid: str, name: str, org_type: tuple[str, str], **extra: object) -> Resource:
    out: Resource = {
        "resourceType": "Organization",
        "id": oid,
        "active": True,
        "type": [hl7_concept("organization-type", *org_type)],
        "name": name,
    }
    out.update(extra)
    return out


def _add_organizations(h: Hospital, ids: IdMaker, rng: random.Random) -> None:
    h.resources.append(
        _organization(
            h.org_id,
            HOSPITAL_NAME,
            ("prov", "Healthcare Provider"),
            identifier=[
                {"system": NPI, "value": _npi(rng)},
                {"system": EIN_SYSTEM, "value": HOSPITAL_EIN},
            ],
            telecom=[{"system": "phone", "value": "555-555-0100", "use": "work"}],
            address=[_address("1 Hospital Plaza")],
        )
    )
    h.resources[-1]["type"].append(concept(NUCC, *HOSPITAL_TAXONOMY))
    for key, name in DEPARTMENTS:
        h.departments[key] = ids.next("Organization")
        h.resources.append(
            _organization(
                h.departments[key],
                name,
                ("dept", "Hospital Department"),
                partOf=ref("Organization", h.org_id),
            )
        )
    for key, name, sop in PAYORS:
        h.payors[key] = (ids.next("Organization"), name, sop)
        h.resources.append(
            _organization(
                h.payors[key][0],
                name,
                ("pay", "Payer"),
                identifier=[{"system": PAYER_ID_SYSTEM, "value": PAYER_IDS[key]}],
            )
        )


def _add_locations(h: Hospital, ids: IdMaker) -> None:
    for key, name, dept, type_code, type_display, phys, phys_display in LOCATIONS:
        h.locations[key] = ids.next("Location")
        loc: Resource = {
            "resourceType": "Location",
            "id": h.locations[key],
            "status": "active",
            "name": name,
            "mode": "instance",
            "type": [concept(ROLE_CODE, type_code, type_display)],
            "physicalType": hl7_concept("location-physical-type", phys, phys_display),
            "managingOrganization": ref("Organization", h.departments.get(dept or "", h.org_id)),
        }
        if key == "campus":
            loc["address"] = _address("1 Hospital Plaza")
        else:
            loc["partOf"] = ref("Location", h.locations["campus"])
        h.resources.append(loc)


def _practitioner(c: Clinician) -> Resource:
    return {
        "resourceType": "Practitioner",
        "id": c.id,
        "active": True,
        "identifier": [{"system": NPI, "value": c.npi}],
        "name": [
            {"use": "official", "family": c.family, "given": [c.given], "suffix": [c.credential]}
        ],
        "telecom": [{"system": "phone", "value": f"555-555-01{c.npi[-2:]}", "use": "work"}],
    }


def _role(h: Hospital, c: Clinician, taxonomy: tuple[str, str], code: str | None) -> Resource:
    role: Resource = {
        "resourceType": "PractitionerRole",
        "id": c.role_id,
        "active": True,
        "practitioner": ref("Practitioner", c.id, c.display),
        "organization": ref("Organization", h.departments[c.department]),
        "specialty": [concept(NUCC, *taxonomy)],
        "location": [ref("Location", h.locations[HOME_LOCATION[c.department]])],
    }
    if code:
        role["code"] = [hl7_concept("practitioner-role", code, code.capitalize())]
    return role


def _add_staff(h: Hospital, ids: IdMaker, rng: random.Random) -> None:
    total = sum(row[1] for row in STAFFING)
    givens = rng.sample(PRACTITIONER_GIVEN, total)
    families = rng.sample(PRACTITIONER_FAMILY, total)
    n = 0
    for dept, count, code, display, credential, role_code in STAFFING:
        for _ in range(count):
            c = Clinician(
                ids.next("Practitioner"),
                ids.next("PractitionerRole"),
                _npi(rng),
                givens[n],
                families[n],
                credential,
                dept,
                PATIENT_WORDS[n % len(PATIENT_WORDS)],
            )
            n += 1
            h.clinicians.append(c)
            h.resources.append(_practitioner(c))
            h.resources.append(_role(h, c, (code, display), role_code))


def build_hospital(seed: int) -> Hospital:
    """The hospital for ``seed``: same seed, same ids and staff."""
    rng = random.Random(f"{seed}-hospital")
    ids = IdMaker(seed, "hospital")
    h = Hospital(org_id=ids.next("Organization"))
    _add_organizations(h, ids, rng)
    _add_locations(h, ids)
    _add_staff(h, ids, rng)
    return h
