"""Clinical text as words with character offsets, abbreviations expanded and negation marked.

The input side of ``suggest``: every word keeps the span it came from, so each code suggestion
can show the exact text it rests on.

1. The text is split into sentences (``. ; : ! ?`` and line ends) and words. Common clinical
   abbreviations are expanded in place (``HTN`` → hypertension); every word of an expansion
   keeps the abbreviation's span and knows the expansion's size, so a matcher can insist that
   a term use all of it ("RA" is no evidence for "rheumatic").
2. Negation, NegEx-style (Chapman et al. 2001): a trigger (``no``, ``denies``, ``without``,
   ``negative for``, ``ruled out``...) negates up to six following words of its sentence
   (``PE was ruled out``, ``unlikely``: the six before), stopping at ``but``/``however``. A
   word records its trigger rather than being dropped, because a term may say the trigger
   itself ("Type 2 diabetes mellitus without complications").
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

#: Abbreviations that matter for coding, and what they stand for in ICD-10-CM's words. A
#: term must use all of an expansion's words to count it, except those in parentheses.
ABBREVIATIONS: dict[str, str] = {
    "htn": "hypertension",
    "dm": "diabetes mellitus",
    "dm1": "type 1 diabetes mellitus",
    "t1dm": "type 1 diabetes mellitus",
    "dm2": "type 2 diabetes mellitus",
    "t2dm": "type 2 diabetes mellitus",
    "niddm": "type 2 diabetes mellitus",
    "chf": "(congestive) heart failure",
    "hf": "heart failure",
    "copd": "chronic obstructive pulmonary disease",
    "ckd": "chronic kidney disease",
    "esrd": "end stage renal disease",
    "aki": "acute kidney failure",
    "mi": "myocardial infarction",
    "ami": "acute myocardial infarction",
    "afib": "atrial fibrillation",
    "cad": "coronary artery disease",
    "gerd": "gastro esophageal reflux disease",
    "uti": "urinary tract infection",
    "pna": "pneumonia",
    "uri": "(acute) upper respiratory infection",
    "oa": "osteoarthritis",
    "ra": "rheumatoid arthritis",
    "hld": "hyperlipidemia",
    "osa": "obstructive sleep apnea",
    "bph": "benign prostatic hyperplasia",
    "pe": "pulmonary embolism",
    "dvt": "deep vein thrombosis",
    "tia": "transient cerebral ischemic attack",
    "sob": "shortness of breath",
    "luts": "lower urinary tract symptoms",
}
#: Negation triggers before (pre) and after (post) what they negate, as word sequences.
PRE_TRIGGERS: tuple[tuple[str, ...], ...] = (
    ("negative", "for"),
    ("ruled", "out"),
    ("rule", "out"),
    ("r", "o"),
    ("free", "of"),
    ("absence", "of"),
    ("no",),
    ("not",),
    ("denies",),
    ("denied",),
    ("denying",),
    ("without",),
)
POST_TRIGGERS: tuple[tuple[str, ...], ...] = (("unlikely",), ("excluded",))
#: "no change in", "not only": a trigger word that negates nothing.
PSEUDO = frozenset({("no", "change"), ("no", "increase"), ("not", "only"), ("no", "further")})
TERMINATORS = frozenset({"but", "however", "although", "though", "except", "apart", "aside"})
SCOPE = 6
#: Function words: shared with term parsing, and not counted in an expansion's size.
STOPWORDS = frozenset(
    {"a", "an", "and", "as", "at", "by", "due", "for", "from", "in", "into", "of", "on", "or"}
    | {"the", "to", "with", "pt", "patient", "hx", "history", "involving", "classified"}
    | {"elsewhere"}
)
SENTENCE = re.compile(r"[^.;:!?\n]+")
TOKEN = re.compile(r"[^\W_]+")


@dataclass(frozen=True, slots=True)
class Token:
    """One word of the text (or of an abbreviation's expansion) and the span it came from."""

    word: str
    start: int
    end: int
    #: Position of the source word in its sentence: an expansion's words share it.
    pos: int
    #: Content words the span stands for (an abbreviation's expansion: all or none count).
    size: int = 1
    negated_by: str | None = None


def fold(word: str) -> str:
    """Lower-case ASCII, so text and code terms compare whatever their accents."""
    return unicodedata.normalize("NFKD", word).encode("ascii", "ignore").decode().lower()


def sentences(text: str) -> list[list[Token]]:
    """Tokens per sentence, each marked with the trigger that negates it, if any."""
    result: list[list[Token]] = []
    for match in SENTENCE.finditer(text):
        tokens = _tokens(match.group(), match.start())
        negated = _negations(tokens)
        result.append(
            [Token(t.word, t.start, t.end, t.pos, t.size, negated.get(t.pos)) for t in tokens]
        )
    return [s for s in result if s]


def _tokens(sentence: str, offset: int) -> list[Token]:
    """The words of one sentence, abbreviations expanded in place."""
    found: list[Token] = []
    for pos, match in enumerate(TOKEN.finditer(sentence)):
        start, end = offset + match.start(), offset + match.end()
        word = fold(match.group())
        parts = ABBREVIATIONS.get(word, word).split()
        size = sum(1 for part in parts if part not in STOPWORDS and "(" not in part)
        found += [Token(part.strip("()"), start, end, pos, size) for part in parts]
    return found


def _starts(words: list[str], at: int, phrase: tuple[str, ...]) -> bool:
    return tuple(words[at : at + len(phrase)]) == phrase


def _negations(tokens: list[Token]) -> dict[int, str]:
    """Position → the trigger word that negates it (NegEx-style scopes)."""
    words = [t.word for t in tokens]
    negated: dict[int, str] = {}
    for at in range(len(words)):
        after_verb = at > 0 and words[at - 1] in {"was", "is", "been", "were"}
        for phrase in PRE_TRIGGERS:
            if not _starts(words, at, phrase) or tuple(words[at : at + 2]) in PSEUDO:
                continue
            after = range(at + len(phrase), len(tokens))
            if phrase[-1] == "out" and (after_verb or not after):  # "PE (was) ruled out"
                _scope(tokens, range(at - 1, -1, -1), phrase[0], negated)
            else:
                _scope(tokens, after, phrase[0], negated)
            break
        for phrase in POST_TRIGGERS:
            if _starts(words, at, phrase):
                _scope(tokens, range(at - 1, -1, -1), phrase[0], negated)
                break
    return negated


def _scope(tokens: list[Token], order: Iterable[int], trigger: str, into: dict[int, str]) -> None:
    """Mark up to ``SCOPE`` source words in ``order`` as negated, stopping at a terminator."""
    seen: set[int] = set()
    for n in order:
        token = tokens[n]
        if token.word in TERMINATORS:
            return
        seen.add(token.pos)
        if len(seen) > SCOPE:
            return
        into.setdefault(token.pos, trigger)
