"""Explained notes read at US grade 8 or below (median) on three corpora.

* the demo hospital's notes (generated here: ED notes, H&Ps, progress notes, discharge
  summaries and clinic notes);
* the nursing notes of the PhysioNet deidentified-notes corpus, ``../shared/data/deid/
  physionet-deid-1.1/id.text`` (records between "START_OF_RECORD=...||||" and
  "||||END_OF_RECORD" lines);
* Synthea: the 2019 R4 bundles in ``../shared`` carry no clinical notes (no DocumentReference,
  no presentedForm), so the narratives they do carry, the CarePlans' generated text, stand in.

The shared corpora skip cleanly when ``../shared`` is absent.
"""

from __future__ import annotations

import base64
import html
import json
import re
import statistics
import tarfile
from collections import Counter
from collections.abc import Callable
from pathlib import Path

from chartkeeper.demo.generator import generate_hospital
from chartkeeper.language.context import cues
from chartkeeper.language.explain import explain_text
from chartkeeper.language.model import Explanation
from chartkeeper.language.sentences import sentence_spans

GRADE_LIMIT = 8.0
RECORD = re.compile(r"START_OF_RECORD=[^\n]*\n(.*?)\|\|\|\|END_OF_RECORD", re.DOTALL)


def demo_notes(patients: int = 12) -> list[str]:
    notes: list[str] = []
    for bundle in generate_hospital(patients):
        for entry in bundle["entry"]:
            resource = entry["resource"]
            if resource["resourceType"] == "DocumentReference":
                data = resource["content"][0]["attachment"]["data"]
                notes.append(base64.b64decode(data).decode("utf-8"))
    return notes


def nursing_notes(path: Path) -> list[str]:
    return [match.group(1).strip() for match in RECORD.finditer(path.read_text("utf-8"))]


def care_plan_texts(archive: Path, bundles: int = 60) -> list[str]:
    texts: list[str] = []
    with tarfile.open(archive, "r:xz") as tar:
        for count, member in enumerate(m for m in tar if m.name.endswith(".json")):
            if count >= bundles:
                break
            handle = tar.extractfile(member)
            if handle is None:
                continue
            for entry in json.load(handle)["entry"]:
                resource = entry["resource"]
                if resource["resourceType"] == "CarePlan" and "text" in resource:
                    div = re.sub(r"<br\s*/?>|</li>", "\n", resource["text"]["div"])
                    texts.append(html.unescape(re.sub(r"<[^>]+>", "", div)).strip())
    return texts


def median_grades(notes: list[str]) -> tuple[float, float, list[Explanation]]:
    explained = [explain_text(note) for note in notes]
    before = statistics.median(e.grade_original.flesch_kincaid for e in explained)
    after = statistics.median(e.grade_explained.flesch_kincaid for e in explained)
    return before, after, explained


def test_demo_notes_explained_read_at_grade_8_or_below() -> None:
    notes = demo_notes()
    assert len(notes) >= 40
    _, after, explained = median_grades(notes)
    assert after <= GRADE_LIMIT
    assert statistics.median(e.grade_explained.second for e in explained) <= GRADE_LIMIT + 1


def test_nursing_notes_explained_read_at_grade_8_or_below(
    require_shared: Callable[..., Path],
) -> None:
    path = require_shared("data", "deid", "physionet-deid-1.1", "id.text")
    notes = nursing_notes(path)
    assert len(notes) > 800  # the record markers were found
    _, after, explained = median_grades(notes)
    assert after <= GRADE_LIMIT
    assert all(e.text for e, note in zip(explained, notes, strict=True) if note.strip())


def test_synthea_care_plan_texts_explained_read_at_grade_8_or_below(
    require_shared: Callable[..., Path],
) -> None:
    archive = require_shared("data", "synthea", "r4", "synthea_r4_part1.tar.xz")
    texts = care_plan_texts(archive)
    assert len(texts) >= 50
    before, after, _ = median_grades(texts)
    assert after <= GRADE_LIMIT < before


def lost_cues(notes: list[str]) -> tuple[int, list[tuple[str, str]]]:
    """Each sentence with a cue, explained alone: the cues of every kind it had are still there
    (as many of each). Returns how many sentences were checked and those that lost one."""
    checked, lost = 0, []
    for note in notes:
        for span in sentence_spans(note, semicolons=True):
            sentence = note[span.start : span.end]
            before = Counter(c.kind for c in cues(sentence) if c.scope_end > c.scope_start)
            if not before:
                continue
            checked += 1
            text = explain_text(sentence).text
            after = Counter(c.kind for c in cues(text) if c.scope_end > c.scope_start)
            if any(after[kind] < count for kind, count in before.items()):
                lost.append((sentence, text))
    return checked, lost


def test_no_cue_is_lost_in_the_demo_notes() -> None:
    checked, lost = lost_cues(demo_notes())
    assert checked >= 200
    assert lost == []


def test_no_cue_is_lost_in_the_nursing_notes(require_shared: Callable[..., Path]) -> None:
    path = require_shared("data", "deid", "physionet-deid-1.1", "id.text")
    checked, lost = lost_cues(nursing_notes(path))
    assert checked >= 2000
    assert lost == []
