"""Held-out set for choosing the sense of an ambiguous abbreviation from context (issue 6).

``data/ambiguous_senses.tsv`` was seen while the sense rules were tuned, so it no longer
measures blind. This set, ``data/ambiguous_senses_heldout.tsv``, was written afterwards without
reading that file or the implementation (only ``chartkeeper.language.model`` for the shapes).
Same scoring and thresholds as ``test_quality_ambiguous.py``:

- correct: the labelled sense, or a spelling of the same meaning (``SAME_MEANING``);
- abstained: the token is found but ``sense`` is None (safe: left as written and flagged);
- wrong: another sense chosen silently (dangerous). At most ``MAX_WRONG`` of the rows;
- not found: the token is not recognised as an abbreviation at all.

The aim is ``AIM_CORRECT`` (the seen set's bar). The first blind run (2026-11-28) reached
204 of 259 (78.8 %) with 12 silent wrong senses (4.6 %): the safety bar ``MAX_WRONG`` holds, the
aim does not yet. So the test holds the safety bar and guards the level reached
(``MIN_CORRECT``) against regressions; docs/explain.md reports the gap. Raise ``MIN_CORRECT`` as
general rules improve; never tune the rules on these sentences. Every sentence is invented;
see ``data/README.md``.
"""

from __future__ import annotations

import csv
import re
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from chartkeeper.language.abbreviations import find_abbreviations
from chartkeeper.language.model import AbbreviationMatch

DATA = Path(__file__).resolve().parent / "data"
HELDOUT_TSV = DATA / "ambiguous_senses_heldout.tsv"
VANDERBILT = ("data", "vocab", "clinical-abbreviations-metainventory", "sources", "4-vanderbilt")
INVENTORY_FILES = ("vanderbilt_clinic_notes.txt", "vanderbilt_discharge_sums.txt")

MIN_ROWS = 150
MIN_ABBREVIATIONS = 40
MIN_NON_DOMINANT_SHARE = 0.40
AIM_CORRECT = 0.85  #: the seen set's bar, not reached blind yet (see the module docstring)
MIN_CORRECT = 0.78  #: share of rows expanded to the labelled meaning: the level first reached
MAX_WRONG = 0.05  #: share of rows given another sense silently

# Inventory sense strings naming the same meaning (spelling, number, Latin). Listed by hand from
# the two Vanderbilt files before the set was run; each group's first string is the label used.
SAME_MEANING: tuple[tuple[str, ...], ...] = (
    ("discharge", "discharged"),
    ("discontinue", "discontinued"),
    ("signs or symptoms", "signs/symptoms"),
    ("pulmonary embolus", "pulmonary embolism", "pulmonary embolisms"),
    ("drop", "gutta", "drops"),
    ("computed tomographic angiography", "computerized tomography angiogram"),
    ("slight", "slightly"),
    ("premature atrial contraction", "premature atrial contractions"),
    ("decrease", "decreased"),
    ("pack per day", "packs per day"),
    ("carcinogenic embryonic antigen", "carcinoembryonic antigen"),
    ("obtuse marginal artery", "obtuse marginal"),
    ("bowel movement", "bowel movements"),
    ("rhesus", "rhesus factor"),
    ("supplement", "supplements", "supplemental"),
    ("suppository", "suppositories"),
    ("subclavian", "subclavicular"),
    ("right atrium", "right atrial"),
    ("parkinson's disease", "parkinsons disease"),
    ("coagulase negative staphylococcus", "coagulase negative staph"),
    ("nasogastric", "nasogastric tube"),
    ("nanogram", "nanograms"),
    ("social work", "social worker"),
    ("lactic acid", "lactate"),
    ("tympanic membrane", "tympanic membranes"),
    ("maximal temperature", "temperature maximum", "temperature max", "temperature"),
    ("cancer", "carcinoma"),
    ("prothrombin time", "prothrombin"),
    ("oropharynx", "oropharyngeal"),
    ("posterior anterior", "posteroanterior"),
)


@dataclass(frozen=True)
class AmbiguousRow:
    """One row: a sentence whose surrounding words decide which sense ``token`` has."""

    abbreviation: str  #: the inventory's key, lower-case ("d_c" for "d/c")
    token: str  #: as written in the sentence
    sentence: str
    expected_sense: str  #: the inventory's sense string


def load_rows(path: Path = HELDOUT_TSV) -> list[AmbiguousRow]:
    """The rows of the set, in file order."""
    with path.open(newline="", encoding="utf-8") as handle:
        reader = csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE)
        return [
            AmbiguousRow(row["abbreviation"], row["token"], row["sentence"], row["expected_sense"])
            for row in reader
        ]


def fold(text: str) -> str:
    """Case and white-space folding (and CSV quote marks)."""
    return " ".join(text.replace('"', " ").casefold().split())


_CANONICAL = {fold(s): fold(group[0]) for group in SAME_MEANING for s in group}


def meaning(sense: str) -> str:
    """The meaning a sense string names: its ``SAME_MEANING`` group's label, else itself."""
    folded = fold(sense)
    return _CANONICAL.get(folded, folded)


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


def judge(row: AmbiguousRow) -> tuple[str, str]:
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


def test_the_heldout_set_is_well_formed() -> None:
    """Enough rows and abbreviations, two meanings each, and no row gives its answer away."""
    rows = load_rows()
    assert len(rows) >= MIN_ROWS
    meanings: defaultdict[str, set[str]] = defaultdict(set)
    problems = []
    for row in rows:
        meanings[row.abbreviation].add(meaning(row.expected_sense))
        try:
            token_span(row.sentence, row.token)
        except LookupError as error:
            problems.append(str(error))
        if inventory_key(row.token) not in (row.abbreviation, row.abbreviation + "s"):
            problems.append(f"{row.token!r} is not written {row.abbreviation!r}")
        for spelling in [row.expected_sense, *(g for g in SAME_MEANING if row.expected_sense in g)]:
            for text in [spelling] if isinstance(spelling, str) else spelling:
                if re.search(rf"\b{re.escape(fold(text))}\b", fold(row.sentence)):
                    problems.append(f"{row.abbreviation}: {row.sentence!r} gives away {text!r}")
    assert len(meanings) >= MIN_ABBREVIATIONS
    assert sorted(a for a, labels in meanings.items() if len(labels) < 2) == []
    sentences = Counter(row.sentence for row in rows)
    assert [s for s, n in sentences.items() if n > 1] == []
    assert problems == []


def test_the_heldout_sense_is_chosen_from_context_or_flagged() -> None:
    """At most 5% silent wrong senses (abstaining is safe, guessing is not), and no fewer
    right than the first blind run."""
    rows = load_rows()
    outcomes: Counter[str] = Counter()
    report = []
    for row in rows:
        outcome, chosen = judge(row)
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
    print(summary)
    assert wrong <= MAX_WRONG, summary
    assert correct >= MIN_CORRECT, summary


def _inventory_meanings(folder: Path) -> dict[str, dict[str, tuple[str, int]]]:
    """abbreviation -> folded sense -> (meaning id, occurrences), over both Vanderbilt files.

    The meaning id is the row's CUI (or the folded sense when it has none), merged through
    ``SAME_MEANING``, so spellings of one meaning count together.
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


def test_the_heldout_labels_are_inventory_senses_and_mostly_not_the_prior(
    require_shared: Callable[..., Path],
) -> None:
    """Every label is a sense the inventory lists for that abbreviation, and at least 40% of
    rows use a meaning other than the abbreviation's most frequent one (skips without ../shared).
    """
    inventory = _inventory_meanings(require_shared(*VANDERBILT))
    rows = load_rows()
    unknown = [
        (row.abbreviation, row.expected_sense)
        for row in rows
        if fold(row.expected_sense) not in inventory.get(row.abbreviation, {})
    ]
    assert unknown == []
    non_dominant = 0
    for row in rows:
        senses = inventory[row.abbreviation]
        totals: Counter[str] = Counter()
        for meaning_id, n in senses.values():
            totals[meaning_id] += n
        dominant = max(sorted(totals), key=lambda m: totals[m])
        if senses[fold(row.expected_sense)][0] != dominant:
            non_dominant += 1
    assert non_dominant / len(rows) >= MIN_NON_DOMINANT_SHARE, f"{non_dominant} of {len(rows)}"
