"""Reading the chart inside an open transaction of a guarded FHIR context.

Billing reaches patient data only through the repository of the ``FhirContext`` it is given
(decided and audited for its actor), never through SQL on the resource tables.
"""

from __future__ import annotations

from datetime import date
from typing import Any

from chartkeeper.core.errors import InvalidError, NotFoundError
from chartkeeper.fhir.interactions.context import FhirContext
from chartkeeper.fhir.repository import ResourceTransaction
from chartkeeper.fhir.search_parser import parse_search

Resource = dict[str, Any]


def read(tx: ResourceTransaction, resource_type: str, resource_id: str) -> Resource:
    """The current resource; 404 when it was never stored or is deleted."""
    stored = tx.read(resource_type, resource_id)
    if stored is None or stored.deleted:
        raise NotFoundError(f"{resource_type}/{resource_id} is not known")
    return stored.resource()


def read_reference(tx: ResourceTransaction, reference: Any) -> Resource | None:
    """The resource a relative ``Type/id`` Reference points at, or None."""
    parts = str((reference or {}).get("reference") or "").split("/")
    if len(parts) < 2:
        return None
    stored = tx.read(parts[-2], parts[-1])
    return None if stored is None or stored.deleted else stored.resource()


def search_all(
    ctx: FhirContext, tx: ResourceTransaction, resource_type: str, items: list[tuple[str, str]]
) -> list[Resource]:
    """Every match of a search, all pages, in the order the store returns them."""
    page_size = ctx.options.max_page_size
    request = parse_search(
        resource_type, items, strict=True, registry=ctx.registry, max_count=page_size
    )
    request.count, request.offset, request.total = page_size, 0, "none"
    found: list[Resource] = []
    while True:
        matches = tx.search(request).matches
        found.extend(stored.resource() for stored in matches if not stored.deleted)
        if len(matches) < page_size:
            return found
        request.offset += page_size


def reference_id(reference: Any, resource_type: str) -> str | None:
    """The id of a relative ``resource_type/id`` reference, else None."""
    text = str((reference or {}).get("reference") or "")
    prefix = f"{resource_type}/"
    return text[len(prefix) :] if text.startswith(prefix) else None


def day_of(value: Any) -> date | None:
    """The calendar date of a FHIR date or dateTime (as written: local to the record)."""
    text = str(value or "")
    if len(text) < 10:
        return None
    try:
        return date.fromisoformat(text[:10])
    except ValueError:
        return None


def service_day(encounter: Resource) -> date:
    """The date of service of an encounter: the start of its period."""
    start = day_of((encounter.get("period") or {}).get("start"))
    if start is None:
        raise InvalidError(
            f"Encounter/{encounter.get('id')} has no period.start: a charge needs a service date",
            ("Encounter.period.start",),
        )
    return start


def attending(encounter: Resource) -> Resource | None:
    """The Practitioner reference of the attending (ATND), else primary performer (PPRF),
    else the first participant who is a Practitioner."""
    people = [
        p
        for p in encounter.get("participant") or []
        if reference_id(p.get("individual"), "Practitioner")
    ]
    for wanted in ("ATND", "PPRF"):
        for participant in people:
            if wanted in _participation_codes(participant):
                return dict(participant["individual"])
    return dict(people[0]["individual"]) if people else None


def referrer(encounter: Resource) -> Resource | None:
    """The Practitioner reference of the referrer (REF) participant, if any."""
    for participant in encounter.get("participant") or []:
        if "REF" in _participation_codes(participant) and reference_id(
            participant.get("individual"), "Practitioner"
        ):
            return dict(participant["individual"])
    return None


def _participation_codes(participant: Resource) -> set[str]:
    return {
        str(coding.get("code"))
        for concept in participant.get("type") or []
        for coding in concept.get("coding") or []
    }


def ranked_diagnoses(tx: ResourceTransaction, encounter: Resource) -> list[Resource]:
    """The Conditions of Encounter.diagnosis, by rank (unranked last, in their order)."""
    entries = list(enumerate(encounter.get("diagnosis") or []))
    entries.sort(key=lambda pair: (pair[1].get("rank") or 1_000_000, pair[0]))
    found = []
    for _, entry in entries:
        condition = read_reference(tx, entry.get("condition"))
        if condition is not None and condition.get("resourceType") == "Condition":
            found.append(condition)
    return found


def codings(concept: Any) -> list[Resource]:
    """The codings of a CodeableConcept (empty for None)."""
    return [c for c in (concept or {}).get("coding") or [] if isinstance(c, dict)]


def code_in(concept: Any, system: str) -> str | None:
    """The first code of ``system`` in a CodeableConcept."""
    for coding in codings(concept):
        if coding.get("system") == system and coding.get("code"):
            return str(coding["code"])
    return None
