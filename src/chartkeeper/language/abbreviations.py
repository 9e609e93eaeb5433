"""Clinical abbreviations in a text, each with the sense its context chooses, or flagged.

A sense is chosen only when something decides it: it is the abbreviation's only sense, a cue
word of that sense is near (``PT`` beside "exercises" is physical therapy), or its prior share
for the way it is written is at least ``DOMINANT_SHARE``. Otherwise the match keeps
``sense=None`` with its candidates and ``reason="ambiguous"``: the explainer leaves it as written
and flags it, because a wrong expansion in a patient's note is worse than none. Tokens that look
like abbreviations but are not in the inventory come back with ``reason="unknown"``.
"""

from __future__ import annotations

import math
import re
from functools import cache, lru_cache

from chartkeeper.language.abbreviation_inventory import (
    VOCABULARY_VERSION,
    Inventory,
    SenseEntry,
    load_inventory,
    lookup_key,
)
from chartkeeper.language.abbreviation_tokens import Token, is_number, split_compound, tokenize
from chartkeeper.language.model import AbbreviationMatch, Sense

__all__ = ["DOMINANT_SHARE", "VOCABULARY_VERSION", "find_abbreviations", "senses", "variants"]

#: Prior share above which the dominant sense is chosen without a deciding context.
DOMINANT_SHARE = 0.8
#: Tokens on each side of an abbreviation whose words can act as cues.
WINDOW = 8
#: A synonym pair for search: the sense is this dominant and the form is no English word. Lower
#: than the bar for explaining (``DOMINANT_SHARE`` plus cues): a search that also finds "CP"
#: meaning cerebral palsy costs one more ranked hit, a missed "CP" meaning chest pain costs the
#: fact the clinician looked for.
SYNONYM_SHARE = 0.7
#: How much the log prior counts against cue hits: one hit outweighs a prior up to 16 times lower.
PRIOR_WEIGHT = 0.25
#: Tokens looked at on each side when deciding whether a sentence is written in capitals.
SHOUT_SPAN = 40
#: Score lead the best sense needs over the next for its context to decide.
DECISIVE_MARGIN = 0.3

#: Measurement units: never flagged as unknown, alone or in compounds ("L/min", "mcg/kg/min").
UNITS = frozenset(
    re.findall(
        r"\S+",
        "l ml dl ul min hr h s sec kg g mg mcg ug ng mmol mol meq iu u"
        " cm mm m in ft lb oz mmhg bpm c f k d wk mo yr",
    )
)

_UNKNOWN_CAPS = re.compile(r"[A-Z][A-Z0-9]{1,5}")
_UNKNOWN_JOINED = re.compile(r"[A-Za-z]{1,4}(?:[/.][A-Za-z]{1,4})+\.?")
#: "x2", "X3", "x10": times or a count of days ("CP x2 days"), written as a number, not an
#: abbreviation to flag.
_MULTIPLIER = re.compile(r"[xX][0-9]+(?:\.[0-9]+)?")
_NUMBER_UNIT = re.compile(r"[0-9]+(?:\.[0-9]+)?([A-Za-z]{1,5})")
_ROMAN = re.compile(r"[IVX]+")


def find_abbreviations(text: str) -> list[AbbreviationMatch]:
    """Abbreviations in ``text`` by offset: a chosen sense with its reason, or flagged."""
    inventory = load_inventory()
    tokens = tokenize(text)
    matches: list[AbbreviationMatch] = []
    for index, token in enumerate(tokens):
        base = _singular(token.form)
        if base != token.form:
            token = tokens[index] = token._replace(form=base)
        kind = _kind(token.form)
        if kind == _KEY:
            static = _static_choice(token.form)
            found = static if static != _CONTEXT else _choose(inventory, _Context(tokens, index))
            if isinstance(found, tuple):
                matches.append(AbbreviationMatch(token.start, token.end, token.text, *found))
        elif kind != _NONE:
            matches.extend(_match_other(inventory, tokens, index, kind))
    return matches


def senses(abbreviation: str) -> tuple[Sense, ...]:
    """Every shipped sense of ``abbreviation`` ("PT", "b.i.d."), most frequent first."""
    entries = load_inventory().senses.get(lookup_key(abbreviation.strip()), ())
    return tuple(entry.sense for entry in entries)


def variants(phrase: str) -> frozenset[str]:
    """Search synonyms of ``phrase`` in both directions ("mi" <-> "myocardial infarction").

    Only safe pairs: the abbreviation's sense has a prior share of at least ``SYNONYM_SHARE``
    and the abbreviation is not also an English word (so "in" never becomes "inch").
    """
    key = " ".join(phrase.lower().split())
    forward, backward = _synonyms()
    return forward.get(lookup_key(key), frozenset()) | backward.get(key, frozenset())


@cache
def _synonyms() -> tuple[dict[str, frozenset[str]], dict[str, frozenset[str]]]:
    inventory = load_inventory()
    forward: dict[str, set[str]] = {}
    backward: dict[str, set[str]] = {}
    for key, entries in inventory.senses.items():
        if len(key) < 2 or key in inventory.english:
            continue
        for entry in entries:
            if entry.sense.frequency >= SYNONYM_SHARE:
                long_form = entry.sense.long_form.lower()
                forward.setdefault(key, set()).add(long_form)
                backward.setdefault(long_form, set()).add(key)
    return (
        {k: frozenset(v) for k, v in forward.items()},
        {k: frozenset(v) for k, v in backward.items()},
    )


class _Context:
    """The words around one token, computed only when a cue needs them."""

    def __init__(self, tokens: list[Token], index: int, token: Token | None = None) -> None:
        self.tokens = tokens
        self.index = index
        self.token = token or tokens[index]  #: a part of ``tokens[index]`` when it is a compound
        self._words: dict[str, str] | None = None

    def words(self) -> dict[str, str]:
        """Lower-case words of the same sentence within ``WINDOW`` tokens -> as written."""
        if self._words is None:
            sentence = self.token.sentence
            low, high = max(0, self.index - WINDOW), self.index + WINDOW + 1
            near = self.tokens[low : self.index] + self.tokens[self.index + 1 : high]
            near = [t for t in near if t.sentence == sentence]
            self._words = {lookup_key(t.form): t.form for t in near}
        return self._words

    def neighbour_is_number(self, step: int, decimal: bool = False) -> bool:
        """The token ``step`` away in the same sentence is a number (with a decimal point)."""
        position = self.index + step
        if not 0 <= position < len(self.tokens):
            return False
        other = self.tokens[position]
        same = other.sentence == self.token.sentence and other.is_number
        return same and (not decimal or "." in other.form)

    def is_shouted(self) -> bool:
        """The sentence is written in capitals with at least three plain English words in it
        ("THE PATIENT IS IN THE OR"), so capitals say nothing there ("HTN, DM, CAD" is no such
        sentence). Looks at most ``SHOUT_SPAN`` tokens each way."""
        inventory = load_inventory()
        plain = 0
        for step in (-1, 1):
            position = self.index if step == 1 else self.index - 1
            for _ in range(SHOUT_SPAN):
                if not 0 <= position < len(self.tokens):
                    break
                token = self.tokens[position]
                if token.sentence != self.token.sentence:
                    break
                if any(c.islower() for c in token.form):
                    return False
                key = token.form.lower()
                plain += len(key) > 2 and key in inventory.english and key not in inventory.senses
                position += step
        return plain >= 3


# --- what a written form is, independent of its context (cached per form) ----------------------

_NONE, _KEY, _COMPOUND, _UNIT, _UNKNOWN = range(5)
_CONTEXT = "context"  # the choice for this form depends on the words around it
_Choice = tuple[Sense | None, tuple[Sense, ...], str]


@lru_cache(maxsize=65536)
def _singular(form: str) -> str:
    """An abbreviation's plural written with a lower-case s ("PACs", "BMs") -> "PAC", "BM"."""
    if len(form) > 2 and form[-1] == "s" and form[:-1].isupper():
        inventory = load_inventory()
        if lookup_key(form) not in inventory.senses and lookup_key(form[:-1]) in inventory.senses:
            return form[:-1]
    return form


@lru_cache(maxsize=65536)
def _kind(form: str) -> int:
    inventory = load_inventory()
    if lookup_key(form) in inventory.senses:
        return _KEY
    if is_number(form) or _MULTIPLIER.fullmatch(form):
        return _NONE
    if ("/" in form or "-" in form) and _splits(inventory, form):
        return _COMPOUND
    unit = _NUMBER_UNIT.fullmatch(form)
    if unit and lookup_key(unit.group(1)) in inventory.senses:
        return _UNIT
    return _UNKNOWN if _looks_unknown(inventory, form) else _NONE


def _splits(inventory: Inventory, form: str) -> bool:
    """A slash or hyphen compound is read part by part when a part is a known abbreviation or
    unit ("HTN/DM", "RBC/hpf", "L/min"); its other parts are then flagged or left alone."""
    parts = [p for p in re.split(r"[/\-]", form) if p]
    return len(parts) > 1 and any(
        len(p) > 1 and (p.lower() in UNITS or lookup_key(p) in inventory.senses) for p in parts
    )


def _looks_unknown(inventory: Inventory, form: str) -> bool:
    if form.lower() in inventory.english or form.lower() in UNITS or _ROMAN.fullmatch(form):
        return False
    if _UNKNOWN_CAPS.fullmatch(form):
        return sum(c.isalpha() for c in form) >= 2
    if _UNKNOWN_JOINED.fullmatch(form):
        parts = re.split(r"[/.]", form.strip("."))
        return not all(p.lower() in inventory.english and len(p) > 1 for p in parts)
    return False


def _match_other(
    inventory: Inventory, tokens: list[Token], index: int, kind: int
) -> list[AbbreviationMatch]:
    """Matches in a compound ("HTN/DM"), a unit after its number ("5mg") or an unknown form."""
    token = tokens[index]
    if kind == _UNKNOWN:
        return [AbbreviationMatch(token.start, token.end, token.text, None, (), "unknown")]
    if kind == _UNIT:
        unit = _NUMBER_UNIT.fullmatch(token.form)
        assert unit is not None
        parts = [
            Token(
                token.start + unit.start(1),
                token.start + unit.end(1),
                unit.group(1),
                unit.group(1),
                token.sentence,
                token.colon_after,
            )
        ]
    else:
        parts = split_compound(token)
    found = []
    for part in parts:
        if _kind(part.form) == _KEY:
            choice = _choose(inventory, _Context(tokens, index, part))
            if choice is not None:
                found.append(AbbreviationMatch(part.start, part.end, part.text, *choice))
        elif _kind(part.form) == _UNKNOWN:
            found.append(AbbreviationMatch(part.start, part.end, part.text, None, (), "unknown"))
    return found


def _entries(form: str) -> tuple[SenseEntry, ...]:
    return load_inventory().senses[lookup_key(form)]


def _may_be_word(form: str) -> bool:
    """The form is also an English word (or a single letter) when not written in capitals."""
    key = lookup_key(form)
    return len(key) == 1 or key in load_inventory().english


@lru_cache(maxsize=65536)
def _static_choice(form: str) -> _Choice | str | None:
    """The choice for a form when no context can change it, else ``_CONTEXT``."""
    entries = _entries(form)
    if _may_be_word(form) or any(e.cues.decides for e in entries):
        return _CONTEXT
    return _decide(form, entries, {})


# --- choosing a sense ---------------------------------------------------------------------------


def _choose(inventory: Inventory, context: _Context) -> _Choice | None:
    token = context.token
    entries = _entries(token.form)
    hits = {id(e): _cue_hits(e, context) for e in entries}
    if _may_be_word(token.form) and (
        not token.form.isupper() or len(token.form) == 1 or context.is_shouted()
    ):
        entries = tuple(e for e in entries if hits[id(e)] or "lower_ok" in e.cues.features)
        if not entries:
            return None  # an English word ("in", "as", "Is") with nothing saying otherwise
    return _decide(token.form, entries, hits)


def _cue_hits(entry: SenseEntry, context: _Context) -> list[str]:
    cues = entry.cues
    hits = []
    if cues.words or cues.stems:
        for word, written in context.words().items():
            if word in cues.words or (cues.stems and word.startswith(cues.stems)):
                hits.append(written)
    features = cues.features
    if "num_after" in features and context.neighbour_is_number(1):
        hits.append("a number after it")
    if "num_before" in features and context.neighbour_is_number(-1):
        hits.append("a number before it")
    if "decimal_before" in features and context.neighbour_is_number(-1, decimal=True):
        hits.append("a decimal number before it")
    if "header" in features and context.token.colon_after:
        hits.append("written as a heading")
    return hits


def _decide(form: str, entries: tuple[SenseEntry, ...], hits: dict[int, list[str]]) -> _Choice:
    """The sense that context, or failing that a dominant prior, decides; else none."""
    candidates = tuple(e.sense for e in entries)
    if len(entries) == 1:
        cued = hits.get(id(entries[0]))
        return entries[0].sense, candidates, _context_reason(cued) if cued else "only sense"
    shares = _shares(entries, form)
    if any(hits.get(id(e)) for e in entries):
        scores = [
            len(hits.get(id(e), ())) + PRIOR_WEIGHT * math.log(max(p, 1e-3))
            for e, p in zip(entries, shares, strict=True)
        ]
        ranked = sorted(range(len(entries)), key=lambda i: -scores[i])
        top, runner_up = ranked[0], ranked[1]
        cued = hits.get(id(entries[top]))
        if cued and scores[top] - scores[runner_up] >= DECISIVE_MARGIN:
            return entries[top].sense, candidates, _context_reason(cued)
    top = max(range(len(entries)), key=lambda i: shares[i])
    if any(hits.get(id(e)) for e in entries if e is not entries[top]):
        return None, candidates, "ambiguous"  # the context points elsewhere: do not overrule it
    if shares[top] >= DOMINANT_SHARE:
        return entries[top].sense, candidates, f"prior {shares[top]:.2f}"
    return None, candidates, "ambiguous"


@lru_cache(maxsize=65536)
def _shares(entries: tuple[SenseEntry, ...], form: str) -> tuple[float, ...]:
    """P(sense | written form) among ``entries``: the prior share weighted by case evidence."""
    weights = [e.prior_for(form) for e in entries]
    total = sum(weights)
    return tuple(w / total if total > 0 else 1 / len(weights) for w in weights)


def _context_reason(cued: list[str]) -> str:
    return "context: " + ", ".join(repr(w) for w in cued)
