"""Sentences of clinical text, and safe places to split the long ones.

Notes are not prose: a line is a unit ("Abd: soft") unless it is the indented continuation of
a hand-wrapped one, a period may end an abbreviation ("b.i.d.", "Dr.") rather than a
sentence, a section header ("HPI:") starts a new one, and a semicolon usually joins two
separate findings. Long sentences are split only where no context
cue's scope crosses the split (``context``), so a negation never loses what it governs.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Sequence
from dataclasses import dataclass

from chartkeeper.language.model import Cue

LONG_SENTENCE_WORDS = 20  #: a sentence longer than this is split where that is safe
MIN_PART_WORDS = 4  #: each part of a split keeps at least this many words

#: Tokens that end in a period without ending a sentence (lower case, period included).
PERIOD_ABBREVIATIONS = frozenset(
    [
        "dr.",
        "mr.",
        "mrs.",
        "ms.",
        "st.",
        "vs.",
        "approx.",
        "appt.",
        "e.g.",
        "i.e.",
        "etc.",
        "no.",
        "wt.",
        "ht.",
        "min.",
        "max.",
        "fig.",
        "pt.",
        "b.i.d.",
        "t.i.d.",
        "q.i.d.",
        "q.d.",
        "q.h.s.",
        "h.s.",
        "p.o.",
        "p.r.n.",
        "a.m.",
        "p.m.",
        "u.s.",
        "sr.",
        "jr.",
        "dept.",
        "temp.",
        "resp.",
        "hosp.",
        "mg.",
        "ml.",
        "cc.",
        "yr.",
        "yrs.",
        "mo.",
        "mos.",
        "wk.",
        "wks.",
        "hr.",
        "hrs.",
        "inc.",
        "co.",
        "ca.",
        "est.",
        "jan.",
        "feb.",
        "mar.",
        "apr.",
        "jun.",
        "jul.",
        "aug.",
        "sep.",
        "sept.",
        "oct.",
        "nov.",
        "dec.",
    ]
)
_HEADERS = (
    "HPI|PMH|PMHx|PSH|PSHx|ROS|PE|CC|A/P|A&P|MDM|S|O|A|P|Meds|Medications|Allergies|FHx|SHx|"
    "Assessment|Plan|Labs|Dispo|Disposition|Impression|Exam|Vitals|VS|Gen|HEENT|CV|Lungs|Abd|"
    "Ext|Neuro|Skin|Psych|Course|Hospital Course|Diagnosis|Diagnoses|Procedures|Follow-up"
)
#: A line break that ends a sentence. Hand-wrapped notes continue a sentence on an indented
#: line ("BS CLEAR BUT\n DIMINISHED AT BASES"); an indented header or bullet starts a new one.
LINE_BREAK = re.compile(r"\n(?![ \t]+(?![A-Z][A-Za-z/&]{0,14}[:-]\s|[-*\u2022]\s)\S)")
#: A stop typed without the space after it ("NO DISTRESS NOTED.B/S CLEAR"): a word of three
#: letters or more, ".", a letter. "p.o.", "e.g." and "Dr.Lind" do not match.
GLUED_STOP = re.compile(r"(?<=[A-Za-z]{3})\.(?=[A-Za-z])")
_PERIOD_END = re.compile(r"(?<=\S)[.!?]+(?=\s|$)")
HEADER = re.compile(rf"(?<=[ \t])(?=(?:{_HEADERS}):\s)")
_TOKEN_BEFORE = re.compile(r"(\S+)$")
_SPLIT_POINT = re.compile(
    r",\s+(?:and|but|then|so)\s+|;\s*|,\s+"
    r"|\s+and\s+(?=(?:he|she|they|we|it|i|the patient|patient|pt)\s+\w)",  # a new clause
    re.IGNORECASE,
)
_WORD = re.compile(r"\w+")
_DOTTED = re.compile(r"(?:[a-z]\.){2,}")


@dataclass(frozen=True)
class SentenceSpan:
    """One sentence of the original: ``start:end``; ``line_end`` when a line break follows."""

    start: int
    end: int
    line_end: bool


def _ends_sentence(text: str, start: int, stop: int) -> bool:
    """A "." ends a sentence unless it ends a listed or dotted abbreviation ("b.i.d.")."""
    if text[start] != ".":
        return True
    token = _TOKEN_BEFORE.search(text, max(0, start - 24), stop)
    word = (token.group(1) if token else "").lower().lstrip("(")
    return word not in PERIOD_ABBREVIATIONS and not _DOTTED.fullmatch(word)


def _boundaries(text: str, semicolons: bool) -> list[tuple[int, bool]]:
    """Offsets where a sentence ends, and whether a line break is there."""
    cuts: list[tuple[int, bool]] = []
    for pattern in (_PERIOD_END, GLUED_STOP):
        for match in pattern.finditer(text):
            if _ends_sentence(text, match.start(), match.end()):
                cuts.append((match.end(), False))
    cuts += [(m.start(), False) for m in HEADER.finditer(text)]
    cuts += [(m.start(), True) for m in LINE_BREAK.finditer(text)]
    if semicolons:
        cuts += [(m.end(), False) for m in re.finditer(";", text)]
    return sorted(cuts)


def sentence_spans(text: str, *, semicolons: bool = False) -> list[SentenceSpan]:
    """The sentences of a text, in order, without surrounding white space.

    ``semicolons`` also ends a sentence at each ";" (the explainer does: in notes a semicolon
    joins separate findings, and ";" already ends every context cue's scope).
    """
    spans: list[SentenceSpan] = []
    position = 0
    for cut, line_end in [*_boundaries(text, semicolons), (len(text), False)]:
        _append(spans, text, position, cut, line_end)
        position = max(position, cut)
    if spans and not spans[-1].line_end and "\n" in text[spans[-1].end :]:
        spans[-1] = SentenceSpan(spans[-1].start, spans[-1].end, True)
    return spans


def _append(spans: list[SentenceSpan], text: str, start: int, end: int, line_end: bool) -> None:
    while start < end and text[start].isspace():
        start += 1
    while end > start and text[end - 1].isspace():
        end -= 1
    if start < end:
        spans.append(SentenceSpan(start, end, line_end))
    elif line_end and spans:
        spans[-1] = SentenceSpan(spans[-1].start, spans[-1].end, True)


def split_points(text: str, sentence: SentenceSpan, found: Sequence[Cue]) -> list[tuple[int, int]]:
    """Where to cut a long sentence: ``(start, end)`` of the joining text (", and ") to
    replace by a sentence break. A point inside any cue's scope or trigger is never used,
    so each part keeps its cues whole; short sentences get none. ``found``: the cues of this
    sentence (the caller selects them, which keeps a long note linear)."""
    words = [m.start() for m in _WORD.finditer(text, sentence.start, sentence.end)]
    if len(words) <= LONG_SENTENCE_WORDS:
        return []
    points: list[tuple[int, int]] = []
    last = sentence.start
    for match in _SPLIT_POINT.finditer(text, sentence.start, sentence.end):
        before = _count_between(words, last, match.start())
        after = _count_between(words, match.end(), sentence.end)
        if before < MIN_PART_WORDS or after < MIN_PART_WORDS:
            continue
        if match.group().strip() == "," and before < LONG_SENTENCE_WORDS // 2:
            continue  # a bare comma is often a list: cut only when the part is already long
        if _inside_a_cue(match.start(), match.end(), found):
            continue
        points.append((match.start(), match.end()))
        last = match.end()
    return points


def _count_between(words: list[int], start: int, end: int) -> int:
    return bisect_left(words, end) - bisect_left(words, start)


def _inside_a_cue(start: int, end: int, found: Sequence[Cue]) -> bool:
    return any(
        min(cue.start, cue.scope_start) < end and start < max(cue.end, cue.scope_end)
        for cue in found
    )
