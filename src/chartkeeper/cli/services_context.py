"""The services for one CLI command, with errors turned into a message and an exit code."""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager

import click

from chartkeeper.app import Services, build_services
from chartkeeper.core.errors import ChartkeeperError
from chartkeeper.core.settings import load_settings


@contextmanager
def open_services(ctx: click.Context) -> Iterator[Services]:
    """The services; a ChartkeeperError becomes ``error: message`` and its exit code."""
    services: Services | None = None
    try:
        services = build_services(load_settings(ctx.find_root().obj or {}))
        yield services
    except ChartkeeperError as error:
        click.echo(f"error: {error.message}", err=True)
        sys.exit(error.exit_code)
    finally:
        if services is not None:
            services.close()
