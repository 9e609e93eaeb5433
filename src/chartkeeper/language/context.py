"""Context cues in clinical text: negated, possible, family, historical and hypothetical.

A ConText-style matcher (Harkema et al. 2009, J Biomed Inform 42(5); after NegEx, Chapman et
al. 2001, J Biomed Inform 34(5)). A trigger ("denies", "r/o", "FHx", "s/p", "if") governs the
text after it (pre-triggers) or before it (post-triggers, "... ruled out") up to the end of
its clause: a sentence end, a line break, ";", a terminator ("but", "however", "except",
"who presents") or the next trigger that has words before it. A pre-trigger with nothing after
it in its clause governs the clause before it instead ("PNA likely.").

Pseudo-triggers ("no change", "not only", "gram negative", "cannot rule out") are matched
first and as a whole, so the trigger words inside them do not count. The explainer rewrites
triggers into plain words and must never drop one; the invariant tests hold it to that.
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from dataclasses import dataclass

from chartkeeper.language.model import Cue
from chartkeeper.language.sentences import GLUED_STOP, HEADER, LINE_BREAK

KINDS = ("negated", "possible", "family", "historical", "hypothetical")
PRE, POST, PSEUDO, STOP = "pre", "post", "pseudo", "stop"

_RELATIVE = (
    r"(?:mother|father|mom|dad|sister|brother|sibling|siblings|aunt|uncle|grandmother|"
    r"grandfather|grandparent|cousin|daughter|son|parents?|maternal|paternal|mgm|mgf|pgm|pgf)"
)


@dataclass(frozen=True)
class Trigger:
    """One trigger pattern: a regular expression (word-bounded), its kind and direction."""

    pattern: str
    kind: str  #: one of KINDS, or "" for pseudo-triggers and terminators
    role: str  #: PRE, POST, PSEUDO or STOP


def _t(kind: str, role: str, *patterns: str) -> list[Trigger]:
    return [Trigger(p, kind, role) for p in patterns]


TRIGGERS: tuple[Trigger, ...] = tuple(
    # pseudo-triggers: contain a trigger word but assert nothing of the kind
    _t(
        "",
        PSEUDO,
        r"no (?:significant |interval |appreciable |acute )?change",
        r"no increase",
        r"no decrease",
        r"not only",
        r"not necessarily",
        r"gram[- ]negative",
        r"gram[- ]neg",
        r"not drain",
        r"not cause",
        r"history of present illness",
        r"present illness",
        r"history and physical",
        r"social history",
        r"whether or not",
    )
    + _t(
        "possible",
        PRE,
        r"can ?not (?:be )?(?:rule[sd]? out|r/o|exclude[sd]?)",
        r"can'?t (?:rule out|r/o|exclude)",
        r"not (?:been )?(?:ruled out|excluded)",
        r"r/o(?: for)?",
        r"rule out(?: for)?",
        r"ruling out",
        r"rule-out",
        r"to rule out",
        r"(?:evaluate|eval|evaluation|assess|assessing|check|checking|test|testing|workup|"
        r"work[- ]?up|w/u|screen|screening) for possible",
        r"(?:evaluate|eval|evaluation|w/u|workup|work[- ]?up) for",
        r"possible",
        r"possibly",
        r"probable",
        r"probably",
        r"likely",
        r"may(?: have| be)?",
        r"might(?: have| be)?",
        r"could(?: have| be)?",
        r"suspect(?:ed)?(?: for)?",
        r"suspicious for",
        r"suspicion (?:of|for)",
        r"concern(?:ing)? (?:for|of)",
        r"questionable",
        r"question of",
        r"suggestive of",
        r"suggests?",
        r"suggesting",
        r"worrisome for",
        r"presumed",
        r"presumably",
        r"doubt",
        r"unlikely",
        r"not likely",
        r"versus",
        r"vs\.?(?!:)",
        r"differential (?:diagnosis )?(?:includes|of)",
        r"ddx",
        r"\?",
    )
    + _t(
        "possible",
        POST,
        r"(?:is |was )?(?:suspected|possible|likely|questionable)",
        r"(?:is |was |has )?not (?:been )?(?:ruled out|excluded)",
        r"can ?not be (?:ruled out|excluded)",
    )
    + _t(
        "negated",
        PRE,
        r"no",
        r"not",
        r"denie[sd](?: any)?",
        r"denying(?: any)?",
        r"deny(?: any)?",
        r"without",
        r"w/o",
        r"negative for",
        r"neg for",
        r"(?:ruled out|r/o'?d) for",
        r"free of",
        r"absence of",
        r"never",
        r"none",
        r"neither",
        r"nor",
        r"non-?",
        r"resolved",
        r"fails? to (?:reveal|show)",
        r"did not (?:show|reveal)",
    )
    + _t(
        "negated",
        POST,
        r"(?:was |is |were |are |has been |have been )?(?:ruled out|excluded)",
        r"(?:was |is |were |are )?(?:negative|neg|absent)",
        r"not (?:seen|present|found|noted|appreciated)",
    )
    + _t(
        "family",
        PRE,
        r"family (?:medical )?(?:history|hx)(?: of)?",
        r"fam(?:ily)? hx(?: of)?",
        r"fhx?(?: of)?",
        _RELATIVE + r"(?: (?:with|has|had|died of|dx(?:'d)? with|diagnosed with)|\s?[-:])",
        _RELATIVE + r"'s",
    )
    + _t(
        "family",
        POST,
        r"in (?:his |her |their |the |pt'?s |patient'?s )?" + _RELATIVE,
    )
    + _t(
        "historical",
        PRE,
        r"past (?:medical |surgical )?(?:history|hx)(?: of)?",
        r"pmh(?:x)?",
        r"psh(?:x)?",
        r"(?:a |known )?(?:history|hx) of",
        r"h/o",
        r"s/p",
        r"status post",
        r"has had",
        r"prior",
        r"previous(?:ly)?",
        r"remote",
        r"past",
        r"formerly",
    )
    + _t(
        "historical",
        POST,
        r"in the past",
        r"(?:\d+|several|many|few) (?:years?|months?|weeks?|yrs?) ago",
        r"previously",
    )
    + _t(
        "hypothetical",
        PRE,
        r"if",
        r"should",
        r"in case(?: of)?",
        r"in the event(?: of)?",
        r"when",
        r"unless",
        r"as needed for",
        r"prn",
        r"return (?:for|with)",
    )
    + _t(
        "",
        STOP,
        r"but",
        r"however",
        r"although",
        r"though",
        r"except(?: for)?",
        r"aside from",
        r"apart from",
        r"yet",
        r"who",
        r"which",
        r"presents?",
        r"presented",
        r"presenting",
        r"p/w",
        r"c/o",
        r"complains? of",
        r"reports",
        r"endorses",
        r"admits to",
        r"positive for",
        r"pos for",
        r"\+",
        r"secondary to",
        r"due to",
        r"d/t",
        r"2/2",
        r"now",
        r"currently",
    )
)

#: Clause ends ("?" is also a trigger).
_END = re.compile(rf"[.!?](?=\s|$)|;|{LINE_BREAK.pattern}|{GLUED_STOP.pattern}|{HEADER.pattern}")
_QUESTION = re.compile(
    r"\W*(?:can|could|is|are|am|do|does|did|will|would|should|may|what|why|how|when|where|"
    r"who|which|have|has)\b",
    re.IGNORECASE,
)


def _wrap(pattern: str) -> str:
    """Word-bound a pattern; "?" and "+" are symbols and bind to the word beside them."""
    if pattern == r"\?":
        return r"(?:(?<=\s)|^|(?<=\())\?(?=\s?\w)|(?<=\w)\?"
    if pattern == r"\+":
        return r"(?:(?<=[\s,(])|^)\+(?=\w)"
    if pattern == r"non-?":  # "non-tender", "nonsmoker"; not "none" or "nonce"
        return r"\bnon(?:-(?=[a-z])|(?=[a-z]{5}))"
    return rf"(?<![\w/'-])(?:{pattern})(?![\w/'])"


def _first_chars(pattern: str) -> set[str]:
    """The characters a trigger pattern can start with (lower case). The patterns above use
    only literals, escapes, ``[..]`` after the first character and ``(?:a|b)`` groups."""
    if pattern.startswith("(?:"):
        depth, close = 0, 0
        for index, char in enumerate(pattern):
            depth += {"(": 1, ")": -1}.get(char, 0)
            if depth == 0:
                close = index
                break
        body, rest = pattern[3:close], pattern[close + 1 :]
        chars = set().union(*(_first_chars(part) for part in _top_level(body)))
        if rest.startswith("?"):
            chars |= _first_chars(rest[1:])
        return chars
    if pattern.startswith("\\d"):
        return set("0123456789")
    if pattern.startswith("\\"):
        return {pattern[1]}
    return {pattern[0].lower()}


def _top_level(body: str) -> list[str]:
    parts, depth, start = [], 0, 0
    for index, char in enumerate(body):
        depth += {"(": 1, ")": -1}.get(char, 0)
        if char == "|" and depth == 0:
            parts.append(body[start:index])
            start = index + 1
    return [*parts, body[start:]]


def _by_first_char() -> dict[str, tuple[tuple[re.Pattern[str], Trigger], ...]]:
    buckets: dict[str, list[tuple[re.Pattern[str], Trigger]]] = {}
    for trigger in TRIGGERS:
        compiled = re.compile(_wrap(trigger.pattern), re.IGNORECASE)
        for char in _first_chars(trigger.pattern):
            buckets.setdefault(char, []).append((compiled, trigger))
    return {char: tuple(entries) for char, entries in buckets.items()}


_SYMBOLS = (r"\?", r"\+", r"non-?")
_MATCHER = re.compile(  # a prefilter: the word-start check once, not once per alternative
    r"(?<![\w/'-])(?:"
    + "|".join(t.pattern for t in TRIGGERS if t.pattern not in _SYMBOLS)
    + r")(?![\w/'])|[?+]|\bnon",
    re.IGNORECASE,
)
_BUCKETS = _by_first_char()


@dataclass(frozen=True)
class _Hit:
    start: int
    end: int
    trigger: Trigger


def _hits(text: str) -> list[_Hit]:
    """Triggers left to right; where several start at one place the longest wins (pseudo first
    on a tie), so "negative for" beats "negative" and "no change" beats "no"."""
    hits: list[_Hit] = []
    position = 0
    while (found := _MATCHER.search(text, position)) is not None:
        hit = _longest(text, found.start())
        if hit is not None:
            hits.append(hit)
        position = max(hit.end if hit else 0, found.start() + 1)
    return hits


def _longest(text: str, start: int) -> _Hit | None:
    best: _Hit | None = None
    for pattern, trigger in _BUCKETS.get(text[start].lower(), ()):
        match = pattern.match(text, start)
        if match is not None and (best is None or match.end() > best.end):
            best = _Hit(start, match.end(), trigger)
    return best


def cues(text: str) -> list[Cue]:
    """The context cues of a text, in order of their triggers."""
    hits = _hits(text)
    stops = {m.start(): m.end() for m in _END.finditer(text)}  # where each barrier ends
    stops.update((h.start, h.end) for h in hits if h.trigger.role == STOP)
    barriers = sorted(stops)
    result: list[Cue] = []
    for n, hit in enumerate(hits):
        if hit.trigger.role in (PSEUDO, STOP):
            continue
        if hit.trigger.pattern == r"\?" and hit.start and text[hit.start - 1].isalnum():
            scope = _backward(text, hits, n, barriers, stops)  # "PNA?"
            if scope is None or _QUESTION.match(text, scope[0]):
                continue  # "Can I get up?" asks; it does not hedge
        elif hit.trigger.role == PRE:
            scope = _forward(text, hits, n, barriers)
            if scope is None and hit.trigger.kind == "possible":  # "PNA likely."
                scope = _backward(text, hits, n, barriers, stops)
        else:
            scope = _backward(text, hits, n, barriers, stops) or _forward(text, hits, n, barriers)
        start, end = scope or (hit.end, hit.end)
        result.append(
            Cue(hit.trigger.kind, hit.start, hit.end, text[hit.start : hit.end], start, end)
        )
    return result


def _has_words(text: str, start: int, end: int) -> bool:
    return any(ch.isalnum() for ch in text[start:end])


def _forward(text: str, hits: list[_Hit], n: int, barriers: list[int]) -> tuple[int, int] | None:
    """From the trigger to the clause end, or to the next trigger with words before it."""
    start = hits[n].end
    index = bisect_left(barriers, start)
    end = barriers[index] if index < len(barriers) else len(text)
    for index in range(n + 1, len(hits)):
        later = hits[index]
        if later.start >= end:
            break
        if later.trigger.role == PRE and _has_words(text, start, later.start):
            end = later.start
            break
    return (start, end) if _has_words(text, start, end) else None


def _backward(
    text: str, hits: list[_Hit], n: int, barriers: list[int], stops: dict[int, int]
) -> tuple[int, int] | None:
    """From the clause start (or the previous trigger) to the trigger."""
    end = hits[n].start
    index = bisect_right(barriers, end - 1) - 1
    start = 0
    if index >= 0:
        start = stops[barriers[index]]
    for position in range(n - 1, -1, -1):
        earlier = hits[position]
        if earlier.end <= start:
            break
        if earlier.end <= end and earlier.trigger.role != PSEUDO:
            start = max(start, earlier.end)
            break
    return (start, end) if _has_words(text, start, end) else None


def kinds_covering(found: list[Cue], start: int, end: int) -> set[str]:
    """The kinds of the cues whose scope covers ``start:end`` (used by tests and the bench)."""
    return {c.kind for c in found if c.scope_start <= start and end <= c.scope_end}
