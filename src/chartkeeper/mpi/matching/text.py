"""Normalisation of the free-text parts of a record: case, accents, punctuation, dates, phones.

Accents are folded with the standard library (Unicode NFKD, combining marks dropped, plus a few
Latin letters that do not decompose) rather than ``unidecode``: that package is GPL-licensed and
this project is Apache-2.0. Letters of other scripts (Cyrillic, Han, ...) are kept, lower-cased,
so two records written in the same script still compare; they are never dropped or guessed at.
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

#: Latin letters that NFKD leaves whole (casefold already maps ß to ss).
_UNDECOMPOSED = str.maketrans(
    {
        "æ": "ae",
        "œ": "oe",
        "ø": "o",
        "ł": "l",
        "đ": "d",
        "ð": "d",
        "þ": "th",
        "\u0131": "i",
        "ħ": "h",
        "ŧ": "t",
        "ŀ": "l",
    }
)
_APOSTROPHES = str.maketrans("", "", "'`\u2018\u2019\u00b4")
_WORD = re.compile(r"[^\W_]+")
_DIGITS = re.compile(r"\D+")
_DATE = re.compile(r"(\d{4})(?:-?(\d{2})(?:-?(\d{2}))?)?(?:T.*)?")
#: Well-known placeholders that stand for "no number" (never treated as evidence).
_PLACEHOLDER_PHONES = frozenset({"0000000000", "1234567890", "9999999999"})


def fold(text: str) -> str:
    """Lower-case ``text`` and strip its accents (``Zoë Ångström`` → ``zoe angstrom``)."""
    if text.isascii():
        return text.lower()
    decomposed = unicodedata.normalize("NFKD", text.casefold()).translate(_UNDECOMPOSED)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def split_words(text: str) -> tuple[str, ...]:
    """The words of ``text``, folded; apostrophes join (O'Brien → obrien), other marks split."""
    return tuple(_WORD.findall(fold(text).translate(_APOSTROPHES)))


#: ``split_words``, cached: names, streets and places repeat across a population's records.
#: Never for identifiers: the cache would keep their plaintext in memory.
words = lru_cache(maxsize=1 << 16)(split_words)


def birth_date_digits(text: str) -> str:
    """``YYYYMMDD`` (or ``YYYYMM``/``YYYY`` for a partial date) from an ISO or compact date.

    Impossible dates (``2023-02-30``, month 13) are kept as written: they are usually a typo of
    the right date and still agree with it on most digits. Unreadable text gives ``""``.
    """
    found = _DATE.fullmatch(text.strip())
    if found is None:
        return ""
    year, month, day = found.groups()
    if year == "0000":
        return ""
    if not month or month == "00":
        return year
    if not day or day == "00":
        return year + month
    return year + month + day


def phone_digits(text: str) -> str:
    """The digits of a phone number, without a leading North American country code ``1``.

    Fewer than seven digits, or a placeholder such as 000-000-0000, is no number at all.
    """
    digits = _DIGITS.sub("", fold(text))
    if len(digits) == 11 and digits.startswith("1"):
        digits = digits[1:]
    if len(digits) < 7 or digits in _PLACEHOLDER_PHONES or len(set(digits)) == 1:
        return ""
    return digits


def email_address(text: str) -> str:
    """An e-mail address, trimmed and lower-cased; ``""`` when it has no ``@``."""
    address = fold(text.strip())
    local, at, domain = address.partition("@")
    return address if at and local and domain else ""


def postal_code(text: str) -> str:
    """A postal code without spaces or punctuation; a US ZIP+4 keeps its five-digit ZIP."""
    code = "".join(words(text))
    if len(code) == 9 and code.isdigit():
        return code[:5]
    return code
