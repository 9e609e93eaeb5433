"""What an explanation is made of, per kind of record: the pure half of ``$explain``.

Each record type says what a patient would want put in plain words: a note's text, a
diagnosis's code and title, a lab result against its range, a medication's instructions. The
explainers themselves live in ``chartkeeper.language``; this module only picks the words out
of FHIR and hands back one ``Explanation`` (original, plain text, spans, grades), so the API
answers the same shape for every kind.
"""

from __future__ import annotations

import html
import re
from collections.abc import Callable
from typing import Any

from chartkeeper.core.errors import InvalidError
from chartkeeper.fhir.indexing import attachment_text
from chartkeeper.language.diagnoses import explain_diagnosis
from chartkeeper.language.explain import explain_text
from chartkeeper.language.labs import result_in_words
from chartkeeper.language.model import Explanation, Span
from chartkeeper.language.readability import readability
from chartkeeper.language.sig import sig_to_words
from chartkeeper.summary.chart_elements import concept_text, dicts

#: ICD-10-CM code → its official title (None when the code is not in a loaded version).
TitleLookup = Callable[[str], str | None]

ICD10CM_SYSTEMS = frozenset({"http://hl7.org/fhir/sid/icd-10-cm", "http://hl7.org/fhir/sid/icd-10"})
LOINC = "http://loinc.org"
_TAG = re.compile(r"<[^>]+>")
_SPACE = re.compile(r"[ \t]+")
#: Most characters explained in one call: a long discharge summary is ~50 KB, and a 1 MB note
#: takes a few seconds; more is refused with the reason rather than tying up a worker.
MAX_TEXT_CHARS = 1_000_000


def checked_length(text: str, where: str) -> str:
    """``text`` when it is short enough to explain, else a 400 naming ``where``."""
    if len(text) > MAX_TEXT_CHARS:
        raise InvalidError(
            f"{where} holds {len(text):,} characters; $explain takes up to {MAX_TEXT_CHARS:,}",
            (where,),
        )
    return text


def narrative_text(resource: dict[str, Any]) -> str:
    """The words of a resource's narrative ``text.div`` (tags dropped, entities decoded)."""
    text = resource.get("text")
    div = text.get("div") if isinstance(text, dict) else None
    if not isinstance(div, str):
        return ""
    plain = _TAG.sub(" ", div.replace("</p>", "\n").replace("<br/>", "\n").replace("<br>", "\n"))
    return "\n".join(_SPACE.sub(" ", line).strip() for line in html.unescape(plain).splitlines())


def whole(
    original: str, text: str, kind: str, source: str, flags: tuple[str, ...] = ()
) -> Explanation:
    """An explanation whose one span is the whole original (a title, a result, a sig)."""
    spans = (Span(0, len(original), original, text, kind, source),) if original else ()
    return Explanation(original, text, spans, readability(original), readability(text), flags)


def note_text(resource: dict[str, Any]) -> str:
    """The text of a note or report: attachments first, then conclusions, then narrative."""
    parts: list[str] = []
    for content in dicts(resource.get("content")):
        attachment = content.get("attachment")
        parts.append(attachment_text(attachment) or "" if isinstance(attachment, dict) else "")
    for attachment in dicts(resource.get("presentedForm")):
        parts.append(attachment_text(attachment) or "")
    if isinstance(resource.get("conclusion"), str):
        parts.append(str(resource["conclusion"]))
    for section in dicts(resource.get("section")):
        title = section.get("title")
        parts.append(title if isinstance(title, str) else "")
        parts.append(narrative_text(section))
    found = "\n".join(p for p in parts if p.strip())
    return found or narrative_text(resource)


def explain_condition(resource: dict[str, Any], title_of: TitleLookup) -> Explanation:
    """A diagnosis: the lay title of its ICD-10-CM code (curated or made from the official
    title); a condition coded otherwise has its own words explained as text."""
    code_concept = resource.get("code")
    concept: dict[str, Any] = code_concept if isinstance(code_concept, dict) else {}
    for coding in dicts(concept.get("coding")):
        if coding.get("system") in ICD10CM_SYSTEMS:
            code = str(coding.get("code") or "")
            title = title_of(code) or coding.get("display")
            found = explain_diagnosis(code, title if isinstance(title, str) else None)
            words = " ".join([f"{found.lay_title}.", *found.sentences])
            original = f"{code} {title}".strip() if title else code
            return whole(original, words, "diagnosis", f"diagnoses:{found.source}")
    return explain_text(concept_text(concept))


def _number(value: Any) -> int | float | None:
    """A JSON number as recorded (5 stays 5, not 5.0); anything else is None."""
    return value if isinstance(value, int | float) and not isinstance(value, bool) else None


def _range(observation: dict[str, Any]) -> tuple[float | None, float | None]:
    for item in dicts(observation.get("referenceRange")):
        low_part, high_part = item.get("low"), item.get("high")
        low = _number(low_part.get("value")) if isinstance(low_part, dict) else None
        high = _number(high_part.get("value")) if isinstance(high_part, dict) else None
        if low is not None or high is not None:
            return low, high
    return None, None


def _interpretation(observation: dict[str, Any]) -> str | None:
    for concept in dicts(observation.get("interpretation")):
        for coding in dicts(concept.get("coding")):
            if isinstance(coding.get("code"), str):
                return str(coding["code"])
    return None


def _loinc(concept: Any) -> str | None:
    for coding in dicts(concept.get("coding")) if isinstance(concept, dict) else []:
        if coding.get("system") == LOINC:
            code = coding.get("code")
            return code if isinstance(code, str) else None
    return None


def _value(observation: dict[str, Any]) -> tuple[float | str | None, str | None]:
    quantity = observation.get("valueQuantity")
    if isinstance(quantity, dict) and _number(quantity.get("value")) is not None:
        unit = quantity.get("unit") or quantity.get("code")
        return _number(quantity["value"]), unit if isinstance(unit, str) else None
    for key in ("valueString", "valueCodeableConcept", "valueBoolean", "valueInteger"):
        if key in observation:
            value = observation[key]
            return (concept_text(value) if isinstance(value, dict) else str(value)), None
    return None, None


def _one_result(observation: dict[str, Any]) -> tuple[str, str] | None:
    """(original words, plain words) of one measured value, or None when there is none."""
    value, unit = _value(observation)
    if value is None:
        return None
    name = concept_text(observation.get("code")) or "This test"
    low, high = _range(observation)
    flag = _interpretation(observation)
    found = result_in_words(name, value, unit, low, high, flag, _loinc(observation.get("code")))
    shown = f"{name}: {value}{' ' + unit if unit else ''}"
    if low is not None or high is not None:
        shown += f" (usual range {'' if low is None else low} to {'' if high is None else high})"
    return (f"{shown} {flag}" if flag else shown), found.text


def explain_observation(resource: dict[str, Any]) -> Explanation:
    """A result: what was measured and where the value sits against its range, in words;
    each component (the two numbers of a blood pressure) said the same way."""
    parts = [_one_result(resource)]
    parts += [_one_result(c) for c in dicts(resource.get("component"))]
    found = [p for p in parts if p is not None]
    if not found:
        return explain_text(concept_text(resource.get("code")) or narrative_text(resource))
    original = "\n".join(o for o, _ in found)
    return whole(original, " ".join(t for _, t in found), "lab", "labs")


def medication_name(resource: dict[str, Any]) -> str:
    """The medicine a request or statement names: its concept, else its reference's display."""
    named = concept_text(resource.get("medicationCodeableConcept"))
    reference = resource.get("medicationReference")
    display = reference.get("display") if isinstance(reference, dict) else None
    return named or (display if isinstance(display, str) else "")


def explain_medication(resource: dict[str, Any]) -> Explanation:
    """Medication instructions: each dosage's sig in words, after the medicine's name."""
    name = medication_name(resource)
    dosages = dicts(resource.get("dosageInstruction")) or dicts(resource.get("dosage"))
    sigs = [
        checked_length(d["text"], "dosage.text") for d in dosages if isinstance(d.get("text"), str)
    ]
    if not sigs:
        return explain_text(name)
    originals, texts, spans, flags = [], [], [], []
    offset = 0
    for sig in sigs:
        found = sig_to_words(sig)
        originals.append(sig)
        texts.append(found.text)
        spans += [
            Span(s.start + offset, s.end + offset, s.original, s.explained, s.kind, s.source)
            for s in found.spans
        ]
        flags += [f"unknown-word:{word}" for word in found.unknown]
        offset += len(sig) + 1
    original = "\n".join(originals)
    text = " ".join(texts)
    if name:
        text = f"{name}: {text}"
    return Explanation(
        original, text, tuple(spans), readability(original), readability(text), tuple(flags)
    )


def explain_resource(resource: dict[str, Any], title_of: TitleLookup) -> Explanation:
    """The plain-language explanation of one record, chosen by its type."""
    kind = resource.get("resourceType")
    if kind == "Condition":
        return explain_condition(resource, title_of)
    if kind == "Observation":
        return explain_observation(resource)
    if kind in ("MedicationRequest", "MedicationStatement"):
        return explain_medication(resource)
    return explain_text(checked_length(note_text(resource), f"{kind}"))
