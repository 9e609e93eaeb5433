"""Coverage (insurance) and the CareTeam of patients with chronic problems."""

from __future__ import annotations

from datetime import date

from .chart import Chart
from .fhirdata import LOINC, SNOMED, Resource, concept, day, hl7_concept, ref

PAYMENT_TYPOLOGY = "urn:oid:2.16.840.1.113883.3.221.5"  # Source of Payment Typology
TYPOLOGY_DISPLAY = {"1": "MEDICARE", "2": "MEDICAID", "5": "PRIVATE HEALTH INSURANCE"}
CARDIAC = {"chf", "afib", "cad"}
BEHAVIORAL = {"depression", "anxiety", "ptsd", "bipolar", "adhd"}


def _payor(chart: Chart) -> str | None:
    age, roll = chart.person.age_on(chart.today), chart.rng.random()
    if roll < 0.08:
        return None  # self-pay
    if age >= 65:
        return "medicare"
    if roll < (0.45 if age < 18 else 0.2):
        return "medicaid"
    return "acme" if roll < 0.7 else "bluevalley"


def add_coverage(chart: Chart, start: date) -> None:
    """Most patients have one insurance plan; about 8% are self-pay."""
    key = _payor(chart)
    if key is None:
        return
    payor_id, _, typology = chart.hospital.payors[key]
    relation = ("self", "Self") if chart.person.age_on(chart.today) >= 18 else ("child", "Child")
    chart.add(
        {
            "resourceType": "Coverage",
            "status": "active",
            "type": concept(PAYMENT_TYPOLOGY, typology, TYPOLOGY_DISPLAY[typology]),
            "subscriberId": f"{key[:3].upper()}{chart.rng.randint(10_000_000, 99_999_999)}",
            "beneficiary": chart.subject,
            "relationship": hl7_concept("subscriber-relationship", *relation),
            "period": {"start": day(start)},
            "payor": [ref("Organization", payor_id)],
            "class": [
                {
                    "type": hl7_concept("coverage-class", "group", "Group"),
                    "value": f"GRP-{chart.rng.randint(100, 999)}",
                }
            ],
        }
    )


def _member(role: tuple[str, str], reference: dict[str, str]) -> Resource:
    return {"role": [concept(SNOMED, *role)], "member": reference}


def add_care_team(chart: Chart, died: bool) -> None:
    """Longitudinal care team: PCP, patient, and a specialist for cardiac or behavioral problems."""
    chronic = [p for p in chart.problems.values() if p.cond.chronic]
    if not chronic:
        return
    keys = {p.cond.key for p in chronic}
    pcp = chart.person.pcp
    participants = [
        _member(
            ("446050000", "Primary care physician (occupation)"),
            ref("Practitioner", pcp.id, pcp.display),
        )
    ]
    for needed, dept, role in (
        (CARDIAC, "cardiology", ("17561000", "Cardiologist (occupation)")),
        (BEHAVIORAL, "behavioral_health", ("80584001", "Psychiatrist (occupation)")),
    ):
        if keys & needed:
            doc = chart.hospital.staff(dept)[chart.person.index % len(chart.hospital.staff(dept))]
            participants.append(_member(role, ref("Practitioner", doc.id, doc.display)))
    participants.append(_member(("116154003", "Patient (person)"), chart.subject))
    chart.add(
        {
            "resourceType": "CareTeam",
            "status": "inactive" if died else "active",
            "category": [
                concept(LOINC, "LA28865-6", "Longitudinal care-coordination focused care team")
            ],
            "name": f"{chart.person.family} care team",
            "subject": chart.subject,
            "period": {"start": day(min(p.onset for p in chronic))},
            "participant": participants,
            "reasonReference": [ref("Condition", p.id) for p in chronic],
            "managingOrganization": [ref("Organization", chart.hospital.org_id)],
        }
    )
