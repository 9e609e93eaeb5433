"""Medication instructions (sigs) in plain words: "1 tab PO BID prn pain" → "Take 1 tablet by
mouth 2 times a day if needed for pain."

The sig is read token by token in the order written; each recognised token or phrase becomes a
``Span`` (kind ``sig``, source ``sig-1:<reading>``) and anything else is kept as written, listed
in ``unknown`` and given a span of its own (source ``sig-1:unknown``), never guessed. A PRN
reason is read up to the next known part: plain words pass, a few abbreviations ("SOB") are
spelled out, and any other word is kept and listed.

Periods and case do not matter ("b.i.d.", "Q.I.D."), except for the ear abbreviations "AD" and
"AS", read only in capitals or with periods because "as" and "ad" are also words ("as needed",
"ad lib"). "U" and "IU" are never expanded: they are on the Joint Commission's "Do Not Use"
list because they are misread as 0 or 10.

When the sig does not start with a verb, one is chosen from the route, else from the form:
Take, Put, Inhale, Inject, Apply, Use or Insert.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, replace

from chartkeeper.language.model import Span

SOURCE_VERSION = "sig-1"


@dataclass(frozen=True)
class SigExplanation:
    """A sig in plain words, its explained spans, and the tokens left as written."""

    text: str
    spans: tuple[Span, ...]
    unknown: tuple[str, ...]


@dataclass(frozen=True)
class _Token:
    start: int
    end: int
    raw: str
    key: str  #: lower case, periods removed (except in numbers)


@dataclass(frozen=True)
class _Match:
    length: int  #: tokens consumed
    explained: str
    source: str  #: e.g. "route:po"
    unknown: tuple[str, ...] = ()  #: words inside the phrase kept as written (a PRN reason)


# Routes: key → (words, verb).
ROUTES: dict[str, tuple[str, str]] = {
    "po": ("by mouth", "Take"),
    "sl": ("under the tongue", "Take"),
    "iv": ("into a vein", "Inject"),
    "im": ("into a muscle", "Inject"),
    "sc": ("under the skin", "Inject"),
    "sq": ("under the skin", "Inject"),
    "subq": ("under the skin", "Inject"),
    "subcut": ("under the skin", "Inject"),
    "pr": ("in the rectum", "Insert"),
    "pv": ("in the vagina", "Insert"),
    "top": ("on the skin", "Apply"),
    "topical": ("on the skin", "Apply"),
    "topically": ("on the skin", "Apply"),
    "inh": ("", "Inhale"),  # folded into the verb: "Inhale 2 puffs"
    "neb": ("with a nebulizer", "Inhale"),
    "ng": ("through the tube in your nose", "Put"),
    "od": ("in the right eye", "Put"),
    "os": ("in the left eye", "Put"),
    "ou": ("in both eyes", "Put"),
    "ad": ("in the right ear", "Put"),
    "as": ("in the left ear", "Put"),
    "au": ("in both ears", "Put"),
    "by mouth": ("by mouth", "Take"),
    "under the tongue": ("under the tongue", "Take"),
    "on the skin": ("on the skin", "Apply"),
    "each nostril": ("in each nostril", "Use"),
    "in each nostril": ("in each nostril", "Use"),
    "per nostril": ("in each nostril", "Use"),
    "to affected area": ("to the affected area", "Apply"),
    "to affected areas": ("to the affected areas", "Apply"),
}
CAPITALS_ONLY = frozenset({"ad", "as"})

# Forms: key → (singular, plural, verb). A form without plural does not change ("mL").
FORMS: dict[str, tuple[str, str, str]] = {
    "tab": ("tablet", "tablets", "Take"),
    "cap": ("capsule", "capsules", "Take"),
    "puff": ("puff", "puffs", "Inhale"),
    "gtt": ("drop", "drops", "Put"),
    "drop": ("drop", "drops", "Put"),
    "ml": ("mL", "mL", "Take"),
    "cc": ("mL", "mL", "Take"),
    "mg": ("mg", "mg", "Take"),
    "mcg": ("mcg", "mcg", "Take"),
    "g": ("g", "g", "Take"),
    "tsp": ("teaspoon", "teaspoons", "Take"),
    "tbsp": ("tablespoon", "tablespoons", "Take"),
    "unit": ("unit", "units", "Inject"),
    "patch": ("patch", "patches", "Apply"),
    "spray": ("spray", "sprays", "Use"),
    "supp": ("suppository", "suppositories", "Insert"),
    "suppository": ("suppository", "suppositories", "Insert"),
    "lozenge": ("lozenge", "lozenges", "Take"),
    "packet": ("packet", "packets", "Take"),
    "vial": ("vial", "vials", "Use"),
    "neb": ("nebulizer treatment", "nebulizer treatments", "Inhale"),
    "application": ("application", "applications", "Apply"),
}
#: "tabs", "tablet", "tablets" → "tab": the key plus "s", and the spelled-out forms.
FORM_ALIASES = {
    alias.lower(): key
    for key, (one, many, _) in FORMS.items()
    for alias in (key + "s", one, many)
    if alias.lower() not in FORMS
}
COUNTABLE = frozenset(k for k, (one, many, _) in FORMS.items() if one != many)

# Frequencies, timing and other fixed phrases: key (space-separated keys) → words.
PHRASES: dict[str, str] = {
    "qd": "once a day",
    "daily": "once a day",
    "once daily": "once a day",
    "once a day": "once a day",
    "every day": "every day",
    "q day": "once a day",
    "bid": "2 times a day",
    "twice daily": "2 times a day",
    "twice a day": "2 times a day",
    "tid": "3 times a day",
    "three times daily": "3 times a day",
    "three times a day": "3 times a day",
    "qid": "4 times a day",
    "four times daily": "4 times a day",
    "four times a day": "4 times a day",
    "qhs": "at bedtime",
    "hs": "at bedtime",
    "at bedtime": "at bedtime",
    "nightly": "every night",
    "every night": "every night",
    "at night": "at night",
    "every morning": "every morning",
    "each morning": "every morning",
    "in the morning": "in the morning",
    "every evening": "every evening",
    "in the evening": "in the evening",
    "twice weekly": "2 times a week",
    "twice a week": "2 times a week",
    "three times weekly": "3 times a week",
    "three times a week": "3 times a week",
    "once a week": "once a week",
    "thin layer": "a thin layer",
    "a thin layer": "a thin layer",
    "qam": "every morning",
    "q am": "every morning",
    "qpm": "every evening",
    "q pm": "every evening",
    "qod": "every other day",
    "every other day": "every other day",
    "qweek": "once a week",
    "qwk": "once a week",
    "q week": "once a week",
    "weekly": "once a week",
    "once weekly": "once a week",
    "once": "one time",
    "stat": "right away",
    "now": "now",
    "ac": "before meals",
    "before meals": "before meals",
    "pc": "after meals",
    "after meals": "after meals",
    "with meals": "with meals",
    "with food": "with food",
    "with water": "with water",
    "as directed": "as directed",
    "ud": "as directed",
    "until gone": "until gone",
    "until finished": "until finished",
    "then": "then",
    "and": "and",
    "&": "and",
    "or": "or",
}
PRN_PHRASES = frozenset({"prn", "as needed", "if needed"})
VERBS = {
    "take": "Take",
    "give": "Give",
    "put": "Put",
    "instill": "Put",
    "inhale": "Inhale",
    "inject": "Inject",
    "apply": "Apply",
    "use": "Use",
    "insert": "Insert",
    "place": "Place",
    "chew": "Chew",
    "dissolve": "Dissolve",
    "spray": "Use",
}
# What a PRN may be for: plain words pass as written, a few abbreviations are spelled out.
REASONS: dict[str, str] = {
    "sob": "shortness of breath",
    "cp": "chest pain",
    "ha": "headache",
    "n/v": "nausea or vomiting",
    "bp": "blood pressure",
}
_REASON_TEXT = """pain fever nausea vomiting anxiety sleep insomnia itching itch wheezing wheeze
cough headache constipation diarrhea agitation shortness of breath chest muscle spasm spasms
heartburn indigestion congestion allergies allergy rash dizziness migraine severe mild moderate
back joint swelling blood sugar high low pressure cramps cramping restlessness panic breakthrough
or and"""
REASON_WORDS = frozenset(_REASON_TEXT.split())
NUMBER_WORDS = {
    **{"one": "1", "two": "2", "three": "3", "four": "4", "half": "½"},
    **{"1/2": "½", "1/4": "¼", "3/4": "¾"},
}
FRACTIONS = {"½": 0.5, "¼": 0.25, "¾": 0.75}
PARTS = {"½": "half a", "¼": "a quarter of a", "¾": "three quarters of a"}
MIXED = {"½": "and a half", "¼": "and a quarter", "¾": "and three quarters"}

_TOKEN = re.compile(r"[^\s,;()]+")
_NUMBER = r"(?:\d+(?:\.\d+)?|\.\d+|[½¼¾])"
_AMOUNT = re.compile(rf"({_NUMBER})(?:-({_NUMBER}))?([a-z]*)")
_UNIT_WORDS = {
    **dict.fromkeys(("h", "hr", "hrs", "hour", "hours"), "hour"),
    **dict.fromkeys(("min", "mins", "minute", "minutes"), "minute"),
    **dict.fromkeys(("d", "day", "days"), "day"),
    **dict.fromkeys(("wk", "wks", "week", "weeks"), "week"),
    **dict.fromkeys(("mo", "month", "months"), "month"),
}
_UNIT = "(" + "|".join(sorted(_UNIT_WORDS, key=len, reverse=True)) + ")"
_EVERY = re.compile(rf"(?:q|every)(\d+)(?:-|to)?(\d+)?{_UNIT}")
_FOR = re.compile(rf"(?:x|for|times)(\d+)(?:-|to)?(\d+)?{_UNIT}")
_TIMES = re.compile(r"x(\d+)")  # "x3": three doses
MAX_PHRASE = 5


def sig_to_words(sig: str) -> SigExplanation:
    """The sig as one plain sentence, with a span per recognised part and the unknown tokens."""
    tokens = _tokens(sig)
    spans: list[Span] = []
    unknown: list[str] = []
    verbs: list[str] = []  # verbs implied by routes first, then by forms
    form_verbs: list[str] = []
    written_verb = ""
    i = 0
    while i < len(tokens):
        match, verb = _match_at(tokens, i)
        if match is None:
            spans.append(_span(tokens[i : i + 1], tokens[i].raw, "unknown"))
            unknown.append(tokens[i].raw)
            i += 1
            continue
        if match.source.startswith("verb:") and i == 0:
            written_verb = match.explained
        elif match.source.startswith("route:"):
            verbs.append(verb)
        elif verb:
            form_verbs.append(verb)
        spans.append(_span(tokens[i : i + match.length], match.explained, match.source))
        unknown.extend(match.unknown)
        i += match.length
    # each span's original is the sig as written between its offsets (punctuation included)
    spans = [replace(span, original=sig[span.start : span.end]) for span in spans]
    return SigExplanation(
        _sentence(spans, written_verb, [*verbs, *form_verbs]), tuple(spans), tuple(unknown)
    )


def _tokens(sig: str) -> list[_Token]:
    tokens = []
    for found in _TOKEN.finditer(sig):
        raw, start = found.group(), found.start()
        if raw.endswith(".") and raw.count(".") == 1 and not raw[:-1].isdigit():
            raw = raw[:-1]  # a sentence's full stop, not an abbreviation's ("b.i.d.")
        if not raw:
            continue
        key = raw.lower() if re.fullmatch(rf"{_NUMBER}(?:-{_NUMBER})?", raw) else _key(raw)
        tokens.append(_Token(start, start + len(raw), raw, key))
    return tokens


def _key(raw: str) -> str:
    key = raw.lower()
    return key if re.search(r"\d\.\d", key) else key.replace(".", "")


def _span(tokens: list[_Token], explained: str, source: str) -> Span:
    start, end = tokens[0].start, tokens[-1].end
    original = " ".join(t.raw for t in tokens) if len(tokens) > 1 else tokens[0].raw
    return Span(start, end, original, explained, "sig", f"{SOURCE_VERSION}:{source}")


def _sentence(spans: list[Span], written_verb: str, implied: list[str]) -> str:
    parts = [s.explained for s in spans if s.explained]
    if not written_verb:
        parts.insert(0, implied[0] if implied else "Use")
    text = " ".join(parts)
    return text[:1].upper() + text[1:] + ("" if text.endswith(".") else ".")


def _match_at(tokens: list[_Token], i: int) -> tuple[_Match | None, str]:
    """The longest reading of the tokens at ``i`` and the verb it implies ("" for none)."""
    for rule in _RULES:
        found = rule(tokens, i)
        if found is not None:
            return found
    return None, ""


def _keys(tokens: list[_Token], i: int, n: int) -> list[str]:
    return [t.key for t in tokens[i : i + n]]


def _verb(tokens: list[_Token], i: int) -> tuple[_Match, str] | None:
    verb = VERBS.get(tokens[i].key)
    return (_Match(1, verb, f"verb:{tokens[i].key}"), "") if verb and i == 0 else None


def _phrase(tokens: list[_Token], i: int) -> tuple[_Match, str] | None:
    for n in range(min(MAX_PHRASE, len(tokens) - i), 0, -1):
        key = " ".join(_keys(tokens, i, n))
        if key in PRN_PHRASES:
            return _prn(tokens, i, n), ""
        if key in ROUTES and _route_written_clearly(tokens[i], key):
            words, verb = ROUTES[key]
            return _Match(n, words, f"route:{key}"), verb
        if key in PHRASES:
            return _Match(n, PHRASES[key], f"phrase:{key}"), ""
    return None


def _route_written_clearly(token: _Token, key: str) -> bool:
    return key not in CAPITALS_ONLY or token.raw.isupper() or "." in token.raw


def _interval(tokens: list[_Token], i: int) -> tuple[_Match, str] | None:
    for n in range(min(MAX_PHRASE, len(tokens) - i), 0, -1):
        joined = "".join(_keys(tokens, i, n))
        for pattern, lead in ((_EVERY, "every"), (_FOR, "for")):
            found = pattern.fullmatch(joined)
            if found:
                words = _count_words(lead, found.group(1), found.group(2), found.group(3))
                return _Match(n, words, f"{lead}:{joined}"), ""
    times = _TIMES.fullmatch(tokens[i].key)
    if times:
        count = int(times.group(1))
        return _Match(1, "one time" if count == 1 else f"{count} times", "times"), ""
    return None


def _count_words(lead: str, first: str, second: str | None, unit: str) -> str:
    unit = _UNIT_WORDS[unit]
    if second:
        return f"{lead} {int(first)} to {int(second)} {unit}s"
    if int(first) == 1:
        return f"{lead} 1 {unit}" if lead == "for" else f"every {unit}"
    return f"{lead} {int(first)} {unit}s"


def _amount(tokens: list[_Token], i: int) -> tuple[_Match, str] | None:
    found = _AMOUNT.fullmatch(_number_key(tokens, i))
    if found is None:
        return None
    first, second, glued = found.groups()
    length, joiner = 1, "to"
    if not second and not glued and _number_key(tokens, i + 1) in ("to", "-", "or"):
        joiner = "or" if _number_key(tokens, i + 1) == "or" else "to"
        later = _AMOUNT.fullmatch(_number_key(tokens, i + 2))
        if later and not later.group(2):
            second, glued, length = later.group(1), later.group(3), 3
    elif not second and not glued and first.isdigit() and _number_key(tokens, i + 1) in MIXED:
        second, length = _number_key(tokens, i + 1), 2  # "1 1/2": a whole and a part
        first = f"{first} {MIXED[second]}"
    form = _form_key(glued) if glued else None
    if glued and form is None:
        return None
    if form is None and i + length < len(tokens):
        form = _form_key(tokens[i + length].key)
        length += form is not None
    words = _quantity_words(first, second, form, joiner)
    verb = FORMS[form][2] if form else ""
    return _Match(length, words, f"amount:{form or 'number'}"), verb


def _number_key(tokens: list[_Token], i: int) -> str:
    """The key at ``i`` with number words and slashed fractions as figures ("" past the end)."""
    key = tokens[i].key if i < len(tokens) else ""
    return NUMBER_WORDS.get(key, key)


def _form_key(key: str) -> str | None:
    key = FORM_ALIASES.get(key, key)
    return key if key in FORMS else None


def _quantity_words(first: str, second: str | None, form: str | None, joiner: str) -> str:
    """ "1 to 2 tablets", "half a tablet", "1 and a half tablets", "0.5 mL"."""
    one, many = (FORMS[form][0], FORMS[form][1]) if form else ("", "")
    if second in MIXED:
        return f"{first} {many}".strip()
    if second:
        return f"{_plain_number(first)} {joiner} {_plain_number(second)} {many}".strip()
    if first in FRACTIONS and form in COUNTABLE:
        return f"{PARTS[first]} {one}"
    if first in FRACTIONS and form:
        return f"{FRACTIONS[first]:g} {one}"  # "0.5 mL", not "half mL"
    if form is None:
        return _plain_number(first)
    value = FRACTIONS.get(first) or float(first)
    if value == 0.5 and form in COUNTABLE:
        return f"half a {one}"
    return f"{_plain_number(first)} {one if value <= 1 else many}"


def _plain_number(number: str) -> str:
    return {"½": "half", "¼": "a quarter", "¾": "three quarters"}.get(number, number)


def _bare_form(tokens: list[_Token], i: int) -> tuple[_Match, str] | None:
    form = _form_key(tokens[i].key)
    if form is None:
        return None
    one, _, verb = FORMS[form]
    return _Match(1, one, f"form:{form}"), verb


def _prn(tokens: list[_Token], i: int, n: int) -> _Match:
    """ "prn pain" → "if needed for pain": the reason runs until the next known token."""
    j = i + n
    if j + 1 < len(tokens) and tokens[j].key == "for" and not _starts_known(tokens, j + 1):
        j += 1
    end, words, unknown = _reason(tokens, j)
    if not words:
        return _Match(n, "if needed", "prn")
    return _Match(end - i, f"if needed for {words}", f"prn:{words}", unknown)


def _purpose(tokens: list[_Token], i: int) -> tuple[_Match, str] | None:
    """ "for pain" without PRN: what the medicine is for, read like a PRN reason."""
    if tokens[i].key != "for" or i + 1 == len(tokens) or _starts_known(tokens, i + 1):
        return None
    end, words, unknown = _reason(tokens, i + 1)
    return _Match(end - i, f"for {words}", f"for:{words}", unknown), ""


def _reason(tokens: list[_Token], j: int) -> tuple[int, str, tuple[str, ...]]:
    """Reason words from ``j`` on: where they end, in words, and those kept as written."""
    reason: list[str] = []
    unknown: list[str] = []
    while j < len(tokens) and not _starts_known(tokens, j):
        key, raw = tokens[j].key, tokens[j].raw
        known = key in REASONS or key in REASON_WORDS
        reason.append(REASONS.get(key, key) if known else raw)
        unknown.extend(() if known else (raw,))
        j += 1
    return j, " ".join(reason), tuple(unknown)


def _starts_known(tokens: list[_Token], j: int) -> bool:
    """True when the token at ``j`` begins a sig part rather than a reason."""
    key = tokens[j].key
    if key in REASONS or key in REASON_WORDS:
        return False
    if any(_keys(tokens, j, len(p.split())) == p.split() for p in PRN_PHRASES):
        return True  # decided here: reading the PRN's own reason would recurse
    return any(rule(tokens, j) is not None for rule in _STARTERS)


_Rule = Callable[[list[_Token], int], tuple[_Match, str] | None]
#: The readings that end a reason; a reason ("for pain") itself does not.
_STARTERS: tuple[_Rule, ...] = (_verb, _phrase, _interval, _amount, _bare_form)
_RULES: tuple[_Rule, ...] = (*_STARTERS, _purpose)
