"""Person names: normalised keys, multi-part surnames, nicknames and phonetic codes.

The nickname table is the ``nicknames`` package (carltonnorthern/nicknames, Apache-2.0): about
2,700 documented (name, nickname) pairs from US genealogy sources, e.g. william → bill,
margaret → peggy. Two given names are nickname-equivalent when they share a name in
``{name} | canonicals(name)``, so Bill ~ William, Peggy ~ Maggie (both Margaret).
"""

from __future__ import annotations

from functools import lru_cache

import jellyfish
from nicknames import NickNamer

from chartkeeper.mpi.matching.text import words

#: Titles and honorifics that are not part of a given name.
TITLES = frozenset({"mr", "mrs", "ms", "miss", "mx", "dr", "prof", "rev", "sir", "dame"})
#: Generational suffixes that are not part of a family name.
SUFFIXES = frozenset({"jr", "sr", "ii", "iii", "iv", "v", "junior", "senior"})
#: Particles of multi-part surnames, too common to count as a shared part on their own.
PARTICLES = frozenset(
    {"van", "von", "der", "den", "de", "del", "della", "la", "le", "da", "di", "du", "dos", "das"}
    | {"st", "bin", "ben", "al", "el", "ter", "ten", "y", "e"}
)


def given_names(given: tuple[str, ...]) -> tuple[str, tuple[str, ...]]:
    """The first given name as one key, and every given name and word (for middle names).

    Words inside one given element are joined (``"Mary Ann"`` → ``maryann``, and a stray space
    typed into a name is undone); titles are dropped.
    """
    keys: list[str] = []
    for element in given:
        parts = [w for w in words(element) if w not in TITLES]
        if not parts:
            continue
        keys.append("".join(parts))
        if len(parts) > 1:
            keys.extend(parts)
    if not keys:
        return "", ()
    return keys[0], tuple(dict.fromkeys(keys))


def family_name(family: str) -> tuple[str, tuple[str, ...]]:
    """The family name as one key (words joined), and its parts when it has more than one.

    ``García-López`` → (``garcialopez``, (``garcia``, ``lopez``)); particles such as *van* or
    *de* stay in the key but are not parts; a suffix such as *Jr* is dropped.
    """
    parts = [w for w in words(family) if w not in SUFFIXES]
    key = "".join(parts)
    significant = tuple(p for p in parts if p not in PARTICLES and len(p) > 1)
    return key, significant if len(significant) > 1 else ()


@lru_cache(maxsize=1 << 16)
def phonetic(key: str) -> str:
    """The Metaphone code of a Latin-script name key; ``""`` for other scripts or no name."""
    if not key or not key.isascii() or not key.isalpha():
        return ""
    return str(jellyfish.metaphone(key))


@lru_cache(maxsize=1 << 16)
def soundex(key: str) -> str:
    """The Soundex code of a Latin-script name key (for blocking); ``""`` otherwise."""
    if not key or not key.isascii() or not key.isalpha():
        return ""
    return str(jellyfish.soundex(key))


@lru_cache(maxsize=1)
def _nicknamer() -> NickNamer:
    return NickNamer()


@lru_cache(maxsize=65536)
def nickname_keys(name: str) -> frozenset[str]:
    """``{name} | canonicals(name)`` when the table knows ``name``, else the empty set."""
    if not name:
        return frozenset()
    namer = _nicknamer()
    canonicals = namer.canonicals_of(name)
    if not canonicals and not namer.nicknames_of(name):
        return frozenset()
    return frozenset(canonicals | {name})


def nickname_link(a: str, b: str) -> str:
    """The name both ``a`` and ``b`` stand for (``bill``, ``william`` → ``william``), or ``""``.

    Among several shared names the one with the most nicknames (then alphabetically first) is
    given: the usual full form, and a stable answer.
    """
    shared = nickname_keys(a) & nickname_keys(b)
    if not shared:
        return ""
    namer = _nicknamer()
    return min(shared, key=lambda name: (-len(namer.nicknames_of(name)), name))
