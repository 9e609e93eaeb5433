"""Coding checks of an encounter's ICD-10-CM diagnoses, as findings with stable rule ids.

Pure functions over a ``CodeVersion`` (the code set version in force on the date of service):
they read codes, never write, and return ``Finding``s a coder can act on. The rules follow the
ICD-10-CM Official Guidelines for Coding and Reporting (Section I.A, conventions) and the
tabular's instructional notes; docs/billing.md lists them.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, Protocol

from chartkeeper.billing.codes.model import dotted, normalise
from chartkeeper.billing.codes.notes import references
from chartkeeper.billing.codes.registry import StoredCode

MANIFESTATION = "in diseases classified elsewhere"


@dataclass(frozen=True, slots=True)
class Finding:
    """One problem: which rule, how bad, the code it is about, and how to fix it."""

    rule: str
    severity: str
    code: str
    message: str
    hint: str

    def as_dict(self) -> dict[str, str]:
        """Plain JSON."""
        return {
            "rule": self.rule,
            "severity": self.severity,
            "code": self.code,
            "message": self.message,
            "hint": self.hint,
        }


class CodeVersion(Protocol):
    """One version of a code set, as the checks need it."""

    version: str | None

    def get(self, code: str) -> StoredCode | None:
        """The code in this version, or None."""

    def other_versions(self, code: str) -> list[str]:
        """Other loaded versions that hold ``code``."""

    def children(self, code: str, limit: int) -> list[str]:
        """Some billable codes below ``code``."""


def _chain(codes: CodeVersion, found: StoredCode) -> list[StoredCode]:
    """The code and its ancestors up to its chapter (notes apply downwards)."""
    chain = [found]
    while parent := chain[-1].extra.get("parent"):
        above = codes.get(parent)
        if above is None or len(chain) > 12:
            break
        chain.append(above)
    return chain


def _notes(chain: list[StoredCode], name: str) -> list[tuple[str, str]]:
    return [(c.code, note) for c in chain for note in c.extra.get(name, [])]


def _unknown(codes: CodeVersion, code: str) -> Finding:
    shown = dotted("icd10cm", code)
    if len(code) <= 7 and code[-1:].isalpha():
        padded = code[:-1].ljust(6, "X") + code[-1]
        if padded != code and codes.get(padded) is not None:
            hint = f"Write {dotted('icd10cm', padded)}"
            message = f"{shown} lacks the placeholder X before its 7th character"
            return Finding("missing-placeholder", "error", code, message, hint)
    elsewhere = codes.other_versions(code)
    if elsewhere:
        message = f"{shown} is not valid on the date of service (version {codes.version})"
        hint = f"It is valid in version(s) {', '.join(elsewhere)}; code to the current version"
        return Finding("not-valid-on-date", "error", code, message, hint)
    message = f"{shown} is not an ICD-10-CM code"
    return Finding("unknown-code", "error", code, message, "Check the code in the tabular list")


def _billability(codes: CodeVersion, found: StoredCode) -> Finding | None:
    shown = dotted("icd10cm", found.code)
    seventh = found.extra.get("needsSeventh")
    if seventh:
        base = found.code.ljust(6, "X")
        choices = ", ".join(f"{dotted('icd10cm', base + c)} ({m})" for c, m in seventh.items())
        message = f"{shown} needs a 7th character"
        return Finding("missing-seventh-character", "error", found.code, message, choices[:300])
    if not found.billable:
        below = ", ".join(dotted("icd10cm", c) for c in codes.children(found.code, 5))
        message = f"{shown} is a header, not a billable code"
        hint = f"Code to the highest specificity, e.g. {below}" if below else "Use a billable code"
        return Finding("header-code", "error", found.code, message, hint)
    return None


def _excludes1(codes: list[str], chains: dict[str, list[StoredCode]]) -> list[Finding]:
    findings: list[Finding] = []
    for code in codes:
        for holder, note in _notes(chains[code], "excludes1"):
            for other in codes:
                if other == code or other.startswith(holder):
                    continue
                if any(r.covers(other) for r in references([note])):
                    message = (
                        f"{dotted('icd10cm', code)} and {dotted('icd10cm', other)} may not be "
                        f"coded together (Excludes1 at {dotted('icd10cm', holder)}: {note})"
                    )
                    hint = "Keep the one the documentation supports and remove the other"
                    findings.append(Finding("excludes1-conflict", "error", code, message, hint))
    return findings


def _manifestation(
    position: int, codes: list[str], chains: dict[str, list[StoredCode]], principal: str
) -> list[Finding]:
    code = codes[position]
    chain = chains[code]
    if not any(MANIFESTATION in c.display.lower() for c in chain):
        return []
    shown = dotted("icd10cm", code)
    first = _notes(chain, "codeFirst")
    if position == 0 and code == principal:
        message = f"{shown} is a manifestation code and cannot be the principal diagnosis"
        hint = "Sequence the underlying condition (etiology) first"
        return [Finding("manifestation-as-principal", "error", code, message, hint)]
    ranges = references(note for _, note in first)
    before = codes[:position]
    if any(r.covers(c) for r in ranges for c in before) or (not ranges and before):
        return []
    wanted = "; ".join(note for _, note in first)[:300]
    message = f"{shown} is a manifestation code without its etiology coded before it"
    hint = f"Code first the underlying condition: {wanted}" if wanted else "Code first the etiology"
    return [Finding("manifestation-without-etiology", "error", code, message, hint)]


def check_diagnoses(codes: CodeVersion, diagnoses: Sequence[str]) -> list[Finding]:
    """Findings on ``diagnoses`` (principal first) against the version in force."""
    if codes.version is None:
        message = "No ICD-10-CM version is loaded for the date of service"
        hint = "Load one: chartkeeper codes load icd10cm"
        return [Finding("no-code-set", "warning", "", message, hint)]
    findings: list[Finding] = []
    known: list[str] = []
    chains: dict[str, list[StoredCode]] = {}
    for raw in diagnoses:
        code = normalise(raw)
        found = codes.get(code)
        if found is None:
            findings.append(_unknown(codes, code))
            continue
        problem = _billability(codes, found)
        if problem:
            findings.append(problem)
        known.append(code)
        chains[code] = _chain(codes, found)
    findings += _excludes1(known, chains)
    for position in range(len(known)):
        findings += _manifestation(position, known, chains, normalise(diagnoses[0]))
    return findings


def summary(findings: Sequence[Finding]) -> dict[str, Any]:
    """Counts by severity, for reports."""
    counts: dict[str, int] = {}
    for finding in findings:
        counts[finding.severity] = counts.get(finding.severity, 0) + 1
    return counts
