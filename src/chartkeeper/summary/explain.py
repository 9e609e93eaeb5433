"""``$explain``: plain-language explanations for patients, through the access-control layer.

A stored record is read through the caller's guarded FHIR context, so a record the caller
may not see (another patient's, or a result held for clinician review) looks missing, and
the read is audited like any other. Text or a resource posted by the caller is explained
without touching the store. The answer is a FHIR Parameters resource: the plain ``text``,
the ``original`` beside it, the readability ``grade`` of both (two formulas), one ``span``
part per explained phrase with its offsets in the original, and any ``flag`` (an unknown
abbreviation left as written, text that is not English).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from chartkeeper.core.errors import InvalidError
from chartkeeper.fhir.interactions.context import FhirContext
from chartkeeper.fhir.interactions.read import found
from chartkeeper.language.abbreviations import VOCABULARY_VERSION
from chartkeeper.language.explain import explain_text
from chartkeeper.language.model import Explanation, Readability
from chartkeeper.language.readability import SECOND_FORMULA
from chartkeeper.privacy.actor import Actor
from chartkeeper.summary.chart_elements import concept_text, when
from chartkeeper.summary.explain_sources import (
    TitleLookup,
    checked_length,
    explain_resource,
    medication_name,
)

#: A relative reference ``Type/id`` (FHIR id rules: 1-64 of [A-Za-z0-9-.]).
_REFERENCE = re.compile(r"^([A-Z][A-Za-z]{1,63})/([A-Za-z0-9\-.]{1,64})$")


@dataclass(frozen=True)
class Explained:
    """An explanation and the record it came from (None for posted text or resources)."""

    explanation: Explanation
    source: str | None = None


class Explainer:
    """Explains notes, diagnoses, results and medication instructions to patients."""

    def __init__(self, for_actor: Callable[[Actor], FhirContext], title_of: TitleLookup) -> None:
        self.for_actor = for_actor
        self.title_of = title_of

    def explain_reference(self, actor: Actor, reference: str) -> Explained:
        """Explain a stored record the actor may see (404 otherwise, as for a read)."""
        match = _REFERENCE.match(reference.strip()) if isinstance(reference, str) else None
        if match is None:
            raise InvalidError(
                f"reference must look like 'Type/id', not {str(reference)[:80]!r}", ("reference",)
            )
        resource_type, resource_id = match.groups()
        with self.for_actor(actor).repository.reading() as tx:
            stored = found(resource_type, resource_id, tx.read(resource_type, resource_id))
            resource = stored.resource()
        return Explained(
            explain_resource(resource, self.title_of), f"{resource_type}/{resource_id}"
        )

    def explain_posted(self, resource: Any) -> Explained:
        """Explain a resource sent in the request (nothing is read or stored)."""
        if not isinstance(resource, dict) or not isinstance(resource.get("resourceType"), str):
            raise InvalidError("resource must be a FHIR resource", ("resource",))
        return Explained(explain_resource(resource, self.title_of))

    def explain_words(self, text: Any) -> Explained:
        """Explain free text (a note pasted by the caller)."""
        if not isinstance(text, str):
            raise InvalidError("text must be a string", ("text",))
        return Explained(explain_text(checked_length(text, "text")))

    def explain(self, actor: Actor, params: dict[str, Any]) -> Explained:
        """Dispatch on exactly one of ``reference``, ``resource`` or ``text``."""
        given = [name for name in ("reference", "resource", "text") if name in params]
        if len(given) != 1:
            raise InvalidError(
                "$explain takes exactly one of the parameters reference, resource or text",
                ("Parameters.parameter",),
            )
        value = params[given[0]]
        if given[0] == "reference":
            if isinstance(value, dict):
                value = value.get("reference")
            return self.explain_reference(actor, value)
        if given[0] == "resource":
            return self.explain_posted(value)
        return self.explain_words(value)


def _grade(which: str, grade: Readability) -> dict[str, Any]:
    return {
        "name": "grade",
        "part": [
            {"name": "of", "valueCode": which},
            {"name": "flesch-kincaid", "valueDecimal": round(grade.flesch_kincaid, 1)},
            {"name": _slug(SECOND_FORMULA), "valueDecimal": round(grade.second, 1)},
            {"name": "words", "valueInteger": grade.words},
            {"name": "sentences", "valueInteger": grade.sentences},
        ],
    }


def _slug(name: str) -> str:
    return re.sub(r"[^a-z]+", "-", name.lower()).strip("-")


def to_parameters(done: Explained) -> dict[str, Any]:
    """The FHIR Parameters answer of ``$explain``."""
    found = done.explanation
    items: list[dict[str, Any]] = [
        {"name": "text", "valueString": found.text},
        {"name": "original", "valueString": found.original},
        _grade("original", found.grade_original),
        _grade("explanation", found.grade_explained),
    ]
    if done.source:
        items.append({"name": "source", "valueReference": {"reference": done.source}})
    for span in found.spans:
        part: list[dict[str, Any]] = [
            {"name": "start", "valueInteger": span.start},
            {"name": "end", "valueInteger": span.end},
            {"name": "original", "valueString": span.original},
            {"name": "explained", "valueString": span.explained},
            {"name": "kind", "valueCode": span.kind},
        ]
        if span.source:
            part.append({"name": "source", "valueString": span.source})
        items.append({"name": "span", "part": part})
    items += [{"name": "flag", "valueString": flag} for flag in found.flags]
    items.append({"name": "vocabulary-version", "valueString": VOCABULARY_VERSION})
    return {"resourceType": "Parameters", "parameter": _non_empty(items)}


def _non_empty(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """FHIR strings may not be empty: an empty explanation leaves its text parts out."""
    return [i for i in items if i.get("valueString", "x") != ""]


#: What the portal offers to explain, and the heading of each group.
PORTAL_GROUPS = (
    ("DocumentReference", "Notes from your care team"),
    ("Condition", "Your health problems"),
    ("Observation", "Your test results"),
    ("MedicationRequest", "How to take your medicines"),
)
#: Most items listed per group (newest first), so a long record stays one readable page.
PORTAL_GROUP_SIZE = 20


@dataclass(frozen=True)
class PortalItem:
    """One record the patient may ask to have explained."""

    reference: str
    title: str
    date: str


def _title(resource: dict[str, Any]) -> str:
    for key in ("type", "code"):
        words = concept_text(resource.get(key))
        if words:
            return words
    named = medication_name(resource)
    return named or str(resource.get("description") or resource["resourceType"])


#: The date the portal lists a record under, first found first.
_DATES = ("date", "effectiveDateTime", "issued", "authoredOn", "recordedDate", "onsetDateTime")


def _date(resource: dict[str, Any]) -> str:
    return when(resource, *_DATES)[:10]


def portal_items(ctx: FhirContext, patient_id: str) -> dict[str, list[PortalItem]]:
    """The patient's notes, problems, results and medicines they may see, newest first.

    Read through the patient's guarded context: held results (NOPAT) are not among them.
    """
    types = [kind for kind, _ in PORTAL_GROUPS]
    groups: dict[str, list[PortalItem]] = {kind: [] for kind in types}
    with ctx.repository.reading() as tx:
        for stored in tx.compartment(patient_id, types, None):
            resource = stored.resource()
            groups[stored.resource_type].append(
                PortalItem(f"{stored.resource_type}/{stored.id}", _title(resource), _date(resource))
            )
    return {
        kind: sorted(items, key=lambda i: i.date, reverse=True)[:PORTAL_GROUP_SIZE]
        for kind, items in groups.items()
    }
