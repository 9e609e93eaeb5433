"""Who looks after the patient: CareTeam members, the general practitioner named on the
Patient, and the attending of the latest encounter, each linked to the resource that says so."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from chartkeeper.summary.chart_elements import (
    Json,
    any_codes,
    code_of,
    concept_text,
    date_of,
    dicts,
    instant,
    local_reference,
)
from chartkeeper.summary.clinician_items import reference_of

#: CareTeam statuses whose members no longer (or not yet) look after the patient.
CARE_TEAM_OVER = {"inactive", "entered-in-error", "proposed"}
#: http://terminology.hl7.org/CodeSystem/v3-ParticipationType "ATND", the attender.
ATTENDER = "ATND"


@dataclass(frozen=True)
class CareMember:
    """Someone on the care team, and the resource that says so (its ``reference``)."""

    reference: str
    name: str
    member: str
    role: str
    date: str
    author: str = ""


def _name(reference: Any, names: dict[str, str]) -> tuple[str, str]:
    """(display, ``Type/id``) of a Reference."""
    if not isinstance(reference, dict):
        return "", ""
    ref = local_reference(reference)
    return str(reference.get("display") or names.get(ref, ref)), ref


def _team_members(team: Json, patient_ref: str, names: dict[str, str]) -> list[CareMember]:
    found = []
    for participant in dicts(team.get("participant")):
        name, member = _name(participant.get("member"), names)
        if not name or member == patient_ref:
            continue
        roles = [concept_text(r) for r in dicts(participant.get("role"))]
        period = participant.get("period")
        start = period.get("start") if isinstance(period, dict) else None
        manager, _ = _name((team.get("managingOrganization") or [None])[0], names)
        found.append(
            CareMember(
                reference=reference_of(team),
                name=name,
                member=member,
                role=", ".join(r for r in roles if r) or "Care team member",
                date=str(start or date_of(team)),
                author=manager,
            )
        )
    return found


def _attending(encounters: list[Json], names: dict[str, str]) -> list[CareMember]:
    """The attender of the newest encounter (its first participant when none is marked)."""
    dated = [e for e in encounters if code_of(e, "status") != "entered-in-error"]
    if not dated:
        return []
    latest = max(dated, key=lambda e: instant(date_of(e)))
    people = [p for p in dicts(latest.get("participant"))]
    attenders = [p for p in people if ATTENDER in any_codes(p.get("type"))] or people[:1]
    found = []
    for participant in attenders:
        name, member = _name(participant.get("individual"), names)
        if name:
            found.append(
                CareMember(
                    reference=reference_of(latest),
                    name=name,
                    member=member,
                    role="Attending (latest encounter)",
                    date=date_of(latest),
                )
            )
    return found


def care_team(
    patient: Json, teams: list[Json], encounters: list[Json], names: dict[str, str]
) -> list[CareMember]:
    """The general practitioner, the members of active CareTeams, and the latest attending;
    one line per person and role."""
    patient_ref = reference_of(patient)
    found = []
    for reference in dicts(patient.get("generalPractitioner")):
        name, member = _name(reference, names)
        if name:
            found.append(CareMember(patient_ref, name, member, "General practitioner", ""))
    for team in sorted(teams, key=lambda t: instant(date_of(t)), reverse=True):
        if code_of(team, "status") not in CARE_TEAM_OVER:
            found.extend(_team_members(team, patient_ref, names))
    found.extend(_attending(encounters, names))
    unique: dict[tuple[str, str], CareMember] = {}
    for person in found:
        unique.setdefault((person.member or person.name, person.role), person)
    return list(unique.values())
