"""Plain-language explanations of notes: time per note and readability before and after.

Standalone: `.venv/bin/python bench/explain_speed.py [--quick]` prints the result as JSON;
`run()` is the `explain` section of bench/run.py (issue 6, item 4).

1. **Time per note.** The demo hospital's notes (ED notes, H&Ps, progress notes, discharge
   summaries, clinic notes; generated in process) and, when ``../shared`` is present, the
   nursing notes of PhysioNet's deidentified-notes corpus (``data/deid/physionet-deid-1.1/
   id.text``) and the Synthea CarePlan narratives (the 2019 Synthea bundles have no notes).
   Every note is explained once to warm the caches, then timed one call at a time through
   ``chartkeeper.language.explain.explain_text`` with the shipped abbreviation finder:
   p50 / p95 / max of wall time. Target: a typical (p50) note in 20 ms or less.
2. **Readability.** Median Flesch-Kincaid grade (and Coleman-Liau) of the original notes and
   of their explanations, a line without a stop counting as a sentence in both. Target: the
   explanations' median grade is 8 or below on each corpus.
3. **A 1 MB note.** Demo notes joined to 1 MB, explained once: it must complete.
"""

from __future__ import annotations

import argparse
import base64
import html
import json
import os
import re
import statistics
import tarfile
import time
from typing import Any

from common import SHARED, Row, Section, percentile

from chartkeeper.demo.generator import generate_hospital
from chartkeeper.language.explain import explain_text
from chartkeeper.language.readability import flesch_kincaid_grade

NURSING = SHARED / "data" / "deid" / "physionet-deid-1.1" / "id.text"
SYNTHEA_PART = SHARED / "data" / "synthea" / "r4" / "synthea_r4_part1.tar.xz"
SYNTHEA_BUNDLES = 104
RECORD = re.compile(r"START_OF_RECORD=[^\n]*\n(.*?)\|\|\|\|END_OF_RECORD", re.DOTALL)
PATIENTS = 60
QUICK_PATIENTS = 15
TARGET_MS = 20.0
TARGET_GRADE = 8.0
BIG_NOTE = 1_000_000


def demo_notes(patients: int) -> list[str]:
    """The text of every DocumentReference of a demo hospital of ``patients`` patients."""
    notes = []
    for bundle in generate_hospital(patients):
        for entry in bundle["entry"]:
            resource = entry["resource"]
            if resource["resourceType"] == "DocumentReference":
                data = resource["content"][0]["attachment"]["data"]
                notes.append(base64.b64decode(data).decode("utf-8"))
    return notes


def nursing_notes() -> list[str]:
    """The records of the PhysioNet nursing notes, or none when ../shared is absent."""
    if not NURSING.is_file():
        return []
    return [m.group(1).strip() for m in RECORD.finditer(NURSING.read_text("utf-8"))]


def care_plan_texts() -> list[str]:
    """The CarePlans' generated narratives of Synthea part 1 (the 2019 bundles carry no notes)."""
    if not SYNTHEA_PART.is_file():
        return []
    texts = []
    with tarfile.open(SYNTHEA_PART, "r:xz") as tar:
        for count, member in enumerate(m for m in tar if m.name.endswith(".json")):
            handle = tar.extractfile(member)
            if count >= SYNTHEA_BUNDLES or handle is None:
                break
            for entry in json.load(handle)["entry"]:
                resource = entry["resource"]
                if resource["resourceType"] == "CarePlan" and "text" in resource:
                    div = re.sub(r"<br\s*/?>|</li>", "\n", resource["text"]["div"])
                    texts.append(html.unescape(re.sub(r"<[^>]+>", "", div)).strip())
    return texts


def measure_corpus(notes: list[str]) -> dict[str, Any]:
    """Warm once, then time each note once; grades of the originals and the explanations."""
    for note in notes:
        explain_text(note)
    times, explained = [], []
    for note in notes:
        started = time.perf_counter()
        explained.append(explain_text(note))
        times.append((time.perf_counter() - started) * 1000)
    return {
        "notes": len(notes),
        "chars_median": statistics.median(len(n) for n in notes),
        "p50_ms": percentile(times, 50),
        "p95_ms": percentile(times, 95),
        "max_ms": max(times),
        "fk_before": statistics.median(e.grade_original.flesch_kincaid for e in explained),
        "fk_after": statistics.median(e.grade_explained.flesch_kincaid for e in explained),
        "cli_before": statistics.median(e.grade_original.second for e in explained),
        "cli_after": statistics.median(e.grade_explained.second for e in explained),
        "fk_stops_only_before": statistics.median(flesch_kincaid_grade(n) for n in notes),
        "spans_per_note": statistics.median(len(e.spans) for e in explained),
        "flagged_per_note": statistics.median(len(e.flags) for e in explained),
    }


def measure(quick: bool = False) -> dict[str, Any]:
    """Both corpora, and one 1 MB note."""
    demo = demo_notes(QUICK_PATIENTS if quick else PATIENTS)
    result: dict[str, Any] = {"demo": measure_corpus(demo)}
    nursing = nursing_notes()
    if nursing:
        result["nursing"] = measure_corpus(nursing[:200] if quick else nursing)
    care_plans = care_plan_texts()
    if care_plans:
        result["synthea"] = measure_corpus(care_plans)
    big = "\n\n".join(demo * (BIG_NOTE // sum(len(n) + 2 for n in demo) + 1))[:BIG_NOTE]
    started = time.perf_counter()
    explain_text(big)
    result["big_note_s"] = time.perf_counter() - started
    result["load_average"] = [round(x, 2) for x in os.getloadavg()]
    return result


def _rows(name: str, corpus: dict[str, Any]) -> list[Row]:
    return [
        Row(
            f"explain one {name} note ({corpus['notes']} notes, median "
            f"{corpus['chars_median']:,.0f} characters)",
            f"p50 <= {TARGET_MS:.0f} ms",
            f"p50 {corpus['p50_ms']:.1f} ms, p95 {corpus['p95_ms']:.1f} ms, "
            f"max {corpus['max_ms']:.1f} ms",
            passed=corpus["p50_ms"] <= TARGET_MS,
        ),
        Row(
            f"median Flesch-Kincaid grade of the explained {name} notes",
            f"<= {TARGET_GRADE:.0f}",
            f"{corpus['fk_after']:.1f} (Coleman-Liau {corpus['cli_after']:.1f})",
            f"{corpus['fk_before']:.1f} (CLI {corpus['cli_before']:.1f}) before",
            passed=corpus["fk_after"] <= TARGET_GRADE,
        ),
    ]


def run(quick: bool = False) -> Section:
    """The benchmark as the ``explain`` section of bench/RESULTS.md."""
    result = measure(quick)
    section = Section("explain", "Plain-language explanations of notes (issue 6)")
    section.rows += _rows("demo", result["demo"])
    for name, label in (("nursing", "nursing"), ("synthea", "Synthea CarePlan")):
        if name in result:
            section.rows += _rows(label, result[name])
    section.rows.append(
        Row(
            "explain one 1 MB note (demo notes joined)",
            "completes",
            f"{result['big_note_s']:.1f} s",
            passed=True,  # measured only once it has completed
        )
    )
    demo = result["demo"]
    section.notes += [
        "Each note is explained once to warm the caches (vocabularies, abbreviation inventory), "
        "then timed one call at a time with the shipped abbreviation finder. Grades count a "
        "line without a stop as a sentence, before and after; counting only . ! ? as "
        f"stops, the demo originals' median Flesch-Kincaid grade is "
        f"{demo['fk_stops_only_before']:.1f}"
        + (
            f" and the nursing originals' {result['nursing']['fk_stops_only_before']:.1f}."
            if "nursing" in result
            else "."
        ),
        f"Median spans per demo note {demo['spans_per_note']:.0f}, unknown or ambiguous "
        f"abbreviations flagged per note {demo['flagged_per_note']:.0f}.",
        "Nursing notes: PhysioNet deidentified-notes corpus 1.1 (`id.text`, records between the "
        "START_OF_RECORD / END_OF_RECORD markers)"
        + ("." if "nursing" in result else "; not measured, ../shared is absent."),
        "Synthea: the 2019 R4 bundles in ../shared carry no clinical notes (no DocumentReference, "
        "no presentedForm); the CarePlans' generated narratives of part 1 stand in for them.",
        "Wall-clock figures are noisy on the shared 2-core machine (load average "
        f"{', '.join(f'{x:.1f}' for x in result['load_average'])} at the end).",
    ]
    return section


def main() -> None:
    """Print the result as JSON."""
    parser = argparse.ArgumentParser(description=(__doc__ or "").splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="fewer demo and nursing notes")
    print(json.dumps(measure(parser.parse_args().quick), indent=2))


if __name__ == "__main__":
    main()
