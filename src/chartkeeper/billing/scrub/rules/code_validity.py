"""Codes valid on the date of service: ICD-10-CM diagnoses, HCPCS Level II codes and modifiers.

HIPAA requires the code set version in force on the date of service (45 CFR 162.1000-1002);
ICD-10-CM Official Guidelines I.A.5-6 (placeholder X, 7th characters) and I.B.2 (codes at
their highest number of characters); HCPCS add and termination dates from the CMS quarterly
file. CPT (HCPCS Level I) is licensed by the AMA and not loaded, so CPT codes and modifiers are
reported as unchecked.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

from chartkeeper.billing.codes.model import HCPCS, ICD10CM
from chartkeeper.billing.scrub.context import ScrubContext, Table
from chartkeeper.billing.scrub.facts import code_of, first_day, service_day
from chartkeeper.billing.scrub.model import Issue, ScrubClaim
from chartkeeper.billing.scrub.rule import Rule
from chartkeeper.billing.scrub.rules.common import from_finding, is_cpt

RULE = Rule(
    id="code-validity",
    title="Codes valid on the date of service",
    severity="error",
    checks=(
        "ICD-10-CM diagnoses exist and are billable in the version in force on the date of "
        "service (7th character, placeholder X); HCPCS Level II codes and modifiers exist and "
        "are not terminated; no code set loaded for the date is a warning; CPT is reported as "
        "not checked"
    ),
    source=(
        "45 CFR 162.1002 (code sets by date of service); ICD-10-CM Official Guidelines I.A.5, "
        "I.A.6 (placeholder X, 7th character), I.B.2 (level of detail); Medicare Claims "
        "Processing Manual ch. 23 §20.3 (HCPCS)"
    ),
    category="invalid",
)
#: The coding findings this rule reports (``checks.check_diagnoses`` ids).
FINDINGS = frozenset(
    {
        "no-code-set",
        "unknown-code",
        "not-valid-on-date",
        "missing-placeholder",
        "missing-seventh-character",
        "header-code",
    }
)
CPT_MESSAGE = "CPT codes are not checked: CPT is licensed by the AMA and not loaded"


def _diagnoses(scrub: ScrubClaim, context: ScrubContext) -> Iterator[Issue]:
    claim = scrub.claim
    day = first_day(claim)
    if day is None or not claim.diagnoses:
        return
    table = context.table(ICD10CM, day)
    for finding in context.diagnosis_findings(table, claim.diagnoses):
        if finding.rule in FINDINGS:
            yield from_finding(RULE, claim, finding)


def _code(index: int, code: str, day: date, table: Table) -> Iterator[Issue]:
    where = f"line[{index}].procedure_code"
    found = table.get(code)
    if found is None or found.extra.get("record") != "code":
        message = f"{code} is not an HCPCS Level II code in version {table.version}"
        yield RULE.issue(where, message, "Check the code in the HCPCS file for the date", code)
        return
    yield from _dates(where, code, day, found.extra, "code")


def _dates(where: str, code: str, day: date, extra: dict[str, str], what: str) -> Iterator[Issue]:
    text = day.isoformat()
    added, ended = extra.get("added"), extra.get("terminated")
    if added and added > text:
        message = f"HCPCS {what} {code} was added on {added}, after the date of service {text}"
        yield RULE.issue(where, message, "Use the code valid on the date of service", code)
    if ended and ended < text:
        message = f"HCPCS {what} {code} was terminated on {ended}, before the date of service"
        yield RULE.issue(where, message, "Use the code that replaced it", code)


def _modifiers(index: int, modifiers: tuple[str, ...], day: date, table: Table) -> Iterator[Issue]:
    where = f"line[{index}].modifiers"
    for raw in modifiers:
        modifier = raw.strip().upper()
        if not modifier or modifier.isdigit():
            continue  # blank, or a CPT (Level I) modifier: reported with the CPT codes
        found = table.get(modifier)
        if found is None or found.extra.get("record") != "modifier":
            message = f"{modifier} is not an HCPCS modifier in version {table.version}"
            yield RULE.issue(where, message, "Check the modifier list for the date", modifier)
        else:
            yield from _dates(where, modifier, day, found.extra, "modifier")


def _procedures(scrub: ScrubClaim, context: ScrubContext) -> Iterator[Issue]:
    claim = scrub.claim
    cpt_at: tuple[str, str] | None = None
    missing: set[date] = set()
    for index, line in enumerate(claim.lines):
        code, day = code_of(line.procedure_code), service_day(claim, line)
        has_cpt = is_cpt(code) or any(m.strip().isdigit() for m in line.modifiers)
        if has_cpt and cpt_at is None:
            field = "procedure_code" if is_cpt(code) else "modifiers"
            cpt_at = (f"line[{index}].{field}", code)
        if day is None or not code:
            continue
        table = context.table(HCPCS, day)
        if table.version is None:
            missing.add(day)
            continue
        if not is_cpt(code):
            yield from _code(index, code, day, table)
        yield from _modifiers(index, line.modifiers, day, table)
    for day in sorted(missing):
        message = f"No HCPCS version is loaded for {day.isoformat()}: codes were not checked"
        hint = "Load one: chartkeeper codes load hcpcs FILE"
        yield RULE.issue("claim", message, hint, severity="warning")
    if cpt_at is not None:
        hint = "Check CPT codes in a licensed CPT tool"
        yield RULE.issue(cpt_at[0], CPT_MESSAGE, hint, cpt_at[1], severity="information")


def check(scrub: ScrubClaim, context: ScrubContext) -> Iterator[Issue]:
    """Diagnoses, then each line's procedure code and modifiers."""
    yield from _diagnoses(scrub, context)
    yield from _procedures(scrub, context)
