"""Medical terms and the plain words a patient reads instead ("hypertension" -> "high blood
pressure"), from the versioned table ``data/lay_terms.tsv`` (own work, Apache-2.0).

Matching is longest first, case-insensitive and on word boundaries, so "pulmonary embolism"
wins over "pulmonary" and "renal" never matches inside "adrenal". A term may follow a "non"
prefix ("nontender"): the prefix is a negation trigger of its own (``context``), rewritten by
the explainer, and the term after it is still explained.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import cache
from importlib import resources

TABLE = "lay_terms.tsv"


@dataclass(frozen=True)
class LayMatch:
    """A medical term found in a text and its lay wording."""

    start: int
    end: int
    text: str
    lay: str
    line: int  #: line of the entry in the table, for the span's source


@dataclass(frozen=True)
class LayVocabulary:
    """The loaded table: terms (lower case, single spaces) to lay wording and table line."""

    version: str
    entries: dict[str, tuple[str, int]]
    longest: int  #: words in the longest term


def _parse(text: str) -> tuple[str, dict[str, tuple[str, int]]]:
    version = ""
    entries: dict[str, tuple[str, int]] = {}
    for number, line in enumerate(text.splitlines(), start=1):
        if line.startswith("# version:"):
            version = line.split(":", 1)[1].strip()
        if not line.strip() or line.startswith("#") or line == "term\tlay":
            continue
        term, lay = line.split("\t")
        entries[" ".join(term.lower().split())] = (lay.strip(), number)
    return version, entries


@cache
def vocabulary() -> LayVocabulary:
    """The shipped table, read once."""
    text = resources.files("chartkeeper.language").joinpath("data", TABLE).read_text("utf-8")
    version, entries = _parse(text)
    return LayVocabulary(version, entries, max(len(term.split()) for term in entries))


_TOKEN = re.compile(r"[a-z0-9]+(?:-[a-z0-9]+)*", re.IGNORECASE)
_NON = re.compile(r"non-?", re.IGNORECASE)


def find_lay_terms(text: str) -> list[LayMatch]:
    """The medical terms of a text with their lay wording, left to right, never overlapping.

    Words are looked up, not searched for: each word start tries the longest run of words
    that is a term, which keeps a 1 MB note to a fraction of a second.
    """
    vocab = vocabulary()
    tokens = [m for m in _TOKEN.finditer(text) if _free_standing(text, m.start(), m.end())]
    found: list[LayMatch] = []
    index = 0
    while index < len(tokens):
        match = _longest_term(text, tokens, index, vocab)
        if match is None:
            index += 1
            continue
        found.append(match[0])
        index += match[1]
    return found


def _free_standing(text: str, start: int, end: int) -> bool:
    """Not part of "NT/ND" or "x-ray's" neighbour: "/" on either side makes a code, not a word."""
    return text[start - 1 : start] != "/" and text[end : end + 1] not in ("/", "'")


def _longest_term(
    text: str, tokens: list[re.Match[str]], index: int, vocab: LayVocabulary
) -> tuple[LayMatch, int] | None:
    words: list[str] = []
    best: tuple[LayMatch, int] | None = None
    for offset in range(min(vocab.longest, len(tokens) - index)):
        token = tokens[index + offset]
        if offset and not text[tokens[index + offset - 1].end() : token.start()].isspace():
            break
        words.append(token.group().lower())
        entry = vocab.entries.get(" ".join(words))
        if entry is not None:
            best = (_match(text, token, tokens[index].start(), entry), offset + 1)
    if best is None and (prefix := _NON.match(tokens[index].group())) is not None:
        entry = vocab.entries.get(tokens[index].group()[prefix.end() :].lower())
        if entry is not None:  # "nontender": the prefix is a negation cue of its own
            start = tokens[index].start() + prefix.end()
            best = (_match(text, tokens[index], start, entry), 1)
    return best


def _match(text: str, last: re.Match[str], start: int, entry: tuple[str, int]) -> LayMatch:
    return LayMatch(start, last.end(), text[start : last.end()], entry[0], entry[1])
