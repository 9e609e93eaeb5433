"""Chart search: ranked full-text search across one patient's record (docs/chart-search.md).

A query becomes terms; each term is widened with its abbreviation and synonym variants in both
directions ("MI" also looks for "myocardial infarction", and the reverse), so the store is asked
for every term (AND) with any of its variants (OR), the last word as a prefix as ``_content``
does. The store ranks the patient's matching resources; this module then cuts a snippet around
the best match of each and marks every variant found in it. Patient data is reached only
through the guarded context (``Services.for_actor``): hidden rows are filtered in SQL and the
search is audited there.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from typing import Any, cast

from chartkeeper.fhir.indexing import content, narrative
from chartkeeper.fhir.interactions.context import FhirContext
from chartkeeper.fhir.interactions.read import found
from chartkeeper.fhir.repository import ChartMatch, TextPhrase, TextQuery
from chartkeeper.fhir.text import normalize
from chartkeeper.summary.chart_elements import when

#: Words as both full-text stores split them (letters and digits; ``_`` separates).
WORD = re.compile(r"[^\W_]+")
_QUOTED = re.compile(r'"([^"]*)"?')
#: words joined by slashes ("h/o", "d/c", "s/p"): one token to PostgreSQL's text parser
SLASHED = re.compile(r"[^\W_]+(?:/[^\W_]+)+")
MAX_QUERY_CHARS = 200
MAX_TERMS = 12
#: the longest run of typed words looked up as one long form ("chronic obstructive ...")
MAX_SPAN_WORDS = 5
MAX_VARIANTS = 8
DEFAULT_LIMIT = 20
MAX_LIMIT = 100
SNIPPET_CHARS = 180
_LEAD_CHARS = 50

#: ``phrase -> its variants`` (lower case, both directions); ``language.abbreviations.variants``
Variants = Callable[[str], frozenset[str]]


def default_variants() -> Variants:
    """The shipped abbreviation/synonym table (``language.abbreviations.variants``), imported
    when first needed as it loads data; without it, terms are searched as typed."""
    try:
        from chartkeeper.language import abbreviations
    except ImportError:
        return no_variants
    found = getattr(abbreviations, "variants", None)
    return cast(Variants, found) if callable(found) else no_variants


def no_variants(_phrase: str) -> frozenset[str]:
    """No abbreviation or synonym: every term as typed."""
    return frozenset()


# -- the query ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Term:
    """One thing the user asked for: what they typed, the variants the table added ("MI" →
    "myocardial infarction"), and the phrases that satisfy it (the typed words first)."""

    typed: str
    phrases: tuple[TextPhrase, ...]
    variants: tuple[str, ...] = ()


@dataclass(frozen=True)
class ChartQuery:
    """A parsed query: every term must match."""

    text: str
    terms: tuple[Term, ...]

    @property
    def groups(self) -> TextQuery:
        return tuple(term.phrases for term in self.terms)


def words_of(text: str) -> tuple[str, ...]:
    """The lower-cased words of ``text`` (the stores fold accents themselves, or not at all,
    as ``_content`` does)."""
    return tuple(WORD.findall(text.lower()))


def parse_query(text: str, variants: Variants) -> ChartQuery:
    """Terms of ``text``: a double-quoted phrase is one term; other words are looked up as the
    longest run that has variants ("myocardial infarction"), else one word each. The last
    term is matched as a prefix when it is one typed word of two or more characters without
    variants (a one-character prefix matches nearly everything, and costs the most).
    Operators and punctuation mean nothing: only words reach the store."""
    text = text[:MAX_QUERY_CHARS]
    terms: list[tuple[Term, bool]] = []
    for chunk, quoted in _chunks(text):
        if quoted:
            words = words_of(chunk)
            if words:
                terms.append((_term(chunk, words, variants), False))
            continue
        terms += [(term, True) for term in _unquoted_terms(chunk, variants)]
    terms = terms[:MAX_TERMS]
    if terms:
        last, unquoted = terms[-1]
        words = last.phrases[0].words
        if unquoted and len(last.phrases) == 1 and len(words) == 1 and len(words[0]) > 1:
            terms[-1] = (Term(last.typed, (TextPhrase(last.phrases[0].words, True),)), True)
    return ChartQuery(text, tuple(term for term, _ in terms))


def _chunks(text: str) -> Iterator[tuple[str, bool]]:
    """The text between double quotes (an unclosed quote runs to the end) and outside them."""
    position = 0
    for match in _QUOTED.finditer(text):
        yield text[position : match.start()], False
        yield match.group(1), True
        position = match.end()
    yield text[position:], False


def _unquoted_terms(chunk: str, variants: Variants) -> list[Term]:
    spans = [(m.start(), m.end()) for m in WORD.finditer(chunk)]
    terms: list[Term] = []
    index = 0
    while index < len(spans):
        for size in range(min(MAX_SPAN_WORDS, len(spans) - index), 0, -1):
            typed = chunk[spans[index][0] : spans[index + size - 1][1]]
            term = _term(typed, words_of(typed), variants)
            if size == 1 or len(term.phrases) > 1:
                terms.append(term)
                index += size
                break
    return terms


def _term(typed: str, words: tuple[str, ...], variants: Variants) -> Term:
    phrases = [TextPhrase(words), *_slashed(typed)]
    added: list[str] = []
    for variant in sorted(variants(" ".join(typed.lower().split()))):
        forms = [TextPhrase(words_of(variant)), *_slashed(variant)]
        new = [f for f in forms if f.words and f not in phrases]
        if new and len(added) < MAX_VARIANTS:
            phrases += new
            added.append(variant)
    return Term(" ".join(typed.split()), tuple(phrases), tuple(added))


def _slashed(text: str) -> list[TextPhrase]:
    """ "h/o" as one word too: PostgreSQL's parser keeps it as one token ("file"), where FTS5
    sees the two words "h o"."""
    form = text.strip().lower()
    return [TextPhrase((form,))] if SLASHED.fullmatch(form) else []


# -- snippets and highlights ------------------------------------------------------------------


@dataclass(frozen=True)
class Snippet:
    """A window of a resource's text and the ``[start, end)`` character offsets (Unicode code
    points) of every matched variant in it."""

    text: str
    highlights: tuple[tuple[int, int], ...]


@dataclass(frozen=True)
class _Found:
    start: int
    end: int
    term: int


def searchable_text(resource: dict[str, Any]) -> str:
    """What chart search looks in, as one line: the narrative, then the content (note text,
    coded displays and the other strings ``_content`` indexes)."""
    return " ".join(f"{narrative(resource)} {content(resource)}".split())


def find_matches(text: str, query: ChartQuery) -> list[_Found]:
    """Where each term's phrases occur in ``text``, word by word, accents and case folded."""
    tokens = [(m.start(), m.end(), _fold(m.group())) for m in WORD.finditer(text)]
    folded = [t[2] for t in tokens]
    hits: list[_Found] = []
    for number, term in enumerate(query.terms):
        for phrase in term.phrases:
            words = [_fold(w) for w in phrase.words]
            for i in _phrase_starts(folded, words, phrase.prefix):
                hits.append(_Found(tokens[i][0], tokens[i + len(words) - 1][1], number))
    return sorted(hits, key=lambda f: (f.start, -f.end))


def _fold(word: str) -> str:
    """``normalize`` for one word, skipping Unicode decomposition for plain ASCII (most)."""
    return word.lower() if word.isascii() else normalize(word)


def _phrase_starts(folded: list[str], words: list[str], prefix: bool) -> Iterator[int]:
    size = len(words)
    for i in range(len(folded) - size + 1):
        window = folded[i : i + size]
        if window[:-1] != words[:-1]:
            continue
        last, wanted = window[-1], words[-1]
        if last == wanted or (prefix and last.startswith(wanted)):
            yield i


def build_snippet(text: str, query: ChartQuery, width: int = SNIPPET_CHARS) -> Snippet:
    """The window of ``text`` holding the most distinct terms (then the most matches, then
    the earliest), cut at spaces, with its highlights."""
    matches = find_matches(text, query)
    if not matches:
        return Snippet(_clip(text, 0, width)[0], ())
    start, end = _best_window(text, matches, width)
    clipped, shift = _clip(text, start, end - start)
    marks = [(m.start - start + shift, m.end - start + shift) for m in matches]
    inside = [(a, b) for a, b in marks if a >= shift and b <= shift + end - start]
    return Snippet(clipped, _merged(inside))


#: Matches a snippet window is chosen among: the best window is searched among the first ones,
#: so a common word in a long note costs a bounded time, not the square of its count.
_WINDOW_CANDIDATES = 200


def _best_window(text: str, matches: list[_Found], width: int) -> tuple[int, int]:
    best: tuple[int, int, int] | None = None
    matches = matches[:_WINDOW_CANDIDATES]
    for anchor in matches:
        start = max(0, min(anchor.start - _LEAD_CHARS, len(text) - width))
        inside = [m for m in matches if m.start >= start and m.end <= start + width]
        score = (len({m.term for m in inside}), len(inside), -start)
        if best is None or score > best:
            best = score
    assert best is not None
    start = -best[2]
    if start > 0:  # begin at a word
        space = text.find(" ", start, start + 20)
        first = min(m.start for m in matches if m.start >= start)
        start = space + 1 if 0 <= space < first else start
    end = min(len(text), start + width)
    if end < len(text):  # end at a word, keeping every match that fits
        space = text.rfind(" ", start, end)
        last_end = max((m.end for m in matches if m.start >= start and m.end <= end), default=0)
        end = space if space >= last_end else end
    return start, end


def _clip(text: str, start: int, width: int) -> tuple[str, int]:
    """``text[start:start+width]`` with an ellipsis where it was cut; and how far the cut text
    moved right (1 when it starts with an ellipsis)."""
    end = min(len(text), start + width)
    lead = "…" if start > 0 else ""
    tail = "…" if end < len(text) else ""
    return f"{lead}{text[start:end]}{tail}", len(lead)


def _merged(marks: list[tuple[int, int]]) -> tuple[tuple[int, int], ...]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(marks):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return tuple(merged)


# -- titles and dates ---------------------------------------------------------------------------

_TITLE_FIELDS = ("code", "type", "vaccineCode", "medicationCodeableConcept", "category")
_DATE_FIELDS = (
    "effectiveDateTime", "date", "onsetDateTime", "authoredOn", "recordedDate",
    "occurrenceDateTime", "performedDateTime", "issued", "created", "birthDate",
)  # fmt: skip
_PERIOD_FIELDS = ("effectivePeriod", "period", "performedPeriod")


def concept_text(concept: Any) -> str:
    """The human text of a CodeableConcept (or the first of a list of them)."""
    if isinstance(concept, list):
        concept = concept[0] if concept else None
    if not isinstance(concept, dict):
        return ""
    if isinstance(concept.get("text"), str):
        return str(concept["text"])
    for coding in concept.get("coding") or []:
        if isinstance(coding, dict) and isinstance(coding.get("display"), str):
            return str(coding["display"])
    return ""


def title_of(resource: dict[str, Any]) -> str:
    """A short human title: the coded display (or a Patient's name), else the type."""
    if resource.get("resourceType") == "Patient":
        names = resource.get("name") or [{}]
        name = names[0] if isinstance(names[0], dict) else {}
        given = " ".join(g for g in name.get("given") or [] if isinstance(g, str))
        return f"{name.get('family', '')}, {given}".strip(", ") or "Patient"
    for field in _TITLE_FIELDS:
        text = concept_text(resource.get(field))
        if text:
            return text
    description = resource.get("description")
    return description if isinstance(description, str) else str(resource.get("resourceType"))


def date_of(resource: dict[str, Any]) -> str | None:
    """The clinically relevant date, as recorded (ISO 8601), if the resource has one: a
    date element first, then a period's start."""
    return when(resource, *_DATE_FIELDS) or when(resource, *_PERIOD_FIELDS) or None


# -- the guarded call ---------------------------------------------------------------------------


@dataclass(frozen=True)
class ChartHit:
    """One resource found, ready to show."""

    reference: str
    resource_type: str
    title: str
    date: str | None
    score: float
    snippet: Snippet


@dataclass(frozen=True)
class ChartResults:
    """The answer to one chart search: the best hits and how many resources matched."""

    patient_id: str
    query: ChartQuery
    hits: tuple[ChartHit, ...]
    total: int


def hit_of(match: ChartMatch, query: ChartQuery) -> ChartHit:
    """A store match as a hit with its title, date and snippet."""
    resource = match.stored.resource()
    return ChartHit(
        reference=f"{match.stored.resource_type}/{match.stored.id}",
        resource_type=match.stored.resource_type,
        title=title_of(resource),
        date=date_of(resource),
        score=match.score,
        snippet=build_snippet(searchable_text(resource), query),
    )


def search_chart(
    ctx: FhirContext,
    patient_id: str,
    text: str,
    limit: int = DEFAULT_LIMIT,
    variants: Variants | None = None,
) -> ChartResults:
    """Search one patient's chart as the context's actor.

    The Patient is read first, through the guard: a patient the actor may not see answers
    404 exactly as a missing one does. The search itself is filtered and audited by the
    guard like any FHIR search."""
    query = parse_query(text, variants or default_variants())
    limit = max(1, min(limit, MAX_LIMIT))
    with ctx.repository.reading() as tx:
        found("Patient", patient_id, tx.read("Patient", patient_id))
        if not query.terms:
            return ChartResults(patient_id, query, (), 0)
        matches, total = tx.chart_search(patient_id, query.groups, limit)
    return ChartResults(patient_id, query, tuple(hit_of(m, query) for m in matches), total)
