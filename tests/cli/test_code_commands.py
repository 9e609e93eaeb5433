"""``chartkeeper codes``: load, list, search and check, on SQLite and PostgreSQL."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from chartkeeper.cli.main import cli
from tests.unit.billing.support import DATA, MINI_HCPCS, MINI_PCS_ORDER, MINI_TABULAR

MINI_MCE = DATA / "mce_v43_1_mini_dx_master.tsv"


def _run(database_url: str, data_dir: Path, *args: str) -> Result:
    command = ["--data-dir", str(data_dir), "--database-url", database_url, *args]
    return CliRunner().invoke(cli, command)


def test_load_then_list_shows_each_version_with_its_dates(
    database_url: str, tmp_path: Path
) -> None:
    loaded = _run(database_url, tmp_path, "codes", "load", "hcpcs", str(MINI_HCPCS))
    assert loaded.exit_code == 0, loaded.output
    assert "Loaded 4 hcpcs codes as version 2026-01 (2026-01-01 to open)" in loaded.stdout
    assert "100% 4/4 codes" in loaded.stderr
    args = [
        "--version",
        "2026-mini",
        "--effective-from",
        "2025-10-01",
        "--effective-to",
        "2026-03-31",
    ]
    assert (
        _run(
            database_url, tmp_path, "codes", "load", "icd10pcs", str(MINI_PCS_ORDER), *args
        ).exit_code
        == 0
    )
    listed = _run(database_url, tmp_path, "codes", "list")
    assert listed.stdout.splitlines() == [
        "kind      version    from        to            codes  source",
        "hcpcs     2026-01    2026-01-01  -                 4  HCPC2026_JAN_ANWEB_mini.txt",
        "icd10pcs  2026-mini  2025-10-01  2026-03-31        3  icd10pcs_order_mini_2026.txt",
    ]


def test_an_empty_registry_says_how_to_load(database_url: str, tmp_path: Path) -> None:
    listed = _run(database_url, tmp_path, "codes", "list")
    assert listed.stdout == "No code sets loaded (try: chartkeeper codes load icd10cm)\n"


def test_search_and_check_use_the_version_in_force(database_url: str, tmp_path: Path) -> None:
    args = ["--version", "2026-04", "--effective-from", "2026-04-01"]
    assert (
        _run(database_url, tmp_path, "codes", "load", "icd10cm", str(MINI_TABULAR), *args).exit_code
        == 0
    )
    found = _run(
        database_url, tmp_path, "codes", "search", "chol", "--date", "2026-05-01", "--count", "2"
    )
    assert found.stdout.splitlines() == [
        "A00      * Cholera",
        "A00.0      Cholera due to Vibrio cholerae 01, biovar cholerae",
    ]
    checked = _run(
        database_url, tmp_path, "codes", "check", "--date", "2026-05-01", "E11", "S02.30A"
    )
    assert [json.loads(line)["rule"] for line in checked.stdout.splitlines()] == [
        "header-code",
        "missing-placeholder",
        "mce-not-loaded",
    ]
    early = _run(database_url, tmp_path, "codes", "check", "--date", "2026-01-01", "E11.9")
    assert json.loads(early.stdout.splitlines()[0])["rule"] == "no-code-set"


def test_check_runs_the_mce_edits_for_the_patient(database_url: str, tmp_path: Path) -> None:
    args = ["--version", "2026-04", "--effective-from", "2015-10-01"]
    assert (
        _run(database_url, tmp_path, "codes", "load", "icd10cm", str(MINI_TABULAR), *args).exit_code
        == 0
    )
    loaded = _run(database_url, tmp_path, "codes", "load", "mce", str(MINI_MCE))
    assert "Loaded 6 mce codes as version 43.1 (2015-10-01 to open)" in loaded.stdout
    checked = _run(
        database_url,
        tmp_path,
        "codes",
        "check",
        "--date",
        "2026-05-01",
        "--sex",
        "male",
        "--age",
        "30",
        "E11.9",
    )
    assert (checked.exit_code, checked.stdout) == (0, "")
    assert checked.stderr == "No findings\n"
    child = _run(
        database_url,
        tmp_path,
        "codes",
        "check",
        "--date",
        "2026-05-01",
        "--age",
        "3",
        "A00.0",
        "P07.00",
    )
    findings = [json.loads(line) for line in child.stdout.splitlines()]
    assert [(f["rule"], f["code"]) for f in findings] == [
        ("unknown-code", "P0700"),  # not in the synthetic ICD-10-CM excerpt
        ("age-conflict", "P0700"),
    ]


def test_bad_input_exits_with_a_message_and_loads_nothing(
    database_url: str, tmp_path: Path
) -> None:
    named = ["--version", "x", "--effective-from", "2026-01-01"]
    wrong = _run(database_url, tmp_path, "codes", "load", "hcpcs", str(MINI_PCS_ORDER), *named)
    assert wrong.exit_code == 65
    assert wrong.stderr == "error: Line 1 is not an HCPCS ANWEB record\n"
    unnamed = tmp_path / "codes.txt"
    unnamed.write_bytes(MINI_HCPCS.read_bytes())
    nameless = _run(database_url, tmp_path, "codes", "load", "hcpcs", str(unnamed))
    assert nameless.exit_code == 65
    assert "give --version and --effective-from" in nameless.stderr
    not_shipped = _run(database_url, tmp_path, "codes", "load", "icd10pcs")
    assert (
        not_shipped.stderr == "error: icd10pcs does not ship with chartkeeper: give the CMS file\n"
    )
    assert _run(database_url, tmp_path, "codes", "list").stdout.startswith("No code sets loaded")


@pytest.fixture(scope="module")
def shipped(module_database_url: str, tmp_path_factory: pytest.TempPathFactory) -> tuple[str, Path]:
    """The ICD-10-CM that ships with chartkeeper, loaded once per backend for this module."""
    data_dir = tmp_path_factory.mktemp("codes")
    loaded = _run(module_database_url, data_dir, "codes", "load", "icd10cm")
    assert loaded.exit_code == 0, loaded.output
    return module_database_url, data_dir


def test_the_shipped_icd10cm_loads_without_a_file(shipped: tuple[str, Path]) -> None:
    listed = _run(*shipped, "codes", "list").stdout.splitlines()
    assert listed[1].split() == [
        "icd10cm",
        "2026-04",
        "2026-04-01",
        "-",
        "98505",
        "simple-icd-10-cm:icd10c-tabular-April-1-2026.xml",
    ]


def test_real_codes_get_real_findings(shipped: tuple[str, Path]) -> None:
    checked = _run(
        *shipped, "codes", "check", "--date", "2026-06-01", "E11.9", "E10.9", "S72.001", "G63"
    )
    findings = [json.loads(line) for line in checked.stdout.splitlines()]
    assert [(f["rule"], f["code"]) for f in findings] == [
        ("missing-seventh-character", "S72001"),
        ("excludes1-conflict", "E119"),
        ("excludes1-conflict", "E109"),
        ("manifestation-without-etiology", "G63"),
        ("mce-not-loaded", ""),
    ]
    found = _run(*shipped, "codes", "search", "type 2 diab without compl", "--date", "2026-06-01")
    assert (
        found.stdout.splitlines()[0] == "E11.9      Type 2 diabetes mellitus without complications"
    )
