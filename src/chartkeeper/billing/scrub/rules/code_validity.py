"""Codes valid on the date of service: ICD-10-CM diagnoses, HCPCS Level II codes and modifiers.

HIPAA requires the code set version in force on the date of service (45 CFR 162.1000-1002);
ICD-10-CM Official Guidelines I.A.5-6 (placeholder X, 7th characters) and I.B.2 (codes at
their highest number of characters); HCPCS add and termination dates from the CMS quarterly
file. CPT (HCPCS Level I) is licensed by the AMA and never ships: when a licensee has loaded a
version (``chartkeeper codes load cpt FILE``) in force on the date of service, CPT codes must be
in it; otherwise CPT codes and modifiers are reported as unchecked. The CPT file lists codes
only, so numeric (CPT) modifiers are reported as unchecked either way.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date

from chartkeeper.billing.codes.model import CPT, HCPCS, ICD10CM
from chartkeeper.billing.scrub.context import EMPTY, ScrubContext, Table
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
        "are not terminated; CPT codes exist in the licensee's CPT version in force (without "
        "one, CPT is reported as not checked); no code set loaded for the date is a warning"
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
CPT_MODIFIER_MESSAGE = "CPT modifiers are not checked: the CPT file lists codes, not modifiers"


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


def _cpt_code(index: int, code: str, table: Table) -> Iterator[Issue]:
    """A CPT code against the licensee's version in force: it is valid when the version lists it
    (CPT files carry no add or termination dates)."""
    if table.get(code) is None:
        where = f"line[{index}].procedure_code"
        message = f"{code} is not a CPT code in version {table.version}"
        yield RULE.issue(where, message, "Check the code in the CPT file for the date", code)


def _unchecked(cpt_at: tuple[str, str] | None, modifier_at: tuple[str, str] | None) -> Issue | None:
    """One information issue for what CPT left unchecked: codes and modifiers on dates with no
    CPT version, else numeric (CPT) modifiers, which the CPT code file does not list."""
    if cpt_at is not None:
        hint = "Check CPT codes in a licensed CPT tool, or load your licensed CPT file"
        return RULE.issue(cpt_at[0], CPT_MESSAGE, hint, cpt_at[1], severity="information")
    if modifier_at is not None:
        hint = "Check CPT modifiers in a licensed CPT tool"
        return RULE.issue(
            modifier_at[0], CPT_MODIFIER_MESSAGE, hint, modifier_at[1], severity="information"
        )
    return None


def _procedures(scrub: ScrubClaim, context: ScrubContext) -> Iterator[Issue]:
    claim = scrub.claim
    cpt_at: tuple[str, str] | None = None  # first CPT code or modifier with no CPT version
    modifier_at: tuple[str, str] | None = None  # first CPT modifier under a loaded version
    missing: set[date] = set()
    for index, line in enumerate(claim.lines):
        code, day = code_of(line.procedure_code), service_day(claim, line)
        level_one = is_cpt(code)
        numeric = any(m.strip().isdigit() for m in line.modifiers)
        cpt = context.table(CPT, day) if day is not None and (level_one or numeric) else EMPTY
        if cpt.version is None:
            if (level_one or numeric) and cpt_at is None:
                field = "procedure_code" if level_one else "modifiers"
                cpt_at = (f"line[{index}].{field}", code)
        elif numeric and modifier_at is None:
            modifier_at = (f"line[{index}].modifiers", code)
        if day is None or not code:
            continue
        if level_one and cpt.version is not None:
            yield from _cpt_code(index, code, cpt)
            if all(not m.strip() or m.strip().isdigit() for m in line.modifiers):
                continue  # nothing on the line for HCPCS Level II
        table = context.table(HCPCS, day)
        if table.version is None:
            missing.add(day)
            continue
        if not level_one:
            yield from _code(index, code, day, table)
        yield from _modifiers(index, line.modifiers, day, table)
    for day in sorted(missing):
        message = f"No HCPCS version is loaded for {day.isoformat()}: codes were not checked"
        hint = "Load one: chartkeeper codes load hcpcs FILE"
        yield RULE.issue("claim", message, hint, severity="warning")
    unchecked = _unchecked(cpt_at, modifier_at)
    if unchecked is not None:
        yield unchecked


def check(scrub: ScrubClaim, context: ScrubContext) -> Iterator[Issue]:
    """Diagnoses, then each line's procedure code and modifiers."""
    yield from _diagnoses(scrub, context)
    yield from _procedures(scrub, context)
