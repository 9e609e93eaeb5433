"""Synthetic people and their Patient resources (all names, numbers and addresses are fake)."""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from .fhirdata import (
    DRIVERS_LICENCE,
    MRN,
    SSN,
    V2_0203,
    Resource,
    concept,
    day,
    dt,
    hl7_concept,
    ref,
)
from .hospital import Clinician, Hospital
from .names import (
    DISTRICT,
    FAMILY,
    FEMALE_GIVEN,
    LANGUAGES,
    MALE_GIVEN,
    MIDDLE_INITIALS,
    POSTAL_CODES,
    STATE,
    STREETS,
    TOWN,
)

# Synthetic data only: SSNs are in the 999-xx-xxxx range (never issued), driver's licences
# follow Synthea's fake S99xxxxxx pattern, phone numbers use 555-01xx (reserved for fiction),
# addresses are in the made-up town of Riverbend, Ohio, with ZIP codes no place uses.

AGE_BANDS: tuple[tuple[int, int, int], ...] = (
    (0, 17, 20),
    (18, 44, 30),
    (45, 64, 27),
    (65, 95, 23),
)
MARITAL = {
    "M": "Married",
    "S": "Never Married",
    "D": "Divorced",
    "W": "Widowed",
    "U": "unmarried",
}
FAMILY_HISTORY = (
    "FHx MI in father",
    "FHx DM2 in mother",
    "FHx breast CA in mother",
    "FHx CVA in grandmother",
    "FHx colon CA in father",
    "FHx HTN in both parents",
    "FHx early CAD in brother",
    "FHx asthma in sibling",
)


@dataclass(frozen=True)
class Person:
    """Who a patient is, independent of any one record of them."""

    index: int
    gender: str
    given: str
    middle: str | None
    family: str
    birth: date
    ssn: str | None
    line: str
    postal: str
    phone: str
    marital: str
    language: tuple[str, str]
    smoker: str  # never / former / current
    drinks: str  # none / social / heavy
    family_history: tuple[str, ...]
    height_cm: float  # adult height
    bmi: float  # usual body mass index
    pcp: Clinician
    mortal: bool  # dies within the record's span
    licence: str | None = None  # driver's licence number (adults)

    def age_on(self, when: date) -> int:
        """Whole years of age on ``when``."""
        before_birthday = (when.month, when.day) < (self.birth.month, self.birth.day)
        return when.year - self.birth.year - int(before_birthday)

    def age_text(self, when: date) -> str:
        """Age as clinicians write it: ``67 y/o M``, ``9 m/o F``."""
        sex = "M" if self.gender == "male" else "F"
        years = self.age_on(when)
        if years >= 2:
            return f"{years} y/o {sex}"
        months = (when.year - self.birth.year) * 12 + when.month - self.birth.month
        return f"{max(months, 0)} m/o {sex}"


def _birth(rng: random.Random, today: date) -> date:
    low, high, _ = rng.choices(AGE_BANDS, weights=[b[2] for b in AGE_BANDS])[0]
    age = rng.randint(low, high)
    return today - timedelta(days=age * 365 + (age // 4) + rng.randint(0, 364))


def _marital(rng: random.Random, age: int) -> str:
    if age < 18:
        return "S"
    if age >= 70:
        return rng.choices("MWDS", weights=(50, 30, 12, 8))[0]
    return rng.choices("MSDU", weights=(50, 30, 14, 6))[0]


def _habits(rng: random.Random, age: int) -> tuple[str, str]:
    if age < 16:
        return "never", "none"
    smoker = rng.choices(("never", "former", "current"), weights=(58, 27, 15))[0]
    drinks = rng.choices(("none", "social", "heavy"), weights=(35, 58, 7))[0]
    return smoker, drinks


def _pcp(rng: random.Random, hospital: Hospital, age: int) -> Clinician:
    dept = "pediatrics" if age < 18 else "internal_medicine"
    return rng.choice(hospital.staff(dept))


def make_person(rng: random.Random, index: int, hospital: Hospital, today: date) -> Person:
    """A new fictional person."""
    gender = rng.choice(("male", "female"))
    birth = _birth(rng, today)
    age = (today - birth).days // 365
    smoker, drinks = _habits(rng, age)
    fhx = tuple(rng.sample(FAMILY_HISTORY, rng.choice((0, 1, 1, 2))))
    return Person(
        index=index,
        gender=gender,
        given=rng.choice(MALE_GIVEN if gender == "male" else FEMALE_GIVEN),
        middle=rng.choice(MIDDLE_INITIALS) if rng.random() < 0.6 else None,
        family=rng.choice(FAMILY),
        birth=birth,
        ssn=f"999-{rng.randint(10, 99)}-{rng.randint(1000, 9999)}" if age >= 1 else None,
        line=f"{rng.randint(2, 990)} {rng.choice(STREETS)}",
        postal=rng.choice(POSTAL_CODES),
        phone=f"555-555-01{rng.randint(0, 99):02d}",
        marital=_marital(rng, age),
        language=rng.choices(
            [lang[:2] for lang in LANGUAGES], weights=[lang[2] for lang in LANGUAGES]
        )[0],
        smoker=smoker,
        drinks=drinks,
        family_history=fhx,
        height_cm=rng.gauss(176 if gender == "male" else 163, 7),
        bmi=min(max(rng.gauss(28 if age >= 18 else 18, 5 if age >= 18 else 2.5), 15), 48),
        pcp=_pcp(rng, hospital, age),
        mortal=rng.random() < (0.25 if age >= 80 else 0.06 if age >= 60 else 0.005),
        licence=_licence(index) if age >= 16 else None,
    )


def _licence(index: int) -> str:
    """A fake licence number, unique per person, drawn without the PRNG (so adding it left
    every other generated value as it was)."""
    return f"S99{index * 7919 % 1_000_000:06d}"


def _identifiers(person: Person, mrn: str, hospital: Hospital) -> list[Resource]:
    out: list[Resource] = [
        {
            "use": "usual",
            "type": concept(V2_0203, "MR", "Medical record number"),
            "system": MRN,
            "value": mrn,
            "assigner": ref("Organization", hospital.org_id),
        }
    ]
    if person.ssn:
        out.append(
            {
                "use": "official",
                "type": concept(V2_0203, "SS", "Social Security number"),
                "system": SSN,
                "value": person.ssn,
            }
        )
    if person.licence:
        out.append(
            {
                "use": "official",
                "type": concept(V2_0203, "DL", "Driver's license number"),
                "system": DRIVERS_LICENCE,
                "value": person.licence,
            }
        )
    return out


def patient_resource(
    person: Person, patient_id: str, mrn: str, hospital: Hospital, died: datetime | None
) -> Resource:
    """The Patient resource for one record of ``person``."""
    given = [person.given] + ([person.middle] if person.middle else [])
    patient: Resource = {
        "resourceType": "Patient",
        "id": patient_id,
        "identifier": _identifiers(person, mrn, hospital),
        "active": True,
        "name": [{"use": "official", "family": person.family, "given": given}],
        "telecom": [{"system": "phone", "value": person.phone, "use": "home"}],
        "gender": person.gender,
        "birthDate": day(person.birth),
        "address": [
            {
                "use": "home",
                "line": [person.line],
                "city": TOWN,
                "district": DISTRICT,
                "state": STATE,
                "postalCode": person.postal,
                "country": "US",
            }
        ],
        "maritalStatus": hl7_concept("v3-MaritalStatus", person.marital, MARITAL[person.marital]),
        "communication": [
            {"language": concept("urn:ietf:bcp:47", *person.language), "preferred": True}
        ],
        "generalPractitioner": [ref("Practitioner", person.pcp.id, person.pcp.display)],
        "managingOrganization": ref("Organization", hospital.org_id),
    }
    if died:
        patient["deceasedDateTime"] = dt(died)
    else:
        patient["deceasedBoolean"] = False
    return patient
