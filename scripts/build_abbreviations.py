"""Rebuild the shipped clinical abbreviation inventory from its open sources.

Reads the Vanderbilt clinic-note and discharge-summary sense inventories and Stetson's sense
distribution, as redistributed in the Medical Abbreviation and Acronym Meta-Inventory
(``../shared/data/vocab/clinical-abbreviations-metainventory``, CC BY 4.0), applies the curated
additions in ``src/chartkeeper/language/data/abbreviation_curation.tsv`` and writes
``src/chartkeeper/language/data/abbreviations.tsv``. The Wikipedia-derived lists (CC BY-SA) are
not used. The product never reads ``../shared``: rerun this only to refresh the shipped copy.

    .venv/bin/python scripts/build_abbreviations.py          # rewrite the shipped file
    .venv/bin/python scripts/build_abbreviations.py --check  # exit 1 when it would change
    .venv/bin/python scripts/build_abbreviations.py --english /usr/share/dict/american-english-small
        # also rewrite the English word list (Debian package wamerican-small, SCOWL size 35)
"""

from __future__ import annotations

import argparse
import csv
import re
import sys
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SOURCES = ROOT.parent / "shared" / "data" / "vocab" / "clinical-abbreviations-metainventory"
DATA = ROOT / "src" / "chartkeeper" / "language" / "data"
VANDERBILT = ("vanderbilt_clinic_notes.txt", "vanderbilt_discharge_sums.txt")
STETSON = "sense_distribution_448.txt"
COLUMNS = ("abbreviation", "long_form", "lay", "frequency", "count", "forms", "cues", "source")
JUNK = re.compile(
    r"not an? (abbreviation|abbreviaion|acronym)|\bunsure\b|^unknown$|typo|initials?\b"
    r"|\*\*|^\?|first initial|physician's",
    re.IGNORECASE,
)


@dataclass
class Entry:
    """One sense being assembled from its sources."""

    key: str
    long_form: str
    cuis: set[str] = field(default_factory=set)
    shares: dict[str, float] = field(default_factory=dict)  # source file -> frequency
    forms: dict[str, int] = field(default_factory=dict)
    source: str = "vanderbilt"
    lay: str = ""
    cues: str = ""

    @property
    def count(self) -> int:
        return sum(self.forms.values())


def normalise_key(text: str) -> str:
    """The lookup key: lower case, dots removed ("B.I.D." and "bid" are one abbreviation)."""
    return text.lower().replace(".", "").strip()


def clean_form(form: str) -> str:
    """A surface form without the stray dots the annotators kept ("..TEE", "hosp.")."""
    form = form.lstrip(".")
    if form.endswith(".") and "." not in form[:-1]:
        form = form[:-1]
    return form


def parse_forms(variation: str) -> dict[str, int]:
    forms: dict[str, int] = defaultdict(int)
    for item in variation.split("|"):
        form, _, number = item.rpartition("_")
        if form and number.isdigit():
            forms[clean_form(form)] += int(number)
    return dict(forms)


def read_vanderbilt(folder: Path) -> dict[str, list[Entry]]:
    """Senses by key, merged across both files and across senses that share a UMLS CUI."""
    by_key: dict[str, list[Entry]] = defaultdict(list)
    for name in VANDERBILT:
        with (folder / name).open(newline="") as handle:
            for row in csv.DictReader(handle, delimiter="\t"):
                forms = parse_forms(row["variation"])
                if not forms:
                    continue
                key = normalise_key(max(forms, key=lambda f: (forms[f], f)))
                cuis = {c for c in row["CUI"].split("|") if c.startswith("c")}
                entry = Entry(key, row["sense"].strip(), cuis, {name: float(row["frequency"])})
                entry.forms = forms
                merge_into(by_key[key], entry)
    return by_key


def merge_into(entries: list[Entry], new: Entry) -> None:
    """Add a sense, folding it into an existing one with the same CUI or long form."""
    for entry in entries:
        same_name = entry.long_form.lower() == new.long_form.lower()
        if same_name or (entry.cuis & new.cuis):
            if new.count > entry.count and not same_name:
                entry.long_form = new.long_form
            entry.cuis |= new.cuis
            for source, share in new.shares.items():
                entry.shares[source] = entry.shares.get(source, 0.0) + share
            for form, number in new.forms.items():
                entry.forms[form] = entry.forms.get(form, 0) + number
            return
    entries.append(new)


def read_stetson(folder: Path, known: set[str]) -> dict[str, list[Entry]]:
    """Stetson's senses, only for abbreviations the Vanderbilt files do not list."""
    by_key: dict[str, list[Entry]] = defaultdict(list)
    for line in (folder / STETSON).read_text().splitlines():
        abbreviation, sense, share = line.split("\t")
        key = normalise_key(abbreviation)
        if key not in known:
            entry = Entry(key, sense.strip(), shares={STETSON: float(share)}, source="stetson")
            merge_into(by_key[key], entry)
    return by_key


def read_curation(path: Path) -> list[list[str]]:
    rows = []
    for line in path.read_text().splitlines():
        if line.strip() and not line.startswith("#"):
            rows.append([*line.split("\t"), "", "", ""][:4])
    return rows


def apply_curation(by_key: dict[str, list[Entry]], rows: list[list[str]]) -> None:
    """Drops, renames, merges, additions, lay wording and cue words, in file order."""
    for kind, key, long_form, value in rows:
        entries = by_key[key]
        found = [e for e in entries if e.long_form == long_form]
        if kind == "add" and not found:
            entry = Entry(key, long_form, source="curation")
            entry.forms = parse_forms(value)
            entries.append(entry)
        elif not found:
            raise SystemExit(f"curation: no sense {key!r} = {long_form!r}")
        elif kind in ("drop", "merge"):
            entries.remove(found[0])
            if kind == "merge":
                fold_into(entries, found[0], value)
        else:
            edit(found[0], kind, value)


def fold_into(entries: list[Entry], entry: Entry, long_form: str) -> None:
    """Add a duplicate sense's counts to the sense it duplicates."""
    target = next((e for e in entries if e.long_form == long_form), None)
    if target is None:
        raise SystemExit(f"curation: cannot merge {entry.key!r} into {long_form!r}")
    for form, number in entry.forms.items():
        target.forms[form] = target.forms.get(form, 0) + number
    for source, share in entry.shares.items():
        target.shares[source] = target.shares.get(source, 0.0) + share


def edit(entry: Entry, kind: str, value: str) -> None:
    if kind == "rename":
        entry.long_form = value
    elif kind == "lay":
        entry.lay = value
    elif kind == "cues":
        entry.cues = " ".join(filter(None, (entry.cues, value)))
    elif kind != "add":
        raise SystemExit(f"curation: unknown kind {kind!r}")


def is_junk(entry: Entry) -> bool:
    return bool(JUNK.search(entry.long_form)) or normalise_key(entry.long_form) == entry.key


def rows_for(key: str, entries: list[Entry]) -> list[tuple[str, ...]]:
    """The shipped rows of one abbreviation, most frequent sense first.

    The prior is the sense's share of the annotated instances pooled over both Vanderbilt
    files (the ``variation`` counts); Stetson's abbreviations carry his published shares.
    """
    kept = [e for e in entries if not is_junk(e)]
    if not kept:
        return []
    counted = any(e.count for e in kept)
    prior = {id(e): float(e.count) if counted else sum(e.shares.values()) for e in kept}
    total = sum(prior.values()) or 1.0
    kept.sort(key=lambda e: (-prior[id(e)], -e.count, e.long_form))
    return [
        (
            key,
            e.long_form,
            e.lay or e.long_form,
            f"{prior[id(e)] / total:.4f}",
            str(e.count),
            "|".join(f"{f}:{n}" for f, n in sorted(e.forms.items(), key=lambda i: (-i[1], i[0]))),
            e.cues,
            e.source,
        )
        for e in kept
    ]


def build(sources: Path, curation: Path, version: str) -> str:
    """The text of the shipped inventory."""
    folder = sources / "sources"
    by_key = read_vanderbilt(folder / "4-vanderbilt")
    by_key.update(read_stetson(folder / "6-stetson", set(by_key)))
    apply_curation(by_key, read_curation(curation))
    lines = [
        "# chartkeeper clinical abbreviation inventory",
        f"# version: {version}",
        "# built by scripts/build_abbreviations.py; sources and licences: SOURCES.md",
        "\t".join(COLUMNS),
    ]
    for key in sorted(by_key):
        lines.extend("\t".join(row) for row in rows_for(key, by_key[key]))
    return "\n".join(lines) + "\n"


def english_words(dictionary: Path) -> str:
    """Lower-case alphabetic words of 1 to 7 letters from a SCOWL word list."""
    words = {
        w.strip()
        for w in dictionary.read_text(encoding="utf-8", errors="ignore").splitlines()
        if re.fullmatch(r"[a-z]{1,7}", w.strip())
    }
    header = (
        "# common English words: SCOWL size 35 (Debian wamerican-small 2020.12.07), 1-7 letters"
    )
    return header + "\n" + "\n".join(sorted(words)) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sources", type=Path, default=SOURCES)
    parser.add_argument("--check", action="store_true", help="exit 1 if the file would change")
    parser.add_argument("--english", type=Path, help="SCOWL word list to rebuild the word list")
    args = parser.parse_args(argv)
    sys.path.insert(0, str(ROOT / "src"))
    from chartkeeper.language.abbreviation_inventory import VOCABULARY_VERSION

    text = build(args.sources, DATA / "abbreviation_curation.tsv", VOCABULARY_VERSION)
    target = DATA / "abbreviations.tsv"
    if args.check:
        same = target.exists() and target.read_text() == text
        print("abbreviations.tsv is up to date" if same else "abbreviations.tsv differs")
        return 0 if same else 1
    target.write_text(text)
    if args.english:
        (DATA / "abbreviation_english_words.txt").write_text(english_words(args.english))
    print(f"wrote {text.count(chr(10)) - 4} senses to {target.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
