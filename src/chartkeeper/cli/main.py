"""The ``chartkeeper`` command. Exit codes follow the error categories of ``core.errors``."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from chartkeeper import __version__
from chartkeeper.app import Services, build_services
from chartkeeper.core import heap
from chartkeeper.core.errors import ChartkeeperError
from chartkeeper.core.settings import load_settings

F = TypeVar("F", bound=Callable[..., Any])
EXIT_DATA_ERROR = 65
EXIT_NO_INPUT = 66


def _services(ctx: click.Context, migrate: bool = True) -> Services:
    """The services for a command; closed (buffered audit entries flushed) when it ends."""
    settings = load_settings(ctx.obj or {})
    services = build_services(settings, migrate=migrate)
    ctx.call_on_close(services.close)
    return services


def handle_errors(func: F) -> F:
    """Turn a ChartkeeperError into a plain message and its category's exit code."""

    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except ChartkeeperError as error:
            click.echo(f"error: {error.message}", err=True)
            sys.exit(error.exit_code)

    wrapper.__name__ = func.__name__
    wrapper.__doc__ = func.__doc__
    return wrapper  # type: ignore[return-value]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="chartkeeper")
@click.option("--data-dir", envvar="CHARTKEEPER_DATA_DIR", help="Data directory (default ./var).")
@click.option("--database-url", envvar="CHARTKEEPER_DATABASE_URL", help="Store URL (PostgreSQL).")
@click.pass_context
def cli(ctx: click.Context, data_dir: str | None, database_url: str | None) -> None:
    """chartkeeper: health information management on a FHIR R4 records server."""
    ctx.obj = {"data_dir": data_dir, "database_url": database_url}


@cli.command()
@click.option("--host", default=None, help="Address to listen on (default 127.0.0.1).")
@click.option("--port", type=int, default=None, help="Port to listen on (default 8000).")
@click.option("--workers", type=int, default=1, show_default=True, help="Worker processes.")
@click.pass_context
@handle_errors
def serve(ctx: click.Context, host: str | None, port: int | None, workers: int) -> None:
    """Serve the FHIR API (/fhir) and the workbench (/)."""
    import uvicorn

    settings = load_settings({**ctx.obj, "host": host, "port": port})
    for key in ("data_dir", "database_url"):
        if ctx.obj.get(key):
            os.environ[f"CHARTKEEPER_{key.upper()}"] = str(ctx.obj[key])
    if not os.environ.get("CHARTKEEPER_BASE_URL"):
        os.environ["CHARTKEEPER_BASE_URL"] = f"http://{settings.host}:{settings.port}"
    build_services(load_settings()).close()  # migrate once before the workers start
    click.echo(f"chartkeeper {__version__} serving http://{settings.host}:{settings.port}/")
    click.echo(f"  workbench: http://{settings.host}:{settings.port}/patients")
    click.echo(f"  FHIR API:  http://{settings.host}:{settings.port}/fhir/metadata")
    uvicorn.run(
        "chartkeeper.web.asgi:app_factory",
        factory=True,
        host=settings.host,
        port=settings.port,
        workers=workers,
        log_level="warning",
        access_log=False,
    )


@cli.command()
@click.option("--patients", type=int, default=100, show_default=True, help="Patients to make.")
@click.option("--seed", type=int, default=1, show_default=True, help="Seed (same seed, same data).")
@click.pass_context
@handle_errors
def demo(ctx: click.Context, patients: int, seed: int) -> None:
    """Create (or refresh) the demo hospital with synthetic patients."""
    from chartkeeper.cli.demo_billing import bill_demo
    from chartkeeper.cli.demo_loader import load_demo

    services = _services(ctx)
    started = time.perf_counter()
    load = load_demo(services, patients, seed)
    billed = bill_demo(services, lambda line: click.echo(line, err=True))
    elapsed = time.perf_counter() - started
    settings = services.settings
    click.echo(
        f"Demo hospital ready: {load.stored} resources for {patients} patients "
        f"(seed {seed}) in {elapsed:.1f} s, stored in {settings.resolved_database_url}"
    )
    click.echo(
        f"Billing: {billed.claims} claims ({billed.statuses.get('held', 0)} held by the "
        f"scrubber), {billed.released} sent in one 837, {billed.posted} paid or denied by the "
        f"simulated payer ({billed.denials} denials to work)"
    )
    click.echo("All patients are synthetic. Start the server with `chartkeeper serve`, then open")
    click.echo(f"  workbench: {settings.base_url}/patients")
    click.echo(f"  FHIR API:  {settings.base_url}/fhir/metadata")
    click.echo("Demo users (name / password), one per role — for the demo only:")
    for name, role, password in load.users:
        click.echo(f"  {name:<18} {password:<28} ({role})")


@cli.command(name="import")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.pass_context
@handle_errors
def import_(ctx: click.Context, paths: tuple[Path, ...]) -> None:
    """Import FHIR JSON resources, Bundles and NDJSON files (or folders of them)."""
    from chartkeeper.cli.importer import ImportReport, find_files, import_unit, units

    missing = [str(p) for p in paths if not p.exists()]
    if missing:
        click.echo(f"error: no such file or folder: {', '.join(missing)}", err=True)
        sys.exit(EXIT_NO_INPUT)
    services = _services(ctx)
    files = find_files(list(paths))
    report = ImportReport()
    settled = False
    with click.progressbar(files, label="Importing", show_pos=True, file=sys.stderr) as bar:
        for path in bar:
            for where, body in units(path):
                import_unit(services, where, body, report)
                if not settled:  # the first unit loaded the plans every later one reuses
                    heap.settle(bulk=True)
                    settled = True
    total = sum(report.stored.values())
    click.echo(f"Stored {total} resources from {len(files)} files.")
    for kind, count in sorted(report.stored.items()):
        click.echo(f"  {kind}: {count}")
    if report.refused:
        click.echo(f"Refused {len(report.refused)}:", err=True)
        for reason in report.refused[:100]:
            click.echo(f"  {reason}", err=True)
        sys.exit(EXIT_DATA_ERROR)


@cli.command()
@click.argument("directory", type=click.Path(path_type=Path))
@click.option("--type", "types", multiple=True, help="Only these resource types (repeatable).")
@click.pass_context
@handle_errors
def export(ctx: click.Context, directory: Path, types: tuple[str, ...]) -> None:
    """Export current resources as NDJSON, one file per type."""
    from chartkeeper.cli.exporter import export_ndjson

    services = _services(ctx)
    counts = export_ndjson(services, directory, list(types))
    for kind, count in sorted(counts.items()):
        click.echo(f"{directory / (kind + '.ndjson')}: {count}")


@cli.group()
def db() -> None:
    """Database maintenance."""


@db.command()
@click.pass_context
@handle_errors
def upgrade(ctx: click.Context) -> None:
    """Apply pending schema migrations."""
    services = _services(ctx.find_root())
    click.echo(f"Schema up to date in {services.settings.resolved_database_url}")


def main() -> None:
    """Console-script entry point."""
    cli(prog_name="chartkeeper")


from chartkeeper.cli.security_commands import client, token, user  # noqa: E402

cli.add_command(user)
cli.add_command(client)
cli.add_command(token)

from chartkeeper.cli.audit_commands import audit_group  # noqa: E402

cli.add_command(audit_group)

from chartkeeper.cli.key_commands import keys_group  # noqa: E402

cli.add_command(keys_group)

from chartkeeper.cli.mpi_commands import mpi_group  # noqa: E402

cli.add_command(mpi_group)

from chartkeeper.cli.code_commands import codes_group  # noqa: E402

cli.add_command(codes_group)

from chartkeeper.cli.billing_commands import claims_group, remit_group, statement  # noqa: E402

cli.add_command(claims_group)
cli.add_command(remit_group)
cli.add_command(statement)

from chartkeeper.cli.explain_commands import explain  # noqa: E402

cli.add_command(explain)
