"""Search and autocomplete over one code set version, in memory.

Each code is indexed by the words of its title and (ICD-10-CM) its inclusion terms; every
query word must be the start of some word of the code (``frac fem`` finds "Fracture of ...
femur"). A query that looks like a code matches codes by prefix. Titles that match rank before
matches through inclusion terms only, then shorter (less specific) codes, then code order.

The words are sorted and their posting lists laid end to end in one numpy array, so the codes
of every word starting with a prefix are one contiguous slice: a query is a few vectorised
mask operations, well under the 5 ms p99 the issue asks for (bench/code_search.py).
"""

from __future__ import annotations

import bisect
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

if TYPE_CHECKING:
    from chartkeeper.billing.codes.registry import StoredCode

WORD = re.compile(r"[a-z0-9]+")
#: A code or the start of one: 2 to 8 characters with a digit ("E11.", "0DT", "J18").
CODE_LIKE = re.compile(r"^(?=.*\d)[A-Za-z0-9][0-9A-Za-z.]{1,7}$")


def words(text: str) -> list[str]:
    """Lower-case ASCII words of ``text``."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode().lower()
    return WORD.findall(folded)


@dataclass(frozen=True, slots=True)
class Hit:
    """One match: the code, its title, whether it can be billed, and the matching term."""

    code: str
    display: str
    billable: bool
    matched: str


@dataclass(frozen=True, slots=True)
class Page:
    """A page of hits and the number of all matches."""

    hits: list[Hit]
    total: int


class _Postings:
    """Sorted words and their documents, laid end to end (word n: flat[start[n]:start[n+1]])."""

    def __init__(self, documents: Sequence[Sequence[str]]) -> None:
        by_word: dict[str, list[int]] = {}
        for doc, found in enumerate(documents):
            for word in set(found):
                by_word.setdefault(word, []).append(doc)
        self.vocabulary = sorted(by_word)
        sizes = [len(by_word[w]) for w in self.vocabulary]
        self.start = np.concatenate(([0], np.cumsum(sizes, dtype=np.int64)))
        flat = [doc for w in self.vocabulary for doc in by_word[w]]
        self.flat = np.asarray(flat, dtype=np.int32)

    def mask(self, prefix: str, size: int) -> npt.NDArray[np.bool_]:
        """True for every document with a word starting with ``prefix``."""
        lo = bisect.bisect_left(self.vocabulary, prefix)
        hi = bisect.bisect_left(self.vocabulary, prefix + "\uffff", lo)
        found = np.zeros(size, dtype=np.bool_)
        found[self.flat[self.start[lo] : self.start[hi]]] = True
        return found


class SearchIndex:
    """An immutable word index over the codes of one version (sections and chapters left out)."""

    def __init__(self, stored: Sequence[StoredCode]) -> None:
        docs = sorted(
            (s for s in stored if "level" not in s.extra), key=lambda s: (len(s.code), s.code)
        )
        self.codes = [s.code for s in docs]
        self.titles = [s.display for s in docs]
        self.billable = np.asarray([s.billable for s in docs], dtype=np.bool_)
        self.terms: list[list[str]] = [list(s.extra.get("inclusion", [])) for s in docs]
        title_words = [words(s.display) for s in docs]
        self.title_index = _Postings(title_words)
        self.all_index = _Postings(
            [
                t + [w for term in self.terms[n] for w in words(term)]
                for n, t in enumerate(title_words)
            ]
        )
        self.by_code = sorted(range(len(docs)), key=lambda n: self.codes[n])
        self.sorted_codes = [self.codes[n] for n in self.by_code]
        self.sorted_titles = [self.titles[n] for n in self.by_code]

    def __len__(self) -> int:
        return len(self.codes)

    def search(self, query: str, limit: int = 20, billable_only: bool = False) -> Page:
        """The best ``limit`` matches of ``query``."""
        if CODE_LIKE.match(query.strip()):
            page = self._by_code(query.strip().upper().replace(".", ""), limit, billable_only)
            if page.hits:
                return page
        terms = sorted(set(words(query)))
        if not terms:
            return Page([], 0)
        size = len(self.codes)
        titled = np.ones(size, dtype=np.bool_)
        matched = np.ones(size, dtype=np.bool_)
        for term in terms:
            titled &= self.title_index.mask(term, size)
            matched &= self.all_index.mask(term, size)
        if billable_only:
            titled &= self.billable
            matched &= self.billable
        first = np.flatnonzero(titled)[:limit]
        rest = np.flatnonzero(matched & ~titled)[: max(limit - len(first), 0)]
        hits = [self._hit(int(d), self.titles[d]) for d in first]
        hits += [self._hit(int(d), self._term(int(d), terms)) for d in rest]
        return Page(hits, int(matched.sum()))

    def _by_code(self, prefix: str, limit: int, billable_only: bool) -> Page:
        lo = bisect.bisect_left(self.sorted_codes, prefix)
        hi = bisect.bisect_left(self.sorted_codes, prefix + "\uffff", lo)
        docs = sorted(self.by_code[lo:hi])
        if billable_only:
            docs = [d for d in docs if self.billable[d]]
        return Page([self._hit(d, self.codes[d]) for d in docs[:limit]], len(docs))

    def _term(self, doc: int, terms: list[str]) -> str:
        """The inclusion term that matched ``terms``."""
        for term in self.terms[doc]:
            found = words(term)
            if all(any(w.startswith(t) for w in found) for t in terms):
                return term
        return self.titles[doc]

    def _hit(self, doc: int, matched: str) -> Hit:
        return Hit(self.codes[doc], self.titles[doc], bool(self.billable[doc]), matched)

    def describe(self) -> dict[str, Any]:
        """Size figures, for the bench and the docs."""
        return {"codes": len(self.codes), "words": len(self.all_index.vocabulary)}
