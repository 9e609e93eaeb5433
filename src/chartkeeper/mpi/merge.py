"""Merge a duplicate Patient into the surviving one, and undo it exactly.

Merge, in one database transaction (all or nothing):

1. refuse what must not happen: a patient into itself, into or from a patient already merged,
   a record that does not exist, a merge whose hard identifiers (SSN, driver's licence)
   disagree — unless an HIM lead overrides it with a note;
2. re-point every resource that refers to the duplicate (its compartment and any other
   reference) at the survivor, each as a new version;
3. link the two Patients (``replaces`` / ``replaced-by``) and make the duplicate inactive;
4. move portal sign-ins of the duplicate to the survivor;
5. record a Provenance (activity ``merge``, ISO 21089 lifecycle) whose targets are the new
   versions and whose entities are the versions they replaced: before and after;
6. record the merge in ``mpi_merges``; a unique index there lets only one of two concurrent
   merges of the same duplicate commit — the other gets a 409 and leaves nothing behind.

Unmerge reads that Provenance back: every version it changed is restored to the version it
replaced (byte-for-byte the same content); a resource changed again since the merge gets its
references pointed back instead, so later work is not lost. Sign-ins move back, the
merge is marked undone, and a second Provenance (``unmerge``) records it.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Connection, select, text, update

from chartkeeper.core.errors import ConflictError, InvalidError, NotFoundError
from chartkeeper.core.ids import new_id
from chartkeeper.fhir.interactions.context import FhirContext
from chartkeeper.fhir.interactions.create import create_in
from chartkeeper.fhir.interactions.references import rewrite
from chartkeeper.fhir.interactions.update import update_in
from chartkeeper.fhir.repository import StoredResource
from chartkeeper.mpi import pairs
from chartkeeper.store.engine import CONFLICT_ERRORS
from chartkeeper.store.identity_schema import users
from chartkeeper.store.mpi_schema import mpi_merges
from chartkeeper.store.rows import as_dict

LIFECYCLE = "http://terminology.hl7.org/CodeSystem/iso-21089-lifecycle"
SSN_SYSTEM = "http://hl7.org/fhir/sid/us-ssn"
#: identifier kinds that identify one person only: two different values mean two people
HARD_KINDS = ("SSN", "driver's licence")


@dataclass(frozen=True)
class Who:
    """The person asking for a merge or unmerge (recorded in the Provenance and audit)."""

    name: str
    practitioner_id: str | None = None
    lead: bool = False


@dataclass
class MergeOutcome:
    """What a merge or unmerge changed."""

    merge_id: str
    survivor_id: str
    duplicate_id: str
    provenance_id: str
    changed: list[str] = field(default_factory=list)
    users: list[str] = field(default_factory=list)
    #: for an unmerge: resources changed since the merge, re-pointed rather than restored
    repointed_only: list[str] = field(default_factory=list)


def hard_identifiers(resource: dict[str, Any]) -> dict[str, set[str]]:
    """kind → values of the identifiers that identify one person only."""
    found: dict[str, set[str]] = {}
    for identifier in resource.get("identifier") or []:
        if not isinstance(identifier, dict) or not identifier.get("value"):
            continue
        kind = _hard_kind(identifier)
        if kind:
            value = "".join(ch for ch in str(identifier["value"]) if ch.isalnum()).upper()
            found.setdefault(kind, set()).add(value)
    return found


def _hard_kind(identifier: dict[str, Any]) -> str | None:
    system = str(identifier.get("system") or "")
    if system == SSN_SYSTEM:
        return "SSN"
    codes = {
        str(coding.get("code"))
        for coding in (identifier.get("type") or {}).get("coding") or []
        if isinstance(coding, dict)
    }
    if "SS" in codes:
        return "SSN"
    if "DL" in codes or "driver" in system.lower():
        return "driver's licence"
    return None


def identifier_conflicts(a: dict[str, Any], b: dict[str, Any]) -> list[str]:
    """Why two Patients cannot be one person: each hard identifier kind both carry, with no
    value in common."""
    mine, theirs = hard_identifiers(a), hard_identifiers(b)
    return [
        f"the {kind} numbers differ"
        for kind in HARD_KINDS
        if kind in mine and kind in theirs and not mine[kind] & theirs[kind]
    ]


def _replaced_by(resource: dict[str, Any]) -> str | None:
    for link in resource.get("link") or []:
        if link.get("type") == "replaced-by":
            return str((link.get("other") or {}).get("reference") or "")
    return None


def _current(tx: Any, patient_id: str) -> StoredResource:
    stored: StoredResource | None = tx.read("Patient", patient_id)
    if stored is None or stored.deleted:
        raise NotFoundError(f"Patient/{patient_id} is not known")
    return stored


def _repointed(resource: dict[str, Any], old: str, new: str, base: str) -> dict[str, Any]:
    mapping = {f"Patient/{old}": f"Patient/{new}", f"{base}/Patient/{old}": f"{base}/Patient/{new}"}
    copied: dict[str, Any] = json.loads(json.dumps(resource))
    rewrite(copied, mapping, lambda reference: reference)
    return copied


def _referring(tx: Any, connection: Connection, patient_id: str) -> list[tuple[str, str]]:
    """(type, id) of every current resource that refers to the Patient, but the Patient."""
    found: dict[tuple[str, str], None] = {}
    for stored in tx.compartment(patient_id, None, None):
        if (stored.resource_type, stored.id) != ("Patient", patient_id) and not stored.deleted:
            found[(stored.resource_type, stored.id)] = None
    rows = connection.execute(
        text(
            "SELECT DISTINCT res_type, res_id FROM idx_reference "
            "WHERE target_type = 'Patient' AND target_id = :id"
        ),
        {"id": patient_id},
    )
    for res_type, res_id in rows:
        if (res_type, res_id) != ("Patient", patient_id):
            found[(str(res_type), str(res_id))] = None
    return list(found)


def _versioned(stored: StoredResource) -> str:
    return f"{stored.resource_type}/{stored.id}/_history/{stored.version_id}"


def _provenance(
    activity: str,
    who: Who,
    targets: list[StoredResource],
    entities: list[str],
    recorded: str,
    note: str | None,
) -> dict[str, Any]:
    agent_who: dict[str, str] = (
        {"reference": f"Practitioner/{who.practitioner_id}", "display": who.name}
        if who.practitioner_id
        else {"display": who.name}
    )
    provenance: dict[str, Any] = {
        "resourceType": "Provenance",
        "target": [{"reference": _versioned(stored)} for stored in targets],
        "recorded": recorded,
        "activity": {"coding": [{"system": LIFECYCLE, "code": activity}]},
        "agent": [
            {
                "type": {
                    "coding": [
                        {
                            "system": "http://terminology.hl7.org/CodeSystem/provenance-participant-type",
                            "code": "author",
                        }
                    ]
                },
                "who": agent_who,
            }
        ],
        "entity": [{"role": "revision", "what": {"reference": ref}} for ref in entities],
    }
    if note:
        provenance["reason"] = [{"text": note}]
    return provenance


def merge(
    ctx: FhirContext,
    who: Who,
    survivor_id: str,
    duplicate_id: str,
    *,
    recorded: str,
    now: int,
    note: str | None = None,
    override: bool = False,
) -> MergeOutcome:
    """Merge ``duplicate_id`` into ``survivor_id`` (see the module docstring)."""
    if survivor_id == duplicate_id:
        raise ConflictError("A patient cannot be merged into itself")
    if override and not who.lead:
        raise ConflictError("Only an HIM lead may override a conflict of identifiers")
    if override and not (note or "").strip():
        raise InvalidError("An override needs a note saying why the identifiers may differ")
    try:
        with ctx.repository.transaction() as tx:
            return _merge(ctx, tx, who, survivor_id, duplicate_id, recorded, now, note, override)
    except CONFLICT_ERRORS as error:
        raise ConflictError(
            f"Patient/{duplicate_id} was changed by another merge at the same time; "
            "nothing was changed, look again and retry"
        ) from error


def _merge(
    ctx: FhirContext,
    tx: Any,
    who: Who,
    survivor_id: str,
    duplicate_id: str,
    recorded: str,
    now: int,
    note: str | None,
    override: bool,
) -> MergeOutcome:
    connection: Connection = tx.connection
    survivor, duplicate = _current(tx, survivor_id), _current(tx, duplicate_id)
    survivor_body, duplicate_body = survivor.resource(), duplicate.resource()
    into = _replaced_by(duplicate_body)
    if into:
        raise ConflictError(f"Patient/{duplicate_id} has already been merged into {into}")
    onward = _replaced_by(survivor_body)
    if onward:
        raise ConflictError(
            f"Patient/{survivor_id} has itself been merged into {onward}; merge into that one"
        )
    if survivor_body.get("active") is False:
        raise ConflictError(f"Patient/{survivor_id} is inactive and cannot survive a merge")
    conflicts = identifier_conflicts(survivor_body, duplicate_body)
    if conflicts and not override:
        raise ConflictError(
            f"Refused: {'; '.join(conflicts)} between Patient/{survivor_id} and "
            f"Patient/{duplicate_id}. They look like two people; an HIM lead may override "
            "with a note."
        )
    base = ctx.options.base_url
    targets: list[StoredResource] = []
    entities: list[str] = []
    for res_type, res_id in _referring(tx, connection, duplicate_id):
        current = tx.read(res_type, res_id)
        if current is None or current.deleted:
            continue
        body = current.resource()
        moved = _repointed(body, duplicate_id, survivor_id, base)
        if moved == body:
            continue
        written, _ = update_in(ctx, tx, res_type, res_id, moved)
        targets.append(written)
        entities.append(_versioned(current))

    links = [link for link in survivor_body.get("link") or []]
    links.append({"other": {"reference": f"Patient/{duplicate_id}"}, "type": "replaces"})
    survivor_body["link"] = links
    written, _ = update_in(ctx, tx, "Patient", survivor_id, survivor_body)
    targets.append(written)
    entities.append(_versioned(survivor))

    duplicate_body["active"] = False
    duplicate_links = [link for link in duplicate_body.get("link") or []]
    duplicate_links.append(
        {"other": {"reference": f"Patient/{survivor_id}"}, "type": "replaced-by"}
    )
    duplicate_body["link"] = duplicate_links
    written, _ = update_in(ctx, tx, "Patient", duplicate_id, duplicate_body)
    targets.append(written)
    entities.append(_versioned(duplicate))

    moved_users = [
        str(name)
        for name in connection.execute(
            select(users.c.name).where(users.c.patient_id == duplicate_id)
        ).scalars()
    ]
    if moved_users:
        connection.execute(
            update(users).where(users.c.name.in_(moved_users)).values(patient_id=survivor_id)
        )

    provenance, _ = create_in(
        ctx, tx, "Provenance", _provenance("merge", who, targets, entities, recorded, note)
    )
    merge_id = new_id()
    connection.execute(
        mpi_merges.insert().values(
            id=merge_id,
            survivor_id=survivor_id,
            duplicate_id=duplicate_id,
            provenance_id=provenance.id,
            state="merged",
            merged_at=now,
            merged_by=who.name,
            note=note,
            override=override,
            users=json.dumps(moved_users),
        )
    )
    _settle_pair(connection, survivor_id, duplicate_id, "merged", who.name, note, now)
    return MergeOutcome(
        merge_id,
        survivor_id,
        duplicate_id,
        provenance.id,
        changed=[f"{stored.resource_type}/{stored.id}" for stored in targets],
        users=moved_users,
    )


def _settle_pair(
    connection: Connection, a: str, b: str, status: str, by: str, note: str | None, now: int
) -> None:
    """Record the decision on the pair, queuing it first if it was never proposed."""
    pair = pairs.find(connection, a, b)
    if pair is None:
        pair = pairs.propose(
            connection,
            a,
            b,
            probability=0.0,
            weight=0.0,
            grade="certainly-not" if status == "distinct" else "certain",
            explanation=[],
            source="manual",
            model_version="-",
            now=now,
        )
    if pair is not None:
        pairs.decide(
            connection, pair.id, status, by=by, note=note, now=now, expected=pairs.STATUSES
        )


def standing_merge(connection: Connection, merge_id: str) -> dict[str, Any]:
    """A merge by id (404 if unknown)."""
    row = connection.execute(select(mpi_merges).where(mpi_merges.c.id == merge_id)).first()
    if row is None:
        raise NotFoundError(f"No merge {merge_id}")
    return as_dict(row)


def standing_merge_of(connection: Connection, duplicate_id: str) -> str:
    """The id of the standing merge of a duplicate Patient (404 if it has none)."""
    found = connection.execute(
        select(mpi_merges.c.id).where(
            mpi_merges.c.duplicate_id == duplicate_id, mpi_merges.c.state == "merged"
        )
    ).scalar()
    if found is None:
        raise NotFoundError(f"Patient/{duplicate_id} has no merge to undo")
    return str(found)


def merges(connection: Connection, limit: int = 50) -> list[dict[str, Any]]:
    """The latest merges, newest first."""
    rows = connection.execute(
        select(mpi_merges).order_by(mpi_merges.c.merged_at.desc()).limit(limit)
    )
    return [as_dict(row) for row in rows]


def unmerge(
    ctx: FhirContext, who: Who, merge_id: str, *, recorded: str, now: int, note: str | None = None
) -> MergeOutcome:
    """Undo a merge from its Provenance (see the module docstring)."""
    try:
        with ctx.repository.transaction() as tx:
            return _unmerge(ctx, tx, who, merge_id, recorded, now, note)
    except CONFLICT_ERRORS as error:
        raise ConflictError(
            f"Merge {merge_id} was changed by someone else at the same time; nothing was changed"
        ) from error


def _unmerge(
    ctx: FhirContext, tx: Any, who: Who, merge_id: str, recorded: str, now: int, note: str | None
) -> MergeOutcome:
    connection: Connection = tx.connection
    merged = standing_merge(connection, merge_id)
    if merged["state"] != "merged":
        raise ConflictError(f"Merge {merge_id} has already been undone")
    survivor_id, duplicate_id = merged["survivor_id"], merged["duplicate_id"]
    provenance = tx.read("Provenance", merged["provenance_id"])
    if provenance is None or provenance.deleted:
        raise ConflictError(
            f"The Provenance of merge {merge_id} is gone; the merge cannot be undone exactly"
        )
    record = provenance.resource()
    before = {
        ref.rsplit("/_history/", 1)[0]: int(ref.rsplit("/_history/", 1)[1])
        for ref in (entity["what"]["reference"] for entity in record.get("entity") or [])
    }
    base = ctx.options.base_url
    targets: list[StoredResource] = []
    entities: list[str] = []
    repointed_only: list[str] = []
    for target in record.get("target") or []:
        plain, _, version = str(target["reference"]).partition("/_history/")
        res_type, res_id = plain.split("/", 1)
        current = tx.read(res_type, res_id)
        if current is None or current.deleted or plain not in before:
            continue
        if current.version_id == int(version):
            prior = tx.vread(res_type, res_id, before[plain])
            if prior is None or prior.deleted:
                continue
            restored = prior.resource()
        else:
            restored = _undone_by_hand(current.resource(), plain, survivor_id, duplicate_id, base)
            repointed_only.append(plain)
        written, _ = update_in(ctx, tx, res_type, res_id, restored)
        targets.append(written)
        entities.append(_versioned(current))

    moved_users = json.loads(merged["users"])
    if moved_users:
        connection.execute(
            update(users)
            .where(users.c.name.in_(moved_users), users.c.patient_id == survivor_id)
            .values(patient_id=duplicate_id)
        )
    undo, _ = create_in(
        ctx, tx, "Provenance", _provenance("unmerge", who, targets, entities, recorded, note)
    )
    connection.execute(
        update(mpi_merges)
        .where(mpi_merges.c.id == merge_id)
        .values(state="unmerged", unmerged_at=now, unmerged_by=who.name)
    )
    _settle_pair(
        connection, survivor_id, duplicate_id, "distinct", who.name, note or "unmerged", now
    )
    return MergeOutcome(
        merge_id,
        survivor_id,
        duplicate_id,
        undo.id,
        changed=[f"{stored.resource_type}/{stored.id}" for stored in targets],
        users=list(moved_users),
        repointed_only=repointed_only,
    )


def _undone_by_hand(
    body: dict[str, Any], plain: str, survivor_id: str, duplicate_id: str, base: str
) -> dict[str, Any]:
    """The inverse of the merge's edit on a version changed since: links dropped, the
    duplicate active again, references pointed back."""
    if plain == f"Patient/{survivor_id}":
        body["link"] = [
            link
            for link in body.get("link") or []
            if (link.get("other") or {}).get("reference") != f"Patient/{duplicate_id}"
        ]
        if not body["link"]:
            del body["link"]
        return body
    if plain == f"Patient/{duplicate_id}":
        body["link"] = [
            link
            for link in body.get("link") or []
            if (link.get("other") or {}).get("reference") != f"Patient/{survivor_id}"
        ]
        if not body["link"]:
            del body["link"]
        body["active"] = True
        return body
    return _repointed(body, survivor_id, duplicate_id, base)
