"""``chartkeeper user``, ``client`` and ``token``: manage who may sign in, and mint tokens.

Passwords come from a hidden, confirmed prompt (or ``--password`` for scripts); generated client
secrets are printed once and never stored in clear. ``chartkeeper token`` prints the bearer
token alone on its last line, so ``$(chartkeeper token ... | tail -n 1)`` works in scripts.
"""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import click

from chartkeeper.app import build_services
from chartkeeper.core.errors import ChartkeeperError, InvalidError
from chartkeeper.core.settings import load_settings
from chartkeeper.privacy.actor import ROLES, Actor
from chartkeeper.privacy.identity import UserRecord
from chartkeeper.privacy.scopes import parse_scopes, split_scopes
from chartkeeper.privacy.services import SecurityServices, build_security
from chartkeeper.privacy.tokens import MAX_TTL

CLI_CLIENT = "chartkeeper-cli"
_TTL = re.compile(r"^(\d+)([smhd]?)$")
_UNITS = {"": "seconds", "s": "seconds", "m": "minutes", "h": "hours", "d": "days"}


class _Group(click.Group):
    """A group whose commands turn a ChartkeeperError into a message and its exit code."""

    def invoke(self, ctx: click.Context) -> Any:
        return _guarded(lambda: super(_Group, self).invoke(ctx))


class _Command(click.Command):
    """A command that turns a ChartkeeperError into a message and its exit code."""

    def invoke(self, ctx: click.Context) -> Any:
        return _guarded(lambda: super(_Command, self).invoke(ctx))


def _guarded(run: Any) -> Any:
    try:
        return run()
    except ChartkeeperError as error:
        click.echo(f"error: {error.message}", err=True)
        sys.exit(error.exit_code)


@contextmanager
def _security(ctx: click.Context) -> Iterator[SecurityServices]:
    settings = load_settings(ctx.find_root().obj or {})
    services = build_services(settings)
    try:
        yield build_security(
            services.engine, Path(settings.data_dir), services.clock, settings.base_url
        )
    finally:
        services.close()


def _reference(value: str | None, resource_type: str) -> str | None:
    """The id of ``Type/ID`` (or a bare id)."""
    if value is None:
        return None
    kind, slash, ident = value.rpartition("/")
    if slash and kind != resource_type:
        raise InvalidError(f"Expected {resource_type}/ID, not {value!r}")
    return ident


def _new_password(given: str | None) -> str:
    if given is not None:
        return given
    if not sys.stdin.isatty():
        raise InvalidError("No --password given and stdin is not a terminal to prompt on")
    password: str = click.prompt("Password", hide_input=True, confirmation_prompt=True)
    return password


# --- users -------------------------------------------------------------------------------------


@click.group(cls=_Group)
def user() -> None:
    """Local users: add, list, disable, change role."""


@user.command(name="add")
@click.argument("name")
@click.option("--role", required=True, type=click.Choice(ROLES), help="The user's role.")
@click.option("--patient", help="Patient/ID of a user with role patient.")
@click.option("--practitioner", help="Practitioner/ID of a clinician.")
@click.option("--organization", help="Organization the user works for.")
@click.option("--password", help="Initial password (else prompted twice, hidden).")
@click.pass_context
def user_add(
    ctx: click.Context,
    name: str,
    role: str,
    patient: str | None,
    practitioner: str | None,
    organization: str | None,
    password: str | None,
) -> None:
    """Add a local user who signs in with NAME and a password."""
    patient_id = _reference(patient, "Patient")
    practitioner_id = _reference(practitioner, "Practitioner")
    secret = _new_password(password)
    with _security(ctx) as security:
        added = security.identity.add_user(
            name,
            role,
            secret,
            patient_id=patient_id,
            practitioner_id=practitioner_id,
            organization=organization,
        )
    click.echo(f"Added user {added.name} with role {added.role}")


def _status(record: UserRecord, now: Any) -> str:
    if record.disabled:
        return "disabled"
    if record.locked_until is not None and record.locked_until > now:
        return f"locked until {record.locked_until:%Y-%m-%d %H:%M} UTC"
    return "active"


@user.command(name="list")
@click.pass_context
def user_list(ctx: click.Context) -> None:
    """List the users with role, links and status."""
    with _security(ctx) as security:
        records = security.identity.list_users()
        now = security.clock.now()
    for record in records:
        links = [
            f"Patient/{record.patient_id}" if record.patient_id else "",
            f"Practitioner/{record.practitioner_id}" if record.practitioner_id else "",
        ]
        linked = " ".join(link for link in links if link) or "-"
        click.echo(f"{record.name}\t{record.role}\t{linked}\t{_status(record, now)}")
    if not records:
        click.echo("No users yet; add one with `chartkeeper user add NAME --role ROLE`.")


@user.command(name="disable")
@click.argument("name")
@click.pass_context
def user_disable(ctx: click.Context, name: str) -> None:
    """Stop NAME signing in; revokes their refresh tokens."""
    with _security(ctx) as security:
        security.identity.disable_user(name)
        revoked = security.grants.revoke_user(name)
    click.echo(f"Disabled user {name}; revoked {revoked} refresh token(s)")


@user.command(name="set-role")
@click.argument("name")
@click.argument("role", type=click.Choice(ROLES))
@click.option("--patient", help="Patient/ID, needed when the new role is patient.")
@click.pass_context
def user_set_role(ctx: click.Context, name: str, role: str, patient: str | None) -> None:
    """Give NAME another ROLE (links that no longer fit are dropped)."""
    with _security(ctx) as security:
        record = security.identity.set_role(name, role, _reference(patient, "Patient"))
    click.echo(f"User {record.name} now has role {record.role}")


# --- clients -----------------------------------------------------------------------------------


@click.group(cls=_Group)
def client() -> None:
    """Service clients (applications) that get tokens."""


@client.command(name="add")
@click.argument("name")
@click.option("--scope", "scopes", multiple=True, required=True, help="Allowed scope(s).")
@click.option("--secret", help="Use this secret (32+ characters) instead of a generated one.")
@click.option(
    "--jwks",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="JWKS (or JWK) file of the public key for private_key_jwt.",
)
@click.option("--public", is_flag=True, help="A public app (PKCE only, no secret).")
@click.option("--redirect-uri", "redirect_uris", multiple=True, help="Allowed redirect URI(s).")
@click.option("--role", type=click.Choice(ROLES), help="Role its system tokens act in.")
@click.pass_context
def client_add(
    ctx: click.Context,
    name: str,
    scopes: tuple[str, ...],
    secret: str | None,
    jwks: Path | None,
    public: bool,
    redirect_uris: tuple[str, ...],
    role: str | None,
) -> None:
    """Register client NAME; prints its client id and, once, its secret."""
    key_set = _read_jwks(jwks) if jwks is not None else None
    with _security(ctx) as security:
        created = security.identity.add_client(
            name,
            " ".join(scopes),
            secret=secret,
            jwks=key_set,
            redirect_uris=redirect_uris,
            public=public,
            role=role,
        )
    click.echo(f"Registered client {name} ({created.client.auth_method})")
    click.echo(f"client_id: {created.client.client_id}")
    if created.secret is not None and secret is None:
        click.echo(f"client_secret: {created.secret}")
        click.echo("Store the secret now: it is not shown again.")


def _read_jwks(path: Path) -> dict[str, Any]:
    try:
        loaded = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise InvalidError(f"{path}: not a JSON JWKS ({error})") from None
    if not isinstance(loaded, dict):
        raise InvalidError(f"{path}: a JWKS is a JSON object")
    return loaded


@client.command(name="list")
@click.pass_context
def client_list(ctx: click.Context) -> None:
    """List the registered clients."""
    with _security(ctx) as security:
        records = security.identity.clients.list()
    for record in records:
        state = "disabled" if record.disabled else "active"
        scopes = " ".join(sorted(record.scopes))
        role = record.role or "-"
        click.echo(
            f"{record.client_id}\t{record.name}\t{record.auth_method}\t{role}\t{state}\t{scopes}"
        )


# --- tokens ------------------------------------------------------------------------------------


def parse_ttl(text: str) -> timedelta:
    """``90``, ``90s``, ``30m``, ``1h`` or ``1d`` as a lifetime of at most a day."""
    match = _TTL.fullmatch(text.strip())
    if match is None:
        raise InvalidError(f"--ttl {text!r}: use a number with s, m, h or d (e.g. 1h)")
    ttl = timedelta(**{_UNITS[match[2]]: int(match[1])})
    if not timedelta(0) < ttl <= MAX_TTL:
        raise InvalidError(f"--ttl must be more than 0 and at most {MAX_TTL}")
    return ttl


def _token_actor(
    security: SecurityServices, user_name: str | None, role: str | None, scopes: list[str]
) -> Actor:
    contexts = {scope.split("/", 1)[0] for scope in scopes if "/" in scope}
    if user_name is None:
        if contexts - {"system"} or not contexts:
            raise InvalidError("Without --user, ask for system/ scopes only (system/*.rs)")
        if role == "patient":
            raise InvalidError("A system token cannot act in the patient role")
        return Actor(kind="client", name=CLI_CLIENT, role=role, scopes=frozenset(scopes))
    if "system" in contexts or role is not None:
        raise InvalidError("system/ scopes and --role are for tokens without --user")
    actor = security.identity.user_actor(user_name)
    if "patient" in contexts and not actor.patient_id:
        raise InvalidError(f"patient/ scopes need a user with role patient; {user_name} is not")
    return actor


@click.command(cls=_Command)
@click.option("--scope", "scopes", multiple=True, required=True, help="Scope(s) of the token.")
@click.option("--user", "user_name", help="Token for this user (else a system token).")
@click.option("--role", type=click.Choice(ROLES), help="Role a system token acts in.")
@click.option("--ttl", default="1h", show_default=True, help="Lifetime: 90s, 30m, 1h, 1d.")
@click.pass_context
def token(
    ctx: click.Context, scopes: tuple[str, ...], user_name: str | None, role: str | None, ttl: str
) -> None:
    """Print a bearer token (alone on the last line) for scripts."""
    wanted = split_scopes(scopes)
    parse_scopes(wanted)
    lifetime = parse_ttl(ttl)
    with _security(ctx) as security:
        actor = _token_actor(security, user_name, role, wanted)
        issued = security.tokens.issue_access_token(
            actor, frozenset(wanted), lifetime, client_id=CLI_CLIENT
        )
    click.echo(
        f"Bearer token for {actor.name}, scope {' '.join(wanted)}, valid {lifetime}", err=True
    )
    click.echo(issued)
