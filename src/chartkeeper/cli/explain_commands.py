"""``chartkeeper explain``: a note, a record or a file in plain words, from the command line.

The same explainer as ``POST /fhir/$explain`` and the portal (docs/explain.md). A stored record
is read as the named user (``--as``), so the access rules and the audit ledger apply; text and
files are explained without touching the store.
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from chartkeeper.cli.billing_commands import AS_OPTION
from chartkeeper.cli.services_context import open_services
from chartkeeper.privacy.actor import SYSTEM
from chartkeeper.summary.explain import Explained, to_parameters


def _print(done: Explained, as_json: bool) -> None:
    if as_json:
        click.echo(json.dumps(to_parameters(done), indent=2))
        return
    found = done.explanation
    click.echo(found.text)
    before, after = found.grade_original.flesch_kincaid, found.grade_explained.flesch_kincaid
    click.echo(f"\nreading grade {before:.1f} -> {after:.1f} (Flesch-Kincaid)", err=True)
    click.echo(f"{len(found.spans)} phrase(s) explained", err=True)
    for flag in found.flags:
        click.echo(f"note: {flag}", err=True)


@click.command(name="explain")
@click.argument("text", required=False)
@click.option("--reference", metavar="TYPE/ID", help="Explain a stored record.")
@click.option(
    "--file",
    "path",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Explain the text of a file.",
)
@click.option("--json", "as_json", is_flag=True, help="Print the $explain Parameters.")
@AS_OPTION
@click.pass_context
def explain(
    ctx: click.Context,
    text: str | None,
    reference: str | None,
    path: Path | None,
    as_json: bool,
    as_user: str | None,
) -> None:
    """Explain TEXT, a stored record (--reference) or a file (--file) in plain words."""
    given = [value for value in (text, reference, path) if value is not None]
    if len(given) != 1:
        raise click.UsageError("give exactly one of TEXT, --reference or --file")
    with open_services(ctx) as services:
        explainer = services.explainer
        if reference is not None:
            actor = SYSTEM if as_user is None else services.security.identity.user_actor(as_user)
            done = explainer.explain_reference(actor, reference)
        elif path is not None:
            done = explainer.explain_words(path.read_text(encoding="utf-8", errors="replace"))
        else:
            done = explainer.explain_words(text)
        _print(done, as_json)
