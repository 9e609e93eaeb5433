"""Write bench/RESULTS.md: date, machine facts, commit, and one table per benchmark.

A run of some benchmarks only (``--only``) keeps the other benchmarks' last results: each
section of the file starts with an HTML comment naming the benchmark and the run that measured
it (date, command, commit, load average), so the next run can carry it over unchanged and say
where it came from. A file written before these comments existed is split by its summary table
and its ``## `` headings (the sections appear in the same order in both).
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass
from pathlib import Path

from common import BENCH, Section

RESULTS = BENCH / "RESULTS.md"
MARKER = re.compile(r"^<!-- bench-section (\{.*\}) -->$")
KEPT = "_Kept from an earlier run"
TABLE_HEADER = "| Metric | Target | Measured | Baseline | Ratio | Result |"
SUMMARY_HEADER = "| Benchmark | Metric | Target | Measured | Baseline | Ratio | Result |"


@dataclass
class RunInfo:
    """Which run measured a section."""

    date: str
    command: str
    commit: str
    load: str = "unknown"

    def marker(self, name: str) -> str:
        fields = {"name": name, **self.__dict__}
        return f"<!-- bench-section {json.dumps(fields, ensure_ascii=False)} -->"


@dataclass
class Kept:
    """A section of an earlier run: its Markdown (heading first) and the run it came from."""

    name: str
    body: list[str]
    run: RunInfo

    def rows(self) -> list[str]:
        """The rows of the section's first table (``| metric | ... | result |``)."""
        try:
            start = self.body.index(TABLE_HEADER) + 2
        except ValueError:
            return []
        rows = []
        for line in self.body[start:]:
            if not line.startswith("|"):
                break
            rows.append(line)
        return rows


def _section_lines(section: Section) -> list[str]:
    lines = [f"## {section.title}", ""]
    lines += [TABLE_HEADER, "|---|---|---|---|---|---|"]
    for row in section.rows:
        lines.append(
            f"| {row.metric} | {row.target} | {row.measured} | {row.baseline} | "
            f"{row.ratio} | {row.verdict} |"
        )
    if section.notes:
        lines.append("")
        lines += [f"- {note}" for note in section.notes]
    if section.extra:
        lines += ["", *section.extra]
    return lines


def render(
    sections: list[Section],
    facts: list[tuple[str, str]],
    command: str,
    commit: str,
    wall: float,
    kept: list[Kept] | None = None,
    order: tuple[str, ...] = (),
) -> str:
    """The Markdown report (``commit``: read when the run started); ``kept``: sections of
    earlier runs to carry over, placed by ``order`` (benchmark names) among this run's."""
    kept = kept or []
    now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
    load = " / ".join(value for key, value in facts if key.startswith("Load average"))
    this_run = RunInfo(now, command, commit, load)
    lines = [
        "# chartkeeper benchmark results",
        "",
        f"Last run: `{command}` on {now}, commit `{commit}` (read at the start; the working "
        f"tree may hold uncommitted edits); the run took {wall:.0f} s.",
        "Sections marked *this run* in the summary were measured in that run; the others are "
        "the last results of benchmarks it did not run, kept with the date, command and commit "
        "of the run that measured them. See `bench/README.md` for the method.",
        "",
        "## Machine",
        "",
        "| Fact | Value |",
        "|---|---|",
        *(f"| {key} | {value} |" for key, value in facts),
        "",
        "## Summary",
        "",
        f"{SUMMARY_HEADER} Run |",
        "|---|---|---|---|---|---|---|---|",
    ]
    rank = {name: n for n, name in enumerate(order)}
    entries: list[tuple[str, Section | Kept]] = [(s.name, s) for s in sections]
    entries += [(k.name, k) for k in kept]
    entries.sort(key=lambda entry: rank.get(entry[0], len(rank)))
    for name, entry in entries:
        if isinstance(entry, Section):
            for row in entry.rows:
                lines.append(
                    f"| {name} | {row.metric} | {row.target} | {row.measured} | "
                    f"{row.baseline} | {row.ratio} | {row.verdict} | this run |"
                )
        else:
            lines += [f"| {name} {row} {entry.run.date} |" for row in entry.rows()]
    for name, entry in entries:
        lines.append("")
        if isinstance(entry, Section):
            lines += [this_run.marker(name), *_section_lines(entry)]
        else:
            run = entry.run
            lines += [entry.run.marker(name), entry.body[0], ""]
            lines.append(
                f"{KEPT}: `{run.command}` on {run.date}, commit `{run.commit}`; load average "
                f"(1/5/15 min, start / end of that run) {run.load}._"
            )
            lines += entry.body[1:]
    return "\n".join(lines).rstrip("\n") + "\n"


def _strip(block: list[str]) -> list[str]:
    """A section's lines without the kept-from line and surrounding blank lines."""
    body = [line for line in block if not line.startswith(KEPT)]
    while body and not body[-1].strip():
        body.pop()
    cleaned: list[str] = []
    for line in body:  # no double blank line where the kept-from line was
        if line.strip() or (cleaned and cleaned[-1].strip()):
            cleaned.append(line)
    return cleaned


def _legacy(lines: list[str]) -> list[Kept]:
    """Sections of a file written before the markers: summary names zipped with headings."""
    header = next((line for line in lines if line.startswith("Generated by `")), "")
    found = re.match(r"Generated by `([^`]*)` on ([^,]*), commit `([^`]*)`", header)
    if not found:
        return []
    loads = [line.split("|")[2].strip() for line in lines if line.startswith("| Load average at ")]
    run = RunInfo(found[2], found[1], found[3], " / ".join(loads) or "unknown")
    try:
        start = lines.index(SUMMARY_HEADER) + 2
    except ValueError:
        return []
    names: list[str] = []
    at = start
    while at < len(lines) and lines[at].startswith("|"):
        name = lines[at].split("|")[1].strip()
        if name not in names:
            names.append(name)
        at += 1
    heads = [n for n in range(at, len(lines)) if lines[n].startswith("## ")]
    if len(heads) != len(names):
        return []
    ends = [*heads[1:], len(lines)]
    return [
        Kept(name, _strip(lines[a:b]), run) for name, a, b in zip(names, heads, ends, strict=True)
    ]


def previous(path: Path = RESULTS) -> list[Kept]:
    """The sections of the results file at ``path`` (none when it is absent or unreadable)."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except OSError:
        return []
    marks = [n for n, line in enumerate(lines) if MARKER.match(line)]
    if not marks:
        return _legacy(lines)
    kept = []
    for a, b in zip(marks, [*marks[1:], len(lines)], strict=True):
        match = MARKER.match(lines[a])
        assert match is not None
        fields = json.loads(match[1])
        name = fields.pop("name")
        body = _strip(lines[a + 1 : b])
        if body and body[0].startswith("## "):
            kept.append(Kept(name, body, RunInfo(**fields)))
    return kept


def write(text: str, path: Path = RESULTS) -> Path:
    """Overwrite the results file."""
    path.write_text(text, encoding="utf-8")
    return path
