"""The sections of the International Patient Summary: what each one selects from a record, and
the columns of its narrative.

IPS IG R4 (http://hl7.org/fhir/uv/ips/StructureDefinition-Composition-uv-ips.html): problems,
medications and allergies are required (with ``emptyReason`` when there is nothing to list);
immunizations, results, procedures and devices are recommended, and vital signs, past illness,
plan of care, advance directives and social history optional: those appear only when the
record holds something for them. Results and vital signs keep the latest observation per code,
so a chart of years of labs summarises to one value per test.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from chartkeeper.summary.chart_elements import concept_text, when
from chartkeeper.summary.narrative import (
    abnormal_flag,
    dosage_text,
    first_code,
    has_code,
    status_code,
    value_text,
)

Resource = dict[str, Any]
Record = dict[str, list[Resource]]

#: LOINC 100822-6 "Cardiopulmonary resuscitation orders": the code status (as the chart page).
CODE_STATUS_CODES = frozenset({"100822-6"})
#: LOINC 72166-2 tobacco smoking status, 74013-4 alcoholic drinks per day (IPS social history).
SOCIAL_HISTORY_CODES = frozenset({"72166-2", "74013-4"})
ACTIVE_CONDITION = frozenset({"active", "recurrence", "relapse"})
PAST_CONDITION = frozenset({"inactive", "remission", "resolved"})
ACTIVE_REQUEST = frozenset({"active", "on-hold"})
ACTIVE_STATEMENT = frozenset({"active", "intended", "on-hold"})
NOT_RECORDS = frozenset({"entered-in-error", "cancelled", "refuted", "not-done"})
#: The types a summary reads from the compartment (and nothing else).
SUMMARY_TYPES = (
    "AllergyIntolerance",
    "CarePlan",
    "Condition",
    "Consent",
    "DeviceUseStatement",
    "DiagnosticReport",
    "Immunization",
    "MedicationRequest",
    "MedicationStatement",
    "Observation",
    "Procedure",
)


@dataclass(frozen=True)
class SectionSpec:
    """One IPS section: its LOINC code, whether it is required, how it selects and shows."""

    key: str
    title: str
    loinc: str
    display: str
    required: bool
    select: Callable[[Record], list[Resource]]
    headers: tuple[str, ...]
    row: Callable[[Resource], list[str]]
    #: the types whose presence means "the record has information on this"
    sources: tuple[str, ...]


def is_record(resource: Resource) -> bool:
    """False for what was entered in error, cancelled, refuted or not done."""
    verification = status_code(resource.get("verificationStatus"))
    return resource.get("status") not in NOT_RECORDS and verification not in NOT_RECORDS


def _newest(resources: list[Resource], *keys: str) -> list[Resource]:
    return sorted(resources, key=lambda r: when(r, *keys), reverse=True)


def latest_per_code(resources: list[Resource], *keys: str) -> list[Resource]:
    """The newest resource of each code (by ``keys`` dates), newest first (on equal dates,
    the first one met). Each date is computed once: a chart holds years of the same tests."""
    latest: dict[str, tuple[str, Resource]] = {}
    for resource in resources:
        code = first_code(resource.get("code"))
        dated = when(resource, *keys)
        held = latest.get(code)
        if held is None or dated > held[0]:
            latest[code] = (dated, resource)
    ordered = sorted(latest.values(), key=lambda pair: pair[0], reverse=True)
    return [resource for _, resource in ordered]


def _of(record: Record, *types: str) -> list[Resource]:
    return [r for t in types for r in record.get(t, [])]


def observation_category(observation: Resource) -> set[str]:
    """The codes of an Observation's categories (``laboratory``, ``vital-signs``...)."""
    return {
        str(coding.get("code"))
        for concept in observation.get("category") or []
        if isinstance(concept, dict)
        for coding in concept.get("coding") or []
        if isinstance(coding, dict)
    }


def is_code_status(observation: Resource) -> bool:
    """True for a code-status (resuscitation orders) Observation."""
    return has_code(observation.get("code"), CODE_STATUS_CODES)


OBSERVED = ("effectiveDateTime", "effectivePeriod", "effectiveInstant", "issued")
#: The groups ``prepare`` sorts Observations into (keys of the prepared record).
CODE_STATUS, SOCIAL, LABORATORY, VITAL_SIGNS = (
    "Observation:code-status",
    "Observation:social-history",
    "Observation:laboratory",
    "Observation:vital-signs",
)


def _observation_group(observation: Resource) -> str | None:
    concept = observation.get("code")
    if has_code(concept, CODE_STATUS_CODES):  # as is_code_status
        return CODE_STATUS
    if has_code(concept, SOCIAL_HISTORY_CODES):
        return SOCIAL
    categories = observation_category(observation)
    if "laboratory" in categories:
        return LABORATORY
    return VITAL_SIGNS if "vital-signs" in categories else None


def prepare(record: Record) -> Record:
    """The record without what is not a record (entered in error, refuted...), its
    Observations sorted once into the groups the sections read: a chart of years of
    Observations is scanned once, not once per section."""
    out: Record = {}
    for kind, resources in record.items():
        kept = [r for r in resources if is_record(r)]
        if kind != "Observation":
            out[kind] = kept
            continue
        for observation in kept:
            group = _observation_group(observation)
            if group is not None:
                out.setdefault(group, []).append(observation)
    return out


def _problems(record: Record) -> list[Resource]:
    found = [
        c
        for c in _of(record, "Condition")
        if status_code(c.get("clinicalStatus")) in ACTIVE_CONDITION
    ]
    return _newest(found, "onsetDateTime", "onsetPeriod", "recordedDate")


def _past_illness(record: Record) -> list[Resource]:
    found = [
        c
        for c in _of(record, "Condition")
        if status_code(c.get("clinicalStatus")) in PAST_CONDITION
    ]
    return _newest(found, "abatementDateTime", "onsetDateTime", "recordedDate")


def _medications(record: Record) -> list[Resource]:
    requests = [r for r in _of(record, "MedicationRequest") if r.get("status") in ACTIVE_REQUEST]
    statements = [
        s for s in _of(record, "MedicationStatement") if s.get("status") in ACTIVE_STATEMENT
    ]
    return _newest(requests + statements, "authoredOn", "effectiveDateTime", "effectivePeriod")


def _allergies(record: Record) -> list[Resource]:
    found = [
        a
        for a in _of(record, "AllergyIntolerance")
        if status_code(a.get("clinicalStatus")) not in ("inactive", "resolved")
    ]
    found = _newest(found, "recordedDate", "onsetDateTime")
    return sorted(found, key=lambda a: a.get("criticality") != "high")  # stable: high first


def _immunizations(record: Record) -> list[Resource]:
    return _newest(_of(record, "Immunization"), "occurrenceDateTime", "recorded")


def _results(record: Record) -> list[Resource]:
    labs = latest_per_code(record.get(LABORATORY, []), *OBSERVED)
    reports = latest_per_code(_of(record, "DiagnosticReport"), *OBSERVED)
    return reports + labs


def _vital_signs(record: Record) -> list[Resource]:
    return latest_per_code(record.get(VITAL_SIGNS, []), *OBSERVED)


def _procedures(record: Record) -> list[Resource]:
    return _newest(_of(record, "Procedure"), "performedDateTime", "performedPeriod")


def _devices(record: Record) -> list[Resource]:
    return _newest(_of(record, "DeviceUseStatement"), "timingDateTime", "recordedOn")


def _plan_of_care(record: Record) -> list[Resource]:
    plans = [p for p in _of(record, "CarePlan") if p.get("status") in ("active", "on-hold")]
    return _newest(plans, "period", "created")


def is_advance_directive(consent: Resource) -> bool:
    """A Consent of scope ``adr`` (advance directive)."""
    return has_code(consent.get("scope"), {"adr"})


def _advance_directives(record: Record) -> list[Resource]:
    consents = [
        c for c in _of(record, "Consent") if is_advance_directive(c) and c.get("status") == "active"
    ]
    orders = record.get(CODE_STATUS, [])
    return _newest(consents, "dateTime") + latest_per_code(orders, *OBSERVED)


def _social_history(record: Record) -> list[Resource]:
    return latest_per_code(record.get(SOCIAL, []), *OBSERVED)


def _date(value: str) -> str:
    return value[:10]


def _condition_row(c: Resource) -> list[str]:
    onset = when(c, "onsetDateTime", "onsetPeriod", "recordedDate")
    return [concept_text(c.get("code")), status_code(c.get("clinicalStatus")), _date(onset)]


def _past_row(c: Resource) -> list[str]:
    onset = when(c, "onsetDateTime", "onsetPeriod", "recordedDate")
    return [concept_text(c.get("code")), _date(onset), _date(when(c, "abatementDateTime"))]


def medication_name(resource: Resource) -> str:
    """The medication's text (a referenced Medication shows its reference's display)."""
    named = concept_text(resource.get("medicationCodeableConcept"))
    reference = resource.get("medicationReference")
    if not named and isinstance(reference, dict):
        named = str(reference.get("display") or reference.get("reference") or "")
    return named


def _medication_row(m: Resource) -> list[str]:
    started = when(m, "authoredOn", "effectiveDateTime", "effectivePeriod")
    return [medication_name(m), dosage_text(m), str(m.get("status", "")), _date(started)]


def reactions(allergy: Resource) -> str:
    """The manifestations of an allergy's reactions, comma separated."""
    return ", ".join(
        concept_text(m)
        for r in allergy.get("reaction") or []
        if isinstance(r, dict)
        for m in r.get("manifestation") or []
    )


def _allergy_row(a: Resource) -> list[str]:
    return [concept_text(a.get("code")), str(a.get("criticality", "")), reactions(a)]


def _immunization_row(i: Resource) -> list[str]:
    when_given = _date(when(i, "occurrenceDateTime", "recorded"))
    return [concept_text(i.get("vaccineCode")), when_given, str(i.get("status", ""))]


def _observation_row(o: Resource) -> list[str]:
    value = value_text(o) if o.get("resourceType") == "Observation" else "report"
    return [concept_text(o.get("code")), value, abnormal_flag(o), _date(when(o, *OBSERVED))]


def _procedure_row(p: Resource) -> list[str]:
    performed = when(p, "performedDateTime", "performedPeriod")
    return [concept_text(p.get("code")), _date(performed), str(p.get("status", ""))]


def _device_row(d: Resource) -> list[str]:
    device = d.get("device")
    named = device if isinstance(device, dict) else {}
    name = str(named.get("display") or named.get("reference") or "")
    return [name, str(d.get("status", "")), _date(when(d, "timingDateTime", "recordedOn"))]


def _plan_row(p: Resource) -> list[str]:
    title = str(
        p.get("title") or p.get("description") or concept_text((p.get("category") or [{}])[0])
    )
    return [title, str(p.get("status", "")), _date(when(p, "period", "created"))]


def _directive_row(r: Resource) -> list[str]:
    if r.get("resourceType") == "Consent":
        what = concept_text((r.get("category") or [{}])[0]) or "Advance directive"
        return [what, str(r.get("status", "")), _date(when(r, "dateTime"))]
    return [f"{concept_text(r.get('code'))}: {value_text(r)}", "", _date(when(r, *OBSERVED))]


def _social_row(o: Resource) -> list[str]:
    return [concept_text(o.get("code")), value_text(o), _date(when(o, *OBSERVED))]


OBS_HEADERS = ("Test", "Value", "Flag", "Date")
SECTIONS: tuple[SectionSpec, ...] = (
    SectionSpec("problems", "Active Problems", "11450-4", "Problem list - Reported", True,
                _problems, ("Problem", "Status", "Onset"), _condition_row, ("Condition",)),
    SectionSpec("medications", "Medication Summary", "10160-0",
                "History of Medication use Narrative", True, _medications,
                ("Medication", "Sig", "Status", "Since"), _medication_row,
                ("MedicationRequest", "MedicationStatement")),
    SectionSpec("allergies", "Allergies and Intolerances", "48765-2",
                "Allergies and adverse reactions Document", True, _allergies,
                ("Substance", "Criticality", "Reaction"), _allergy_row, ("AllergyIntolerance",)),
    SectionSpec("immunizations", "Immunizations", "11369-6", "History of Immunization Narrative",
                False, _immunizations, ("Vaccine", "Date", "Status"), _immunization_row,
                ("Immunization",)),
    SectionSpec("results", "Results", "30954-2",
                "Relevant diagnostic tests/laboratory data Narrative", False, _results,
                OBS_HEADERS, _observation_row, ("Observation", "DiagnosticReport")),
    SectionSpec("procedures", "History of Procedures", "47519-4", "History of Procedures Document",
                False, _procedures, ("Procedure", "Date", "Status"), _procedure_row,
                ("Procedure",)),
    SectionSpec("devices", "Medical Devices", "46264-8", "History of medical device use", False,
                _devices, ("Device", "Status", "Date"), _device_row, ("DeviceUseStatement",)),
    SectionSpec("vital_signs", "Vital Signs", "8716-3", "Vital signs", False, _vital_signs,
                OBS_HEADERS, _observation_row, ("Observation",)),
    SectionSpec("past_illness", "Past History of Illness", "11348-0",
                "History of Past illness Narrative", False, _past_illness,
                ("Problem", "Onset", "Resolved"), _past_row, ("Condition",)),
    SectionSpec("plan_of_care", "Plan of Care", "18776-5", "Plan of care note", False,
                _plan_of_care, ("Plan", "Status", "Since"), _plan_row, ("CarePlan",)),
    SectionSpec("advance_directives", "Advance Directives", "42348-3", "Advance directives",
                False, _advance_directives, ("Directive", "Status", "Date"), _directive_row,
                ("Consent", "Observation")),
    SectionSpec("social_history", "Social History", "29762-2", "Social history Narrative", False,
                _social_history, ("Observation", "Value", "Date"), _social_row, ("Observation",)),
)  # fmt: skip
