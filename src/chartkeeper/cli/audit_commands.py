"""``chartkeeper audit``: verify the audit ledger and sign or export its checkpoints."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import click

from chartkeeper.app import Services, build_services
from chartkeeper.core import heap
from chartkeeper.core.errors import ChartkeeperError, NotFoundError
from chartkeeper.core.settings import load_settings
from chartkeeper.privacy.audit import AuditLedger, export_checkpoints, has_keys
from chartkeeper.privacy.audit.head import read_head

#: The ledger is damaged: a data error (BSD sysexits EX_DATAERR, as in core.errors).
EXIT_DAMAGED = 65


@click.group(name="audit")
def audit_group() -> None:
    """The tamper-evident audit ledger (docs/audit.md)."""


@contextmanager
def _ledger(ctx: click.Context) -> Iterator[tuple[Services, AuditLedger]]:
    """The services and their ledger; a ChartkeeperError becomes its message and exit code."""
    services: Services | None = None
    try:
        settings = load_settings(ctx.find_root().obj or {})
        had_keys = has_keys(Path(settings.data_dir))
        services = build_services(settings)  # makes keys when there are none
        if not had_keys and _has_entries(services):
            raise NotFoundError(
                f"there were no audit keys in {Path(settings.data_dir) / 'keys'}: this ledger "
                "can only be checked with the keys that wrote it (restore them from backup)"
            )
        yield services, services.ledger
    except ChartkeeperError as error:
        click.echo(f"error: {error.message}", err=True)
        sys.exit(error.exit_code)
    finally:
        if services is not None:
            services.close()


def _has_entries(services: Services) -> bool:
    with services.engine.connect() as connection:
        seq = read_head(connection, lock=False).seq
        connection.rollback()
    return seq > 0


@audit_group.command()
@click.option(
    "--checkpoint",
    "checkpoint_file",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Also check against checkpoints exported earlier (detects a truncated tail).",
)
@click.pass_context
def verify(ctx: click.Context, checkpoint_file: Path | None) -> None:
    """Check every entry of the audit ledger; name the first problem (exit 65)."""
    with _ledger(ctx) as (_, ledger):
        heap.settle()  # a walk over every entry: keep the collector off what start-up built
        report = ledger.verify(checkpoint_file)
    if not report.ok:
        click.echo(f"audit ledger damaged: {report.problem}", err=True)
        click.echo(f"  {report.entries} entries verified before it", err=True)
        sys.exit(EXIT_DAMAGED)
    source = f" and {checkpoint_file}" if checkpoint_file else ""
    click.echo(
        f"audit ledger intact: {report.entries} entries, "
        f"{report.checkpoints} signed checkpoints checked{source}"
    )


@audit_group.command()
@click.option(
    "--export",
    "export_file",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Write every checkpoint and the public key to this JSON file, to copy elsewhere.",
)
@click.pass_context
def checkpoint(ctx: click.Context, export_file: Path | None) -> None:
    """Sign the ledger's current head now (and optionally export all checkpoints)."""
    with _ledger(ctx) as (services, ledger):
        signed = ledger.checkpoint()
        click.echo(
            f"signed checkpoint at entry {signed.seq} with key {signed.public_key_id} "
            f"(hash {signed.entry_hash[:16]}...)"
        )
        if export_file is not None:
            with services.engine.connect() as connection:
                count = export_checkpoints(connection, ledger.keys, export_file)
                connection.rollback()
            click.echo(f"exported {count} checkpoints to {export_file}; copy it off this machine")
