"""Small builders for FHIR datatypes (Coding, CodeableConcept, Quantity, dateTime) as dicts."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from typing import Any

Resource = dict[str, Any]

LOINC = "http://loinc.org"
SNOMED = "http://snomed.info/sct"
UCUM = "http://unitsofmeasure.org"
ICD10CM = "http://hl7.org/fhir/sid/icd-10-cm"
RXNORM = "http://www.nlm.nih.gov/research/umls/rxnorm"
CVX = "http://hl7.org/fhir/sid/cvx"
NPI = "http://hl7.org/fhir/sid/us-npi"
SSN = "http://hl7.org/fhir/sid/us-ssn"
#: a state driver's licence (2.16.840.1.113883.4.3.<state FIPS>), as Synthea writes them
DRIVERS_LICENCE = "urn:oid:2.16.840.1.113883.4.3.25"
MRN = "https://riverside.example.org/mrn"
NUCC = "http://nucc.org/provider-taxonomy"
V2_0203 = "http://terminology.hl7.org/CodeSystem/v2-0203"
ACT_CODE = "http://terminology.hl7.org/CodeSystem/v3-ActCode"
ROLE_CODE = "http://terminology.hl7.org/CodeSystem/v3-RoleCode"
PARTICIPATION = "http://terminology.hl7.org/CodeSystem/v3-ParticipationType"
INTERPRETATION = "http://terminology.hl7.org/CodeSystem/v3-ObservationInterpretation"
OBS_CATEGORY = "http://terminology.hl7.org/CodeSystem/observation-category"
TERMINOLOGY = "http://terminology.hl7.org/CodeSystem/"

# The demo hospital's wall clock: a fixed offset keeps output identical on every machine.
LOCAL_TZ = timezone(timedelta(hours=-5))


def coding(system: str, code: str, display: str | None = None) -> dict[str, str]:
    """A Coding."""
    out = {"system": system, "code": code}
    if display:
        out["display"] = display
    return out


def concept(
    system: str, code: str, display: str | None = None, text: str | None = None
) -> Resource:
    """A CodeableConcept with one Coding."""
    out: Resource = {"coding": [coding(system, code, display)]}
    if text:
        out["text"] = text
    return out


def hl7_concept(code_system: str, code: str, display: str | None = None) -> Resource:
    """A CodeableConcept from a terminology.hl7.org code system, e.g. ``condition-clinical``."""
    return concept(TERMINOLOGY + code_system, code, display)


def quantity(value: float, unit: str, ucum: str) -> Resource:
    """A UCUM Quantity."""
    return {"value": value, "unit": unit, "system": UCUM, "code": ucum}


def ref(resource_type: str, resource_id: str, display: str | None = None) -> dict[str, str]:
    """A relative Reference ``Type/id``."""
    out = {"reference": f"{resource_type}/{resource_id}"}
    if display:
        out["display"] = display
    return out


def dt(moment: datetime) -> str:
    """FHIR dateTime/instant text with seconds and offset."""
    if moment.tzinfo is LOCAL_TZ:  # fast path: every generated moment is on the local clock
        return (
            f"{moment.year:04d}-{moment.month:02d}-{moment.day:02d}T"
            f"{moment.hour:02d}:{moment.minute:02d}:{moment.second:02d}-05:00"
        )
    return moment.replace(microsecond=0).isoformat()


def day(value: date) -> str:
    """FHIR date text."""
    return value.isoformat()


def at(value: date, hour: int, minute: int = 0) -> datetime:
    """A local wall-clock moment on a day."""
    return datetime(value.year, value.month, value.day, hour, minute, tzinfo=LOCAL_TZ)
