"""The access decision as pure functions, so every refusal names its rule and is testable alone.

No I/O: the guarded repository looks up the facts (``AccessContext``), calls ``decide`` for
one record or ``search_filter`` for a search, and turns the results into 404/403 answers and
SQL. Rules, in order (first refusal wins, default deny): system actor; known role,
interaction and type; role permission (minimum necessary, 45 CFR 164.502(b)); the chart's
reach (own compartment, treatment relationship, break-the-glass); sensitivity labels and
psychotherapy notes (164.508(a)(2)); patient Consent. See docs/security_access.md.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from datetime import datetime
from typing import Any

from chartkeeper.fhir.visibility import FALSE
from chartkeeper.privacy.actor import CLINICAL_ROLES, ROLES, Actor
from chartkeeper.privacy.consent import (
    ConsentRestriction,
    Row,
    holds,
    requester_for,
    restrictions,
)
from chartkeeper.privacy.relationships import (
    author_reference,
    is_author,
    is_authored_by,
    is_emergency,
    is_own_chart,
    patients_in_reach,
    reach,
    reference_of,
)
from chartkeeper.privacy.rules import (
    INSTANCE_INTERACTIONS,
    INTERACTIONS,
    RESOURCE_TYPES,
    ROLE_SCOPE,
    SEARCHABLE,
    USER_MANAGERS,
    allowed_interactions,
    non_patient_types,
)
from chartkeeper.privacy.sensitivity import (
    NO_PATIENT_DISCLOSURE,
    PART2_CODES,
    PSYCHOTHERAPY_NOTE,
    VERY_RESTRICTED,
    Label,
    grant_code,
    hidden_labels,
    is_held_from_patient,
    label_name,
    security_labels,
    sensitive_labels,
)

_SYSTEM_REASON = "the system itself (still audited)"
_PSYCHOTHERAPY_REFUSAL = (
    "psychotherapy notes need the patient's authorization (45 CFR 164.508(a)(2)); "
    "only their author sees them otherwise"
)


@dataclass(frozen=True)
class Decision:
    """The verdict, the rule that gave it (a stable id) and the reason in words.

    ``hide_existence`` asks the guard to answer as if the record did not exist (404), because
    the refusal concerns this record rather than the kind of request.
    """

    allowed: bool
    reason: str
    rule: str
    hide_existence: bool = False


@dataclass(frozen=True, kw_only=True)
class AccessContext:
    """Facts the guard looks up before deciding (never looked up here).

    ``relationships``: Patients the actor has a treatment relationship with; ``break_glass``:
    Patients the actor holds an active emergency grant for; ``sensitivity_grants``: label codes
    the actor is explicitly granted ("R", "HIV", "ETH", "PSYTHPN"...); ``consents``: active
    Consents of the patient concerned (for ``search_filter``: of every patient in reach);
    ``now``: when the request happens.
    """

    now: datetime
    relationships: frozenset[str] = frozenset()
    break_glass: frozenset[str] = frozenset()
    sensitivity_grants: frozenset[str] = frozenset()
    consents: tuple[dict[str, Any], ...] = ()


@dataclass
class _Case:
    """One record-level question and what the answer rests on so far."""

    actor: Actor
    role: str
    interaction: str
    resource_type: str
    resource: dict[str, Any] | None
    patient_id: str | None
    context: AccessContext
    rule: str = "default-deny"
    notes: list[str] = field(default_factory=list)
    emergency_used: bool = False
    consent_cache: tuple[ConsentRestriction, ...] | None = None

    @property
    def hide(self) -> bool:
        return self.interaction in INSTANCE_INTERACTIONS

    @property
    def own(self) -> bool:
        return is_own_chart(self.actor, self.role, self.patient_id)

    @property
    def emergency(self) -> bool:
        return is_emergency(self.role, self.patient_id, self.context.break_glass)


def decide(
    actor: Actor,
    interaction: str,
    resource_type: str,
    resource: dict[str, Any] | None,
    patient_id: str | None,
    context: AccessContext,
) -> Decision:
    """May ``actor`` perform ``interaction`` on ``resource_type`` (this record, this patient)?

    ``resource`` is the stored record (or the new content for create) and ``patient_id`` the
    Patient compartment it belongs to (None: outside every compartment). Both None asks about
    the kind of request only (a type-level search, history or export). Never raises.
    """
    try:
        return _decide(
            _Case(actor, str(actor.role), interaction, resource_type, resource, patient_id, context)
        )
    except Exception:  # a malformed input is refused, never turned into an error
        reason = "the request could not be evaluated, so it is refused"
        return Decision(False, reason, "default-deny", interaction in INSTANCE_INTERACTIONS)


def _decide(case: _Case) -> Decision:
    if case.actor.kind == "system":
        return Decision(True, _SYSTEM_REASON, "system")
    refusal = _check_request(case.actor, case.interaction, case.resource_type)
    if refusal is not None:
        return refusal
    if case.resource is None and case.patient_id is None:
        reason = f"role:{case.role} may {case.interaction} {case.resource_type}; results filtered"
        return Decision(True, reason, "role-permission")
    context = case.context
    found = reach(
        case.actor,
        case.role,
        case.resource_type,
        case.patient_id,
        context.relationships,
        context.break_glass,
    )
    if not found.allowed:
        return Decision(False, found.reason, found.rule, case.hide)
    case.rule, case.notes, case.emergency_used = found.rule, [found.reason], found.emergency
    if case.resource is None:  # a compartment search: the search filter judges each record
        return Decision(True, "; ".join([*case.notes, "results filtered"]), case.rule)
    refusal = _check_labels(case) or _check_consents(case)
    if refusal is not None:
        return refusal
    rule = "break-the-glass" if case.emergency_used else case.rule
    return Decision(True, "; ".join(case.notes), rule)


def _check_request(actor: Actor, interaction: str, resource_type: str) -> Decision | None:
    """Default deny for unknown roles, interactions and types; then the role table."""
    if actor.role not in ROLES or actor.kind not in ("user", "client"):
        reason = f"unknown role {actor.role!r} or kind of actor {actor.kind!r}"
        return Decision(False, reason, "default-deny")
    if interaction not in INTERACTIONS:
        return Decision(False, f"unknown interaction {interaction!r}", "default-deny")
    if resource_type not in RESOURCE_TYPES:
        return Decision(False, f"unknown resource type {resource_type!r}", "default-deny")
    if interaction not in allowed_interactions(actor.role, resource_type):
        reason = (
            f"role:{actor.role} may not {interaction} {resource_type} "
            "(minimum necessary, 45 CFR 164.502(b))"
        )
        return Decision(False, reason, "role-permission")
    return None


def _applicable(case: _Case) -> tuple[ConsentRestriction, ...]:
    """The patient's Consents as they bind this actor (a patient's own do not bind them)."""
    if case.own or case.patient_id is None or not case.context.consents:
        return ()
    if case.consent_cache is None:
        asking = requester_for(case.actor, case.interaction, case.context.now)
        case.consent_cache = restrictions(case.context.consents, asking, case.patient_id)
    return case.consent_cache


def _check_labels(case: _Case) -> Decision | None:
    if case.role == "patient" and is_held_from_patient(case.resource):
        reason = "the record is held for clinician review (NOPAT) and not yet released"
        return Decision(False, reason, "held-for-review", case.hide)
    labels = sensitive_labels(case.resource)
    if not labels:
        return None
    lifted = frozenset().union(*(item.lifted_labels for item in _applicable(case)))
    for label in sorted(labels):
        refusal = _check_label(case, label, lifted)
        if refusal is not None:
            return refusal
    return None


def _check_label(case: _Case, label: Label, lifted: frozenset[Label]) -> Decision | None:
    """None when ``label`` is released to the actor (noting how), else the refusal."""
    name = label_name(label)
    if grant_code(label) in case.context.sensitivity_grants:
        case.notes.append(f"{name} released by an explicit grant")
    elif label in lifted:
        case.notes.append(f"{name} released by the patient's Consent")
    elif label == PSYCHOTHERAPY_NOTE:
        if not is_author(case.actor, case.role, case.resource):
            return Decision(False, _PSYCHOTHERAPY_REFUSAL, "psychotherapy-note", case.hide)
        case.notes.append("psychotherapy note used by its author (45 CFR 164.508(a)(2)(i)(A))")
    elif case.own and label != VERY_RESTRICTED:
        case.notes.append(f"{name} is part of the patient's own record (45 CFR 164.524)")
    elif case.emergency:
        case.notes.append(_emergency_note(label))
        case.emergency_used = True
    else:
        reason = f"the record is labelled {name} and role:{case.role} holds no grant for it"
        return Decision(False, reason, "sensitivity-label", case.hide)
    return None


def _emergency_note(label: Label) -> str:
    if label[1] in PART2_CODES:
        return (
            f"{label_name(label)} released under break-the-glass: bona fide medical emergency "
            "(42 CFR 2.51); record the 2.51(c) details"
        )
    return f"{label_name(label)} released under break-the-glass"


def _check_consents(case: _Case) -> Decision | None:
    resource_type = case.resource_type
    row = Row(
        resource_type, security_labels(case.resource), reference_of(resource_type, case.resource)
    )
    for item in _applicable(case):
        if not holds(item.denied, row):
            continue
        if not case.emergency:
            reason = f"Consent/{item.consent_id} of Patient/{item.patient_id} denies this access"
            return Decision(False, reason, "consent-deny", case.hide)
        case.notes.append(
            f"Consent/{item.consent_id} restriction set aside for emergency treatment "
            "(45 CFR 164.522(a)(1)(iii))"
        )
        case.emergency_used = True
    return None


def may_manage_users(actor: Actor) -> Decision:
    """Whether ``actor`` may create, change or disable user accounts."""
    if actor.kind == "system":
        return Decision(True, _SYSTEM_REASON, "system")
    if actor.role in USER_MANAGERS and actor.kind == "user":
        return Decision(True, f"role:{actor.role} manages user accounts", "role-permission")
    return Decision(False, f"role:{actor.role} may not manage user accounts", "role-permission")


# -- search -----------------------------------------------------------------------------------


@dataclass(frozen=True)
class SearchFilter:
    """What a search may return, for the store to apply in SQL (see docs/security_access.md).

    A row is returned when all hold:

    1. ``resource_types`` is None or holds its type;
    2. its ``patient_id`` is in ``patient_ids`` (None: any), or it has no patient_id,
       ``include_non_patient_resources`` is True and its type is in
       ``non_patient_resource_types`` (None: any);
    3. none of its ``meta.security`` labels is in ``hidden_security_codes``, except labels in
       ``visible_security_codes_by_patient[patient_id]`` and, when an ``author`` of the row is
       ``author_reference``, labels in ``author_exempt_codes``;
    4. no ``denied_by_consent`` entry for its patient_id has a ``denied`` condition that holds.

    ``admits`` is that sentence in Python: the reference the SQL must agree with. The
    defaults describe a filter that returns nothing.
    """

    resource_types: frozenset[str] | None = frozenset()
    patient_ids: frozenset[str] | None = frozenset()
    include_non_patient_resources: bool = False
    non_patient_resource_types: frozenset[str] | None = frozenset()
    hidden_security_codes: frozenset[Label] = frozenset()
    visible_security_codes_by_patient: Mapping[str, frozenset[Label]] = field(default_factory=dict)
    author_reference: str | None = None
    author_exempt_codes: frozenset[Label] = frozenset()
    denied_by_consent: tuple[ConsentRestriction, ...] = ()
    reason: str = "nothing"

    def admits(self, resource: Mapping[str, Any], patient_id: str | None) -> bool:
        """Whether one stored row (and the Patient compartment it is in) passes the filter."""
        resource_type = str(resource.get("resourceType"))
        if self.resource_types is not None and resource_type not in self.resource_types:
            return False
        if not self._in_reach(resource_type, patient_id):
            return False
        labels = security_labels(resource)
        if not self._labels_visible(labels, resource, patient_id):
            return False
        row = Row(resource_type, labels, reference_of(resource_type, resource))
        return not any(
            item.patient_id == patient_id and holds(item.denied, row)
            for item in self.denied_by_consent
        )

    def _in_reach(self, resource_type: str, patient_id: str | None) -> bool:
        if patient_id is not None:
            return self.patient_ids is None or patient_id in self.patient_ids
        types = self.non_patient_resource_types
        return self.include_non_patient_resources and (types is None or resource_type in types)

    def _labels_visible(
        self, labels: frozenset[Label], resource: Mapping[str, Any], patient_id: str | None
    ) -> bool:
        hidden = labels & self.hidden_security_codes
        if hidden and patient_id is not None:
            hidden -= self.visible_security_codes_by_patient.get(patient_id, frozenset())
        if hidden and self.author_reference and is_authored_by(resource, self.author_reference):
            hidden -= self.author_exempt_codes
        return not hidden


_NOTHING = SearchFilter(reason="nothing")
_EVERYTHING = replace(
    _NOTHING,
    resource_types=None,
    patient_ids=None,
    include_non_patient_resources=True,
    non_patient_resource_types=None,
    reason=_SYSTEM_REASON,
)


def search_filter(actor: Actor, resource_type: str | None, context: AccessContext) -> SearchFilter:
    """What a search of ``resource_type`` (None: every type) may return to ``actor``."""
    try:
        return _search_filter(actor, resource_type, context)
    except Exception:  # refuse everything rather than fail open or raise
        return replace(_NOTHING, reason="the search could not be evaluated, so it finds nothing")


def _search_filter(actor: Actor, resource_type: str | None, context: AccessContext) -> SearchFilter:
    if actor.kind == "system":
        return _EVERYTHING
    if actor.role not in ROLES or actor.kind not in ("user", "client"):
        return replace(_NOTHING, reason=f"unknown role {actor.role!r} (default-deny)")
    role = actor.role
    types = SEARCHABLE[role] if resource_type is None else SEARCHABLE[role] & {resource_type}
    if not types:
        reason = f"role:{role} may not search {resource_type} (minimum necessary, 164.502(b))"
        return replace(_NOTHING, reason=reason)
    patient_ids = patients_in_reach(actor, role, context.relationships, context.break_glass)
    hidden = hidden_labels(context.sensitivity_grants)
    if role == "patient":  # results held for clinician review (never lifted for the patient)
        hidden |= {NO_PATIENT_DISCLOSURE}
    applicable = _search_restrictions(actor, role, patient_ids, context)
    author = author_reference(actor, role) if PSYCHOTHERAPY_NOTE in hidden else None
    non_patient = non_patient_types(role) & types
    return SearchFilter(
        resource_types=types,
        patient_ids=patient_ids,
        include_non_patient_resources=bool(non_patient),
        non_patient_resource_types=non_patient,
        hidden_security_codes=hidden,
        visible_security_codes_by_patient=_visible_by_patient(
            actor, role, hidden, applicable, context
        ),
        author_reference=author,
        author_exempt_codes=frozenset({PSYCHOTHERAPY_NOTE}) if author else frozenset(),
        denied_by_consent=tuple(item for item in applicable if item.denied != FALSE),
        reason=_filter_reason(role, patient_ids, hidden, applicable),
    )


def _search_restrictions(
    actor: Actor, role: str, patient_ids: frozenset[str] | None, context: AccessContext
) -> tuple[ConsentRestriction, ...]:
    """Consents binding the actor, except for patients under an emergency grant."""
    if role == "patient" or not context.consents:
        return ()
    found = restrictions(context.consents, requester_for(actor, "search", context.now))
    return tuple(
        item
        for item in found
        if (patient_ids is None or item.patient_id in patient_ids)
        and not is_emergency(role, item.patient_id, context.break_glass)
    )


def _visible_by_patient(
    actor: Actor,
    role: str,
    hidden: frozenset[Label],
    applicable: tuple[ConsentRestriction, ...],
    context: AccessContext,
) -> dict[str, frozenset[Label]]:
    visible: dict[str, frozenset[Label]] = {}
    if role == "patient" and actor.patient_id:
        visible[actor.patient_id] = hidden - {
            VERY_RESTRICTED,
            PSYCHOTHERAPY_NOTE,
            NO_PATIENT_DISCLOSURE,
        }
    if role in CLINICAL_ROLES:
        for patient_id in context.break_glass:
            visible[patient_id] = hidden - {PSYCHOTHERAPY_NOTE}
    for item in applicable:
        released = item.lifted_labels & hidden
        if released:
            visible[item.patient_id] = visible.get(item.patient_id, frozenset()) | released
    return visible


def _filter_reason(
    role: str,
    patient_ids: frozenset[str] | None,
    hidden: frozenset[Label],
    applicable: tuple[ConsentRestriction, ...],
) -> str:
    reach_text = "every chart" if patient_ids is None else f"{len(patient_ids)} patient(s)"
    return (
        f"role:{role} ({ROLE_SCOPE[role]}): {reach_text}; {len(hidden)} sensitive label(s) "
        f"hidden without a grant; {len(applicable)} Consent restriction(s)"
    )
