"""Patient matching on FEBRL: quality and time of our engine against recordlinkage, same run.

Standalone: ``.venv/bin/python bench/mpi_quality.py [--rounds N]``; ``run()`` returns a Section
for bench/run.py (``--only mpi-quality``). Needs ../shared/data/mpi/febrl and, for the baseline,
the ``bench`` extra (``pip install -e '.[bench]'``: recordlinkage).

* FEBRL4 linkage (5,000 x 5,000, one true partner each): ours = extract features (identifier
  hashing included), prepare, train unsupervised (EM), link one-to-one at the default
  threshold. Targets: F1 >= 0.999, CPU time <= 1/3 of the baseline's.
* FEBRL3 de-duplication (5,000 records, 6,538 true pairs): ours = extract, prepare, train,
  dedupe at the same default threshold. Target: F1 >= 0.997.
* Baseline: recordlinkage 0.16 as its docs suggest: union of blocks on given name, surname,
  date of birth, SSN and a sorted neighbourhood on surname within postcode; ``Compare``
  (Jaro-Winkler >= 0.85 on names and street, exact on the rest); ``ECMClassifier``.

Truth (``rec-N-org`` ~ ``rec-N-dup-k``) is read only to score. The loaded data and the
imported libraries (pandas, recordlinkage's scikit-learn: 140,000 objects) are moved out of the
garbage collector's sight (``gc.freeze``), or a full collection during either side's run would
cost ~90 ms of scanning set-up objects. After one untimed warm-up of each, runs alternate ours /
baseline for ``rounds`` rounds, each after clearing our normalisation caches and collecting
garbage; times are medians (CPU time of this process, both single-threaded).
"""

from __future__ import annotations

import argparse
import csv
import gc
import re
import statistics
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from itertools import combinations
from typing import Any

from common import SHARED, Row, Section, percentile

from chartkeeper.mpi.matching import PersonRecord, dedupe, extract, link, score, train
from chartkeeper.mpi.matching.blocking import candidate_pairs, link_pairs
from chartkeeper.mpi.matching.names import nickname_keys, phonetic, soundex
from chartkeeper.mpi.matching.prepared import combine, prepare
from chartkeeper.mpi.matching.text import words

FEBRL = SHARED / "data" / "mpi" / "febrl"
KEY = b"bench-identifier-key-0123456789a"
ROUNDS = 3
Pairs = set[tuple[str, str]]


@dataclass
class Outcome:
    """One pipeline's result on one task: the pairs it found and what it cost."""

    found: Pairs
    cpu: float
    wall: float
    candidates: int
    completeness: float
    stages: dict[str, float] = field(default_factory=dict)


def _record(row: dict[str, str]) -> PersonRecord:
    dob = row["date_of_birth"]
    return PersonRecord(
        id=row["rec_id"],
        given=(row["given_name"],) if row["given_name"] else (),
        family=row["surname"],
        birth_date=f"{dob[:4]}-{dob[4:6]}-{dob[6:]}" if len(dob) == 8 else dob,
        identifiers=(("ssn", row["soc_sec_id"]),) if row["soc_sec_id"] else (),
        address_lines=(f"{row['street_number']} {row['address_1']}".strip(), row["address_2"]),
        city=row["suburb"],
        state=row["state"],
        postal_code=row["postcode"],
    )


def load(name: str) -> list[PersonRecord]:
    """FEBRL rows as PersonRecords (address line 1 = street number + address_1)."""
    with (FEBRL / name).open(newline="", encoding="utf-8") as handle:
        rows = csv.reader(handle, skipinitialspace=True)
        header = [h.strip() for h in next(rows)]
        return [_record(dict(zip(header, (c.strip() for c in row), strict=True))) for row in rows]


def person(rec_id: str) -> str:
    """The person a FEBRL rec_id belongs to (``rec-12-dup-0`` → ``12``)."""
    found = re.match(r"rec-(\d+)-", rec_id)
    return found.group(1) if found else rec_id


def link_truth(left: list[str], right: list[str]) -> Pairs:
    by_person = {person(i): i for i in left}
    return {(by_person[person(j)], j) for j in right if person(j) in by_person}


def dedupe_truth(ids: list[str]) -> Pairs:
    groups: dict[str, list[str]] = defaultdict(list)
    for rec_id in ids:
        groups[person(rec_id)].append(rec_id)
    return {tuple(sorted(p)) for g in groups.values() for p in combinations(g, 2)}  # type: ignore[misc]


def quality(found: Pairs, truth: Pairs) -> tuple[float, float, float]:
    """Precision, recall and F1 of ``found`` against ``truth``."""
    hits = len(found & truth)
    precision = hits / len(found) if found else 0.0
    recall = hits / len(truth)
    return precision, recall, 2 * hits / (len(found) + len(truth))


def _clock() -> tuple[float, float]:
    return time.perf_counter(), time.process_time()


def ours_link(left: list[PersonRecord], right: list[PersonRecord]) -> Outcome:
    """Extract, prepare, train (unsupervised), link one-to-one at the default threshold."""
    stages: dict[str, float] = {}
    wall, cpu = _clock()
    first = prepare([extract(r, KEY) for r in left])
    second = prepare([extract(r, KEY) for r in right])
    stages["extract + prepare"] = time.process_time() - cpu
    model = train(combine(first, second), seed=0)
    stages["train"] = time.process_time() - cpu - stages["extract + prepare"]
    linked = link(first, second, model, one_to_one=True)
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    stages["link"] = cpu - stages["train"] - stages["extract + prepare"]
    blocked = link_pairs(first.keys, second.keys)
    truth = link_truth([r.id for r in left], [r.id for r in right])
    found = {(left[i].id, right[j].id) for i, j, _ in linked}
    pairs = {(left[i].id, right[j].id) for i, j in blocked.tolist()}
    return Outcome(found, cpu, wall, len(pairs), len(pairs & truth) / len(truth), stages)


def ours_dedupe(records: list[PersonRecord]) -> Outcome:
    """Extract, prepare, train (unsupervised), dedupe at the default threshold."""
    wall, cpu = _clock()
    prepared = prepare([extract(r, KEY) for r in records])
    model = train(prepared, seed=0)
    matches = dedupe(prepared, model)
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall
    truth = dedupe_truth([r.id for r in records])
    found: Pairs = {tuple(sorted((records[i].id, records[j].id))) for i, j, _ in matches}  # type: ignore[misc]
    blocked: Pairs = {
        tuple(sorted((records[i].id, records[j].id)))  # type: ignore[misc]
        for i, j in candidate_pairs(prepared.keys).tolist()
    }
    return Outcome(found, cpu, wall, len(blocked), len(blocked & truth) / len(truth))


def _frame(name: str) -> Any:
    import pandas as pd

    return pd.read_csv(FEBRL / name, dtype=str, skipinitialspace=True, index_col="rec_id")


def _baseline_pairs(frames: tuple[Any, ...]) -> tuple[Any, Any]:
    """recordlinkage: indexing, comparison and ECM; (candidate index, matched index)."""
    import recordlinkage

    indexer = recordlinkage.Index()
    for column in ("given_name", "surname", "date_of_birth", "soc_sec_id"):
        indexer.block(column)
    indexer.sortedneighbourhood("surname", window=5, block_on="postcode")
    candidates = indexer.index(*frames)
    compare = recordlinkage.Compare(n_jobs=1)
    for column in ("given_name", "surname", "address_1", "address_2"):
        compare.string(column, column, method="jarowinkler", threshold=0.85, label=column)
    for column in ("date_of_birth", "soc_sec_id", "street_number", "suburb", "postcode", "state"):
        compare.exact(column, column, label=column)
    vectors = compare.compute(candidates, *frames)
    return candidates, recordlinkage.ECMClassifier(binarize=None).fit_predict(vectors)


def baseline(frames: tuple[Any, ...], truth: Pairs, dedupe_task: bool) -> Outcome:
    """The recordlinkage pipeline on one task (one frame: de-duplication; two: linkage)."""
    wall, cpu = _clock()
    candidates, matched = _baseline_pairs(frames)
    cpu, wall = time.process_time() - cpu, time.perf_counter() - wall

    def as_pairs(index: Any) -> Pairs:
        pairs = zip(index.get_level_values(0), index.get_level_values(1), strict=True)
        return {tuple(sorted(p)) if dedupe_task else p for p in pairs}  # type: ignore[misc]

    blocked = as_pairs(candidates)
    return Outcome(as_pairs(matched), cpu, wall, len(blocked), len(blocked & truth) / len(truth))


def _cold_caches() -> None:
    """Forget what earlier rounds normalised (words, phonetic codes, nickname look-ups), so
    every timed round does all of its own work; then collect garbage, as before the baseline."""
    for cached in (words, phonetic, soundex, nickname_keys):
        cached.cache_clear()
    gc.collect()


def _alternate(
    rounds: int, ours: Callable[[], Outcome], theirs: Callable[[], Outcome] | None
) -> tuple[list[Outcome], list[Outcome]]:
    """One untimed warm-up of each (imports, first-call set-up), then ``rounds`` alternating
    timed runs, each from cold caches and a fresh garbage collection."""
    ours()
    if theirs is not None:
        theirs()
    mine: list[Outcome] = []
    others: list[Outcome] = []
    for _ in range(rounds):
        _cold_caches()
        mine.append(ours())
        if theirs is not None:
            _cold_caches()
            others.append(theirs())
    return mine, others


def single_pair_latency(left: list[PersonRecord], right: list[PersonRecord]) -> dict[str, float]:
    """µs to score one pair online (``score``), over FEBRL4's blocked candidate pairs."""
    first = [extract(r, KEY) for r in left]
    second = [extract(r, KEY) for r in right]
    model = train(combine(prepare(first), prepare(second)), seed=0)
    pairs = link_pairs(prepare(first).keys, prepare(second).keys).tolist()
    times = []
    for i, j in pairs:
        start = time.perf_counter_ns()
        score(model, first[i], second[j])
        times.append((time.perf_counter_ns() - start) / 1000)
    return {"p50": percentile(times, 50), "p99": percentile(times, 99), "pairs": len(pairs)}


def _has_baseline() -> bool:
    try:
        import recordlinkage  # noqa: F401
    except ImportError:
        return False
    return True


def measure(rounds: int = ROUNDS) -> dict[str, Any]:
    """Both tasks, ours and the baseline alternating, plus single-pair scoring latency."""
    left, right, three = load("dataset4a.csv"), load("dataset4b.csv"), load("dataset3.csv")
    truth4 = link_truth([r.id for r in left], [r.id for r in right])
    truth3 = dedupe_truth([r.id for r in three])
    has_baseline = _has_baseline()
    frames4 = (_frame("dataset4a.csv"), _frame("dataset4b.csv")) if has_baseline else ()
    frames3 = (_frame("dataset3.csv"),) if has_baseline else ()
    gc.freeze()  # the data and both sides' imports are set-up: keep them out of every timed GC
    link_runs = _alternate(
        rounds,
        lambda: ours_link(left, right),
        (lambda: baseline(frames4, truth4, False)) if has_baseline else None,
    )
    dedupe_runs = _alternate(
        rounds,
        lambda: ours_dedupe(three),
        (lambda: baseline(frames3, truth3, True)) if has_baseline else None,
    )
    return {
        "link": (link_runs, truth4),
        "dedupe": (dedupe_runs, truth3),
        "latency": single_pair_latency(left, right),
        "baseline": has_baseline,
    }


def _median(runs: list[Outcome], attribute: str) -> float:
    return statistics.median(getattr(run, attribute) for run in runs)


def _f1_row(
    task: str, runs: tuple[list[Outcome], list[Outcome]], truth: Pairs, target: float
) -> Row:
    ours, theirs = runs
    precision, recall, f1 = quality(ours[-1].found, truth)
    other = f"{quality(theirs[-1].found, truth)[2]:.4f}" if theirs else "-"
    return Row(
        metric=f"{task} F1 at the default threshold",
        target=f">= {target}",
        measured=f"{f1:.4f} (P {precision:.4f}, R {recall:.4f})",
        baseline=other,
        passed=f1 >= target,
    )


def _time_row(task: str, runs: tuple[list[Outcome], list[Outcome]], target: float | None) -> Row:
    ours, theirs = runs
    mine = _median(ours, "cpu")
    if not theirs:
        return Row(f"{task} CPU time, median of {len(ours)}", "-", f"{mine:.2f} s")
    other = _median(theirs, "cpu")
    ratio = mine / other
    return Row(
        metric=f"{task} CPU time, median of {len(ours)} (wall {_median(ours, 'wall'):.2f} s "
        f"vs {_median(theirs, 'wall'):.2f} s)",
        target=f"<= {target:.3g} x baseline (a third)" if target else "-",
        measured=f"{mine:.2f} s",
        baseline=f"{other:.2f} s",
        ratio=f"{ratio:.2f}",
        passed=(ratio <= target) if target else None,
    )


def _blocking_row(task: str, runs: tuple[list[Outcome], list[Outcome]]) -> Row:
    ours, theirs = runs
    other = f"{theirs[-1].completeness:.4f} ({theirs[-1].candidates:,} pairs)" if theirs else "-"
    return Row(
        metric=f"{task} blocking pairs completeness (candidate pairs)",
        target="-",
        measured=f"{ours[-1].completeness:.4f} ({ours[-1].candidates:,} pairs)",
        baseline=other,
    )


def run(rounds: int = ROUNDS) -> Section:
    """The benchmark as a section of bench/RESULTS.md (a note only, without the FEBRL data)."""
    if not (FEBRL / "dataset3.csv").is_file():
        section = Section("mpi-quality", "Patient matching quality on FEBRL (issue 4)")
        section.notes.append(f"Not run: the FEBRL data is missing (expected {FEBRL}).")
        return section
    result = measure(rounds)
    link_runs, truth4 = result["link"]
    dedupe_runs, truth3 = result["dedupe"]
    latency = result["latency"]
    section = Section("mpi-quality", "Patient matching quality on FEBRL (issue 4)")
    section.rows += [
        _f1_row("FEBRL4 linkage (one-to-one)", link_runs, truth4, 0.999),
        _time_row("FEBRL4 linkage", link_runs, 1 / 3),
        _blocking_row("FEBRL4", link_runs),
        _f1_row("FEBRL3 de-duplication", dedupe_runs, truth3, 0.997),
        _time_row("FEBRL3 de-duplication", dedupe_runs, None),
        _blocking_row("FEBRL3", dedupe_runs),
        Row(
            metric=f"score one pair online, over {latency['pairs']:,} FEBRL4 candidate pairs",
            target="a few tens of µs",
            measured=f"p50 {latency['p50']:.1f} µs, p99 {latency['p99']:.1f} µs",
        ),
    ]
    stages = link_runs[0][-1].stages
    section.notes.append(
        "Ours, FEBRL4, last round, CPU s: "
        + ", ".join(f"{name} {seconds:.2f}" for name, seconds in stages.items())
        + ". Training is unsupervised (u from random pairs, m by EM); truth only scores."
    )
    if not result["baseline"]:
        section.notes.append("recordlinkage is not installed (pip install -e '.[bench]').")
    return section


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rounds", type=int, default=ROUNDS, help="alternating rounds")
    rounds = parser.parse_args().rounds
    if not (FEBRL / "dataset3.csv").is_file():
        sys.exit(f"bench: FEBRL data missing: expected {FEBRL}/dataset*.csv")
    section = run(rounds)
    for row in section.rows:
        print(
            f"{row.verdict:4}  {row.metric}: {row.measured} (target {row.target}; "
            f"baseline {row.baseline}; ratio {row.ratio})"
        )
    for note in section.notes:
        print(f"      {note}")
    return 1 if any(row.passed is False for row in section.rows) else 0


if __name__ == "__main__":
    sys.exit(main())
