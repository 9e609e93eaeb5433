"""Postal addresses: common abbreviations unified, the house number split from the street."""

from __future__ import annotations

from chartkeeper.mpi.matching.text import words

#: Street types, directions and unit words, spelled out → the usual abbreviation (USPS
#: Publication 28 appendix C, plus the Australian types common in FEBRL-style data).
ABBREVIATIONS = {
    "street": "st",
    "str": "st",
    "road": "rd",
    "avenue": "ave",
    "av": "ave",
    "boulevard": "blvd",
    "drive": "dr",
    "lane": "ln",
    "court": "ct",
    "place": "pl",
    "terrace": "tce",
    "crescent": "cres",
    "circuit": "cct",
    "circle": "cir",
    "highway": "hwy",
    "parkway": "pkwy",
    "parade": "pde",
    "square": "sq",
    "close": "cl",
    "way": "wy",
    "north": "n",
    "south": "s",
    "east": "e",
    "west": "w",
    "apartment": "apt",
    "suite": "ste",
    "floor": "fl",
    "building": "bldg",
    "mount": "mt",
    "saint": "st",
}


def _tokens(line: str) -> list[str]:
    return [ABBREVIATIONS.get(w, w) for w in words(line)]


def split_address(lines: tuple[str, ...]) -> tuple[str, str, str]:
    """(house number, street, the other lines) of an address, each normalised.

    The house number is the first word of the first line when it starts with a digit
    (``12a``); the other lines (unit, building, care-of) are joined by spaces.
    """
    tokens = _tokens(lines[0]) if lines else []
    number = tokens.pop(0) if tokens and tokens[0][0].isdigit() else ""
    other = " ".join(w for line in lines[1:] for w in _tokens(line))
    return number, " ".join(tokens), other


def place(text: str) -> str:
    """A city or state, folded, punctuation removed, abbreviations unified."""
    return " ".join(_tokens(text))
