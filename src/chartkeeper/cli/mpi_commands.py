"""``chartkeeper mpi``: the master patient index from the command line (docs/mpi.md).

Batch work (``reindex``, ``train``, ``dedupe``, ``overlays``) runs in the foreground with a
progress bar and is recorded as a job, like a run started from the workbench. ``queue``,
``merge`` and ``unmerge`` act for a named HIM technician (``--as``), so the Provenance and the
audit ledger say who did it; without ``--as`` batch work runs as the system itself.
"""

from __future__ import annotations

import json

import click

from chartkeeper.app import Services
from chartkeeper.cli.services_context import open_services
from chartkeeper.core.errors import InvalidError
from chartkeeper.privacy.actor import SYSTEM, Actor

BAR_WIDTH = 30


@click.group(name="mpi")
def mpi_group() -> None:
    """Master patient index: find, review, merge and unmerge duplicate patients."""


def _actor(services: Services, name: str | None) -> Actor:
    if name is None:
        return SYSTEM
    return services.security.identity.user_actor(name)


def _bar(done: int, total: int, what: str) -> None:
    """One line of progress, redrawn in place."""
    shown = min(done / total, 1.0) if total else 0.0
    filled = int(BAR_WIDTH * shown)
    click.echo(
        f"\r[{'#' * filled}{'.' * (BAR_WIDTH - filled)}] {shown:4.0%} {what[:60]:<60}",
        nl=False,
        err=True,
    )


def _run(ctx: click.Context, kind: str, as_user: str | None) -> None:
    with open_services(ctx) as services:
        job = services.mpi.run_job(_actor(services, as_user), kind, echo=_bar)
        click.echo("", err=True)
        if job.state != "done":
            raise click.ClickException(job.message or f"{kind} failed")
        click.echo(job.message)


AS_OPTION = click.option("--as", "as_user", metavar="USER", help="Act as this HIM technician.")


@mpi_group.command()
@AS_OPTION
@click.pass_context
def reindex(ctx: click.Context, as_user: str | None) -> None:
    """Bring the match index up to date with the stored Patients."""
    _run(ctx, "reindex", as_user)


@mpi_group.command()
@AS_OPTION
@click.pass_context
def train(ctx: click.Context, as_user: str | None) -> None:
    """Estimate the match model from this site's own patients (unsupervised EM)."""
    _run(ctx, "train", as_user)


@mpi_group.command()
@AS_OPTION
@click.pass_context
def dedupe(ctx: click.Context, as_user: str | None) -> None:
    """Score the whole index and fill the review queue with candidate duplicate pairs."""
    _run(ctx, "dedupe", as_user)


@mpi_group.command()
@AS_OPTION
@click.pass_context
def overlays(ctx: click.Context, as_user: str | None) -> None:
    """Flag charts whose history looks like two people."""
    _run(ctx, "overlays", as_user)


@mpi_group.command()
@click.option("--as", "as_user", metavar="USER", required=True, help="An HIM technician.")
@click.option("--status", default="open,deferred", show_default=True)
@click.option("--limit", default=20, show_default=True)
@click.pass_context
def queue(ctx: click.Context, as_user: str, status: str, limit: int) -> None:
    """List the review queue, most probable first."""
    with open_services(ctx) as services:
        statuses = tuple(s for s in status.split(",") if s)
        found, total = services.mpi.queue(_actor(services, as_user), statuses, limit)
        click.echo(f"{total} pair(s) with status {status}")
        for pair in found:
            click.echo(
                f"{pair.id}  {pair.probability:6.3f}  {pair.grade:<13} {pair.status:<8} "
                f"Patient/{pair.left_id}  Patient/{pair.right_id}"
            )


@mpi_group.command()
@click.argument("pair_id")
@click.option("--as", "as_user", metavar="USER", required=True, help="An HIM technician.")
@click.pass_context
def explain(ctx: click.Context, pair_id: str, as_user: str) -> None:
    """Show why a pair was proposed: each field's agreement level and weight."""
    with open_services(ctx) as services:
        pair = services.mpi.pair(_actor(services, as_user), pair_id)
        click.echo(
            f"Patient/{pair.left_id} vs Patient/{pair.right_id}: probability "
            f"{pair.probability:.4f} ({pair.grade}), weight {pair.weight:+.2f} bits"
        )
        click.echo(json.dumps(pair.explanation, indent=2))


@mpi_group.command()
@click.argument("survivor")
@click.argument("duplicate")
@click.option("--as", "as_user", metavar="USER", required=True, help="An HIM technician.")
@click.option("--note", default=None, help="Why (kept in the Provenance).")
@click.option("--override", is_flag=True, help="HIM leads: merge despite differing SSNs/DLs.")
@click.pass_context
def merge(
    ctx: click.Context,
    survivor: str,
    duplicate: str,
    as_user: str,
    note: str | None,
    override: bool,
) -> None:
    """Merge Patient DUPLICATE into Patient SURVIVOR."""
    with open_services(ctx) as services:
        outcome = services.mpi.merge(
            _actor(services, as_user),
            _patient(survivor),
            _patient(duplicate),
            note=note,
            override=override,
        )
        click.echo(
            f"merged Patient/{outcome.duplicate_id} into Patient/{outcome.survivor_id}: "
            f"{len(outcome.changed)} versions written, Provenance/{outcome.provenance_id}, "
            f"merge {outcome.merge_id}"
        )


@mpi_group.command()
@click.argument("merge_id")
@click.option("--as", "as_user", metavar="USER", required=True, help="An HIM technician.")
@click.option("--note", default=None)
@click.pass_context
def unmerge(ctx: click.Context, merge_id: str, as_user: str, note: str | None) -> None:
    """Undo merge MERGE_ID exactly, from its Provenance."""
    with open_services(ctx) as services:
        outcome = services.mpi.unmerge(_actor(services, as_user), merge_id, note=note)
        click.echo(
            f"separated Patient/{outcome.duplicate_id} from Patient/{outcome.survivor_id}: "
            f"{len(outcome.changed)} versions restored, Provenance/{outcome.provenance_id}"
        )
        for reference in outcome.repointed_only:
            click.echo(f"  {reference} changed since the merge: references pointed back only")


def _patient(value: str) -> str:
    kind, slash, ident = value.rpartition("/")
    if slash and kind != "Patient":
        raise InvalidError(f"Expected Patient/ID, not {value!r}")
    return ident
