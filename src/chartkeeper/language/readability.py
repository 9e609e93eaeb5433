"""Readability grades, so patient wording can be held to US grade 8 or below.

Two formulas, because one guess is easy to game:

* Flesch-Kincaid grade = 0.39 x (words / sentences) + 11.8 x (syllables / words) - 15.59
  (Kincaid et al., 1975, Naval Technical Training Command report 8-75).
* Coleman-Liau index = 0.0588 x L - 0.296 x S - 15.8, with L letters and S sentences per 100
  words (Coleman and Liau, 1975, J. Applied Psychology 60(2)). It counts letters, not
  syllables, so it does not share the syllable guess below; SMOG was not chosen because it
  needs 30 sentences to be valid and most notes are shorter.

Syllables are guessed, not looked up: a word's syllables are its groups of vowels
(a e i o u y), less a silent final "e" ("share") and a silent "-es"/"-ed" ("charges" keeps
its "-es" after s, x, z, ch, sh, ce, ge; "needed" keeps its "-ed" after t or d), plus one where
"ia"/"io"/"iu" split into two sounds ("period", but not "-tion"); every word has at least one.
A number ("40.00", "2026") counts as one word of two syllables: readers take in figures at a
glance. The guess is within one syllable for most everyday words, which is enough to tell
grade 6 text from grade 12 text.
"""

from __future__ import annotations

import re
from functools import lru_cache

from chartkeeper.language.model import Readability
from chartkeeper.language.sentences import sentence_spans

_WORD = re.compile(r"[A-Za-z]+(?:['\u2019][A-Za-z]+)*|\d[\d,.]*\d|\d")
_SENTENCE_END = re.compile(r"[.!?]+(?=\s|$)")
_VOWELS = re.compile(r"[aeiouy]+")
_SPLIT_PAIR = re.compile(r"(?<![tsc])i[aou]")
_SOUNDED_ES = ("ses", "xes", "zes", "ches", "shes", "ces", "ges")
NUMBER_SYLLABLES = 2
SECOND_FORMULA = "Coleman-Liau index"


@lru_cache(maxsize=65_536)
def count_syllables(word: str) -> int:
    """Guessed syllables of one word (see the module docstring for the rules)."""
    if word[:1].isdigit():
        return NUMBER_SYLLABLES
    letters = re.sub(r"[^a-z]", "", word.lower())
    if len(letters) <= 3:
        return 1
    stem = _strip_silent_ending(letters)
    count = len(_VOWELS.findall(stem)) + len(_SPLIT_PAIR.findall(stem))
    return max(1, count)


def _strip_silent_ending(word: str) -> str:
    if word.endswith("es") and not word.endswith(_SOUNDED_ES):
        return word[:-2]
    if word.endswith("ed") and not word.endswith(("ted", "ded")):
        return word[:-2]
    if word.endswith("e") and not (word.endswith("le") and word[-3] not in "aeiouy"):
        return word[:-1]
    return word


def words_of(text: str) -> list[str]:
    """The words of a text: runs of letters (with inner apostrophes) and numbers."""
    return _WORD.findall(text)


def sentence_count(text: str) -> int:
    """Sentences end in . ! or ? before a space or the end; text without one is one sentence."""
    return max(1, len(_SENTENCE_END.findall(text.strip())))


def note_sentence_count(text: str) -> int:
    """Sentences of a note as ``sentences.sentence_spans`` cuts them: a line that ends without
    a stop ends one too, an abbreviation's period ("p.o.") does not.

    Notes are written in lines ("Abd: soft, non-tender"); counting a page of them as one
    sentence would score every note at grade 40 and say nothing about the wording.
    """
    return max(1, len(sentence_spans(text)))


def flesch_kincaid_grade(text: str) -> float:
    """The US school grade a reader needs for this text (0.0 for text without words)."""
    words = words_of(text)
    if not words:
        return 0.0
    return _flesch_kincaid(words, sentence_count(text))


def _flesch_kincaid(words: list[str], sentences: int) -> float:
    syllables = sum(count_syllables(word) for word in words)
    return 0.39 * len(words) / sentences + 11.8 * syllables / len(words) - 15.59


def coleman_liau_index(words: list[str], sentences: int) -> float:
    """Coleman-Liau grade from the words (letters and digits count as letters) and sentences."""
    if not words:
        return 0.0
    letters = sum(sum(ch.isalnum() for ch in word) for word in words)
    per_100 = 100 / len(words)
    return 0.0588 * letters * per_100 - 0.296 * sentences * per_100 - 15.8


def readability(text: str) -> Readability:
    """Both grades of a text, counting a line without a stop as a sentence (notes are lines)."""
    words = words_of(text)
    sentences = note_sentence_count(text) if words else 0
    if not words:
        return Readability(flesch_kincaid=0.0, second=0.0, words=0, sentences=0)
    return Readability(
        flesch_kincaid=round(_flesch_kincaid(words, sentences), 2),
        second=round(coleman_liau_index(words, sentences), 2),
        words=len(words),
        sentences=sentences,
    )
