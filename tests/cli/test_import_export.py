"""``chartkeeper import`` and ``export``: summaries, refusals with reasons, exit codes."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from click.testing import CliRunner

from chartkeeper.cli.main import cli


def _run(database_url: str, tmp_path: Path, *args: str) -> Any:
    runner = CliRunner()
    return runner.invoke(cli, ["--data-dir", str(tmp_path), "--database-url", database_url, *args])


def _patient(ident: str, **extra: Any) -> dict[str, Any]:
    return {"resourceType": "Patient", "id": ident, "gender": "female", **extra}


def test_import_stores_resources_bundles_and_ndjson(database_url: str, tmp_path: Path) -> None:
    (tmp_path / "one.json").write_text(json.dumps(_patient("a")))
    bundle = {
        "resourceType": "Bundle",
        "type": "transaction",
        "entry": [
            {"resource": _patient("b"), "request": {"method": "PUT", "url": "Patient/b"}},
            {
                "resource": {"resourceType": "Practitioner"},
                "request": {"method": "POST", "url": "Practitioner"},
            },
        ],
    }
    (tmp_path / "bundle.json").write_text(json.dumps(bundle))
    lines = [json.dumps(_patient(f"n{i}")) for i in range(3)]
    (tmp_path / "more.ndjson").write_text("\n".join(lines) + "\n")
    result = _run(database_url, tmp_path, "import", str(tmp_path))
    assert result.exit_code == 0, result.output
    assert "Stored 6 resources from 3 files." in result.output
    assert "Patient: 5" in result.output


def test_import_reports_refusals_with_reasons_and_exit_code_65(
    database_url: str, tmp_path: Path
) -> None:
    good = json.dumps(_patient("ok"))
    bad = json.dumps(_patient("bad", birthDate="1990-13-45"))
    (tmp_path / "mixed.ndjson").write_text(f"{good}\n{bad}\nnot json\n")
    result = _run(database_url, tmp_path, "import", str(tmp_path / "mixed.ndjson"))
    assert result.exit_code == 65
    assert "Stored 1 resources" in result.output
    assert "mixed.ndjson:3: not valid JSON" in result.output
    assert "mixed.ndjson:2: Patient.birthDate" in result.output


def test_import_of_a_missing_path_exits_66(database_url: str, tmp_path: Path) -> None:
    result = _run(database_url, tmp_path, "import", str(tmp_path / "nope.json"))
    assert result.exit_code == 66
    assert "no such file" in result.output


def test_export_writes_ndjson_per_type(database_url: str, tmp_path: Path) -> None:
    lines = [json.dumps(_patient(f"n{i}")) for i in range(3)]
    (tmp_path / "p.ndjson").write_text("\n".join(lines))
    assert _run(database_url, tmp_path, "import", str(tmp_path / "p.ndjson")).exit_code == 0
    out = tmp_path / "out"
    result = _run(database_url, tmp_path, "export", str(out))
    assert result.exit_code == 0, result.output
    exported = [json.loads(line) for line in (out / "Patient.ndjson").read_text().splitlines()]
    assert sorted(p["id"] for p in exported) == ["n0", "n1", "n2"]


def test_export_of_an_unknown_type_is_a_clear_error(database_url: str, tmp_path: Path) -> None:
    result = _run(database_url, tmp_path, "export", "--type", "Spaceship", str(tmp_path / "o"))
    assert result.exit_code == 66
    assert "Unknown resource type 'Spaceship'" in result.output


def test_db_upgrade_is_idempotent(database_url: str, tmp_path: Path) -> None:
    assert _run(database_url, tmp_path, "db", "upgrade").exit_code == 0
    result = _run(database_url, tmp_path, "db", "upgrade")
    assert result.exit_code == 0
    assert "Schema up to date" in result.output
