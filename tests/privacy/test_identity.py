"""Local users and service clients: hashed secrets, generic refusals, lockout, the CLI."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext
from argon2 import PasswordHasher
from click.testing import CliRunner
from cryptography.hazmat.primitives.asymmetric import ec
from jwt.algorithms import ECAlgorithm
from sqlalchemy import MetaData, select

from chartkeeper.cli.main import cli
from chartkeeper.core.clock import FixedClock
from chartkeeper.core.errors import (
    ConflictError,
    InvalidError,
    NotFoundError,
    UnauthorizedError,
)
from chartkeeper.privacy.credentials import SecretHasher
from chartkeeper.privacy.identity import LOCKOUT_DURATION, SIGN_IN_REFUSED, IdentityStore
from chartkeeper.privacy.services import SecurityServices
from chartkeeper.store.identity_schema import IDENTITY_TABLES, service_clients, users
from tests.privacy.security_support import PASSWORD, START, security_services


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(START)


@pytest.fixture
def security(database_url: str, tmp_path: Path, clock: FixedClock) -> Iterator[SecurityServices]:
    with security_services(database_url, tmp_path, clock) as built:
        yield built


@pytest.fixture
def identity(security: SecurityServices) -> IdentityStore:
    return security.identity


def _raw_users(security: SecurityServices) -> list[dict[str, Any]]:
    with security.identity._db.read() as conn:
        return [dict(row._mapping) for row in conn.execute(select(users))]


# --- schema ------------------------------------------------------------------------------------


def test_migration_0003_creates_exactly_the_identity_tables(security: SecurityServices) -> None:
    names = {table.name for table in IDENTITY_TABLES}

    def include_name(name: str | None, kind: str, parents: dict[str, Any]) -> bool:
        if kind == "schema":
            return True
        return (name if kind == "table" else parents.get("table_name")) in names

    wanted = MetaData()
    for table in IDENTITY_TABLES:
        table.to_metadata(wanted)
    with security.identity._db.engine.connect() as conn:
        opts = {"compare_type": True, "include_name": include_name}
        context = MigrationContext.configure(conn, opts=opts)
        assert compare_metadata(context, wanted) == []
        assert names <= set(conn.dialect.get_table_names(conn))


# --- users -------------------------------------------------------------------------------------


def test_passwords_are_stored_as_argon2id_hashes_never_in_clear(
    database_url: str, tmp_path: Path, clock: FixedClock
) -> None:
    with security_services(database_url, tmp_path, clock, hasher=SecretHasher()) as security:
        security.identity.add_user("anna", "physician", PASSWORD)
        [row] = _raw_users(security)
    assert row["password_hash"].startswith("$argon2id$v=19$m=65536,t=3,p=4$")
    assert all(PASSWORD not in str(value) for value in row.values())


def test_a_password_shorter_than_twelve_characters_is_refused(identity: IdentityStore) -> None:
    with pytest.raises(InvalidError, match="at least 12 characters"):
        identity.add_user("anna", "physician", "short-pw-11")
    assert identity.list_users() == []


@pytest.mark.parametrize(
    ("role", "links", "message"),
    [
        ("surgeon", {}, "Unknown role 'surgeon'"),
        ("patient", {}, "needs --patient"),
        ("nurse", {"patient_id": "p1"}, "Only users with role patient"),
        ("biller", {"practitioner_id": "pr1"}, "Only clinical roles"),
        ("patient", {"patient_id": "not an id!"}, "not a valid FHIR id"),
    ],
)
def test_roles_and_links_must_fit_together(
    identity: IdentityStore, role: str, links: dict[str, str], message: str
) -> None:
    with pytest.raises(InvalidError, match=message):
        identity.add_user("someone", role, PASSWORD, **links)
    assert identity.list_users() == []


def test_a_taken_name_is_a_conflict(identity: IdentityStore) -> None:
    identity.add_user("anna", "nurse", PASSWORD)
    with pytest.raises(ConflictError, match="User anna already exists"):
        identity.add_user("anna", "physician", PASSWORD)
    assert [u.role for u in identity.list_users()] == ["nurse"]


def test_sign_in_gives_the_users_actor(identity: IdentityStore, clock: FixedClock) -> None:
    identity.add_user("pat", "patient", PASSWORD, patient_id="p1", organization="Riverside Clinic")
    actor = identity.authenticate("pat", PASSWORD, clock.now())
    assert (actor.kind, actor.name, actor.role) == ("user", "pat", "patient")
    assert (actor.patient_id, actor.organization, actor.scopes) == ("p1", "Riverside Clinic", set())


def test_every_sign_in_refusal_says_the_same_thing(
    identity: IdentityStore, clock: FixedClock
) -> None:
    identity.add_user("anna", "physician", PASSWORD)
    identity.add_user("gone", "nurse", PASSWORD)
    identity.disable_user("gone")
    identity.add_user("locked", "nurse", PASSWORD)
    for _ in range(5):
        with pytest.raises(UnauthorizedError):
            identity.authenticate("locked", "wrong password!", clock.now())
    messages = set()
    for name, password in [
        ("nobody", PASSWORD),
        ("anna", "wrong password!"),
        ("gone", PASSWORD),
        ("locked", PASSWORD),
        ("../etc", PASSWORD),
    ]:
        with pytest.raises(UnauthorizedError) as refused:
            identity.authenticate(name, password, clock.now())
        messages.add(refused.value.message)
    assert messages == {SIGN_IN_REFUSED}


def test_five_wrong_passwords_lock_the_account_for_fifteen_minutes(
    identity: IdentityStore, clock: FixedClock
) -> None:
    identity.add_user("anna", "physician", PASSWORD)
    for _ in range(5):
        with pytest.raises(UnauthorizedError):
            identity.authenticate("anna", "wrong password!", clock.now())
    assert identity.get_user("anna").locked_until == clock.now() + LOCKOUT_DURATION
    with pytest.raises(UnauthorizedError):
        identity.authenticate("anna", PASSWORD, clock.now())  # right password, still locked
    clock.advance(minutes=14, seconds=59)
    with pytest.raises(UnauthorizedError):
        identity.authenticate("anna", PASSWORD, clock.now())
    clock.advance(seconds=1)
    assert identity.authenticate("anna", PASSWORD, clock.now()).name == "anna"
    record = identity.get_user("anna")
    assert (record.failed_attempts, record.locked_until) == (0, None)


def test_attempts_while_locked_neither_count_nor_extend_the_lock(
    identity: IdentityStore, clock: FixedClock
) -> None:
    identity.add_user("anna", "physician", PASSWORD)
    for _ in range(5):
        with pytest.raises(UnauthorizedError):
            identity.authenticate("anna", "wrong password!", clock.now())
    until = identity.get_user("anna").locked_until
    clock.advance(minutes=10)
    for _ in range(10):
        with pytest.raises(UnauthorizedError):
            identity.authenticate("anna", "wrong password!", clock.now())
    assert identity.get_user("anna").locked_until == until
    assert identity.get_user("anna").failed_attempts == 0


def test_a_success_resets_the_failure_count(identity: IdentityStore, clock: FixedClock) -> None:
    identity.add_user("anna", "physician", PASSWORD)
    for _round in range(2):
        for _ in range(4):
            with pytest.raises(UnauthorizedError):
                identity.authenticate("anna", "wrong password!", clock.now())
        assert identity.get_user("anna").failed_attempts == 4
        identity.authenticate("anna", PASSWORD, clock.now())
        assert identity.get_user("anna").failed_attempts == 0


def test_a_hash_made_with_old_parameters_is_replaced_at_the_next_sign_in(
    security: SecurityServices, clock: FixedClock
) -> None:
    engine = security.identity._db.engine
    old = IdentityStore(engine, clock, SecretHasher(PasswordHasher(1, 1024, 1)))
    old.add_user("anna", "physician", PASSWORD)
    newer = IdentityStore(engine, clock, SecretHasher(PasswordHasher(2, 2048, 1)))
    assert newer.authenticate("anna", PASSWORD, clock.now()).name == "anna"
    [row] = _raw_users(security)
    assert "$m=2048,t=2,p=1$" in row["password_hash"]
    assert newer.authenticate("anna", PASSWORD, clock.now()).name == "anna"


def test_a_wrong_password_is_not_rehashed(security: SecurityServices, clock: FixedClock) -> None:
    engine = security.identity._db.engine
    IdentityStore(engine, clock, SecretHasher(PasswordHasher(1, 1024, 1))).add_user(
        "anna", "physician", PASSWORD
    )
    [before] = _raw_users(security)
    newer = IdentityStore(engine, clock, SecretHasher(PasswordHasher(2, 2048, 1)))
    with pytest.raises(UnauthorizedError):
        newer.authenticate("anna", "wrong password!", clock.now())
    [after] = _raw_users(security)
    assert after["password_hash"] == before["password_hash"]


def test_disable_enable_and_set_role(identity: IdentityStore, clock: FixedClock) -> None:
    identity.add_user("anna", "physician", PASSWORD, practitioner_id="pr1")
    identity.disable_user("anna")
    with pytest.raises(UnauthorizedError):
        identity.user_actor("anna")
    identity.enable_user("anna")
    assert identity.user_actor("anna").practitioner_id == "pr1"
    record = identity.set_role("anna", "coder")
    assert (record.role, record.practitioner_id) == ("coder", None)
    with pytest.raises(InvalidError, match="needs --patient"):
        identity.set_role("anna", "patient")
    assert identity.set_role("anna", "patient", patient_id="p9").patient_id == "p9"
    assert identity.set_role("anna", "nurse").patient_id is None
    with pytest.raises(NotFoundError):
        identity.disable_user("nobody")


def test_users_are_listed_by_name(identity: IdentityStore) -> None:
    for name in ("zoe", "anna", "mark"):
        identity.add_user(name, "nurse", PASSWORD)
    assert [u.name for u in identity.list_users()] == ["anna", "mark", "zoe"]


# --- clients -----------------------------------------------------------------------------------


def test_a_generated_client_secret_is_shown_once_and_stored_hashed(
    security: SecurityServices,
) -> None:
    created = security.identity.add_client("lab-feed", "system/Observation.cruds")
    assert created.secret is not None and len(created.secret) >= 43
    with security.identity._db.read() as conn:
        [row] = [dict(r._mapping) for r in conn.execute(select(service_clients))]
    assert row["secret_hash"].startswith("$argon2id$")
    assert created.secret not in json.dumps(row)
    client = security.identity.authenticate_client_secret(created.client.client_id, created.secret)
    assert client.scopes == {"system/Observation.cruds"}


def test_client_secret_refusals_are_generic(security: SecurityServices) -> None:
    created = security.identity.add_client("lab-feed", "system/*.rs")
    keyed = security.identity.add_client("keyed", "system/*.rs", jwks=_public_jwks())
    for client_id, secret in [
        (created.client.client_id, "x" * 43),
        ("unknown", created.secret or ""),
        (keyed.client.client_id, "x" * 43),
    ]:
        with pytest.raises(UnauthorizedError, match=r"^Client authentication failed$"):
            security.identity.authenticate_client_secret(client_id, secret)


def _public_jwks(kid: str = "k1") -> dict[str, Any]:
    key = ec.generate_private_key(ec.SECP384R1()).public_key()
    jwk = json.loads(ECAlgorithm.to_jwk(key))
    return {"keys": [{**jwk, "kid": kid}]}


def test_a_registered_public_key_is_found_by_kid(security: SecurityServices) -> None:
    created = security.identity.add_client("keyed", "system/*.rs", jwks=_public_jwks("k1"))
    assert created.secret is None and created.client.auth_method == "private_key_jwt"
    client_id = created.client.client_id
    found = security.identity.client_public_key(client_id, "k1")
    assert found is not None and found["crv"] == "P-384"
    assert security.identity.client_public_key(client_id, "other") is None


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"jwks": {"keys": [{"kty": "oct", "k": "c2VjcmV0"}]}}, "EC .* or RSA public keys"),
        ({"secret": "too-short"}, "32 to 1024 characters"),
        ({"public": True}, "needs at least one redirect URI"),
        ({"redirect_uris": ("http://evil.example/cb",)}, "must be absolute https"),
        ({"redirect_uris": ("https://app.example/cb#frag",)}, "no fragment"),
        ({"role": "patient"}, "one of the staff roles"),
        ({"role": "wizard"}, "one of the staff roles"),
    ],
)
def test_bad_client_registrations_are_refused(
    security: SecurityServices, options: dict[str, Any], message: str
) -> None:
    with pytest.raises(InvalidError, match=message):
        security.identity.add_client("app", "patient/*.rs", **options)
    assert security.identity.clients.list() == []


def test_a_jwks_holding_a_private_key_is_refused(security: SecurityServices) -> None:
    private = json.loads(ECAlgorithm.to_jwk(ec.generate_private_key(ec.SECP256R1())))
    with pytest.raises(InvalidError, match="holds a private key"):
        security.identity.add_client("app", "system/*.rs", jwks=private)


def test_clients_cannot_be_registered_with_scopes_never_granted(
    security: SecurityServices,
) -> None:
    with pytest.raises(InvalidError, match="'openid' is not supported"):
        security.identity.add_client("app", "openid system/*.rs")


# --- CLI ---------------------------------------------------------------------------------------


def _run(database_url: str, tmp_path: Path, *args: str, stdin: str | None = None) -> Any:
    runner = CliRunner()
    base = ["--data-dir", str(tmp_path), "--database-url", database_url]
    return runner.invoke(cli, [*base, *args], input=stdin)


def test_cli_user_add_list_set_role_and_disable(database_url: str, tmp_path: Path) -> None:
    added = _run(
        database_url, tmp_path, "user", "add", "pat", "--role", "patient",
        "--patient", "Patient/p1", "--password", PASSWORD,
    )  # fmt: skip
    assert added.exit_code == 0, added.output
    assert added.output == "Added user pat with role patient\n"
    _run(database_url, tmp_path, "user", "add", "doc", "--role", "physician",
         "--practitioner", "Practitioner/pr1", "--password", PASSWORD)  # fmt: skip
    listed = _run(database_url, tmp_path, "user", "list")
    assert listed.output.splitlines() == [
        "doc\tphysician\tPractitioner/pr1\tactive",
        "pat\tpatient\tPatient/p1\tactive",
    ]
    changed = _run(database_url, tmp_path, "user", "set-role", "doc", "nurse")
    assert changed.output == "User doc now has role nurse\n"
    disabled = _run(database_url, tmp_path, "user", "disable", "doc")
    assert disabled.output == "Disabled user doc; revoked 0 refresh token(s)\n"
    listed = _run(database_url, tmp_path, "user", "list")
    assert "doc\tnurse\tPractitioner/pr1\tdisabled" in listed.output
    assert PASSWORD not in listed.output


def test_cli_user_add_without_password_or_terminal_is_refused(
    database_url: str, tmp_path: Path
) -> None:
    result = _run(database_url, tmp_path, "user", "add", "anna", "--role", "nurse")
    assert result.exit_code == 65
    assert "No --password given and stdin is not a terminal" in result.output
    assert "No users yet" in _run(database_url, tmp_path, "user", "list").output


def test_cli_refuses_a_short_password_and_a_wrong_reference(
    database_url: str, tmp_path: Path
) -> None:
    short = _run(database_url, tmp_path, "user", "add", "a", "--role", "nurse", "--password", "x")
    assert (short.exit_code, "at least 12 characters" in short.output) == (65, True)
    wrong = _run(
        database_url, tmp_path, "user", "add", "b", "--role", "patient",
        "--patient", "Practitioner/1", "--password", PASSWORD,
    )  # fmt: skip
    assert wrong.exit_code == 65 and "Expected Patient/ID" in wrong.output


def test_cli_client_add_prints_the_id_and_the_secret_once(
    database_url: str, tmp_path: Path
) -> None:
    result = _run(
        database_url, tmp_path, "client", "add", "lab-feed",
        "--scope", "system/Observation.cruds", "--scope", "system/Patient.rs", "--role", "coder",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    lines = result.output.splitlines()
    assert lines[0] == "Registered client lab-feed (client_secret_basic)"
    client_id = lines[1].removeprefix("client_id: ")
    secret = lines[2].removeprefix("client_secret: ")
    assert len(secret) >= 43
    listed = _run(database_url, tmp_path, "client", "list").output
    assert listed.startswith(f"{client_id}\tlab-feed\tclient_secret_basic\tcoder\tactive\t")
    assert secret not in listed


def test_cli_client_add_with_a_jwks_file(database_url: str, tmp_path: Path) -> None:
    path = tmp_path / "app.jwks.json"
    path.write_text(json.dumps(_public_jwks()))
    result = _run(database_url, tmp_path, "client", "add", "bulk", "--scope", "system/*.rs",
                  "--jwks", str(path))  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "(private_key_jwt)" in result.output and "client_secret" not in result.output
