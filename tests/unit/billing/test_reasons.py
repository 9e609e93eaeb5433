"""Loading CARC and RARC lists from CSV/TSV (synthetic descriptions: X12's text is not ours)."""

from __future__ import annotations

from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from chartkeeper.billing.codes.loaders import open_code_file
from chartkeeper.billing.codes.model import CARC, RARC
from chartkeeper.billing.codes.reasons import parse_carc, parse_rarc, version_of_file
from chartkeeper.billing.codes.registry import CodeRegistry
from chartkeeper.core.clock import FixedClock
from chartkeeper.core.errors import InvalidError
from chartkeeper.store.engine import make_engine
from chartkeeper.store.migrate import upgrade

DATA = Path(__file__).resolve().parent / "data" / "remit"
CARC_FILE = DATA / "carc_2026-03.csv"
RARC_FILE = DATA / "rarc_2026-03-01.tsv"


def test_a_carc_csv_gives_each_code_with_its_dates() -> None:
    entries = list(parse_carc(CARC_FILE.read_text().splitlines(keepends=True)))
    assert [e.code for e in entries] == ["1", "45", "A2", "P12"]
    assert entries[0].display == "Synthetic test text: first sample reason, with a comma"
    assert entries[1].extra == {"start": "1995-01-01", "stop": None, "lastModified": "2026-03-01"}
    assert entries[3].extra["stop"] == "2026-03-01"


def test_a_rarc_tsv_is_read_by_its_header_whatever_the_column_order() -> None:
    entries = list(parse_rarc(RARC_FILE.read_text().splitlines(keepends=True)))
    assert [(e.code, e.display) for e in entries] == [
        ("M15", "Synthetic remark sample one"),
        ("MA01", "Synthetic remark sample two"),
        ("N130", "Synthetic remark sample three"),
    ]
    assert entries[2].extra == {"start": "2002-06-30", "stop": "2026-07-01", "lastModified": None}


@pytest.mark.parametrize(
    ("lines", "message"),
    [
        (["Reason,Text\n", "45,x\n"], "Line 1: the header names no 'code' column"),
        (["code\n", "M15\n"], "Line 2: 'M15' is not a CARC code"),
        (["code,start\n", "45,2026-13-01\n"], "Line 2: '2026-13-01' is not a date"),
        (["code\n", "45\n", "\n", "45\n"], "Line 4: CARC 45 is listed twice"),
    ],
)
def test_a_file_in_the_wrong_layout_is_refused_with_its_line(
    lines: list[str], message: str
) -> None:
    with pytest.raises(InvalidError, match=message):
        list(parse_carc(lines))


def test_a_carc_file_is_not_a_rarc_file() -> None:
    with pytest.raises(InvalidError, match="Line 2: '1' is not a RARC code"):
        list(parse_rarc(CARC_FILE.read_text().splitlines(keepends=True)))


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("carc_2026-03.csv", ("2026-03", "2026-03-01")),
        ("rarc_20260701.tsv", ("2026-07", "2026-07-01")),
        ("RARC-2025_11_01.csv", ("2025-11", "2025-11-01")),
        ("carc.csv", None),
    ],
)
def test_the_version_comes_from_a_dated_file_name(
    name: str, expected: tuple[str, str] | None
) -> None:
    assert version_of_file(name) == expected


def test_both_lists_load_into_the_registry_through_the_code_loaders(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path}/codes.db")
    upgrade(engine)
    registry = CodeRegistry(engine, FixedClock(datetime(2026, 3, 5, tzinfo=UTC)))
    for kind, path in ((CARC, CARC_FILE), (RARC, RARC_FILE)):
        found = open_code_file(kind, path)
        assert found.version is not None and found.effective_from is not None
        start = date.fromisoformat(found.effective_from)
        registry.load(kind, found.entries, found.version, (start, None), found.source)
    loaded = {(v.kind, v.version, v.count) for v in registry.versions()}
    assert loaded == {(CARC, "2026-03", 4), (RARC, "2026-03", 3)}
    stopped = registry.lookup(RARC, "N130", "2026-03")
    assert stopped is not None and stopped.extra["stop"] == "2026-07-01"
    engine.dispose()
