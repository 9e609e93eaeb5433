"""Scrub an 837 against the TR3 loop maps with pyx12, as findings with segment positions.

Loop-level rules (required segments and loops, repeats, order, unknown segments) live in
pyx12's maps of the 005010 implementation guides; re-encoding them here would be thousands of
lines, so this module runs pyx12's validator and turns its report into `Finding`s. It is slow
(pyx12 checks about 600 claims/s), so it is a scrubbing step before submission, not part of
reading: `segments` stays the fast, fail-fast reader.

pyx12 reports some problems twice; two rules merge them (see `_merge`): a missing loop
reported again before any other structure finding is one finding, and a required segment
reported missing right before that same segment is reported unexpected is "out of order".
"""

from __future__ import annotations

import io
import json
import logging
from dataclasses import dataclass
from typing import Any, Literal

import pyx12.params  # type: ignore[import-untyped]
import pyx12.x12n_document  # type: ignore[import-untyped]

from chartkeeper.billing.x12.segments import read_separators

Category = Literal["envelope", "structure", "numbering", "element"]

#: pyx12 segment-level codes (the 999 IK3 codes) that are about loop structure
_STRUCTURE_CODES = {"1", "2", "3", "4", "5", "6", "7"}
#: HL and LX numbering checks pyx12 adds beyond the loop maps
_NUMBERING_CODES = {"HL1", "HL2", "HL3", "LX"}


@dataclass(frozen=True)
class Finding:
    """One problem: its category, the segment id, its 1-based position, pyx12's message."""

    category: Category
    segment_id: str
    position: int
    message: str


def scrub(text: str) -> list[Finding]:
    """Every finding of pyx12 on ``text``; unreadable separators raise `X12Error` first."""
    read_separators(text)
    logging.getLogger("pyx12").setLevel(logging.CRITICAL)
    report = io.StringIO()
    pyx12.x12n_document.x12n_document(
        pyx12.params.params(), io.StringIO(text), None, None, fd_json=report
    )
    findings: list[Finding] = []
    if report.getvalue():
        _collect(json.loads(report.getvalue()), findings)
    return _merge(findings)


def structure_findings(text: str) -> list[Finding]:
    """Only the loop-structure findings: missing, repeated, unknown or misplaced segments."""
    return [f for f in scrub(text) if f.category == "structure"]


def _collect(node: Any, out: list[Finding]) -> None:
    if isinstance(node, list):
        for item in node:
            _collect(item, out)
        return
    if not isinstance(node, dict):
        return
    if "seg_id" in node:
        _segment_findings(node, out)
        return
    for error in node.get("errors") or []:
        position = int(node.get("cur_line") or 0)
        out.append(Finding("envelope", "", position, str(error.get("err_str", ""))))
    for key, value in node.items():
        if key != "errors":
            _collect(value, out)


def _segment_findings(node: dict[str, Any], out: list[Finding]) -> None:
    seg_id, position = str(node.get("seg_id") or ""), int(node.get("cur_line") or 0)
    for error in node.get("errors") or []:
        code, message = str(error.get("err_cde", "")), str(error.get("err_str", ""))
        if message.startswith("Segment identifier"):
            continue  # pyx12 repeats an unknown segment's "not found" on the next segment
        category: Category = (
            "numbering"
            if code in _NUMBERING_CODES
            else "structure"
            if code in _STRUCTURE_CODES
            else "element"
        )
        out.append(Finding(category, seg_id, position, message))
    for element in node.get("elements") or []:
        for error in element.get("errors") or []:
            out.append(Finding("element", seg_id, position, str(error.get("err_str", ""))))


def _merge(findings: list[Finding]) -> list[Finding]:
    """Fold pyx12's double reports into one finding each (structure findings only)."""
    merged: list[Finding] = []
    last: int | None = None  # index in ``merged`` of the last structure finding
    for finding in findings:
        if finding.category != "structure":
            merged.append(finding)
            continue
        previous = merged[last] if last is not None else None
        if previous and _is_repeat(previous, finding):
            continue
        if previous and last is not None and _is_out_of_order(previous, finding):
            message = f"Segment {finding.segment_id} is out of order"
            merged[last] = Finding("structure", finding.segment_id, finding.position, message)
            continue
        merged.append(finding)
        last = len(merged) - 1
    return merged


def _is_repeat(last: Finding, finding: Finding) -> bool:
    """The same missing loop reported again before any other structure finding."""
    return "Mandatory loop" in finding.message and last.message == finding.message


def _is_out_of_order(last: Finding, finding: Finding) -> bool:
    return (
        last.message.startswith("Mandatory segment")
        and last.message.endswith(f"({finding.segment_id}) missing")
        and finding.message.startswith(f"Segment {finding.segment_id}*")
        and "not found" in finding.message
        and finding.position == last.position + 1
    )
