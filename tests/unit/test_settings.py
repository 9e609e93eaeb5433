"""Settings: precedence, coercion, refusal of unknown keys, and the docs table."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from chartkeeper.core.errors import InvalidError
from chartkeeper.core.settings import SETTINGS, Settings, load_settings

DOC = Path(__file__).resolve().parents[2] / "docs" / "settings.md"


def test_defaults_apply_when_nothing_is_set(tmp_path: Path) -> None:
    settings = load_settings({"data_dir": str(tmp_path)}, environ={})
    assert settings.default_page_size == 20
    assert settings.resolved_database_url == f"sqlite:///{tmp_path.resolve()}/chartkeeper.db"


def test_toml_then_environment_then_overrides_win(tmp_path: Path) -> None:
    (tmp_path / "chartkeeper.toml").write_text("default_page_size = 30\nport = 9000\n")
    env = {"CHARTKEEPER_PORT": "9100", "CHARTKEEPER_VALIDATE_ON_WRITE": "false"}
    settings = load_settings({"data_dir": str(tmp_path), "host": "0.0.0.0"}, environ=env)
    assert settings.default_page_size == 30
    assert settings.port == 9100
    assert settings.validate_on_write is False
    assert settings.host == "0.0.0.0"


def test_an_unknown_key_in_the_toml_file_is_refused(tmp_path: Path) -> None:
    (tmp_path / "chartkeeper.toml").write_text("page_size = 30\n")
    with pytest.raises(InvalidError, match="Unknown setting"):
        load_settings({"data_dir": str(tmp_path)}, environ={})


def test_a_value_of_the_wrong_type_is_refused(tmp_path: Path) -> None:
    with pytest.raises(InvalidError, match="must be an integer"):
        load_settings({"data_dir": str(tmp_path)}, environ={"CHARTKEEPER_PORT": "eighty"})
    with pytest.raises(InvalidError, match="true or false"):
        load_settings({"data_dir": str(tmp_path)}, environ={"CHARTKEEPER_VALIDATE_ON_WRITE": "2"})


def test_the_registry_and_the_settings_object_agree() -> None:
    defaults = Settings()
    for setting in SETTINGS:
        assert getattr(defaults, setting.name) == setting.default


def test_every_setting_is_documented_with_its_default() -> None:
    rows = dict(re.findall(r"^\| `([a-z_]+)` \| ([^|]+) \|", DOC.read_text(), re.MULTILINE))
    assert set(rows) == {s.name for s in SETTINGS}
    for setting in SETTINGS:
        shown = rows[setting.name].strip().strip("`")
        expected = (
            str(setting.default).lower()
            if isinstance(setting.default, bool)
            else str(setting.default)
        )
        assert shown == (expected or "(empty)"), setting.name
