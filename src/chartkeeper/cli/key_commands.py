"""``chartkeeper keys``: the keyring that encrypts SSNs and driver's licence numbers at rest.

``keys status`` says which data keys exist and how many stored versions each one protects;
``keys rotate`` makes a new active data key and re-encrypts every stored version under it, in
batches with a progress bar (each batch its own transaction, so an interrupted rotation is
finished by ``keys rotate --resume``), then optionally retires the old keys. Key changes are
audit ledger entries (DICOM 110129 Security Configuration).
"""

from __future__ import annotations

import sys

import click

from chartkeeper.app import Services
from chartkeeper.cli.services_context import open_services
from chartkeeper.core.clock import format_instant
from chartkeeper.core.errors import ChartkeeperError, ConflictError
from chartkeeper.privacy.encryption import (
    KeyUsage,
    Reencryption,
    key_usage,
    record,
    retire_unused,
)


@click.group(name="keys")
def keys_group() -> None:
    """Encryption keys of designated identifiers (docs/security.md)."""


def _usage(services: Services) -> KeyUsage:
    with services.engine.connect() as connection:
        usage = key_usage(connection)
        connection.rollback()
    return usage


@keys_group.command()
@click.pass_context
def status(ctx: click.Context) -> None:
    """List the data keys and how many stored versions each one protects."""
    with open_services(ctx) as services:
        keyring = services.encrypted.cipher.keyring
        state = keyring.refresh()
        usage = _usage(services)
    click.echo(f"keyring: {keyring.path}")
    click.echo(f"blind-index key {state.blind_index_id} (created {state.blind_index_created})")
    for key in state.data_keys:
        role = "active" if key.id == state.active else "old   "
        count = usage.by_key[key.id]
        click.echo(f"data key {key.id}  {role}  created {key.created}  {count} versions")
    unknown = sorted(set(usage.by_key) - {k.id for k in state.data_keys})
    for key_id in unknown:
        click.echo(f"data key {key_id}  MISSING  {usage.by_key[key_id]} versions", err=True)
    click.echo(f"designated identifiers stored in plaintext: {usage.plaintext} versions")
    if unknown:
        sys.exit(ConflictError.exit_code)


@keys_group.command()
@click.option("--resume", is_flag=True, help="Finish an interrupted rotation (no new key).")
@click.option(
    "--retire-old", is_flag=True, help="Then remove the old data keys no stored version uses."
)
@click.option(
    "--batch-size",
    type=click.IntRange(1, 100_000),
    default=500,
    show_default=True,
    help="Versions re-encrypted per transaction.",
)
@click.pass_context
def rotate(ctx: click.Context, resume: bool, retire_old: bool, batch_size: int) -> None:
    """Make a new active data key and re-encrypt every stored version under it."""
    with open_services(ctx) as services:
        cipher = services.encrypted.cipher
        if resume:
            click.echo(f"Resuming with the active data key {cipher.active_key_id}")
        else:
            key = cipher.keyring.add_data_key(format_instant(services.clock.now()))
            record(services.ledger, services.clock, f"data key {key.id} created and made active")
            click.echo(f"New active data key {key.id}")
        _reencrypt(services, batch_size)
        if retire_old:
            _retire(services)


def _reencrypt(services: Services, batch_size: int) -> None:
    cipher = services.encrypted.cipher
    reencryption = Reencryption(services.repository, cipher, batch_size)
    total = reencryption.total()
    try:
        with click.progressbar(
            length=total, label="Re-encrypting", show_pos=True, file=sys.stderr
        ) as bar:
            report = reencryption.run(bar.update)
    except ChartkeeperError as error:
        note = f"re-encryption under data key {cipher.active_key_id} stopped: {error.message}"
        record(services.ledger, services.clock, note, outcome="8")
        raise
    summary = (
        f"re-encrypted {report.reencrypted} and encrypted {report.encrypted} stored in plaintext "
        f"of {report.versions} versions under data key {cipher.active_key_id}"
    )
    record(services.ledger, services.clock, summary)
    click.echo(summary[0].upper() + summary[1:])


def _retire(services: Services) -> None:
    removed, in_use = retire_unused(services.encrypted.cipher.keyring, _usage(services))
    if removed:
        record(services.ledger, services.clock, f"data keys retired: {', '.join(removed)}")
    click.echo(
        f"Retired {len(removed)} old data keys" + (f": {', '.join(removed)}" if removed else "")
    )
    if in_use:
        kept = ", ".join(f"{key_id} ({count} versions)" for key_id, count in in_use.items())
        raise ConflictError(
            f"kept data keys still in use: {kept}; run `chartkeeper keys rotate --resume "
            "--retire-old` again"
        )
