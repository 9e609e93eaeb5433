"""The official file layouts: ICD-10-CM tabular XML, HCPCS ANWEB, ICD-10-PCS order and tables."""

from __future__ import annotations

import lzma
from collections.abc import Callable
from pathlib import Path

import pytest

from chartkeeper.billing.codes import loaders
from chartkeeper.billing.codes.hcpcs_anweb import parse_anweb
from chartkeeper.billing.codes.icd10cm_tabular import version_of_file
from chartkeeper.billing.codes.icd10pcs_files import parse_order_file, parse_tables
from chartkeeper.billing.codes.loaders import open_code_file
from chartkeeper.core.errors import InvalidError
from tests.unit.billing.support import (
    MINI_HCPCS,
    MINI_PCS_ORDER,
    MINI_PCS_TABLES,
    mini_entries,
)


def test_leaves_are_billable_and_categories_are_headers() -> None:
    by_code = {e.code: e for e in mini_entries()}
    assert by_code["A000"].billable and by_code["E119"].billable
    assert not by_code["A00"].billable and not by_code["E11"].billable
    assert by_code["A000"].extra["inclusion"] == ["Classical cholera"]
    assert by_code["E11"].extra["excludes1"] == ["type 1 diabetes mellitus (E10.-)"]
    assert by_code["E11"].extra["useAdditional"] == [
        "code to identify control using insulin (Z79.4)"
    ]
    assert by_code["E119"].extra["parent"] == "E11"
    assert by_code["E11"].extra["parent"] == "E08-E13"
    assert by_code["E08-E13"].extra == {"level": "section", "parent": "CH4"}


def test_seventh_characters_are_added_with_placeholder_x() -> None:
    by_code = {e.code: e for e in mini_entries()}
    assert [c for c in by_code if c.startswith("S0230")] == ["S0230", "S0230XA", "S0230XB"]
    assert not by_code["S0230"].billable
    assert by_code["S0230"].extra["needsSeventh"] == {
        "A": "initial encounter for closed fracture",
        "B": "initial encounter for open fracture",
    }
    assert by_code["S72001D"].display == (
        "Fracture of unspecified part of neck of right femur, "
        "subsequent encounter for closed fracture with routine healing"
    )
    assert by_code["S72001D"].billable


def test_s06_death_before_consciousness_takes_only_the_initial_encounter() -> None:
    codes = [e.code for e in mini_entries() if e.code.startswith("S062X")]
    assert codes == ["S062X7", "S062X7A", "S062X9", "S062X9A", "S062X9D", "S062X9S"]


def test_version_and_start_date_come_from_the_official_file_names() -> None:
    assert version_of_file("icd10cm-tabular-April-1-2026.xml") == ("2026-04", "2026-04-01")
    assert version_of_file("icd10cm_tabular_2026.xml") == ("2026", "2025-10-01")
    assert version_of_file("tabular.xml") is None
    found = open_code_file("hcpcs", MINI_HCPCS)
    assert (found.version, found.effective_from) == ("2026-01", "2026-01-01")
    found = open_code_file("icd10pcs", MINI_PCS_TABLES)
    assert (found.version, found.effective_from) == ("2026", "2025-10-01")


def test_hcpcs_records_join_continuation_lines_and_keep_dates() -> None:
    entries = {e.code: e for e in parse_anweb(MINI_HCPCS.read_text().splitlines(True))}
    assert list(entries) == ["A4206", "E0100", "G0001", "25"]
    assert entries["E0100"].display == (
        "Cane, includes canes of all materials, adjustable or fixed, with tip "
        "(synthetic continuation line)"
    )
    assert entries["G0001"].extra["terminated"] == "2012-12-31"
    assert entries["G0001"].extra["coverage"] == "M"
    assert entries["A4206"].extra["shortDescription"] == "1 cc sterile syringe&needle"
    assert entries["25"].extra["record"] == "modifier"


def test_a_file_in_another_layout_is_refused_with_its_line() -> None:
    with pytest.raises(InvalidError, match="Line 2 is not an HCPCS ANWEB record"):
        list(parse_anweb([MINI_HCPCS.read_text().splitlines()[0], "too short"]))
    with pytest.raises(InvalidError, match="Line 1 is not an order-file record"):
        list(parse_order_file(["not an order file"]))


def test_pcs_order_file_keeps_headers_as_non_billable() -> None:
    entries = list(parse_order_file(MINI_PCS_ORDER.read_text().splitlines()))
    assert [(e.code, e.billable) for e in entries] == [
        ("001", False),
        ("0016070", True),
        ("0016071", True),
    ]
    assert entries[1].display.startswith("Bypass Cerebral Ventricle to Nasopharynx")


def test_pcs_tables_expand_each_row_into_its_codes() -> None:
    entries = list(parse_tables(MINI_PCS_TABLES))
    assert [e.code for e in entries] == ["0016070", "0016071", "001U070", "001U071"]
    assert entries[0].display == (
        "Bypass, Cerebral Ventricle, Open, Autologous Tissue Substitute, Nasopharynx"
    )


# --- the real CMS files, when ../shared is present -----------------------------------------


def test_shipped_icd10cm_equals_the_official_april_2026_code_list(
    require_shared: Callable[..., Path],
) -> None:
    listing = require_shared("data", "coding", "icd10cm-2026-april", "code-list-April-2026.txt.xz")
    lines = lzma.decompress(listing.read_bytes()).decode().splitlines()
    official = {line.strip().replace(".", "") for line in lines}
    official = {c for c in official if "-" not in c and not c.isdigit()}
    shipped = open_code_file("icd10cm", None)
    entries = list(shipped.entries)
    assert len({e.code for e in entries}) == len(entries)  # sections never shadow categories
    ours = {e.code for e in entries if "level" not in e.extra}
    assert ours == official
    assert (shipped.version, shipped.effective_from) == ("2026-04", "2026-04-01")


def test_real_hcpcs_file_holds_its_codes_and_modifiers(require_shared: Callable[..., Path]) -> None:
    path = require_shared("data", "billing", "hcpcs", "HCPC2025_JAN_ANWEB_12172024.txt.xz")
    entries = {e.code: e for e in open_code_file("hcpcs", path).entries}
    assert sum(e.extra["record"] == "code" for e in entries.values()) == 8259
    assert entries["J1885"].display == "Injection, ketorolac tromethamine, per 15 mg"
    assert entries["J1885"].extra["betos"] == "O1E"


def test_real_pcs_tables_expand_to_the_published_count(require_shared: Callable[..., Path]) -> None:
    path = require_shared("data", "billing", "icd10pcs", "icd10pcs_tables_2026.xml.xz")
    assert sum(1 for _ in open_code_file("icd10pcs", path).entries) == 79115


@pytest.mark.parametrize(
    ("kind", "folder", "version", "start", "count"),
    [("hcpcs", "hcpcs", "2025-01", "2025-01-01", 8642), ("mce", "mce", "43.1", "2015-10-01", None)],
)
def test_shipped_hcpcs_and_mce_are_the_cms_files_unchanged(
    require_shared: Callable[..., Path],
    kind: str,
    folder: str,
    version: str,
    start: str,
    count: int | None,
) -> None:
    """The copies in the package are byte for byte the CMS files of the test material, and
    load without a FILE argument under the version their name implies."""
    shipped = loaders._DATA / loaders.BUNDLED_FILES[kind]
    original = require_shared("data", "billing", folder, loaders.BUNDLED_FILES[kind])
    assert shipped.read_bytes() == original.read_bytes()
    found = open_code_file(kind, None)
    entries = list(found.entries)
    assert (found.version, found.effective_from, found.source) == (
        version,
        start,
        loaders.BUNDLED_FILES[kind],
    )
    assert entries and (count is None or len({e.code for e in entries}) == count)
