"""Tokens of clinical text that keep clinical forms whole ("s/p", "b.i.d.", "w/", "PT's")."""

from __future__ import annotations

import re
from typing import NamedTuple

# Letters and digits joined by inner dots, slashes or hyphens, an optional possessive, and an
# optional closing dot or slash ("b.i.d.", "w/"); a lone closing dot is usually the sentence's.
_TOKEN = re.compile(r"[A-Za-z0-9]+(?:[./\-&][A-Za-z0-9]+)*(?:['\u2019][sS](?![A-Za-z]))?[./]?")
_DOTTED = re.compile(r"(?:[A-Za-z]\.)+[A-Za-z]\.?")
_BREAK = re.compile(r"[\n.!?;]")
_NUMBER = re.compile(r"[0-9]+(?:[.,/:\-][0-9]+)*")


class Token(NamedTuple):
    """One token: where it is, as written, and its form without possessive or stray dot."""

    start: int
    end: int
    text: str
    form: str  #: what is looked up ("PT" for "PT's", "hosp" for "hosp.")
    sentence: int  #: sentence number: context never crosses a sentence, a line or a semicolon
    colon_after: bool  #: written as a header or label ("PE:", "K:")

    @property
    def is_number(self) -> bool:
        return is_number(self.form)


def is_number(form: str) -> bool:
    """An ordinary number, a ratio or a date ("4.1", "120/80", "11/27/2026")."""
    return bool(_NUMBER.fullmatch(form))


def _form(text: str) -> str:
    if text[-1] not in "sS.":
        return text
    form = text[:-2] if text[-2:-1] in ("'", "\u2019") else text
    if form.endswith(".") and not _DOTTED.fullmatch(form):
        form = form[:-1]
    return form


def tokenize(text: str) -> list[Token]:
    """The word tokens of ``text`` in order, with their offsets."""
    tokens: list[Token] = []
    sentence = 0
    last = 0
    for match in _TOKEN.finditer(text):
        if match.start() - last > 1 or text[last : match.start()] != " ":
            sentence += bool(_BREAK.search(text, last, match.start()))
        raw = match.group()
        end = match.end()
        if raw.endswith("/") and len(raw) > 3:  # "HTN/" before a space: not part of the token
            raw, end = raw[:-1], end - 1
        form = _form(raw)
        if raw.endswith(".") and form == raw[:-1]:
            raw, end = raw[:-1], end - 1
        colon = text.startswith(":", end)
        tokens.append(Token(match.start(), end, raw, form, sentence, colon))
        last = end
    return tokens


def split_compound(token: Token) -> list[Token]:
    """The parts of a hyphen or slash compound ("HTN/DM" -> "HTN", "DM"), with offsets."""
    parts = []
    for match in re.finditer(r"[A-Za-z0-9.]+", token.form):
        start = token.start + match.start()
        text = match.group().strip(".")
        if text:
            begin = start + match.group().index(text)
            parts.append(Token(begin, begin + len(text), text, text, token.sentence, False))
    return parts
