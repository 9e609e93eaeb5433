"""``chartkeeper codes``: load code sets, list what is loaded, search, check (docs/billing.md)."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import click

from chartkeeper.billing.codes.loaders import open_code_file
from chartkeeper.billing.codes.mce import PatientFacts
from chartkeeper.billing.codes.mce_checks import check_encounter
from chartkeeper.billing.codes.model import ICD10CM, KINDS, LOADABLE, MCE, dotted
from chartkeeper.billing.codes.registry import CodeRegistry
from chartkeeper.cli.services_context import open_services
from chartkeeper.core.errors import InvalidError

BAR_WIDTH = 30


@click.group(name="codes")
def codes_group() -> None:
    """Code sets (ICD-10-CM, ICD-10-PCS, HCPCS Level II) as effective-dated versions."""


def _bar(done: int, total: int) -> None:
    """One line of progress on stderr, redrawn in place."""
    shown = min(done / total, 1.0) if total else 0.0
    filled = int(BAR_WIDTH * shown)
    bar = f"[{'#' * filled}{'.' * (BAR_WIDTH - filled)}] {shown:4.0%} {done}/{total} codes"
    click.echo(f"\r{bar}", nl=False, err=True)


def _day(text: str | None, what: str) -> date | None:
    if text is None:
        return None
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise InvalidError(f"{what} must be a date (YYYY-MM-DD), not '{text}'") from None


@codes_group.command()
@click.argument("kind", type=click.Choice(LOADABLE))
@click.argument("file", required=False, type=click.Path(path_type=Path))
@click.option("--version", "version", help="Version name (default: from the file name).")
@click.option("--effective-from", help="First day in force, YYYY-MM-DD.")
@click.option("--effective-to", help="Last day in force (default: until a later version).")
@click.pass_context
def load(
    ctx: click.Context,
    kind: str,
    file: Path | None,
    version: str | None,
    effective_from: str | None,
    effective_to: str | None,
) -> None:
    """Load a code set file (ICD-10-CM without FILE: the version shipped with chartkeeper)."""
    with open_services(ctx) as services:
        found = open_code_file(kind, file)
        name = version or found.version
        start = _day(effective_from, "--effective-from") or _day(found.effective_from, "start")
        if name is None or start is None:
            raise InvalidError(
                "Cannot tell the version from the file name: give --version and --effective-from"
            )
        end = _day(effective_to, "--effective-to")
        registry = CodeRegistry(services.engine)
        loaded = registry.load(kind, found.entries, name, (start, end), found.source, _bar)
        click.echo("", err=True)
        until = loaded.effective_to.isoformat() if loaded.effective_to else "open"
        click.echo(
            f"Loaded {loaded.count} {kind} codes as version {loaded.version} "
            f"({loaded.effective_from.isoformat()} to {until}) from {loaded.source}"
        )


@codes_group.command(name="list")
@click.pass_context
def list_sets(ctx: click.Context) -> None:
    """What is loaded: kind, version, dates in force, count, source."""
    with open_services(ctx) as services:
        versions = CodeRegistry(services.engine).versions()
    if not versions:
        click.echo("No code sets loaded (try: chartkeeper codes load icd10cm)")
        return
    click.echo(f"{'kind':<9} {'version':<10} {'from':<10}  {'to':<10}  {'codes':>7}  source")
    for v in versions:
        until = v.effective_to.isoformat() if v.effective_to else "-"
        click.echo(
            f"{v.kind:<9} {v.version:<10} {v.effective_from.isoformat():<10}  {until:<10}  "
            f"{v.count:>7}  {v.source}"
        )


@codes_group.command()
@click.argument("query")
@click.option("--kind", type=click.Choice(KINDS), default=ICD10CM, show_default=True)
@click.option("--date", "on", help="Date of service (default: today).")
@click.option("--count", default=10, show_default=True)
@click.pass_context
def search(ctx: click.Context, query: str, kind: str, on: str | None, count: int) -> None:
    """Search codes by title and inclusion terms (or by code prefix)."""
    with open_services(ctx) as services:
        registry = CodeRegistry(services.engine)
        found = registry.version_on(kind, _day(on, "--date") or date.today())
        if found is None:
            raise InvalidError(f"No {kind} version is in force on that date")
        page = registry.index(found).search(query, count)
    for hit in page.hits:
        mark = " " if hit.billable else "*"
        click.echo(f"{dotted(kind, hit.code):<9}{mark} {hit.display}")
    click.echo(f"({page.total} matches in {kind} {found.version}; * = not billable)", err=True)


@codes_group.command()
@click.argument("diagnoses", nargs=-1, required=True)
@click.option("--date", "on", help="Date of service (default: today).")
@click.option("--sex", type=click.Choice(["female", "male"]), help="Patient's administrative sex.")
@click.option("--age", type=click.IntRange(0, 130), help="Patient's age in years on the date.")
@click.pass_context
def check(
    ctx: click.Context, diagnoses: tuple[str, ...], on: str | None, sex: str | None, age: int | None
) -> None:
    """Coding checks of ICD-10-CM diagnoses, principal first; findings as JSON lines."""
    day = _day(on, "--date") or date.today()
    with open_services(ctx) as services:
        registry = CodeRegistry(services.engine)
        codes, edits = registry.on(ICD10CM, day), registry.on(MCE, day)
        findings = check_encounter(codes, edits, diagnoses, day, PatientFacts(sex, age))
    for finding in findings:
        click.echo(json.dumps(finding.as_dict()))
    if not findings:
        click.echo("No findings", err=True)
