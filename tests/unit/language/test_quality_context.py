"""Negation and uncertainty preservation, the acceptance target of issue 6.

"Zero negation or uncertainty flips on a test set of at least 200 sentences": "denies CP" never
becomes "chest pain", "r/o MI" stays a possibility. ``data/context_sentences.tsv`` labels one
concept per row (affirmed, negated, possible, family, historical, hypothetical). For each row we
find what ``explain_text`` made of the concept and judge the output sentence that holds it with
word lists of our own, independent of the implementation's trigger lists.
"""

from __future__ import annotations

import csv
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest

from chartkeeper.language.abbreviations import find_abbreviations
from chartkeeper.language.explain import explain_text
from chartkeeper.language.model import Explanation

DATA = Path(__file__).resolve().parent / "data"
CONTEXT_TSV = DATA / "context_sentences.tsv"
STATUSES = ("affirmed", "negated", "possible", "family", "historical", "hypothetical")
MINIMUM_ROWS = 200


def _words(terms: str) -> re.Pattern[str]:
    """A case-insensitive pattern for the comma-separated whole words or phrases in ``terms``."""
    listed = sorted((t.strip() for t in terms.split(",") if t.strip()), key=len, reverse=True)
    alternatives = "|".join(re.escape(t).replace(r"\ ", r"\s+") for t in listed)
    return re.compile(rf"(?<![\w'])(?:{alternatives})(?![\w'])", re.IGNORECASE)


NEGATION = _words(
    "no, not, none, never, nor, neither, nothing, without, deny, denies, denied, negative, "
    "neg, free of, absent, absence of, cannot, can't, can not, doesn't, don't, didn't, "
    "isn't, aren't, wasn't, weren't, hasn't, haven't, hadn't, won't, ruled out, excluded"
)
POST_NEGATION = _words(
    "ruled out, excluded, unlikely, absent, negative, none, not seen, not present, not found"
)
STRONG_POST_NEGATION = _words(
    "ruled out, excluded, unlikely, absent, not seen, not present, not found"
)
# Phrases with a negation word that do not negate what they are about (NegEx pseudo-triggers).
PSEUDO_NEGATION = _words(
    "no change in, no changes in, not changed, no increase in, no worsening of, "
    "not improved, not gotten better, not better, not new, gram negative, gram-negative, "
    "not only"
)
HEDGE = _words(
    "may, might, maybe, perhaps, possible, possibly, probable, probably, likely, unlikely, "
    "could, suspected, suspect, suspicion, question, questionable, unsure, uncertain, "
    "not sure, not certain, check, checking, rule out, ruling out, ruled out, concern, "
    "concerned, concerning, worried, worry, whether, presumed, presumably, consider, "
    "considering, suggest, suggests, suggestive, equivocal, cannot exclude, not excluded, "
    "look for, looking for, see if, see whether, find out, test for, testing for, seems, "
    "appears, think, thinks"
)
FAMILY = _words(
    "family, mother, father, mom, dad, sister, brother, parent, parents, grandmother, "
    "grandfather, grandparent, grandparents, aunt, uncle, son, daughter, sibling, siblings, "
    "relative, relatives, twin, cousin"
)
TIME = _words(
    "history, past, previous, previously, prior, before, earlier, had, ago, former, "
    "formerly, status post, after, old, last, once, used to, was, were, already"
)
CONDITION = _words("if, when, whenever, should, in case, unless")
# Where a new clause starts: a negation before it does not reach a concept after it
# ("no nausea; has had diarrhea", "no fever, and you have a cough").
CLAUSE_BREAK = re.compile(
    r"[;:]|(?<!\w)(?:but|however|although|though|yet|except|whereas|while|other than|"
    r"aside from|apart from)(?!\w)|(?:,|(?<!\w)and)\s+(?:(?:you|he|she|they|the patient)\s+)?"
    r"(?:(?:now|also|still|then)\s+)?"
    r"(?:have|has|had|is|are|reports?|reported|says?|said|feels?|endorses?|complains?)(?!\w)",
    re.IGNORECASE,
)
# A sentence ends at . ! ? before anything but a lower-case word, except after a lone initial
# ("C. diff", "C. Diff").
SENTENCE_BREAK = re.compile(r"(?<=[.!?])(?<!\b[A-Za-z]\.)\s+(?=[^a-z\s])|\n+")


@dataclass(frozen=True)
class ContextRow:
    """One labelled concept in one sentence."""

    sentence: str
    concept: str  #: surface text exactly as in the sentence (first occurrence)
    status: str


@dataclass(frozen=True)
class Rendering:
    """Where the concept ended up: its output sentence and its place in that sentence."""

    sentence: str
    start: int
    end: int
    #: the words came from a span wider than the concept ("denies CP" -> "no chest pain"), so
    #: the rendering itself may carry the cue
    carries_context: bool = False


def load_context_rows(path: Path = CONTEXT_TSV) -> list[ContextRow]:
    """The rows of the labelled set, in file order."""
    with path.open(newline="", encoding="utf-8") as handle:
        rows = csv.DictReader(handle, delimiter="\t", quoting=csv.QUOTE_NONE)
        return [ContextRow(row["sentence"], row["concept"], row["status"]) for row in rows]


def concept_span(sentence: str, concept: str) -> tuple[int, int]:
    """Offsets of the first stand-alone occurrence of the concept in the original sentence."""
    found = re.search(rf"(?<![A-Za-z0-9]){re.escape(concept)}(?![A-Za-z0-9])", sentence)
    if found is None:
        raise LookupError(f"{concept!r} does not occur in {sentence!r}")
    return found.span()


def _candidates(
    explanation: Explanation, start: int, end: int, concept: str
) -> list[tuple[str, bool]]:
    """What the concept may read as, and whether those words cover more than the concept: its
    own spans' words first (smallest first), then its sense at this place, then as written."""
    spans = [
        s for s in explanation.spans if s.start < end and start < s.end and s.kind != "sentence"
    ]
    spans.sort(key=lambda s: (s.end - s.start, s.start))
    found = [(s.explained, s.start < start or s.end > end) for s in spans]
    for match in find_abbreviations(explanation.original):
        if match.sense is not None and match.start < end and start < match.end:
            found += [(match.sense.lay, False), (match.sense.long_form, False)]
    found.append((concept, False))
    return [(text.strip(), wider) for text, wider in found if text.strip()]


def _expected_position(explanation: Explanation, start: int) -> int:
    """Where the concept would be in the output if spans only replaced their own text."""
    shift = sum(
        len(s.explained) - (s.end - s.start)
        for s in explanation.spans
        if s.end <= start and s.kind != "sentence"
    )
    return start + shift


def _hits(candidate: str, text: str) -> list[tuple[int, int]]:
    """Stand-alone occurrences of ``candidate``; exact case first, so "AS" does not find "as"."""
    pattern = rf"(?<!\w){re.escape(candidate)}(?!\w)"
    exact = [m.span() for m in re.finditer(pattern, text)]
    return exact or [m.span() for m in re.finditer(pattern, text, re.IGNORECASE)]


def locate(explanation: Explanation, row: ContextRow) -> Rendering | None:
    """The output sentence holding the concept's rendering (nearest the expected place)."""
    start, end = concept_span(row.sentence, row.concept)
    text = explanation.text.replace("\u2019", "'")
    expected = _expected_position(explanation, start)
    for candidate, wider in _candidates(explanation, start, end, row.concept):
        hits = _hits(candidate, text)
        if hits:
            hit_start, hit_end = min(hits, key=lambda h: abs(h[0] - expected))
            bounds = [0, *(m.end() for m in SENTENCE_BREAK.finditer(text)), len(text)]
            sentence_start = max(b for b in bounds if b <= hit_start)
            sentence_end = min(b for b in bounds if b >= hit_end)
            sentence = text[sentence_start:sentence_end]
            return Rendering(sentence, hit_start - sentence_start, hit_end - sentence_start, wider)
    return None


def _is_negated(found: Rendering, trigger_after: bool) -> bool:
    """A negation before the rendering (or in it, when it covers the trigger), or a
    post-trigger after it; any negation after it when the original put its trigger after the
    concept ("Bowel sounds absent")."""
    before = found.sentence[: found.end if found.carries_context else found.start]
    before = PSEUDO_NEGATION.sub(" ", before)
    after = found.sentence[found.start if found.carries_context else found.end :]
    return bool(
        NEGATION.search(before)
        or POST_NEGATION.search(after)
        or (trigger_after and NEGATION.search(after))
    )


def _has_trigger_after(row: ContextRow) -> bool:
    """The original negates after the concept: no negation word comes before it."""
    start, _ = concept_span(row.sentence, row.concept)
    return NEGATION.search(row.sentence[:start]) is None


def _is_governed_by_negation(found: Rendering) -> bool:
    """A negation in the rendering's own clause, before it or right after it."""
    breaks = [m.end() for m in CLAUSE_BREAK.finditer(found.sentence, 0, found.start)]
    clause_start = max(breaks, default=0)
    stop = found.end if found.carries_context else found.start
    before = PSEUDO_NEGATION.sub(" ", found.sentence[clause_start:stop])
    after = found.sentence[found.end :]
    next_break = re.search(r"[,;:.]|" + CLAUSE_BREAK.pattern, after, re.IGNORECASE)
    after = after[: next_break.start()] if next_break else after
    return bool(NEGATION.search(before) or STRONG_POST_NEGATION.search(after))


def flip(row: ContextRow, found: Rendering) -> str | None:
    """Why the rendering changes what the original asserted, or None when it keeps it."""
    sentence = found.sentence
    if row.status == "negated":
        return None if _is_negated(found, _has_trigger_after(row)) else "negation lost"
    if row.status == "possible":
        return None if HEDGE.search(sentence) else "uncertainty lost"
    if _is_governed_by_negation(found):
        return f"{row.status} concept rendered as negated"
    cue = {"family": FAMILY, "historical": TIME, "hypothetical": CONDITION}.get(row.status)
    if cue is not None and not cue.search(sentence):
        return f"{row.status} cue lost"
    return None


@pytest.fixture(scope="module")
def explained() -> dict[str, Explanation]:
    """Each distinct sentence explained once."""
    return {row.sentence: explain_text(row.sentence) for row in load_context_rows()}


def _report(problems: list[tuple[ContextRow, Explanation, str]]) -> str:
    return "\n".join(
        f"[{why}] {row.status} {row.concept!r} in {row.sentence!r} -> {expl.text!r}"
        for row, expl, why in problems
    )


def test_the_context_set_is_well_formed() -> None:
    """Enough rows of every kind, each concept present in its sentence, no duplicate rows."""
    rows = load_context_rows()
    assert len(rows) >= MINIMUM_ROWS
    assert {row.status for row in rows} == set(STATUSES)
    counts = Counter(row.status for row in rows)
    assert min(counts.values()) >= 15
    assert counts["negated"] >= 70 and counts["possible"] >= 40
    assert len({(row.sentence, row.concept) for row in rows}) == len(rows)
    for row in rows:
        concept_span(row.sentence, row.concept)  # raises when the concept is missing


def test_explanations_keep_every_concept(explained: dict[str, Explanation]) -> None:
    """A concept may be reworded, never dropped: dropping "no" and the finding hides a flip."""
    missing = [
        (row, explained[row.sentence], "not found")
        for row in load_context_rows()
        if locate(explained[row.sentence], row) is None
    ]
    assert missing == [], f"{len(missing)} concepts missing:\n{_report(missing)}"


@pytest.mark.parametrize("status", STATUSES)
def test_explanations_do_not_flip_negation_or_uncertainty(
    status: str, explained: dict[str, Explanation]
) -> None:
    """Issue 6 target: zero flips; a negated, possible, family, past or conditional finding
    reads as such in plain language, and an affirmed one is never negated."""
    flips = []
    for row in load_context_rows():
        if row.status != status:
            continue
        found = locate(explained[row.sentence], row)
        why = "not found" if found is None else flip(row, found)
        if why is not None:
            flips.append((row, explained[row.sentence], why))
    assert flips == [], f"{len(flips)} flips:\n{_report(flips)}"
