"""``chartkeeper claims``, ``chartkeeper remit`` and ``chartkeeper statement``: billing from the
command line (docs/billing.md).

Each command acts for a named user (``--as coder`` or ``--as biller``) so the role table and
the audit ledger apply as in the workbench; without ``--as`` it runs as the system itself.
``claims scrub`` exits 1 when a claim is held (like a linter), ``remit post`` 65 when the file
cannot be read (nothing is posted then).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import click

from chartkeeper.app import Services
from chartkeeper.cli.services_context import open_services
from chartkeeper.privacy.actor import SYSTEM, Actor

#: ``remit post`` on a file that is not an 835 (as ``InvalidError``; see ``core.errors``).
EXIT_DATA_ERROR = 65
AS_OPTION = click.option("--as", "as_user", metavar="USER", help="Act as this user.")


def _actor(services: Services, name: str | None) -> Actor:
    return SYSTEM if name is None else services.security.identity.user_actor(name)


def _check_writable(out: str) -> None:
    """Refuse an output file that cannot be written, before anything is done."""
    if out == "-":
        return
    folder = Path(out).resolve().parent
    if not folder.is_dir() or not os.access(folder, os.W_OK):
        raise click.FileError(out, hint=f"{folder} is not a folder this user can write to")
    if Path(out).is_dir():
        raise click.FileError(out, hint="it is a folder")


def _write(out: str, data: str | bytes) -> None:
    """Write to a file, or to standard output for ``-``."""
    if out == "-":
        if isinstance(data, bytes):
            sys.stdout.buffer.write(data)
        else:
            click.echo(data, nl=False)
        return
    try:
        Path(out).write_bytes(data if isinstance(data, bytes) else data.encode())
    except OSError as failed:
        raise click.FileError(out, hint=failed.strerror or str(failed)) from None


@click.group(name="claims")
def claims_group() -> None:
    """Charge capture, claims, the scrubber and 837 files."""


@claims_group.command()
@click.argument("encounters", nargs=-1, required=True, metavar="ENCOUNTER...")
@AS_OPTION
@click.pass_context
def build(ctx: click.Context, encounters: tuple[str, ...], as_user: str | None) -> None:
    """Capture charges, build the Claim and scrub it, for each encounter id."""
    with open_services(ctx) as services:
        actor, billing = _actor(services, as_user), services.billing
        for encounter in encounters:
            captured = billing.capture(actor, encounter.removeprefix("Encounter/"))
            for unmatched in captured.unmatched:
                click.echo(f"  not charged: {unmatched.source} ({unmatched.reason})", err=True)
            built = billing.build_claim(actor, encounter.removeprefix("Encounter/"))
            done = billing.scrub(actor, built.claim["id"])
            click.echo(f"Claim/{built.claim['id']}  {done.status}  {len(done.issues)} finding(s)")


@claims_group.command()
@click.argument("claims", nargs=-1, metavar="[CLAIM...]")
@click.option("--held", is_flag=True, help="Scrub again every claim the worklist holds.")
@AS_OPTION
@click.pass_context
def scrub(ctx: click.Context, claims: tuple[str, ...], held: bool, as_user: str | None) -> None:
    """Scrub claims and print what is wrong with each; exit 1 when any is held."""
    with open_services(ctx) as services:
        actor, billing = _actor(services, as_user), services.billing
        ids = [c.removeprefix("Claim/") for c in claims]
        if held:
            offset, total = 0, 1
            while offset < total:  # every held claim, a page at a time
                rows, total = billing.worklist_items(actor, "held", 500, offset)
                ids += [row.claim_id for row in rows]
                offset += max(len(rows), 1)
            if not ids:
                click.echo("No claims are held.")
                return
        if not ids:
            raise click.UsageError("Name at least one claim, or use --held")
        any_held = False
        for claim_id in ids:
            done = billing.scrub(actor, claim_id)
            any_held |= done.status == "held"
            click.echo(f"Claim/{claim_id}  {done.status}")
            for issue in done.issues:
                where = done.scrub.locations.get(issue.location, issue.location)
                click.echo(f"  {issue.severity:<11} {issue.rule:<22} {where}")
                click.echo(f"      {issue.message}")
                if issue.hint:
                    click.echo(f"      fix: {issue.hint}")
    if any_held:
        sys.exit(1)


@claims_group.command(name="list")
@click.option("--status", default=None, help="held, clean, released, paid, partial, denied...")
@AS_OPTION
@click.pass_context
def list_(ctx: click.Context, status: str | None, as_user: str | None) -> None:
    """The claim worklist."""
    with open_services(ctx) as services:
        rows, total = services.billing.worklist_items(_actor(services, as_user), status, 500)
        click.echo(f"{'claim number':<21} {'status':<9} {'from':<10} {'total':>11}  errors")
        for row in rows:
            errors = sum(1 for f in row.findings if f.get("severity") == "error")
            click.echo(
                f"{row.control_number:<21} {row.status:<9} {row.service_from:<10} "
                f"{row.total_cents / 100:>11,.2f}  {errors}"
            )
        click.echo(f"({total} claims)", err=True)


@claims_group.command()
@click.option("--format", "form", type=click.Choice(["x12"]), default="x12", show_default=True)
@click.option("--claim", "claims", multiple=True, help="Only these claims (default: all clean).")
@click.argument("out", metavar="OUT")
@AS_OPTION
@click.pass_context
def export(
    ctx: click.Context, form: str, claims: tuple[str, ...], out: str, as_user: str | None
) -> None:
    """Release clean claims as one 837 file written to OUT (``-`` for standard output)."""
    _check_writable(out)
    with open_services(ctx) as services:
        actor, billing = _actor(services, as_user), services.billing
        batch = billing.release(actor, [c.removeprefix("Claim/") for c in claims] or None)
        _write(out, billing.batch_x12(actor, batch.batch_id))
        click.echo(
            f"{form}: {batch.claim_count} claim(s), ${batch.total_cents / 100:,.2f}, "
            f"interchange {batch.interchange_control:09d}, batch {batch.batch_id}",
            err=True,
        )


@click.group(name="remit")
def remit_group() -> None:
    """Remittance advice (835): post payments, adjustments and denials."""


@remit_group.command()
@click.argument("file", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@AS_OPTION
@click.pass_context
def post(ctx: click.Context, file: Path, as_user: str | None) -> None:
    """Post an 835 file; posting the same file again changes nothing."""
    text = _x12_text(file)
    with open_services(ctx) as services:
        report = services.billing.post_remittance(_actor(services, as_user), text, file.name)
        for label, value in report.summary_lines():
            click.echo(f"{label}: {value}")
        if report.remittances_skipped and not report.remittances_posted:
            click.echo("Every remittance in the file was already posted: nothing changed.")


def _x12_text(file: Path) -> str:
    """The file's text, or exit 65: an X12 file is text and never holds a NUL (which no
    separator or element may be, and which PostgreSQL cannot store)."""
    try:
        text = file.read_text(encoding="utf-8", errors="strict")
    except UnicodeDecodeError as bad:
        click.echo(f"error: {file.name} is not an X12 text file (byte {bad.start})", err=True)
        sys.exit(EXIT_DATA_ERROR)
    if "\x00" in text:
        where = text.index("\x00")
        click.echo(f"error: {file.name} holds a NUL character at offset {where}", err=True)
        sys.exit(EXIT_DATA_ERROR)
    return text


@click.command(name="statement")
@click.argument("patient", metavar="PATIENT")
@click.option("--format", "form", type=click.Choice(["html", "pdf"]), default="pdf")
@click.option("--out", default="-", show_default=True, help="File to write (- for stdout).")
@AS_OPTION
@click.pass_context
def statement(ctx: click.Context, patient: str, form: str, out: str, as_user: str | None) -> None:
    """A patient's statement (what was billed, paid, and what they owe) as PDF or HTML."""
    _check_writable(out)
    with open_services(ctx) as services:
        rendered = services.billing.statement(
            _actor(services, as_user), patient.removeprefix("Patient/"), form
        )
        _write(out, rendered)
