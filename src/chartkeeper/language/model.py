"""The shapes the language package hands out: matches, senses, context cues, spans."""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True)
class Sense:
    """One meaning of an abbreviation in the shipped inventory."""

    abbreviation: str  #: as listed, lower-case ("pt")
    long_form: str  #: the clinical long form ("physical therapy")
    lay: str  #: what a patient reads ("physical therapy"); equal to long_form when plain
    frequency: float  #: prior share of this sense among the abbreviation's senses (0..1)


@dataclass(frozen=True)
class AbbreviationMatch:
    """An abbreviation found in a text, with the sense chosen from its context.

    ``sense`` is None when the token looks like an abbreviation but no sense could be chosen
    safely (unknown, or ambiguous without a deciding context): it is then left as written and
    flagged, never guessed.
    """

    start: int  #: offset in the original text
    end: int
    text: str  #: the token as written ("PT", "s/p")
    sense: Sense | None
    candidates: tuple[Sense, ...] = ()
    reason: str = ""  #: why this sense (context cue, only sense, prior) or why none


@dataclass(frozen=True)
class Cue:
    """A context that changes what a clinical phrase asserts (ConText, Harkema et al. 2009).

    ``kind`` is one of ``negated``, ``possible``, ``family``, ``historical``, ``hypothetical``.
    The trigger is at ``start:end``; it governs the text at ``scope_start:scope_end``.
    """

    kind: str
    start: int
    end: int
    trigger: str
    scope_start: int
    scope_end: int


@dataclass(frozen=True)
class Span:
    """One explained phrase: where it is in the original and what the patient reads instead."""

    start: int  #: offsets in the original text
    end: int
    original: str
    explained: str
    kind: str  #: abbreviation | term | sig | lab | diagnosis | unknown-abbreviation | sentence
    source: str = ""  #: vocabulary entry it came from, e.g. "abbreviations:pt#2"


@dataclass(frozen=True)
class Readability:
    """Readability of one text by two formulas (US school grade)."""

    flesch_kincaid: float
    second: float  #: the second formula's grade (see ``readability.SECOND_FORMULA``)
    words: int
    sentences: int


@dataclass(frozen=True)
class Explanation:
    """A plain-language rendering of a text, linked back to the original by its spans."""

    original: str
    text: str
    spans: tuple[Span, ...]
    grade_original: Readability
    grade_explained: Readability
    flags: tuple[str, ...] = field(default=())  #: e.g. "unknown-abbreviation:XYZ", "not-english"
