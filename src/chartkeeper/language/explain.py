"""Plain-language explanations of clinical notes for patients, beside the original.

The note is cut into sentences (a ";" ends one too); each context trigger is rewritten into
plain words that keep its meaning ("denies" -> "reports no", "r/o" -> "checking for
possible", "s/p" -> "has had"); abbreviations take the lay wording of the sense the finder
chose, and those it could not decide stay as written and are flagged; medical terms take their
lay wording (``lay_terms``); long sentences are split where no cue's scope crosses. A trigger
is never dropped: a trigger without a rewrite stays as written, and no abbreviation or term
replacement may overlap one. Every replaced phrase has a span with its offsets in the original.
"""

from __future__ import annotations

import re
from bisect import bisect_left
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, replace
from functools import lru_cache

from chartkeeper.language.context import cues
from chartkeeper.language.lay_terms import find_lay_terms, vocabulary
from chartkeeper.language.model import AbbreviationMatch, Cue, Explanation, Span
from chartkeeper.language.readability import readability
from chartkeeper.language.sentences import LINE_BREAK, SentenceSpan, sentence_spans, split_points

Finder = Callable[[str], list[AbbreviationMatch]]

#: Plain words for triggers: "written | written ... = plain", the trigger as written in lower
#: case with single spaces. Each plain wording is a trigger of the same kind (a test checks).
_TRIGGER_TABLE = """
denies | deny | denies any | deny any = reports no
denied | denied any = reported no
denying | denying any = reporting no
w/o = without
negative for | neg for | absence of | free of = no sign of
neg = negative
absent | is absent | are absent | was absent | were absent = not present
excluded | is excluded | was excluded | has been excluded = ruled out
fails to reveal | fail to reveal | fails to show | fail to show = did not show
is neg = is negative
was neg = was negative
non | non- = not
r/o'd for | ruled out for = ruled out for
r/o | r/o for | rule out | rule out for | rule-out | to rule out | ruling out | eval for \
  | evaluate for | evaluation for | w/u for | workup for | work-up for | work up for \
  = checking for possible
cannot rule out | can not rule out | can't rule out | cant rule out | cannot r/o | can't r/o \
  | cannot exclude | can not exclude | can't exclude | cannot be ruled out \
  | cannot be excluded | suspect | suspected | suspected for | suspicion of | suspicion for \
  | concern for | concerning for | concern of | questionable | question of = possible
not ruled out | not been ruled out | has not been ruled out | not excluded = still possible
suspicious for | worrisome for = possible
suggestive of = that may be
suggests | suggest | suggesting = may mean
presumed | presumably = likely
probable | probably = likely
doubt | unlikely = not likely
versus | vs | vs. = or possible
ddx | differential includes | differential of | differential diagnosis includes \
  = possible causes include
fh | fhx | fh of | fhx of | fam hx | fam hx of | family hx | family hx of = family history of
h/o | hx of | history of | known history of | known hx of = a history of
s/p | status post = has had
pmh | pmhx | past medical history | past medical hx = past health
psh | pshx | past surgical history | past surgical hx = past surgery
remote | previous = past
previously | formerly = in the past
in case of | in the event of = if there is
in case | in the event = if
return for | return with = return if
prn = if needed
as needed for = if needed for
"""


def _trigger_words(table: str) -> dict[str, str]:
    words: dict[str, str] = {}
    for line in table.replace("\\\n", " ").strip().splitlines():
        written, plain = line.rsplit("=", 1)
        for form in written.split("|"):
            words[" ".join(form.split())] = plain.strip() + (" " if plain.endswith("not") else "")
    return words


TRIGGER_WORDS = _trigger_words(_TRIGGER_TABLE)


@dataclass(frozen=True)
class _Edit:
    start: int
    end: int
    replacement: str
    kind: str  #: a Span kind ("sentence": a long sentence split here)
    source: str = ""


def _word_set(text: str) -> frozenset[str]:
    return frozenset(text.split())


_ENGLISH = _word_set(
    "the and of to in is was were with for on at not no he she his her has had have this that "
    "be are by from as or an patient pt denies reports states today will than there they"
)
_FOREIGN = _word_set(
    # Spanish, French, German, Portuguese, Italian function words that English never uses
    "el los las del que y en por para con una es está paciente dolor tiene refiere niega sin "
    "le les des et est une dans pour pas du avec sur au aux patiente douleur "
    "der die das und ist nicht mit ein eine zu den dem des sich auf bei schmerzen "
    "não com uma os às nas nos ao il di che sono della nel gli"
)
_LETTERS = re.compile(r"[^\W\d_]+")


def is_english(text: str) -> bool:
    """A heuristic: text in another script, or with more foreign than English function words
    (at least three), is not English. Notes are telegraphic ("Abd: soft, NT"), so the absence
    of English function words alone proves nothing."""
    words = _LETTERS.findall(text[:20_000].lower())
    letters = sum(len(word) for word in words)
    latin = sum(1 for word in words for ch in word if ch < "\u0250")
    if letters and latin < 0.7 * letters:
        return False
    foreign = sum(word in _FOREIGN for word in words)
    english = sum(word in _ENGLISH for word in words)
    return foreign < 3 or foreign <= english


def _default_finder(text: str) -> list[AbbreviationMatch]:
    from chartkeeper.language.abbreviations import find_abbreviations

    return find_abbreviations(text)


CHUNK = 20_000  #: a longer note goes to the finder in pieces of about this size


def _find_in_chunks(finder: Finder, text: str) -> list[AbbreviationMatch]:
    """The finder's matches, asked for line by line group of about ``CHUNK`` characters.

    A finder reads context within a sentence, and a line break that is not a wrapped line
    ends one, so cutting there changes no choice; it keeps a 1 MB note linear whatever the
    finder's own cost per text.
    """
    if len(text) <= CHUNK:
        return finder(text)
    matches: list[AbbreviationMatch] = []
    start = 0
    while start < len(text):
        cut = LINE_BREAK.search(text, min(start + CHUNK, len(text)))
        end = cut.end() if cut else len(text)
        matches += [
            replace(m, start=m.start + start, end=m.end + start) for m in finder(text[start:end])
        ]
        start = end
    return matches


def explain_text(text: str, *, finder: Finder | None = None) -> Explanation:
    """The plain-language explanation of a note (see the module docstring)."""
    if not text.strip():
        empty = readability("")
        return Explanation(text, "", (), readability(text), empty)
    grade = readability(text)
    if not is_english(text):
        return Explanation(text, text, (), grade, grade, ("not-english",))
    found = cues(text)
    matches = _find_in_chunks(finder or _default_finder, text)
    edits, flags = _edits(text, found, matches)
    sentences = sentence_spans(text, semicolons=True)
    edits = _inside_sentences(edits, sentences)
    edits = sorted([*edits, *_breaks(text, sentences, found, edits)], key=lambda e: e.start)
    explained = _assemble(text, sentences, edits)
    spans = tuple(
        Span(e.start, e.end, text[e.start : e.end], e.replacement.strip(), e.kind, e.source)
        for e in edits
    )
    return Explanation(text, explained, spans, grade, readability(explained), tuple(flags))


def _edits(
    text: str, found: Sequence[Cue], matches: Iterable[AbbreviationMatch]
) -> tuple[list[_Edit], list[str]]:
    """Every replacement, overlaps resolved: triggers first, then known phrases (longer first),
    then the flags of unknown abbreviations."""
    triggers = [_trigger_edit(text, cue) for cue in found]
    candidates = [e for e in triggers if e is not None]
    taken = [(cue.start, cue.end) for cue in found]
    flags: list[str] = []
    phrases: list[_Edit] = []
    for match in matches:
        if match.sense is None:
            phrases.append(_Edit(match.start, match.end, match.text, "unknown-abbreviation"))
        else:
            source = f"abbreviations:{match.sense.abbreviation}"
            words = _spaced(text, match.start, match.end, _plainer(match.sense.lay))
            phrases.append(_Edit(match.start, match.end, words, "abbreviation", source))
    version = vocabulary().version
    phrases += [
        _Edit(m.start, m.end, m.lay, "term", f"lay_terms@{version}:{m.line}")
        for m in find_lay_terms(text)
    ]
    # a known word beats a flag; then the longer phrase; then an abbreviation beats a term
    phrases.sort(
        key=lambda e: (e.kind == "unknown-abbreviation", -(e.end - e.start), e.kind, e.start)
    )
    accepted = _non_overlapping(phrases, taken)
    for edit in accepted:
        if edit.kind == "unknown-abbreviation":
            flag = f"unknown-abbreviation:{edit.replacement}"
            if flag not in flags:
                flags.append(flag)
    return sorted(candidates + accepted, key=lambda e: e.start), flags


def _spaced(text: str, start: int, end: int, words: str) -> str:
    """Words for a token glued to its neighbours ("80MG", "3L") get a space on that side."""
    if start > 0 and text[start - 1].isalnum() and words[:1].isalpha():
        words = " " + words
    if end < len(text) and text[end].isalnum() and words[-1:].isalpha():
        words += " "
    return words


_WORD_BEFORE = re.compile(r"\b(?:no|any|a|an|the|his|her|their|some|with no)\s+$", re.IGNORECASE)


@lru_cache(maxsize=4096)
def _plainer(words: str) -> str:
    """An abbreviation's lay wording with its own medical terms in lay words too
    ("clubbing, cyanosis, edema" -> "wide fingertips, bluish skin, swelling"). Wording with a
    gloss in parentheses is already explained ("pneumonia (lung infection)") and stays."""
    return words if "(" in words else _lay_words(words)


def _lay_words(words: str) -> str:
    if "/" in words:  # "normocephalic/atraumatic" are two terms; "micrograms/kilogram" stays
        parts = words.split("/")
        plain = [_lay_words(part) for part in parts]
        return ", ".join(plain) if plain != parts else words
    out, position = [], 0
    for match in find_lay_terms(words):
        out += [words[position : match.start], match.lay]
        position = match.end
    return "".join([*out, words[position:]])


def _non_overlapping(edits: list[_Edit], taken: list[tuple[int, int]]) -> list[_Edit]:
    """Greedy in the given order; no edit may touch the ``taken`` intervals or an earlier one."""
    size = max([0, *(e.end for e in edits), *(end for _, end in taken)])
    occupied = bytearray(size)
    for start, end in taken:
        occupied[start:end] = b"\x01" * (end - start)
    accepted: list[_Edit] = []
    for edit in edits:
        if any(occupied[edit.start : edit.end]):
            continue
        occupied[edit.start : edit.end] = b"\x01" * (edit.end - edit.start)
        accepted.append(edit)
    return accepted


def _trigger_edit(text: str, cue: Cue) -> _Edit | None:
    written = text[cue.start : cue.end]
    key = " ".join(written.lower().split())
    if key == "?":
        hedge = " (possible)" if cue.scope_end <= cue.start else "possible "
        return _Edit(cue.start, cue.end, hedge, "trigger", f"context:{cue.kind}")
    words = TRIGGER_WORDS.get(key)
    if words is None or words == key:
        return None
    if words.startswith("family history") and text[cue.end : cue.end + 1] == ":":
        words = "family history"
    if key == "prn" and cue.scope_end > cue.end:
        words = "if needed for"
    if words.startswith("a ") and _WORD_BEFORE.search(text, max(0, cue.start - 12), cue.start):
        words = words[2:]  # "no h/o MI" -> "no history of", not "no a history of"
    return _Edit(cue.start, cue.end, words, "trigger", f"context:{cue.kind}")


def _inside_sentences(edits: list[_Edit], sentences: list[SentenceSpan]) -> list[_Edit]:
    """Drop the few edits that would cross a sentence end (a term broken over a line)."""
    starts = [s.start for s in sentences]
    kept: list[_Edit] = []
    for edit in edits:
        index = bisect_left(starts, edit.start + 1) - 1
        if index >= 0 and edit.end <= sentences[index].end:
            kept.append(edit)
    return kept


def _breaks(
    text: str, sentences: list[SentenceSpan], found: Sequence[Cue], edits: list[_Edit]
) -> list[_Edit]:
    """Sentence breaks: at safe points of long sentences, and after a replacement whose own
    words open a scope ("NKDA" -> "no known drug allergies") when a list goes on after it."""
    breaks: list[_Edit] = []
    scope_starts = [min(c.start, c.scope_start) for c in found]
    by_start = sorted(range(len(found)), key=lambda n: scope_starts[n])
    ordered = [found[n] for n in by_start]
    starts = sorted(scope_starts)
    edit_starts = [e.start for e in edits]
    for sentence in sentences:
        low = bisect_left(starts, sentence.start)
        high = bisect_left(starts, sentence.end)
        local = ordered[low:high]
        first = bisect_left(edit_starts, sentence.start)
        last = bisect_left(edit_starts, sentence.end)
        points = split_points(text, sentence, local)
        points += _scope_breaks(text, edits[first:last], local)
        breaks += [_Edit(a, b, ". ", "sentence") for a, b in sorted(set(points))]
    return _non_overlapping(breaks, [(e.start, e.end) for e in edits])


_COMMA_AFTER = re.compile(r"\s*,\s*")


def _scope_breaks(text: str, edits: Sequence[_Edit], local: Sequence[Cue]) -> list[tuple[int, int]]:
    points: list[tuple[int, int]] = []
    for edit in edits:
        if edit.kind in ("abbreviation", "term") and _opens_scope(edit.replacement):
            comma = _COMMA_AFTER.match(text, edit.end)
            inside = any(c.scope_start < edit.end < c.scope_end for c in local)
            if comma is not None and not inside:
                points.append((comma.start(), comma.end()))
    return points


@lru_cache(maxsize=4096)
def _opens_scope(words: str) -> bool:
    return any(cue.scope_end > cue.end for cue in cues(f"{words} x"))


def _assemble(text: str, sentences: list[SentenceSpan], edits: list[_Edit]) -> str:
    starts = [e.start for e in edits]
    out: list[str] = []
    for sentence in sentences:
        shouting = _is_shouting(text[sentence.start : sentence.end])
        parts: list[list[str]] = [[]]
        position = sentence.start
        for index in range(bisect_left(starts, sentence.start), len(edits)):
            edit = edits[index]
            if edit.start >= sentence.end:
                break
            parts[-1].append(_fragment(text[position : edit.start], shouting))
            if edit.kind == "sentence":
                parts.append([])
            else:
                parts[-1].append(edit.replacement)
            position = edit.end
        parts[-1].append(_fragment(text[position : sentence.end], shouting))
        finished = [_finish("".join(part)) for part in parts]
        out.append(" ".join(part for part in finished if part))
        out.append("\n" if sentence.line_end else " ")
    return "".join(out).strip()


def _fragment(piece: str, shouting: bool) -> str:
    return piece.lower() if shouting else piece


def _is_shouting(sentence: str) -> bool:
    letters = [ch for ch in sentence if ch.isalpha()]
    return len(letters) >= 8 and sum(ch.isupper() for ch in letters) > 0.6 * len(letters)


_SPACES = re.compile(r"\s+")  # a sentence holds no line break but a wrapped line's
_SPACE_BEFORE_STOP = re.compile(r"\s+([,.;:!?])(?=\s|$)")


def _finish(sentence: str) -> str:
    """Tidy spaces, end with a stop, start with a capital."""
    sentence = _SPACE_BEFORE_STOP.sub(r"\1", _SPACES.sub(" ", sentence)).strip(" ,;")
    if sentence and not sentence.endswith((".", "!", "?", ":")):
        sentence += "."
    return sentence[:1].upper() + sentence[1:]
