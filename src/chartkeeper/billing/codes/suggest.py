"""ICD-10-CM code suggestions from clinical text, each with the words of the text behind it.

A coder's aid, not an autocoder: it proposes codes whose title or inclusion term the text
covers and shows the spans that cover them, so a person can accept or reject each one.

1. ``suggest_text`` turns the text into words with character offsets, abbreviations
   expanded in place (``HTN`` → hypertension) and NegEx-style negation marked. A negated word
   is not evidence, except for a term that says the trigger before it ("Type 2 diabetes
   mellitus without complications"); an expanded word counts only for a term that uses the
   whole expansion ("RA" is no evidence for "rheumatic").
2. Candidates are the codes whose words (title and inclusion terms, from the version's
   ``SearchIndex``) share a 4-letter prefix with two text words, or with one for a code that
   has a one-word term. Each term is then matched word by word (``is_match``: equal, one a
   prefix of the other from 5 letters, or 6 letters in common and short endings).
3. Words in parentheses are nonessential modifiers (ICD-10-CM Official Guidelines, Section
   I.A.7); ``unspecified``, ``NOS``, a ``without ...`` clause and a trailing ``, site not
   specified`` are what the code assumes when the text says nothing, so missing them costs
   little. A term of two or more required words needs two of them in one sentence.
4. Score = coverage of the required words x specificity (more matched words score higher),
   words weighted by how few codes use them ("pneumonia" says more than "right lower").
   A header (not billable) is replaced by its child that only adds default words (N40 →
   N40.0), or else scored x 0.85. Going down the ranking, a code is kept when at least half
   of its evidence is text no better code used; the others are alternatives of the kept code
   they overlap most.

The first call on an index builds a side table (the fewest words each code needs, about
0.6 s for ICD-10-CM), kept as long as the index lives.
"""

from __future__ import annotations

import bisect
import re
import weakref
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np
import numpy.typing as npt

from chartkeeper.billing.codes.search import SearchIndex
from chartkeeper.billing.codes.suggest_text import (
    ABBREVIATIONS,
    POST_TRIGGERS,
    PRE_TRIGGERS,
    PSEUDO,
    SCOPE,
    SENTENCE,
    STOPWORDS,
    TERMINATORS,
    TOKEN,
    Token,
    fold,
    sentences,
)

#: The text-side names are re-exported: callers knew them here before the split.
__all__ = [
    "ABBREVIATIONS",
    "CHILD_FACTOR",
    "DEFAULT",
    "DEFAULT_PENALTY",
    "DEFAULT_WORDS",
    "FULL_WEIGHT_CODES",
    "HEADER_FACTOR",
    "IGNORED",
    "IMPLIED",
    "INCLUSION_FACTOR",
    "MAX_CANDIDATES",
    "MIN_SCORE",
    "NOTE_WORDS",
    "OPTIONAL",
    "POST_TRIGGERS",
    "PRE_TRIGGERS",
    "PSEUDO",
    "REQUIRED",
    "SCOPE",
    "SENTENCE",
    "STOPWORDS",
    "TERMINATORS",
    "TERM_TOKEN",
    "TOKEN",
    "Evidence",
    "Suggestion",
    "condition_texts",
    "dotted",
    "is_match",
    "parse_term",
    "suggest",
    "suggest_for_condition",
    "suggest_many",
]

#: Modifiers the ICD-10-CM Alphabetic Index lets go unsaid after a main term
#: ("Hypertension, hypertensive (essential) (primary)" → I10).
IMPLIED: dict[str, frozenset[str]] = {
    "hypertension": frozenset({"essential", "primary"}),
    "diabetes": frozenset({"mellitus"}),
}
#: Words of a note that say nothing about a diagnosis ("Follow-up of" is not "following").
NOTE_WORDS = frozenset(
    {"follow", "up", "seen", "today", "presents", "admitted", "known", "assessment", "plan"}
    | {"now", "also", "likely", "possible", "probable", "status", "post", "s", "p", "f", "u"}
)
IGNORED = STOPWORDS | NOTE_WORDS
DEFAULT_WORDS = frozenset({"unspecified", "nos"})
#: What a code's unmentioned default clause ("without complications") costs, once.
DEFAULT_PENALTY = 0.25
HEADER_FACTOR = 0.85
#: A header's default billable child stands in for it at nearly the header's own score.
CHILD_FACTOR = 0.99
INCLUSION_FACTOR = 0.98
MIN_SCORE = 0.35
MAX_CANDIDATES = 400
#: A word found in this many codes or fewer weighs 1; commoner words weigh less (log scale).
FULL_WEIGHT_CODES = 100
TERM_TOKEN = re.compile(r"[()]|[^\W_]+")

REQUIRED, OPTIONAL, DEFAULT = 0, 1, 2


@dataclass(frozen=True, slots=True)
class Evidence:
    """A span of the input text (``text[start:end]``) and the term words it stands for."""

    start: int
    end: int
    text: str
    matched: str
    #: Where the text came from (``note[0].text``) when it was not one plain string.
    field: str | None = None


@dataclass(frozen=True, slots=True)
class Suggestion:
    """A suggested code: dotted, its title, the term matched, and the evidence."""

    code: str
    display: str
    billable: bool
    score: float
    #: The title or inclusion term the evidence matched.
    term: str
    #: "title", "inclusion", or "header": the term is the title of the code's parent, a
    #: header whose default billable child this is (E11 → E11.9).
    via: str
    evidence: list[Evidence]
    alternatives: list[str] = field(default_factory=list)


def dotted(code: str) -> str:
    """``E119`` → ``E11.9`` (ICD-10-CM's dot after the category)."""
    return f"{code[:3]}.{code[3:]}" if len(code) > 3 else code


@lru_cache(maxsize=1 << 16)
def is_match(text_word: str, term_word: str) -> bool:
    """Whether a text word stands for a term word (equal, prefix, or same stem)."""
    if text_word == term_word:
        return True
    short, long_ = sorted((text_word, term_word), key=len)
    if len(short) < 4 or short.isdigit():
        return False
    if long_.startswith(short):
        return len(short) >= 5 or long_ == short + "s"
    common = 0
    for a, b in zip(short, long_, strict=False):
        if a != b:
            break
        common += 1
    return common >= 6 and len(short) - common <= 3 and len(long_) - common <= 3


def parse_term(term: str) -> tuple[tuple[str, int], ...]:
    """A term's content words, each REQUIRED, OPTIONAL (in parentheses) or DEFAULT."""
    found: list[tuple[str, int]] = []
    for n, clause in enumerate(fold(term).split(",")):
        depth, without = 0, False
        tail_default = n > 0 and (
            "unspecified" in clause or " nos" in clause or "not specified" in clause
        )
        for raw in TERM_TOKEN.findall(clause):
            if raw in "()":
                depth = max(depth + (1 if raw == "(" else -1), 0)
                continue
            without = without or raw == "without"
            if raw in STOPWORDS:
                continue
            if depth:
                kind = OPTIONAL
            elif without or tail_default or raw in DEFAULT_WORDS:
                kind = DEFAULT
            else:
                kind = REQUIRED
            found.append((raw, kind))
    return tuple(found)


#: The terms of recent candidates (a full cache of ICD-10-CM's terms would hold ~50 MB).
_parsed = lru_cache(maxsize=1 << 15)(parse_term)


class _Side:
    """Per-index tables: the fewest required words of any of a code's terms, and how much
    each word says (``weight``: 1 for a word in at most ``FULL_WEIGHT_CODES`` codes, less for
    commoner words, so "right lower" weighs less than "pneumonia")."""

    def __init__(self, index: SearchIndex) -> None:
        need = [
            min(_required(t) for t in [index.titles[d], *index.terms[d]]) for d in range(len(index))
        ]
        self.need: npt.NDArray[np.int8] = np.minimum(np.asarray(need), 100).astype(np.int8)
        size = max(len(index), FULL_WEIGHT_CODES + 1)
        counts = np.diff(index.all_index.start)
        idf = np.log(size / np.maximum(counts, 1)) / np.log(size / FULL_WEIGHT_CODES)
        words = index.all_index.vocabulary
        self.weights = dict(zip(words, np.minimum(idf, 1.0).tolist(), strict=True))


def _required(term: str) -> int:
    """Required words that the text must say (implied modifiers left out)."""
    return sum(1 for w, kind in parse_term(term) if kind == REQUIRED and w not in _IMPLIABLE)


_IMPLIABLE = frozenset().union(*IMPLIED.values())


_sides: weakref.WeakKeyDictionary[SearchIndex, _Side] = weakref.WeakKeyDictionary()


def _side(index: SearchIndex) -> _Side:
    side = _sides.get(index)
    if side is None:
        side = _Side(index)
        _sides[index] = side
    return side


def _candidates(index: SearchIndex, tokens: list[Token]) -> npt.NDArray[np.intp]:
    """Codes sharing a 4-letter word prefix with two text words (one for one-word terms).

    Past ``MAX_CANDIDATES``, those whose shortest term the text could cover whole come first.
    """
    keys = {t.word[:4] for t in tokens if t.word not in IGNORED}
    size = len(index)
    counts = np.zeros(size, dtype=np.int16)
    for key in keys:
        counts += index.all_index.mask(key, size)
    need = _side(index).need
    found = np.flatnonzero((counts >= 2) | ((counts >= 1) & (need <= 1)))
    if len(found) > MAX_CANDIDATES:  # keep those whose shortest term could be covered whole
        have = counts[found]
        ratio = np.minimum(have, need[found]) / np.maximum(need[found], 1)
        order = np.lexsort((-have, -ratio))[:MAX_CANDIDATES]
        found = found[order]
    return found


class _Matcher:
    """Term words matched against one sentence's tokens, memoised per word."""

    def __init__(self, tokens: list[Token], weights: Mapping[str, float]) -> None:
        self.weights = weights
        self.tokens = [t for t in tokens if t.word not in IGNORED]
        self.negated = any(t.negated_by for t in self.tokens)
        words = {t.word for t in self.tokens}
        self.implied: set[str] = set().union(*(IMPLIED.get(w, frozenset()) for w in words))
        self.memo: dict[str, list[Token]] = {}
        #: Words that match share their first 4 letters (see ``is_match``).
        self.by_key: dict[str, list[Token]] = {}
        for token in self.tokens:
            self.by_key.setdefault(token.word[:4], []).append(token)

    def find(self, word: str) -> list[Token]:
        hits = self.memo.get(word)
        if hits is None:
            near = self.by_key.get(word[:4], [])
            hits = [t for t in near if is_match(t.word, word)]
            self.memo[word] = hits
        return hits

    def score(self, term: str) -> tuple[float, list[tuple[Token, str]]] | None:
        """The term's score in this sentence and the tokens that cover it, or None."""
        parsed = _parsed(term)
        options = self._options(parsed)
        said = [w for w, kind in parsed if kind == REQUIRED and w not in self.implied]
        strong = sum(
            1 for (w, kind), hits in zip(parsed, options, strict=True)
            if hits and kind == REQUIRED and not w.isdigit()
        )  # fmt: skip
        if strong == 0 or strong < min(2, len(said)):  # cannot pass _score: skip the work
            return None
        chosen = _choose(options)
        covered: list[tuple[Token, str, int]] = []
        missing: dict[int, list[str]] = {REQUIRED: [], OPTIONAL: [], DEFAULT: []}
        for (word, kind), token in zip(parsed, chosen, strict=True):
            if token is not None:
                covered.append((token, word, kind))
            elif word not in self.implied or kind == DEFAULT:
                missing[kind].append(word)
        return _score(covered, missing, self.weight)

    def weight(self, word: str) -> float:
        return self.weights.get(word, 1.0)

    def _options(self, parsed: tuple[tuple[str, int], ...]) -> list[list[Token]]:
        """Usable tokens per term word: a negated one only after its trigger in the term."""
        if not self.negated:
            return [self.find(word) for word, _ in parsed]
        options: list[list[Token]] = []
        before: set[str] = set()
        for word, _ in parsed:
            hits = self.find(word)
            options.append([t for t in hits if t.negated_by is None or t.negated_by in before])
            before.add(word)
        return options


def _choose(options: list[list[Token]]) -> list[Token | None]:
    """One token per term word, preferring spans that serve most words; an abbreviation
    counts only when the term uses all of its expansion ("RA" is not evidence of "rheumatic")."""
    while True:
        serves = Counter(span for hits in options for span in {(t.start, t.end) for t in hits})
        chosen = [max(h, key=lambda t: serves[(t.start, t.end)]) if h else None for h in options]
        used: dict[tuple[int, int], set[str]] = {}
        for token in chosen:
            if token is not None:
                used.setdefault((token.start, token.end), set()).add(token.word)
        partial = {t for t in chosen if t is not None and len(used[(t.start, t.end)]) < t.size}
        if not partial:
            return chosen
        spans = {(t.start, t.end) for t in partial}  # try again without them
        options = [[t for t in hits if (t.start, t.end) not in spans] for hits in options]


def _score(
    covered: list[tuple[Token, str, int]],
    missing: Mapping[int, list[str]],
    weight: Callable[[str], float],
) -> tuple[float, list[tuple[Token, str]]] | None:
    """Coverage of the required words (said ones weighted by how much they say) x
    specificity (the weight of all words matched), or None below two words."""
    required = [w for _, w, kind in covered if kind == REQUIRED]
    words = sum(1 for w in required if not w.isdigit())
    if words == 0 or words < min(2, len(required) + len(missing[REQUIRED])):
        return None
    said = sum(weight(w) for _, w, kind in covered if kind != OPTIONAL)
    # A required word the text does not say counts in full, however common ("right").
    unsaid = len(missing[REQUIRED]) + (DEFAULT_PENALTY if missing[DEFAULT] else 0.0)
    coverage = said / (said + unsaid)
    hits = sum(weight(w) for _, w, _ in covered)
    specificity = 1 - 0.4 * 0.5 ** max(hits - 1, 0)
    return coverage * specificity, [(t, w) for t, w, _ in covered]


def _best_term(
    index: SearchIndex, doc: int, matcher: _Matcher
) -> tuple[float, str, str, list[tuple[Token, str]]] | None:
    best: tuple[float, str, str, list[tuple[Token, str]]] | None = None
    for via, term, factor in [("title", index.titles[doc], 1.0)] + [
        ("inclusion", t, INCLUSION_FACTOR) for t in index.terms[doc]
    ]:
        found = matcher.score(term)
        if found and (best is None or found[0] * factor > best[0]):
            best = (found[0] * factor, term, via, found[1])
    return best


def _evidence(covered: list[tuple[Token, str]], text: str, where: str | None) -> list[Evidence]:
    spans: dict[tuple[int, int], list[str]] = {}
    for token, word in covered:
        spans.setdefault((token.start, token.end), []).append(word)
    return [
        Evidence(start, end, text[start:end], " ".join(words), where)
        for (start, end), words in sorted(spans.items())
    ]


def _default_child(index: SearchIndex, doc: int) -> int | None:
    """A header's billable child that only adds default words (N40 → N40.0 "... without
    lower urinary tract symptoms"): what the Index codes when the text says no more."""
    code = index.codes[doc]
    lo = bisect.bisect_left(index.sorted_codes, code)
    hi = bisect.bisect_left(index.sorted_codes, code + "\uffff", lo)
    words = {w for w, _ in _parsed(index.titles[doc])}
    for child in sorted(index.by_code[lo:hi]):
        if len(index.codes[child]) != len(code) + 1 or not index.billable[child]:
            continue
        parsed = _parsed(index.titles[child])
        extra = [kind for w, kind in parsed if w not in words]
        if extra and all(kind == DEFAULT for kind in extra):
            return int(child)
    return None


def _suggestion(
    index: SearchIndex, doc: int, found: tuple[float, str, str, list[Evidence]]
) -> Suggestion:
    """The suggestion for ``doc``, or for its default billable child when it is a header."""
    score, term, via, evidence = found
    if not index.billable[doc]:
        child = _default_child(index, doc)
        if child is None:
            score *= HEADER_FACTOR
        else:
            doc, score, via = child, score * CHILD_FACTOR, "header"
    return Suggestion(
        dotted(index.codes[doc]), index.titles[doc], bool(index.billable[doc]),
        round(score, 4), term, via, evidence,
    )  # fmt: skip


def _scored(text: str, index: SearchIndex, where: str | None) -> list[Suggestion]:
    found: dict[str, Suggestion] = {}
    for tokens in sentences(text):
        matcher = _Matcher(tokens, _side(index).weights)
        for doc in _candidates(index, tokens):
            best = _best_term(index, int(doc), matcher)
            if best is None or best[0] < MIN_SCORE:
                continue
            evidence = _evidence(best[3], text, where)
            made = _suggestion(index, int(doc), (best[0], best[1], best[2], evidence))
            if made.score >= MIN_SCORE and (
                made.code not in found or found[made.code].score < made.score
            ):
                found[made.code] = made
    return list(found.values())


def _distinct(found: Iterable[Suggestion], limit: int) -> list[Suggestion]:
    """The best codes, each resting mostly on text no better code already rests on; the
    others become alternatives of the better code they overlap most."""
    ranked = sorted(found, key=lambda s: (-s.score, not s.billable, len(s.code), s.code))
    kept: list[tuple[Suggestion, set[tuple[str | None, int, int]]]] = []
    taken: set[tuple[str | None, int, int]] = set()
    for suggestion in ranked:
        spans = {(e.field, e.start, e.end) for e in suggestion.evidence}
        if 2 * len(spans & taken) < len(spans) + (len(spans) == 1):
            if len(kept) < limit:
                kept.append((suggestion, spans))
                taken |= spans
            continue
        owner = max(kept, key=lambda k: len(k[1] & spans))[0]
        if len(owner.alternatives) < 3 and suggestion.code not in owner.alternatives:
            owner.alternatives.append(suggestion.code)
    return [k for k, _ in kept]


def suggest(text: str, index: SearchIndex, limit: int = 5) -> list[Suggestion]:
    """Up to ``limit`` ICD-10-CM codes the text supports, best first, with their evidence."""
    return _distinct(_scored(text, index, None), limit)


def condition_texts(condition: Mapping[str, Any]) -> list[tuple[str, str]]:
    """The free text of a FHIR Condition: ``code.text``, coding displays, notes."""
    code = condition.get("code") or {}
    found = [("code.text", code.get("text"))]
    found += [
        (f"code.coding[{n}].display", c.get("display"))
        for n, c in enumerate(code.get("coding") or [])
    ]
    found += [
        (f"note[{n}].text", note.get("text")) for n, note in enumerate(condition.get("note") or [])
    ]
    return [(where, text) for where, text in found if isinstance(text, str) and text.strip()]


def suggest_for_condition(
    condition: Mapping[str, Any], index: SearchIndex, limit: int = 5
) -> list[Suggestion]:
    """Suggestions for a FHIR Condition's text; evidence names the element it came from."""
    best: dict[str, Suggestion] = {}
    for where, text in condition_texts(condition):
        for suggestion in _scored(text, index, where):
            if suggestion.code not in best or best[suggestion.code].score < suggestion.score:
                best[suggestion.code] = suggestion
    return _distinct(best.values(), limit)


def suggest_many(
    texts: Sequence[str], index: SearchIndex, limit: int = 5
) -> list[list[Suggestion]]:
    """``suggest`` for each text (one call for a batch, e.g. a note's problem list)."""
    return [suggest(text, index, limit) for text in texts]
