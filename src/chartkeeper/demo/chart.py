"""The working state of one patient record while its history is generated."""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import date, datetime

from .catalog import ConditionDef
from .catalog_meds import MedDef
from .catalog_misc import AllergyDef
from .fhirdata import Resource, at, ref
from .hospital import Clinician, Hospital
from .ids import IdMaker
from .people import Person
from .scenarios import Scenario


@dataclass
class Problem:
    """A recorded Condition."""

    cond: ConditionDef
    id: str
    onset: date


@dataclass
class ActiveMed:
    """A MedicationRequest still in force."""

    med: MedDef
    resource: Resource
    started: datetime


@dataclass(frozen=True)
class Visit:
    """A planned encounter; ``end`` is None while the patient is still in the building."""

    scenario: Scenario
    start: datetime
    end: datetime | None
    expired: bool = False


@dataclass
class VisitFacts:
    """What happened at one encounter, for the notes written about it."""

    visit: Visit
    encounter_id: str
    clinician: Clinician
    reason: Problem | None = None
    vitals: dict[str, float] = field(default_factory=dict)
    labs: dict[str, float] = field(default_factory=dict)
    started: list[MedDef] = field(default_factory=list)  # new orders and prescriptions
    given: list[MedDef] = field(default_factory=list)  # single doses given in the ED
    duration: str | None = None  # symptom duration as first written, reused by later notes
    procedures: list[str] = field(default_factory=list)
    vaccines: list[str] = field(default_factory=list)
    new_problems: list[ConditionDef] = field(default_factory=list)
    disposition: str = "home"

    @property
    def when(self) -> date:
        return self.visit.start.date()


@dataclass
class Chart:
    """One patient record under construction: its resources and what clinicians know so far."""

    seed: int
    hospital: Hospital
    person: Person
    mrn: str
    ids: IdMaker
    rng: random.Random
    today: date
    patient_id: str
    resources: list[Resource] = field(default_factory=list)
    problems: dict[str, Problem] = field(default_factory=dict)
    meds: dict[str, ActiveMed] = field(default_factory=dict)
    allergies: list[tuple[AllergyDef, str]] = field(default_factory=list)  # allergen, reaction
    allergies_asked: bool = False
    allergies_recorded: bool = False
    no_allergy_text: str = "NKDA"  # or NKA, as recorded
    surgeries: list[tuple[str, date]] = field(default_factory=list)
    dnr: bool = False
    vaccines: dict[str, date] = field(default_factory=dict)  # vaccine key -> last given

    @property
    def now(self) -> datetime:
        """Noon on the generation day: nothing happens after this."""
        return at(self.today, 12)

    @property
    def subject(self) -> dict[str, str]:
        return ref("Patient", self.patient_id)

    def add(self, resource: Resource) -> str:
        """Give ``resource`` the next id of its type, keep it, and return the id."""
        rid = self.ids.next(resource["resourceType"])
        resource["id"] = rid
        self.resources.append(resource)
        return rid

    def open(self, resource_type: str) -> Resource:
        """A kept resource with only type and id, to be filled in later (keeps bundle order)."""
        resource: Resource = {"resourceType": resource_type}
        self.add(resource)
        return resource

    def active_problems(self, when: date) -> list[Problem]:
        """Chronic problems on the list by ``when``."""
        return [p for p in self.problems.values() if p.cond.chronic and p.onset <= when]
