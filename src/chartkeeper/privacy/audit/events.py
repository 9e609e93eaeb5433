"""AuditEvents shaped after IHE Basic Audit Log Patterns (https://profiles.ihe.net/ITI/BALP/).

Pragmatic BALP: RESTful interactions get ``type`` rest and a ``subtype`` from
http://hl7.org/fhir/restful-interaction; sign-in, break-the-glass and permission changes use
the DICOM event codes BALP builds on. One agent is
the requestor (user or client), one is this server; each patient is an entity with role 1
(Patient), the resource touched is a Domain Resource entity, and a search carries its query in
``entity.query`` (base64). Content of the records themselves never goes in. The events follow
BALP's patterns without claiming its profiles in ``meta.profile`` (the requestor is one agent,
not BALP's separate user and client agents), and carry codes without display text: every entry
is hashed on every verification, so bytes are time.
"""

from __future__ import annotations

import base64
from collections.abc import Sequence
from datetime import datetime
from functools import lru_cache
from typing import Any

from chartkeeper.core.clock import format_instant
from chartkeeper.privacy.actor import Actor

EVENT_TYPE_SYSTEM = "http://terminology.hl7.org/CodeSystem/audit-event-type"
INTERACTION_SYSTEM = "http://hl7.org/fhir/restful-interaction"
DICOM_SYSTEM = "http://dicom.nema.org/resources/ontology/DCM"
ENTITY_TYPE_SYSTEM = "http://terminology.hl7.org/CodeSystem/audit-entity-type"
OBJECT_ROLE_SYSTEM = "http://terminology.hl7.org/CodeSystem/object-role"
PARTICIPATION_SYSTEM = "http://terminology.hl7.org/CodeSystem/v3-ParticipationType"
SOURCE_TYPE_SYSTEM = "http://terminology.hl7.org/CodeSystem/security-source-type"
PURPOSE_SYSTEM = "http://terminology.hl7.org/CodeSystem/v3-ActReason"
ROLE_SYSTEM = "urn:chartkeeper:role"
OBSERVER = "chartkeeper"

ACTIONS = frozenset("CRUDE")
#: AuditEvent.outcome: success, minor failure, serious failure, major failure.
OUTCOMES = frozenset({"0", "4", "8", "12"})

_REST = {"system": EVENT_TYPE_SYSTEM, "code": "rest"}  # RESTful Operation
_AUTHENTICATION = {"system": DICOM_SYSTEM, "code": "110114"}  # User Authentication
_SECURITY_ALERT = {"system": DICOM_SYSTEM, "code": "110113"}  # Security Alert
_EXPORT = {"system": DICOM_SYSTEM, "code": "110106"}  # Export

#: The restful-interaction codes (http://hl7.org/fhir/R4/codesystem-restful-interaction.html).
INTERACTIONS = (
    "read",
    "vread",
    "update",
    "patch",
    "delete",
    "history-instance",
    "history-type",
    "history-system",
    "create",
    "search-type",
    "search-system",
    "capabilities",
    "transaction",
    "batch",
    "operation",
)

#: subtype name -> (AuditEvent.type, AuditEvent.subtype coding).
SUBTYPES: dict[str, tuple[dict[str, str], dict[str, str]]] = {
    **{code: (_REST, {"system": INTERACTION_SYSTEM, "code": code}) for code in INTERACTIONS},
    "export": (_EXPORT, {"system": INTERACTION_SYSTEM, "code": "operation"}),
    "login": (_AUTHENTICATION, {"system": DICOM_SYSTEM, "code": "110122"}),
    "logout": (_AUTHENTICATION, {"system": DICOM_SYSTEM, "code": "110123"}),
    # 110127 Emergency Override Started
    "break-the-glass": (_SECURITY_ALERT, {"system": DICOM_SYSTEM, "code": "110127"}),
    # 110136 Security Roles Changed
    "permission-change": (_SECURITY_ALERT, {"system": DICOM_SYSTEM, "code": "110136"}),
    # 110129 Security Configuration (field-encryption keys created, rotated, retired)
    "security-configuration": (_SECURITY_ALERT, {"system": DICOM_SYSTEM, "code": "110129"}),
}


def audit_event(
    *,
    action: str,
    subtype: str,
    outcome: str,
    actor: Actor,
    patient_ids: Sequence[str],
    resource: str | None = None,
    query: str | None = None,
    recorded: datetime,
    description: str | None = None,
) -> dict[str, Any]:
    """A BALP-shaped AuditEvent for one interaction (``id`` is set by the ledger).

    ``subtype`` is a key of ``SUBTYPES`` (a restful-interaction code, or ``export``, ``login``,
    ``logout``, ``break-the-glass``, ``permission-change``, ``security-configuration``);
    ``resource`` a reference such as ``Observation/7/_history/2``; ``query`` the search as
    requested (``Observation?code=...``).
    ``description`` becomes ``outcomeDesc``: say why a request failed, never what a record holds.
    """
    if subtype not in SUBTYPES:
        raise ValueError(f"unknown audit subtype {subtype!r}")
    _check_codes(action, outcome)
    event_type, subtype_coding = SUBTYPES[subtype]
    event: dict[str, Any] = {
        "resourceType": "AuditEvent",
        "type": event_type,
        "subtype": [subtype_coding],
        "action": action,
        "recorded": format_instant(recorded),
        "outcome": outcome,
        "agent": [_requestor(actor), _SERVER],
        "source": _SOURCE,
    }
    if description:
        event["outcomeDesc"] = description
    entities = _entities(patient_ids, resource, query)
    if entities:
        event["entity"] = entities
    return event


def _entities(
    patient_ids: Sequence[str], resource: str | None, query: str | None
) -> list[dict[str, Any]]:
    entities = [_patient(patient_id) for patient_id in patient_ids]
    if resource:
        entities.append(_resource(resource))
    if query is not None:
        entities.append(_query(query))
    return entities


def _check_codes(action: str, outcome: str) -> None:
    if action not in ACTIONS:
        raise ValueError(f"audit action must be one of C, R, U, D, E, not {action!r}")
    if outcome not in OUTCOMES:
        raise ValueError(f"audit outcome must be one of 0, 4, 8, 12, not {outcome!r}")


@lru_cache(maxsize=1024)
def _requestor(actor: Actor) -> dict[str, Any]:
    """The user or client who asked: BALP's requestor agent (made once per actor and shared by
    its events, like the server agent and source below: events are serialized, never
    changed, so the parts that repeat need not be rebuilt for every read)."""
    who: dict[str, Any] = {"identifier": {"value": actor.name}}
    if actor.practitioner_id:
        who["reference"] = f"Practitioner/{actor.practitioner_id}"
    elif actor.patient_id and actor.role == "patient":
        who["reference"] = f"Patient/{actor.patient_id}"
    agent: dict[str, Any] = {
        "type": {"coding": [_requestor_type(actor)]},
        "who": who,
        "requestor": True,
        "purposeOfUse": [{"coding": [{"system": PURPOSE_SYSTEM, "code": actor.purpose}]}],
    }
    if actor.role:
        agent["role"] = [{"coding": [{"system": ROLE_SYSTEM, "code": actor.role}]}]
    if actor.source_address:
        agent["network"] = {"address": actor.source_address, "type": "2"}  # 2: IP address
    return agent


def _requestor_type(actor: Actor) -> dict[str, str]:
    if actor.kind == "user":
        return {"system": PARTICIPATION_SYSTEM, "code": "IRCP"}
    return {"system": DICOM_SYSTEM, "code": "110153"}


_SERVER: dict[str, Any] = {
    "type": {"coding": [{"system": DICOM_SYSTEM, "code": "110152"}]},  # Destination Role ID
    "who": {"display": OBSERVER},
    "requestor": False,
}

_SOURCE: dict[str, Any] = {
    "observer": {"display": OBSERVER},
    "type": [{"system": SOURCE_TYPE_SYSTEM, "code": "4"}],  # Application Server
}


def _patient(patient_id: str) -> dict[str, Any]:
    return {
        "what": {"reference": f"Patient/{patient_id}"},
        "type": {"system": ENTITY_TYPE_SYSTEM, "code": "1"},  # Person
        "role": {"system": OBJECT_ROLE_SYSTEM, "code": "1"},  # Patient
    }


def _resource(reference: str) -> dict[str, Any]:
    return {
        "what": {"reference": reference},
        "type": {"system": ENTITY_TYPE_SYSTEM, "code": "2"},  # System Object
        "role": {"system": OBJECT_ROLE_SYSTEM, "code": "4"},  # Domain Resource
    }


def _query(query: str) -> dict[str, Any]:
    return {
        "type": {"system": ENTITY_TYPE_SYSTEM, "code": "2"},  # System Object
        "role": {"system": OBJECT_ROLE_SYSTEM, "code": "24"},  # Query
        "query": base64.b64encode(query.encode("utf-8")).decode("ascii"),
    }
