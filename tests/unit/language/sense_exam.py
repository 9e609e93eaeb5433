"""What the abbreviation exams share: reading a labelled set, finding the token, judging a match.

Each exam keeps its own data, thresholds and list of same-meaning spellings (fixed before it was
first run); only the mechanics live here, so the exams score alike.
"""

from __future__ import annotations

import csv
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path

from chartkeeper.language.abbreviations import find_abbreviations
from chartkeeper.language.model import AbbreviationMatch

VANDERBILT = ("data", "vocab", "clinical-abbreviations-metainventory", "sources", "4-vanderbilt")
INVENTORY_FILES = ("vanderbilt_clinic_notes.txt", "vanderbilt_discharge_sums.txt")


@dataclass(frozen=True)
class AmbiguousRow:
    """One row: a sentence whose surrounding words decide which sense ``token`` has."""

    abbreviation: str  #: the inventory's key, lower-case ("d_c" for "d/c")
    token: str  #: as written in the sentence ("d/c", "PACs")
    sentence: str
    expected_sense: str  #: the inventory's sense string ("discontinue")


def load_rows(path: Path) -> list[AmbiguousRow]:
    """The rows of a set, in file order."""
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE)
        return [
            AmbiguousRow(row["abbreviation"], row["token"], row["sentence"], row["expected_sense"])
            for row in reader
        ]


def fold(text: str) -> str:
    """Case and white-space folding (and CSV quote marks): the only leniency in comparing."""
    return " ".join(text.replace('"', " ").casefold().split())


def meaning_of(same_meaning: Iterable[tuple[str, ...]]) -> Callable[[str], str]:
    """The meaning a sense string names: its same-meaning group's label (the group's first
    string), else itself."""
    canonical = {fold(s): fold(group[0]) for group in same_meaning for s in group}

    def meaning(sense: str) -> str:
        folded = fold(sense)
        return canonical.get(folded, folded)

    return meaning


def token_span(sentence: str, token: str) -> tuple[int, int]:
    """Offsets of the first stand-alone occurrence of ``token`` (not inside a longer word)."""
    found = re.search(rf"(?<![A-Za-z0-9]){re.escape(token)}(?![A-Za-z0-9])", sentence)
    if found is None:
        raise LookupError(f"{token!r} does not occur in {sentence!r}")
    return found.span()


def inventory_key(token: str) -> str:
    """The inventory's spelling of a written token: lower-case, "/" as "_", no periods."""
    return token.lower().replace("/", "_").replace(".", "")


def match_at(matches: list[AbbreviationMatch], start: int, end: int) -> AbbreviationMatch | None:
    """The match that overlaps ``start:end`` the most (the one covering the token, if any)."""
    best, best_overlap = None, 0
    for match in matches:
        overlap = min(end, match.end) - max(start, match.start)
        if overlap > best_overlap:
            best, best_overlap = match, overlap
    return best


def judge(row: AmbiguousRow, meaning: Callable[[str], str]) -> tuple[str, str]:
    """``(outcome, what was chosen)``; outcome is correct, wrong, abstained or not found."""
    start, end = token_span(row.sentence, row.token)
    match = match_at(find_abbreviations(row.sentence), start, end)
    if match is None:
        return "not found", "-"
    if match.sense is None:
        return "abstained", f"no sense ({match.reason})" if match.reason else "no sense"
    if meaning(match.sense.long_form) == meaning(row.expected_sense):
        return "correct", match.sense.long_form
    return "wrong", match.sense.long_form


def inventory_meanings(
    folder: Path, meaning: Callable[[str], str]
) -> dict[str, dict[str, tuple[str, int]]]:
    """abbreviation -> folded sense -> (meaning id, occurrences), over both Vanderbilt files.

    The meaning id is the row's CUI (or the folded sense when it has none), merged through
    ``meaning``, so spellings of one meaning count together.
    """
    counts: defaultdict[str, Counter[str]] = defaultdict(Counter)
    cuis: dict[tuple[str, str], str] = {}
    for name in INVENTORY_FILES:
        with (folder / name).open(newline="", encoding="utf-8") as handle:
            for row in csv.DictReader(handle, delimiter="\t"):
                abbreviation, sense = row["abbreviation"].strip().lower(), fold(row["sense"])
                total = sum(int(v.rpartition("_")[2]) for v in row["variation"].split("|") if v)
                counts[abbreviation][sense] += total
                cuis.setdefault((abbreviation, sense), row["CUI"].strip() or sense)
    result: dict[str, dict[str, tuple[str, int]]] = {}
    for abbreviation, senses in counts.items():
        ids = {sense: cuis[(abbreviation, sense)] for sense in senses}
        for sense in senses:
            for other in senses:
                if meaning(sense) == meaning(other):
                    ids[other] = ids[sense] = min(ids[sense], ids[other])
        result[abbreviation] = {sense: (ids[sense], n) for sense, n in senses.items()}
    return result


@dataclass(frozen=True)
class Scores:
    """How a set fared: the shares of right and silently wrong senses, and a report of every
    row that was not right (for the assertion message)."""

    correct: float
    wrong: float
    summary: str


def score(rows: list[AmbiguousRow], meaning: Callable[[str], str]) -> Scores:
    """Judge every row of a set."""
    outcomes: Counter[str] = Counter()
    report = []
    for row in rows:
        outcome, chosen = judge(row, meaning)
        outcomes[outcome] += 1
        if outcome != "correct":
            report.append(
                f"{outcome.upper()}: {row.token} expected {row.expected_sense!r}, "
                f"got {chosen!r} in {row.sentence!r}"
            )
    total = len(rows)
    correct, wrong = outcomes["correct"] / total, outcomes["wrong"] / total
    summary = (
        f"{total} rows: correct {outcomes['correct']} ({correct:.1%}), wrong {outcomes['wrong']} "
        f"({wrong:.1%}), abstained {outcomes['abstained']}, not found {outcomes['not found']}\n"
        + "\n".join(report)
    )
    return Scores(correct, wrong, summary)


def unlisted_labels(
    rows: list[AmbiguousRow], inventory: dict[str, dict[str, tuple[str, int]]]
) -> list[tuple[str, str]]:
    """The (abbreviation, label) pairs whose label the inventory does not list."""
    return [
        (row.abbreviation, row.expected_sense)
        for row in rows
        if fold(row.expected_sense) not in inventory.get(row.abbreviation, {})
    ]


def non_dominant_rows(
    rows: list[AmbiguousRow], inventory: dict[str, dict[str, tuple[str, int]]]
) -> int:
    """How many rows are labelled with a meaning other than their abbreviation's most frequent."""
    count = 0
    for row in rows:
        senses = inventory[row.abbreviation]
        totals: Counter[str] = Counter()
        for meaning_id, n in senses.values():
            totals[meaning_id] += n
        dominant = max(sorted(totals), key=lambda m: totals[m])
        if senses[fold(row.expected_sense)][0] != dominant:
            count += 1
    return count
