"""Whose charts an actor reaches: every chart, their own, their patients', or by breaking the glass.

The guard computes the facts (CareTeam and Encounter participants, attending and referring
practitioners, referral recipients, active emergency grants); this module only applies them.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from chartkeeper.privacy.actor import CLINICAL_ROLES, Actor
from chartkeeper.privacy.rules import ROLE_SCOPE, non_patient_types

#: The rule id each scope answers to.
SCOPE_RULES: Mapping[str, str] = {
    "all": "role-permission",
    "none": "role-permission",
    "own": "patient-own-compartment",
    "treatment": "treatment-relationship",
}


@dataclass(frozen=True)
class Reach:
    """Whether the actor reaches the chart, by which rule, and whether only by emergency."""

    allowed: bool
    rule: str
    reason: str
    emergency: bool = False


def is_emergency(role: str, patient_id: str | None, break_glass: frozenset[str]) -> bool:
    """True when a clinician holds an active break-the-glass grant for the patient."""
    return role in CLINICAL_ROLES and patient_id is not None and patient_id in break_glass


def is_own_chart(actor: Actor, role: str, patient_id: str | None) -> bool:
    """True when a patient looks at their own compartment."""
    return role == "patient" and patient_id is not None and patient_id == actor.patient_id


def reach(
    actor: Actor,
    role: str,
    resource_type: str,
    patient_id: str | None,
    relationships: frozenset[str],
    break_glass: frozenset[str],
) -> Reach:
    """Apply the role's scope (``rules.ROLE_SCOPE``) to the record's Patient compartment."""
    scope = ROLE_SCOPE[role]
    rule = SCOPE_RULES[scope]
    if patient_id is None:
        return _outside_compartments(role, resource_type, rule)
    chart = f"Patient/{patient_id}"
    if scope == "all":
        return Reach(True, rule, f"role:{role} may {_verb(role)} every chart")
    if scope == "own":
        if is_own_chart(actor, role, patient_id):
            return Reach(True, rule, f"{chart} is the patient's own compartment")
        return Reach(False, rule, f"a patient sees only their own compartment, not {chart}")
    if scope == "treatment":
        return _treatment(role, patient_id, relationships, break_glass)
    return Reach(False, rule, f"role:{role} manages configuration, not charts ({chart})")


def _treatment(
    role: str, patient_id: str, relationships: frozenset[str], break_glass: frozenset[str]
) -> Reach:
    chart = f"Patient/{patient_id}"
    if patient_id in relationships:
        return Reach(True, "treatment-relationship", f"treatment relationship with {chart}")
    if is_emergency(role, patient_id, break_glass):
        reason = f"break-the-glass on {chart}: emergency access, logged for review"
        return Reach(True, "break-the-glass", reason, emergency=True)
    return Reach(False, "treatment-relationship", f"no treatment relationship with {chart}")


def _outside_compartments(role: str, resource_type: str, rule: str) -> Reach:
    if resource_type in non_patient_types(role):
        return Reach(True, "role-permission", f"{resource_type} outside any patient compartment")
    reason = f"role:{role} may not see {resource_type} outside a patient compartment it reaches"
    return Reach(False, rule, reason)


def _verb(role: str) -> str:
    return {"auditor": "audit", "privacy_officer": "investigate"}.get(role, "work on")


def is_author(actor: Actor, role: str, resource: Mapping[str, Any] | None) -> bool:
    """True when a clinician is among the ``author`` references of a note."""
    if role not in CLINICAL_ROLES or not actor.practitioner_id or not isinstance(resource, dict):
        return False
    return is_authored_by(resource, f"Practitioner/{actor.practitioner_id}")


def is_authored_by(resource: Mapping[str, Any], reference: str) -> bool:
    """True when ``reference`` (``Practitioner/id``) is among the resource's ``author``."""
    authors = resource.get("author")
    return isinstance(authors, list) and any(
        isinstance(author, dict) and author.get("reference") == reference for author in authors
    )


def reference_of(resource_type: str, resource: Mapping[str, Any] | None) -> str | None:
    """``Type/id`` of a resource that has an id."""
    record_id = resource.get("id") if isinstance(resource, dict) else None
    return f"{resource_type}/{record_id}" if isinstance(record_id, str) else None


def patients_in_reach(
    actor: Actor, role: str, relationships: frozenset[str], break_glass: frozenset[str]
) -> frozenset[str] | None:
    """The Patients whose charts ``role`` reaches (None: every chart)."""
    scope = ROLE_SCOPE[role]
    if scope == "all":
        return None
    if scope == "own":
        return frozenset({actor.patient_id}) if actor.patient_id else frozenset()
    if scope == "treatment":
        return relationships | (break_glass if role in CLINICAL_ROLES else frozenset())
    return frozenset()


def author_reference(actor: Actor, role: str) -> str | None:
    """``Practitioner/id`` of a clinician, whose own psychotherapy notes stay visible to them."""
    if role in CLINICAL_ROLES and actor.practitioner_id:
        return f"Practitioner/{actor.practitioner_id}"
    return None
