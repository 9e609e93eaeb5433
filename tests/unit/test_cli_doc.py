"""docs/cli.md documents every command and every option of the CLI."""

from __future__ import annotations

from pathlib import Path

import click

from chartkeeper.cli.main import cli

DOC = Path(__file__).resolve().parents[2] / "docs" / "cli.md"


def _commands(group: click.Group, prefix: str = "") -> dict[str, click.Command]:
    found: dict[str, click.Command] = {}
    for name, command in group.commands.items():
        path = f"{prefix}{name}"
        if isinstance(command, click.Group):
            found.update(_commands(command, f"{path} "))
        else:
            found[path] = command
    return found


def test_every_command_has_a_section_naming_its_options() -> None:
    text = DOC.read_text(encoding="utf-8")
    sections = {part.split("\n", 1)[0]: part for part in text.split("\n## ")[1:]}
    for path, command in _commands(cli).items():
        assert path in sections, f"docs/cli.md has no section for `{path}`"
        for option in command.params:
            if isinstance(option, click.Option):
                assert option.opts[-1] in sections[path], f"{path}: {option.opts[-1]}"


def test_the_global_options_are_documented() -> None:
    text = DOC.read_text(encoding="utf-8")
    for option in cli.params:
        if isinstance(option, click.Option) and option.opts[-1] != "--help":
            assert option.opts[-1] in text
