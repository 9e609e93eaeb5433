"""CPT (HCPCS Level I) from a licensee's own file: the layouts, the version, the registry.

CPT codes and descriptors are licensed by the AMA, so none appears here: every code below is a
synthetic one of CPT's shape that is not a CPT code (Category-III-shaped ``999xT`` and
Category-II-shaped ``999xF`` codes, which the AMA's numbering does not reach, and ``00000``,
below the first anesthesia code), with "Synthetic test descriptor" texts.
"""

from __future__ import annotations

import gzip
from collections.abc import Iterator
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Engine

from chartkeeper.billing.codes.cpt import parse, version_of_file
from chartkeeper.billing.codes.loaders import open_code_file
from chartkeeper.billing.codes.model import CPT, LICENSED
from chartkeeper.billing.codes.registry import CodeRegistry
from chartkeeper.billing.scrub.context import ScrubContext
from chartkeeper.billing.scrub.rules import code_validity
from chartkeeper.core.errors import InvalidError
from chartkeeper.store.engine import make_engine
from chartkeeper.store.migrate import upgrade
from tests.unit.billing.data.scrub.builders import claim, line
from tests.unit.billing.support import DATA

#: Synthetic codes (not CPT codes) and descriptors, in the AMA's tab-delimited layout.
SYNTHETIC = DATA / "cpt_synthetic_2026.txt"
SYNTHETIC_CODES = ["00000", "9990F", "9990T", "9991T", "9992T"]


def _codes(lines: list[str]) -> list[tuple[str, str]]:
    return [(e.code, e.display) for e in parse(lines)]


def test_the_tab_delimited_descriptor_file_after_its_header_line() -> None:
    entries = list(parse(SYNTHETIC.read_text().splitlines(True)))
    assert [e.code for e in entries] == SYNTHETIC_CODES
    by_code = {e.code: e for e in entries}
    assert by_code["9990T"].display == "Synthetic test descriptor one, Category-III-shaped"
    assert all(e.billable for e in entries)
    assert [by_code[c].extra["category"] for c in ("00000", "9990F", "9990T")] == [
        "I",
        "II",
        "III",
    ]


def test_tab_records_without_a_header_with_crlf_and_trailing_tabs() -> None:
    lines = [
        "9990t\tSynthetic test descriptor A\r\n",
        "\n",
        "9991T\t Synthetic test descriptor B \t\t\r\n",
    ]
    assert _codes(lines) == [
        ("9990T", "Synthetic test descriptor A"),
        ("9991T", "Synthetic test descriptor B"),
    ]


def test_a_tab_file_whose_header_names_its_columns() -> None:
    lines = [
        "Concept Id\tCPT Code\tLong Descriptor\n",
        "1\t9992T\tSynthetic test descriptor C\n",
    ]
    assert _codes(lines) == [("9992T", "Synthetic test descriptor C")]


def test_a_csv_with_code_and_descriptor_columns_in_any_case() -> None:
    lines = [
        "\ufeffSequence,CPT_Code,Short Descriptor,LONG DESCRIPTOR\n",
        '1,9990T,SYN A,"Synthetic test descriptor, with a comma"\n',
        ",,,\n",
        '2,9990F,SYN B,"Synthetic test descriptor ""quoted"""\n',
    ]
    assert _codes(lines) == [
        ("9990T", "Synthetic test descriptor, with a comma"),
        ("9990F", 'Synthetic test descriptor "quoted"'),
    ]
    assert _codes(["code,description\n", "9991T,Synthetic test descriptor D\n"]) == [
        ("9991T", "Synthetic test descriptor D")
    ]


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        (
            ["9990T\tSynthetic test descriptor\n", "9991T Synthetic test descriptor\n"],
            "Line 2 is not a CPT record",
        ),
        (
            ["CODE\tDESCRIPTOR\n", "9990T\tSynthetic\n", "J1885\tAn HCPCS Level II code\n"],
            "Line 3 has no CPT code",
        ),
        (["9990T\tSynthetic\n", "\n", "9991X\tSynthetic\n"], "Line 3 has no CPT code"),
        (["9990T\t\n"], "Line 1 has no descriptor for 9990T"),
        (["code,description\n", "9990T,Synthetic\n", "999T,Synthetic\n"], "Line 3 has no CPT"),
        (["code,description\n", "9990T\n"], "Line 2 has 1 fields"),
        (["code,short name\n", "9990T,Synthetic\n"], "Line 1 is not a CPT record"),
        (["   3001 A fixed-width record of another layout\n"], "Line 1 is not a CPT record"),
    ],
)
def test_a_bad_line_is_refused_with_its_number(lines: list[str], message: str) -> None:
    with pytest.raises(InvalidError, match=message):
        list(parse(lines))


def test_the_year_in_the_file_name_is_the_version_from_january_first() -> None:
    assert version_of_file("cpt_synthetic_2026.txt") == ("2026", "2026-01-01")
    assert version_of_file("CPT2027_LONGULT.txt") == ("2027", "2027-01-01")
    assert version_of_file("LONGULT.txt") is None
    assert version_of_file("export_12172024.txt") is None  # part of a longer number
    found = open_code_file("cpt", SYNTHETIC)
    assert (found.version, found.effective_from, found.source) == (
        "2026",
        "2026-01-01",
        "cpt_synthetic_2026.txt",
    )
    assert [e.code for e in found.entries] == SYNTHETIC_CODES


@pytest.mark.parametrize(
    ("encoding", "words"),
    [
        ("latin-1", "naïve café"),
        ("utf-8", "naïve café\u2019s"),
        ("utf-8-sig", "naïve café\u2019s"),
        ("cp1252", "naïve café\u2019s"),
    ],
)
def test_latin_1_and_utf_8_files_read_the_same(tmp_path: Path, encoding: str, words: str) -> None:
    text = f"9990T\tSynthetic test descriptor, {words}\n9991T\tSynthetic test descriptor\n"
    plain = tmp_path / "cpt_2026.txt"
    plain.write_bytes(text.encode(encoding))
    packed = tmp_path / "cpt_2026.txt.gz"
    packed.write_bytes(gzip.compress(text.encode(encoding)))
    for path in (plain, packed):
        entries = list(open_code_file("cpt", path).entries)
        assert [e.display for e in entries] == [
            f"Synthetic test descriptor, {words}",
            "Synthetic test descriptor",
        ]


def test_cpt_never_ships_so_a_file_is_required() -> None:
    with pytest.raises(InvalidError) as raised:
        open_code_file("cpt", None)
    assert raised.value.message == LICENSED[CPT]
    assert "chartkeeper codes load cpt FILE" in raised.value.message


# --- the registry and the scrubber's tables, on SQLite and PostgreSQL ------------------------


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    built = make_engine(database_url)
    upgrade(built)
    yield built
    built.dispose()


def test_a_loaded_cpt_version_is_looked_up_and_scrubbed_by_date(engine: Engine) -> None:
    registry = CodeRegistry(engine)
    found = open_code_file("cpt", SYNTHETIC)
    assert found.version is not None and found.effective_from is not None
    start = date.fromisoformat(found.effective_from)
    loaded = registry.load(CPT, found.entries, found.version, (start, None), found.source)
    assert (loaded.kind, loaded.version, loaded.count) == ("cpt", "2026", 5)
    assert registry.version_on(CPT, date(2025, 12, 31)) is None
    assert registry.version_on(CPT, date(2026, 7, 15)) == loaded
    stored = registry.lookup(CPT, "9991T", "2026")
    assert stored is not None
    assert stored.display == "Synthetic test descriptor two, Category-III-shaped"
    assert registry.lookup(CPT, "9993T", "2026") is None
    hits = registry.index(loaded).search("synthetic test descriptor three", 5).hits
    assert [h.code for h in hits] == ["9992T"]

    context = ScrubContext(registry)
    table = context.table(CPT, date(2026, 7, 15))
    assert table.version == "2026" and sorted(table.rows) == SYNTHETIC_CODES
    scrub = claim(line("9990T"), line("9993T"))  # the builders' date of service: 2026-07-15
    found_issues = [
        (i.severity, i.location, i.message)
        for i in code_validity.check(scrub, context)
        if i.location.startswith("line")
    ]
    assert found_issues == [
        ("error", "line[1].procedure_code", "9993T is not a CPT code in version 2026")
    ]
