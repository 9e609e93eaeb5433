"""Patient Consents compiled into row conditions, so one deny refuses reads and filters searches.

FHIR R4 Consent (http://hl7.org/fhir/R4/consent.html): the root ``provision`` states the base
rule, nested provisions are exceptions to their parent (the deepest applicable provision
decides; among siblings a deny beats a permit). Criteria that do not depend on the record
(actor, purpose, action, period) are settled here for one requester; criteria that do (class,
securityLabel, data) become an ``Expr`` the guard evaluates on a resource (``holds``) or turns
into SQL. Criteria chartkeeper cannot evaluate (``code``, ``dataPeriod``, a class that is not a
resource type, an unreadable period) make a deny broader and a permit void: never fail open.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from chartkeeper.core.errors import InvalidError
from chartkeeper.fhir.dates import parse_date_range, to_micros
from chartkeeper.fhir.visibility import FALSE, TRUE, AllOf, AnyOf, Expr, Match, Not
from chartkeeper.privacy.actor import Actor
from chartkeeper.privacy.rules import READ_INTERACTIONS, RESOURCE_TYPES
from chartkeeper.privacy.sensitivity import Label

RESOURCE_TYPES_SYSTEM = "http://hl7.org/fhir/resource-types"
#: Consent.scope codes (http://terminology.hl7.org/CodeSystem/consentscope) enforced here.
PRIVACY_SCOPES = frozenset({"patient-privacy"})
#: v3-ActReason purposes of use and the purpose each specializes.
PURPOSE_PARENTS: Mapping[str, str] = {"ETREAT": "TREAT", "BTG": "ETREAT"}
#: Consent.policyRule codes (v3-ActCode) that give a root provision without a type its rule.
_POLICY_EFFECT: Mapping[str, str] = {
    "OPTIN": "permit",
    "OPTINR": "permit",
    "OPTOUT": "deny",
    "OPTOUTE": "deny",
}
_UNSUPPORTED_ELEMENTS = ("code", "dataPeriod")
#: Consent actions (http://terminology.hl7.org/CodeSystem/consentaction) per kind of interaction.
READ_ACTIONS = frozenset({"access", "use"})
WRITE_ACTIONS = frozenset({"collect", "correct"})

Gate = Literal["pass", "fail", "unknown"]


# -- row conditions ---------------------------------------------------------------------------


# Match, AllOf, AnyOf, Not, TRUE and FALSE live in fhir.visibility: the store compiles them.


def all_of(*items: Expr) -> Expr:
    """Conjunction, with constants folded."""
    kept = tuple(item for item in items if item is not TRUE)
    if any(item is FALSE for item in kept):
        return FALSE
    if not kept:
        return TRUE
    return kept[0] if len(kept) == 1 else AllOf(kept)


def any_of(*items: Expr) -> Expr:
    """Disjunction, with constants folded."""
    kept = tuple(item for item in items if item is not FALSE)
    if any(item is TRUE for item in kept):
        return TRUE
    if not kept:
        return FALSE
    return kept[0] if len(kept) == 1 else AnyOf(kept)


def negate(item: Expr) -> Expr:
    """Negation, with constants and double negation folded."""
    if item is TRUE:
        return FALSE
    if item is FALSE:
        return TRUE
    return item.item if isinstance(item, Not) else Not(item)


@dataclass(frozen=True)
class Row:
    """What a condition sees of one stored resource."""

    resource_type: str
    labels: frozenset[Label]
    reference: str | None


def holds(expr: Expr, row: Row) -> bool:
    """Whether ``expr`` holds for ``row``."""
    if isinstance(expr, Match):
        return _match_holds(expr, row)
    if isinstance(expr, AllOf):
        return all(holds(item, row) for item in expr.items)
    if isinstance(expr, AnyOf):
        return any(holds(item, row) for item in expr.items)
    return not holds(expr.item, row)


def _match_holds(match: Match, row: Row) -> bool:
    if match.resource_types is not None and row.resource_type not in match.resource_types:
        return False
    if match.security_labels is not None and not match.security_labels & row.labels:
        return False
    return match.references is None or row.reference in match.references


# -- compiling a Consent ----------------------------------------------------------------------


@dataclass(frozen=True)
class Requester:
    """Who asks, why, to do what, and when (epoch microseconds), as a Consent sees it."""

    references: frozenset[str]
    purposes: frozenset[str]
    actions: frozenset[str]
    now: int


@dataclass(frozen=True)
class ConsentRestriction:
    """One active Consent as it applies to one requester.

    ``denied`` holds for the patient's rows the Consent denies. ``lifted_labels`` are the
    sensitivity labels an applicable permit releases to the requester for any of the patient's
    records (a 42 CFR 2.31 consent, a 164.508 authorization).
    """

    consent_id: str
    patient_id: str
    denied: Expr
    lifted_labels: frozenset[Label]


@dataclass(frozen=True)
class _Node:
    deny: Expr
    permit: Expr
    lifted: frozenset[Label]


def purposes_of(purpose: str) -> frozenset[str]:
    """``purpose`` and every purpose it specializes (ETREAT is a kind of TREAT)."""
    found = {purpose}
    while purpose in PURPOSE_PARENTS:
        purpose = PURPOSE_PARENTS[purpose]
        found.add(purpose)
    return frozenset(found)


def requester_for(actor: Actor, interaction: str, now: datetime) -> Requester:
    """The actor as a Consent sees it: its references, purposes of use, action and time.

    A reader's action is access/use; an external provider's read is also a disclosure.
    """
    references = {
        f"{kind}/{value}"
        for kind, value in (
            ("Practitioner", actor.practitioner_id),
            ("Organization", actor.organization),
            ("Patient", actor.patient_id),
        )
        if value
    }
    actions = READ_ACTIONS if interaction in READ_INTERACTIONS else WRITE_ACTIONS
    if actor.role == "external_provider":
        actions |= {"disclose"}
    moment = now if now.tzinfo is not None else now.replace(tzinfo=UTC)
    return Requester(frozenset(references), purposes_of(actor.purpose), actions, to_micros(moment))


def restrictions(
    consents: Iterable[Mapping[str, Any]], requester: Requester, patient_id: str | None = None
) -> tuple[ConsentRestriction, ...]:
    """The restrictions of the active privacy Consents (of ``patient_id`` when given)."""
    found = (
        compile_consent(consent, requester)
        for consent in consents
        if patient_id is None or _patient_id(consent) == patient_id
    )
    return tuple(item for item in found if item is not None)


def compile_consent(consent: Mapping[str, Any], requester: Requester) -> ConsentRestriction | None:
    """``consent`` for ``requester``, or None when it is not an active privacy Consent."""
    patient_id = _patient_id(consent)
    root = consent.get("provision")
    if patient_id is None or not _is_enforced(consent) or not isinstance(root, dict):
        return None
    node = _compile_node(root, requester, _policy_effect(consent), uncertain=False)
    if node is None:
        return None
    consent_id = str(consent.get("id") or "?")
    return ConsentRestriction(consent_id, patient_id, node.deny, node.lifted)


def _is_enforced(consent: Mapping[str, Any]) -> bool:
    if consent.get("resourceType") != "Consent" or consent.get("status") != "active":
        return False
    scope_codes = set(_codes(consent.get("scope")))
    return not scope_codes or bool(scope_codes & PRIVACY_SCOPES)


def _patient_id(consent: Mapping[str, Any]) -> str | None:
    patient = consent.get("patient")
    reference = patient.get("reference") if isinstance(patient, dict) else None
    local = _local_reference(reference)
    if local is None or not local.startswith("Patient/"):
        return None
    return local.removeprefix("Patient/")


def _policy_effect(consent: Mapping[str, Any]) -> str | None:
    rules = consent.get("policyRule")
    for code in _codes(rules):
        if code in _POLICY_EFFECT:
            return _POLICY_EFFECT[code]
    return None


def _compile_node(
    provision: Mapping[str, Any], requester: Requester, default: str | None, uncertain: bool
) -> _Node | None:
    """A provision's deny and permit conditions; None when it cannot apply to the requester.

    Under doubt (``uncertain``) a permit counts for nothing while a deny still applies.
    """
    gate = _gate(provision, requester)
    if gate == "fail":
        return None
    match, unsupported = _row_match(provision)
    uncertain = uncertain or unsupported or gate == "unknown"
    effect = provision.get("type", default)
    if uncertain and effect == "permit":
        effect = None
    children = [
        node
        for child in _mappings(provision.get("provision"))
        if (node := _compile_node(child, requester, None, uncertain)) is not None
    ]
    child_deny = any_of(*(child.deny for child in children))
    child_permit = any_of(*(child.permit for child in children))
    own_deny = TRUE if effect == "deny" else FALSE
    own_permit = TRUE if effect == "permit" else FALSE
    scope = TRUE if match == Match() else match
    quiet = negate(any_of(child_deny, child_permit))
    deny = all_of(scope, any_of(child_deny, all_of(quiet, own_deny)))
    permit = all_of(scope, negate(child_deny), any_of(child_permit, own_permit))
    lifted = frozenset().union(*(child.lifted for child in children))
    if effect == "permit" and match.resource_types is None and match.references is None:
        lifted |= match.security_labels or frozenset()
    return _Node(deny, permit, lifted)


def _gate(provision: Mapping[str, Any], requester: Requester) -> Gate:
    checks = (
        _actor_gate(provision.get("actor"), requester),
        _codes_gate(provision.get("purpose"), requester.purposes, coded=False),
        _codes_gate(provision.get("action"), requester.actions, coded=True),
        _period_gate(provision.get("period"), requester.now),
    )
    if "fail" in checks:
        return "fail"
    return "unknown" if "unknown" in checks else "pass"


def _actor_gate(actors: object, requester: Requester) -> Gate:
    """A relative reference to the requester applies; an absolute one ending like it may."""
    entries = _mappings(actors)
    if not entries:
        return "pass"
    verdict: Gate = "fail"
    for entry in entries:
        reference = entry.get("reference")
        target = reference.get("reference") if isinstance(reference, dict) else None
        if _local_reference(target) in requester.references:
            if not _is_absolute(target):
                return "pass"
            verdict = "unknown"
    return verdict


def _codes_gate(value: object, wanted: frozenset[str], coded: bool) -> Gate:
    """purpose is a list of Coding; action a list of CodeableConcept (``coded``)."""
    items = _mappings(value)
    if not items:
        return "pass"
    codes = set(_codes(items)) if coded else {str(item.get("code")) for item in items}
    return "pass" if codes & wanted else "fail"


def _period_gate(period: object, now: int) -> Gate:
    if not isinstance(period, dict):
        return "pass"
    try:
        start = parse_date_range(period["start"])[0] if "start" in period else None
        end = parse_date_range(period["end"])[1] if "end" in period else None
    except InvalidError:
        return "unknown"
    if (start is not None and now < start) or (end is not None and now > end):
        return "fail"
    return "pass"


def _row_match(provision: Mapping[str, Any]) -> tuple[Match, bool]:
    """The record criteria of one provision, and whether any was beyond our understanding."""
    types, odd_class = _class_types(_mappings(provision.get("class")))
    labels = frozenset(
        (str(c.get("system")), str(c.get("code")))
        for c in _mappings(provision.get("securityLabel"))
    )
    references, odd_data = _data_references(_mappings(provision.get("data")))
    unsupported = odd_class or odd_data or any(k in provision for k in _UNSUPPORTED_ELEMENTS)
    return Match(types, labels or None, references), unsupported


def _class_types(codings: Sequence[Mapping[str, Any]]) -> tuple[frozenset[str] | None, bool]:
    if not codings:
        return None, False
    types = {str(c.get("code")) for c in codings}
    understood = all(
        c.get("system", RESOURCE_TYPES_SYSTEM) == RESOURCE_TYPES_SYSTEM for c in codings
    )
    if not understood or not types <= RESOURCE_TYPES:
        return None, True
    return frozenset(types), False


def _data_references(entries: Sequence[Mapping[str, Any]]) -> tuple[frozenset[str] | None, bool]:
    if not entries:
        return None, False
    found: set[str] = set()
    for entry in entries:
        reference = entry.get("reference")
        local = _local_reference(
            reference.get("reference") if isinstance(reference, dict) else None
        )
        if entry.get("meaning") != "instance" or local is None:
            return None, True
        found.add(local)
    return frozenset(found), False


# -- small readers ----------------------------------------------------------------------------


def _mappings(value: object) -> list[dict[str, Any]]:
    """A JSON object or the objects of a JSON array (resources are plain dicts inside)."""
    if isinstance(value, dict):
        return [value]
    if isinstance(value, list):
        return [item for item in value if isinstance(item, dict)]
    return []


def _codes(value: object) -> Iterable[str]:
    """Codes of a CodeableConcept or a list of them."""
    for concept in _mappings(value):
        for coding in _mappings(concept.get("coding")):
            code = coding.get("code")
            if isinstance(code, str):
                yield code


def _is_absolute(reference: object) -> bool:
    return isinstance(reference, str) and ":" in reference


def _local_reference(reference: object) -> str | None:
    """``Type/id`` of a relative or absolute reference (``.../Practitioner/p1`` -> p1's)."""
    if not isinstance(reference, str) or "/" not in reference:
        return None
    parts = reference.split("/_history/")[0].rstrip("/").split("/")
    return f"{parts[-2]}/{parts[-1]}" if len(parts) >= 2 and parts[-2] and parts[-1] else None
