"""Compact read entries: a read's AuditEvent stored as the few values that differ between reads.

A buffered read used to be stored as its whole BALP AuditEvent (about 1.4 kB of canonical JSON,
nine tenths of it the same codes and URLs in every entry). Building, queueing, serialising,
hashing and writing that text cost about 30 µs of CPU per read, most of the guarded read's own
cost. A compact entry stores instead, in the ``event`` column, a short JSON array::

    [2, seq, subtype, resource, query, outcomeDesc, [kind, name, role, purpose,
                                                      practitionerId, patientId, sourceAddress]]

(``2``: the format; ``null`` for what is absent). Together with the row's other columns
(``recorded_at``, ``patient_ids``, ``action``, ``outcome``) it says everything the full event
says, and ``render`` rebuilds that event, with ``audit_event``, whenever the ledger is searched
or read. The hash chain covers the stored text exactly as it covers a full event's (verify does
not care which it is), so a compact entry is as tamper-evident as any other; ``seq`` is in the
text so that verify can tell a moved entry from an altered one, as the full events' ``id`` does.

The actor's part is built once per actor (``actor_part``) and shared by every entry of that
actor, and a queued read is a plain tuple (``ReadEntry``): the serving path does no more than
stamp the time and append the tuple. Rows whose ``event`` is a JSON object are the full events
of format 1 (writes, sign-ins, refusals, and every entry written before compact reads existed)
and are served as stored.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from functools import lru_cache
from json.encoder import encode_basestring
from typing import Any

import orjson

from chartkeeper.core.ids import is_valid_id
from chartkeeper.fhir.dates import from_micros
from chartkeeper.privacy.actor import Actor
from chartkeeper.privacy.audit.events import ACTIONS, OUTCOMES, SUBTYPES, audit_event
from chartkeeper.privacy.audit.pending import MAX_AGENT_LENGTH

#: The first element of a compact entry's array: its format (format 1 is the full event).
COMPACT_FORMAT = 2
#: The compact text: format, seq, subtype, resource, query, outcomeDesc, actor.
COMPACT = "[2,%d,%s,%s,%s,%s,%s]"
COMPACT_READ = "[2,%d,%s,%s,null,null,%s]"

#: The JSON text of each code, so that writing an entry looks them up instead of quoting them.
CODE_JSON: dict[str, str] = {
    code: encode_basestring(code) for code in (*ACTIONS, *OUTCOMES, *SUBTYPES)
}


#: What every entry of one actor repeats, serialised once (see ``actor_part``): ``(the actor's
#: fields as a JSON array, the last element of the compact text; the ``agent`` column, the name
#: cut to the column's 256 characters; that as a JSON string, as the hashed message carries
#: it)``. A plain tuple, not a NamedTuple: the garbage collector stops tracking a plain tuple
#: of strings (and so every queued entry holding it) but never a subclass, and a server holding
#: thousands of entries the collector keeps scanning pays for it on every request.
ActorPart = tuple[str, str, str]


#: A read waiting in the buffer for its seq: ``(recorded_at, actor part, action, outcome,
#: subtype, patient_ids, resource, query, note)``. A plain tuple of strings, numbers and plain
#: tuples, not a dataclass: queueing one is on every read's path (``AuditBuffer.add_read``
#: checks it), the garbage collector stops tracking it at its first pass (see ``ActorPart``),
#: and the ledger tells it from a ``PendingEntry`` by its type. It holds the actor's shared
#: part, not the ``Actor``: a server makes an ``Actor`` per request, and thousands of them kept
#: alive until their batch is written cost every request more than looking the part up.
ReadEntry = tuple[
    int, ActorPart, str, str, str, tuple[str, ...], str | None, str | None, str | None
]


def _json(value: str | None) -> str:
    return "null" if value is None else encode_basestring(value)


@lru_cache(maxsize=1024)
def actor_part(actor: Actor) -> ActorPart:
    """The actor's shared part (cached: a server sees a handful of actors over and over)."""
    if not actor.name:
        raise ValueError("audit agent must not be empty")
    fields = (
        actor.kind,
        actor.name,
        actor.role,
        actor.purpose,
        actor.practitioner_id,
        actor.patient_id,
        actor.source_address,
    )
    agent = actor.name[:MAX_AGENT_LENGTH]
    return (f"[{','.join(map(_json, fields))}]", agent, encode_basestring(agent))


def read_entry(
    recorded_at: int,
    actor: Actor,
    action: str,
    subtype: str,
    patient_ids: Sequence[str],
    resource: str | None = None,
    query: str | None = None,
    note: str | None = None,
    outcome: str = "0",
) -> ReadEntry:
    """A checked compact entry. What a batch could not be written with (a bad code, an empty
    agent, a Patient id with a space in it) is refused here, as a bug (``ValueError``): found
    when the batch is written, it would fail the whole batch, again at every retry."""
    if action not in ACTIONS or outcome not in OUTCOMES or subtype not in SUBTYPES:
        raise ValueError(f"not an audit action, outcome, subtype: {action} {outcome} {subtype}")
    if isinstance(patient_ids, str):
        raise ValueError("patient_ids must be a sequence of ids, not one string")
    if len(patient_ids) == 1:
        patients: tuple[str, ...] = (patient_ids[0],)
    else:
        patients = tuple(dict.fromkeys(patient_ids))
    for patient_id in patients:
        if not is_valid_id(patient_id):
            raise ValueError(f"not a Patient id: {patient_id!r}")
    part = actor_part(actor)
    return (recorded_at, part, action, outcome, subtype, patients, resource, query, note)


def compact_text(seq: int, entry: ReadEntry) -> str:
    """The ``event`` column of ``entry`` at ``seq``."""
    actor, subtype, resource, query, note = entry[1][0], entry[4], entry[6], entry[7], entry[8]
    if query is None and note is None:  # a read of one record: the usual case
        return COMPACT_READ % (seq, CODE_JSON[subtype], _json(resource), actor)
    codes = (CODE_JSON[subtype], _json(resource), _json(query), _json(note), actor)
    return COMPACT % (seq, *codes)


def render(
    text: str, *, seq: int, recorded_at: int, patient_ids: str, action: str, outcome: str
) -> dict[str, Any]:
    """The AuditEvent of a stored ``event`` column: a full event as stored, a compact one
    rebuilt (with ``audit_event``, as it would have been stored whole) from it and its row."""
    try:
        data = orjson.loads(text)
        if isinstance(data, dict):
            return data
        _, _, subtype, resource, query, note, fields = data
        kind, name, role, purpose, practitioner_id, patient_id, address = fields
        actor = Actor(
            kind=kind,
            name=name,
            role=role,
            patient_id=patient_id,
            practitioner_id=practitioner_id,
            purpose=purpose,
            source_address=address,
        )
        event = audit_event(
            action=action,
            subtype=subtype,
            outcome=outcome,
            actor=actor,
            patient_ids=patient_ids.split(),
            resource=resource,
            query=query,
            recorded=from_micros(recorded_at),
            description=note,
        )
    except (TypeError, ValueError, AttributeError):
        # Only a tampered row gets here (``audit verify`` names it): say so rather than fail
        # the whole search (orjson's decode error is a ValueError).
        event = {
            "resourceType": "AuditEvent",
            "action": action,
            "outcome": outcome,
            "outcomeDesc": f"ledger entry {seq} cannot be read: run `chartkeeper audit verify`",
        }
    event["id"] = str(seq)
    return event


def claimed_seq(text: str) -> int | None:
    """The seq an entry's text was written with (a full event's ``id``, a compact one's second
    element); None when the text says none (``json``, the reference, reads a tampered text)."""
    try:
        data = json.loads(text)
        if isinstance(data, dict):
            value = data.get("id")
            return int(value) if isinstance(value, str) and value.isdigit() else None
    except (TypeError, ValueError, AttributeError):
        return None
    if isinstance(data, list) and len(data) > 1 and data[0] == COMPACT_FORMAT:
        seq = data[1]
        return seq if type(seq) is int else None
    return None
