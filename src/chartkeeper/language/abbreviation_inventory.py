"""The shipped clinical abbreviation inventory and English word list, loaded once.

``data/abbreviations.tsv`` is built by ``scripts/build_abbreviations.py`` from open sense
inventories (see ``data/SOURCES.md``); each row is one sense with its prior share, the surface
forms annotators saw it written in (with counts, so case is evidence) and curated context cues.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache, lru_cache
from importlib import resources
from types import MappingProxyType

from chartkeeper.language.model import Sense

VOCABULARY_VERSION = "2026.11-1"

#: Case classes of a surface form; a sense's forms give how likely each is for it.
CASE_CLASSES = ("lower", "upper", "mixed")
_SMOOTHING = 0.5


@lru_cache(maxsize=65536)
def case_class(form: str) -> str:
    """``lower`` ("htn"), ``upper`` ("HTN") or ``mixed`` ("Htn", "IgG")."""
    letters = [c for c in form if c.isalpha()]
    if all(c.islower() for c in letters):
        return "lower"
    if all(c.isupper() for c in letters):
        return "upper"
    return "mixed"


def lookup_key(text: str) -> str:
    """The inventory key of a written form: lower case without dots ("B.I.D." -> "bid")."""
    return text.lower().replace(".", "")


@dataclass(frozen=True)
class Cues:
    """What in the context selects a sense: words, word stems and token features.

    Features are ``:num_after`` / ``:num_before`` (a number next to the token, "K 4.1"),
    ``:decimal_before`` (a number with a decimal point before it, "98.6 F"),
    ``:header`` (the token ends with a colon, "PE:") and ``:lower_ok`` (the sense is written in
    lower case in clinical text although the form is also an English word, "cap", "sob").
    """

    words: frozenset[str] = frozenset()
    stems: tuple[str, ...] = ()
    features: frozenset[str] = frozenset()

    @property
    def decides(self) -> bool:
        """Some context can select this sense (``lower_ok`` alone selects nothing)."""
        return bool(self.words or self.stems or self.features - {"lower_ok"})

    @classmethod
    def parse(cls, text: str) -> Cues:
        items = text.split()
        return cls(
            words=frozenset(i for i in items if not i.endswith("*") and not i.startswith(":")),
            stems=tuple(i[:-1] for i in items if i.endswith("*")),
            features=frozenset(i[1:] for i in items if i.startswith(":")),
        )


@dataclass(frozen=True, eq=False)
class SenseEntry:
    """A sense with the evidence the chooser weighs."""

    sense: Sense
    number: int  #: 1-based rank within its abbreviation, for ``abbreviations:pt#2``
    cues: Cues
    case_likelihood: Mapping[str, float]  #: P(case class | sense), smoothed

    def prior_for(self, form: str) -> float:
        """Unnormalised P(sense | written form): prior share times the case likelihood."""
        return self.sense.frequency * self.case_likelihood[case_class(form)]


@dataclass(frozen=True)
class Inventory:
    """All senses by lookup key, and the English words that abbreviations must be told from."""

    version: str
    senses: Mapping[str, tuple[SenseEntry, ...]]
    english: frozenset[str]


def _case_likelihood(forms: str) -> Mapping[str, float]:
    counts = dict.fromkeys(CASE_CLASSES, 0)
    for item in filter(None, forms.split("|")):
        form, _, number = item.rpartition(":")
        counts[case_class(form)] += int(number)
    total = sum(counts.values()) + _SMOOTHING * len(CASE_CLASSES)
    return MappingProxyType({c: (n + _SMOOTHING) / total for c, n in counts.items()})


def parse_inventory(text: str) -> tuple[str, dict[str, tuple[SenseEntry, ...]]]:
    """The version and the senses of an ``abbreviations.tsv`` text."""
    version = ""
    by_key: dict[str, list[SenseEntry]] = {}
    header: list[str] = []
    for line in text.splitlines():
        if line.startswith("# version:"):
            version = line.split(":", 1)[1].strip()
        if line.startswith("#") or not line.strip():
            continue
        if not header:
            header = line.split("\t")
            continue
        row = dict(zip(header, line.split("\t"), strict=True))
        entries = by_key.setdefault(row["abbreviation"], [])
        sense = Sense(row["abbreviation"], row["long_form"], row["lay"], float(row["frequency"]))
        cues = Cues.parse(row["cues"])
        entries.append(SenseEntry(sense, len(entries) + 1, cues, _case_likelihood(row["forms"])))
    return version, {key: tuple(entries) for key, entries in by_key.items()}


def _read(name: str) -> str:
    return resources.files("chartkeeper.language").joinpath("data", name).read_text("utf-8")


@cache
def load_inventory() -> Inventory:
    """The shipped inventory (parsed on first use, then cached for the process)."""
    version, senses = parse_inventory(_read("abbreviations.tsv"))
    lines = _read("abbreviation_english_words.txt").splitlines()
    words = frozenset(w.strip() for w in lines if w.strip() and not w.startswith("#"))
    return Inventory(version, MappingProxyType(senses), words | {"a", "i"})
