"""Human text of FHIR elements, and the escaped XHTML narrative of a summary section.

A section's ``text`` must be valid FHIR XHTML (http://hl7.org/fhir/R4/narrative.html): one
``div`` in the XHTML namespace, no scripts, no attributes of our own. Every value comes from a
record a client wrote, so every value is escaped; nothing here trusts its input.
"""

from __future__ import annotations

from collections.abc import Sequence
from html import escape
from typing import Any

from chartkeeper.summary.chart_elements import any_codes, concept_text
from chartkeeper.summary.trends import abnormal_flag as trends_flag

XHTML_NS = "http://www.w3.org/1999/xhtml"
#: v3 ObservationInterpretation codes that mean "outside the reference range", as words: the
#: emergency view never signals by colour alone.
ABNORMAL = {
    "H": "High",
    "HH": "Critical high",
    "HU": "Very high",
    "L": "Low",
    "LL": "Critical low",
    "LU": "Very low",
    "A": "Abnormal",
    "AA": "Critical abnormal",
    "POS": "Positive",
}


def first_code(concept: Any) -> str:
    """``system|code`` of the first coding with a code, else the text: what "the same test"
    means when picking the latest result per code."""
    if not isinstance(concept, dict):
        return ""
    for coding in concept.get("coding") or []:
        if isinstance(coding, dict) and coding.get("code"):
            return f"{coding.get('system', '')}|{coding['code']}"
    return str(concept.get("text") or "")


def has_code(concept: Any, codes: frozenset[str] | set[str]) -> bool:
    """True when any coding of ``concept`` carries one of ``codes``."""
    if not isinstance(concept, dict):
        return False
    return any(isinstance(c, dict) and c.get("code") in codes for c in concept.get("coding") or [])


def status_code(concept: Any) -> str:
    """The first code of a status CodeableConcept (clinicalStatus, verificationStatus)."""
    if not isinstance(concept, dict):
        return ""
    for coding in concept.get("coding") or []:
        if isinstance(coding, dict) and isinstance(coding.get("code"), str):
            return str(coding["code"])
    return ""


def quantity_text(quantity: Any) -> str:
    """``value unit`` of a Quantity."""
    if not isinstance(quantity, dict) or "value" not in quantity:
        return ""
    return f"{quantity['value']} {quantity.get('unit') or quantity.get('code') or ''}".strip()


def value_text(observation: dict[str, Any]) -> str:
    """The value of an Observation (or its components), as text."""
    if "valueQuantity" in observation:
        return quantity_text(observation["valueQuantity"])
    if "valueCodeableConcept" in observation:
        return concept_text(observation["valueCodeableConcept"])
    for key in ("valueString", "valueBoolean", "valueInteger", "valueDateTime"):
        if key in observation:
            return str(observation[key])
    parts = [
        f"{concept_text(c.get('code'))} {value_text(c)}".strip()
        for c in observation.get("component") or []
        if isinstance(c, dict)
    ]
    return "; ".join(p for p in parts if p)


def abnormal_flag(observation: dict[str, Any]) -> str:
    """The abnormal flag as a word ("High", "Critical low"...), or "" when normal: the
    interpretation, else the reference range's verdict, the rule of the clinician summary
    (``trends.abnormal_flag``), so both screens flag the same results; a Positive
    interpretation is said too."""
    code = trends_flag(observation)
    if code:
        return ABNORMAL.get(code, code)
    return ABNORMAL["POS"] if "POS" in any_codes(observation.get("interpretation")) else ""


def dosage_text(resource: dict[str, Any]) -> str:
    """The sig of a MedicationRequest (``dosageInstruction``) or MedicationStatement."""
    dosages = resource.get("dosageInstruction") or resource.get("dosage") or []
    texts = [str(d["text"]) for d in dosages if isinstance(d, dict) and d.get("text")]
    return "; ".join(texts)


def _cell(value: str, header: bool = False) -> str:
    tag = "th" if header else "td"
    return f"<{tag}>{escape(value, quote=False)}</{tag}>"


def table(headers: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A narrative ``div`` holding one table; every cell escaped."""
    head = "".join(_cell(h, header=True) for h in headers)
    body = "".join("<tr>" + "".join(_cell(v) for v in row) + "</tr>" for row in rows)
    return (
        f'<div xmlns="{XHTML_NS}"><table><thead><tr>{head}</tr></thead>'
        f"<tbody>{body}</tbody></table></div>"
    )


def paragraph(text: str) -> str:
    """A narrative ``div`` holding one escaped sentence."""
    return f'<div xmlns="{XHTML_NS}"><p>{escape(text, quote=False)}</p></div>'


def generated(div: str) -> dict[str, str]:
    """A Narrative element whose content the server generated entirely from the data."""
    return {"status": "generated", "div": div}
