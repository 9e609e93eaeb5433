"""Access tokens: claims, every way of forging or replaying one, the key file, the CLI."""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
import stat
from datetime import timedelta
from pathlib import Path
from typing import Any

import jwt
import pytest
from click.testing import CliRunner
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa

from chartkeeper.app import build_services
from chartkeeper.cli.main import cli
from chartkeeper.core.clock import FixedClock, SystemClock
from chartkeeper.core.errors import InvalidError, UnauthorizedError
from chartkeeper.core.settings import load_settings
from chartkeeper.privacy.actor import SYSTEM, Actor
from chartkeeper.privacy.keys import key_path, load_or_create_signing_key
from chartkeeper.privacy.services import build_security
from chartkeeper.privacy.tokens import TokenService, bearer_token
from tests.privacy.security_support import BASE_URL, FHIR_BASE, PASSWORD, START

NURSE = Actor(kind="user", name="nina", role="nurse", practitioner_id="pr7", organization="Ward 3")
PATIENT = Actor(kind="user", name="pat", role="patient", patient_id="p1")


@pytest.fixture
def clock() -> FixedClock:
    return FixedClock(START)


@pytest.fixture
def key() -> ec.EllipticCurvePrivateKey:
    return ec.generate_private_key(ec.SECP256R1())


@pytest.fixture
def tokens(key: ec.EllipticCurvePrivateKey, clock: FixedClock) -> TokenService:
    return TokenService(key, clock, issuer=BASE_URL, audience=FHIR_BASE)


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def _segments(token: str) -> tuple[dict[str, Any], dict[str, Any], str]:
    header, payload, signature = token.split(".")
    pad = lambda text: text + "=" * (-len(text) % 4)  # noqa: E731
    return (
        json.loads(base64.urlsafe_b64decode(pad(header))),
        json.loads(base64.urlsafe_b64decode(pad(payload))),
        signature,
    )


def _refused(tokens: TokenService, token: str | None, message: str) -> None:
    with pytest.raises(UnauthorizedError) as refused:
        tokens.verify_access_token(token)
    assert refused.value.message == message
    assert refused.value.status == 401


def test_a_token_carries_the_actor_and_the_smart_claims(tokens: TokenService) -> None:
    token = tokens.issue_access_token(PATIENT, {"patient/*.rs", "launch/patient"}, client_id="app")
    header, claims, _ = _segments(token)
    assert header == {"alg": "ES256", "kid": tokens.kid, "typ": "JWT"}
    assert set(claims) == {
        "iss", "sub", "aud", "exp", "iat", "jti", "scope", "kind", "role", "patient",
        "fhirUser", "client_id",
    }  # fmt: skip
    assert (claims["iss"], claims["aud"], claims["sub"]) == (BASE_URL, FHIR_BASE, "pat")
    assert claims["exp"] - claims["iat"] == 3600
    assert claims["iat"] == int(START.timestamp())
    assert (claims["scope"], claims["patient"]) == ("launch/patient patient/*.rs", "p1")
    assert claims["fhirUser"] == f"{FHIR_BASE}/Patient/p1"
    actor = tokens.verify_access_token(token)
    assert actor == Actor(
        kind="user", name="pat", role="patient", patient_id="p1",
        scopes=frozenset({"patient/*.rs", "launch/patient"}),
    )  # fmt: skip


def test_a_clinicians_token_names_their_practitioner(tokens: TokenService) -> None:
    token = tokens.issue_access_token(NURSE, {"user/*.rs"}, timedelta(minutes=5))
    claims = _segments(token)[1]
    assert claims["fhirUser"] == f"{FHIR_BASE}/Practitioner/pr7"
    assert claims["exp"] - claims["iat"] == 300
    actor = tokens.verify_access_token(token)
    assert (actor.practitioner_id, actor.organization, actor.role) == ("pr7", "Ward 3", "nurse")


def test_each_token_has_its_own_jti(tokens: TokenService) -> None:
    first, second = (tokens.issue_access_token(NURSE, {"user/*.rs"}) for _ in range(2))
    assert _segments(first)[1]["jti"] != _segments(second)[1]["jti"]


def test_the_system_actor_and_overlong_lifetimes_get_no_token(tokens: TokenService) -> None:
    with pytest.raises(ValueError, match="kind 'system'"):
        tokens.issue_access_token(SYSTEM, {"system/*.cruds"})
    with pytest.raises(ValueError, match="lifetime"):
        tokens.issue_access_token(NURSE, {"user/*.rs"}, timedelta(days=2))


@pytest.mark.parametrize("token", [None, ""])
def test_no_token_is_refused(tokens: TokenService, token: str | None) -> None:
    _refused(tokens, token, "No access token: send Authorization: Bearer <token>")


@pytest.mark.parametrize("token", ["abc", "a.b.c", "....", "eyJhbGciOiJFUzI1NiJ9.x.y"])
def test_a_malformed_token_is_refused(tokens: TokenService, token: str) -> None:
    with pytest.raises(UnauthorizedError, match=r"^Malformed access token"):
        tokens.verify_access_token(token)


def test_an_overlong_token_is_refused_before_parsing(tokens: TokenService) -> None:
    _refused(tokens, "a" * 9000, "Malformed access token: too long")


def test_an_expired_token_is_refused(tokens: TokenService, clock: FixedClock) -> None:
    token = tokens.issue_access_token(NURSE, {"user/*.rs"}, timedelta(minutes=5))
    clock.advance(minutes=4, seconds=59)
    assert tokens.verify_access_token(token).name == "nina"
    clock.advance(seconds=1)
    _refused(tokens, token, "Access token expired; get a new one")


def test_a_token_issued_in_the_future_is_refused(
    tokens: TokenService, key: ec.EllipticCurvePrivateKey, clock: FixedClock
) -> None:
    future = TokenService(key, FixedClock(START + timedelta(minutes=5)), BASE_URL, FHIR_BASE)
    _refused(
        tokens, future.issue_access_token(NURSE, set()), "Access token is issued in the future"
    )


def test_a_token_of_another_key_is_refused(tokens: TokenService, clock: FixedClock) -> None:
    other = TokenService(ec.generate_private_key(ec.SECP256R1()), clock, BASE_URL, FHIR_BASE)
    token = other.issue_access_token(NURSE, {"user/*.rs"})
    _refused(tokens, token, "Access token was not signed with this server's current key")


def test_another_key_claiming_our_kid_fails_the_signature(
    tokens: TokenService, clock: FixedClock
) -> None:
    claims = _segments(tokens.issue_access_token(NURSE, {"user/*.rs"}))[1]
    forged = jwt.encode(
        claims, ec.generate_private_key(ec.SECP256R1()), "ES256", headers={"kid": tokens.kid}
    )
    _refused(tokens, forged, "Access token signature does not verify")


def test_alg_none_is_refused(tokens: TokenService) -> None:
    claims = _segments(tokens.issue_access_token(NURSE, {"user/*.cruds"}))[1]
    header = _b64(json.dumps({"alg": "none", "kid": tokens.kid}).encode())
    unsigned = f"{header}.{_b64(json.dumps(claims).encode())}."
    _refused(tokens, unsigned, "Access token algorithm 'none' is not accepted (only ES256)")


def test_hs256_signed_with_the_public_key_as_secret_is_refused(
    tokens: TokenService, key: ec.EllipticCurvePrivateKey
) -> None:
    claims = _segments(tokens.issue_access_token(NURSE, {"user/*.cruds"}))[1]
    public_pem = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    header = _b64(json.dumps({"alg": "HS256", "kid": tokens.kid, "typ": "JWT"}).encode())
    signing_input = f"{header}.{_b64(json.dumps(claims).encode())}"
    mac = hmac.new(public_pem, signing_input.encode(), hashlib.sha256).digest()
    _refused(
        tokens,
        f"{signing_input}.{_b64(mac)}",
        "Access token algorithm 'HS256' is not accepted (only ES256)",
    )


def test_a_token_for_another_audience_is_refused(
    tokens: TokenService, key: ec.EllipticCurvePrivateKey, clock: FixedClock
) -> None:
    elsewhere = TokenService(key, clock, BASE_URL, "https://other.example.org/fhir")
    _refused(
        tokens, elsewhere.issue_access_token(NURSE, set()), "Access token is for another audience"
    )


def test_a_token_from_another_issuer_is_refused(
    tokens: TokenService, key: ec.EllipticCurvePrivateKey, clock: FixedClock
) -> None:
    elsewhere = TokenService(key, clock, "https://other.example.org", FHIR_BASE)
    _refused(
        tokens,
        elsewhere.issue_access_token(NURSE, set()),
        "Access token was issued by another server",
    )


def test_a_tampered_payload_is_refused(tokens: TokenService) -> None:
    token = tokens.issue_access_token(PATIENT, {"patient/*.rs"})
    header, _claims, signature = token.split(".")
    decoded = _segments(token)[1]
    widened = {**decoded, "scope": "system/*.cruds", "role": "admin"}
    tampered = f"{header}.{_b64(json.dumps(widened).encode())}.{signature}"
    _refused(tokens, tampered, "Access token signature does not verify")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"kind": "system"}, "Malformed access token: unknown kind or role"),
        ({"role": "superuser"}, "Malformed access token: unknown kind or role"),
        ({"jti": None}, "Access token lacks the 'jti' claim"),
        ({"exp": "tomorrow"}, "Malformed access token: exp and iat must be numbers"),
    ],
)
def test_well_signed_tokens_with_bad_claims_are_refused(
    tokens: TokenService, key: ec.EllipticCurvePrivateKey, change: dict[str, Any], message: str
) -> None:
    claims = _segments(tokens.issue_access_token(NURSE, {"user/*.rs"}))[1]
    claims = {k: v for k, v in {**claims, **change}.items() if v is not None}
    _refused(tokens, jwt.encode(claims, key, "ES256", headers={"kid": tokens.kid}), message)


def test_the_jwks_holds_only_the_public_key(tokens: TokenService) -> None:
    [published] = tokens.jwks()["keys"]
    assert set(published) == {"kty", "crv", "x", "y", "kid", "use", "alg"}
    assert (published["kid"], published["alg"], published["use"]) == (tokens.kid, "ES256", "sig")
    token = tokens.issue_access_token(NURSE, {"user/*.rs"})
    verified = jwt.decode(
        token, jwt.PyJWK(published).key, ["ES256"], {"verify_exp": False}, audience=FHIR_BASE
    )
    assert verified["sub"] == "nina"


@pytest.mark.parametrize(
    ("header", "token"),
    [
        ("Bearer abc.def.ghi", "abc.def.ghi"),
        ("bearer   abc ", "abc"),
        ("Basic dXNlcjpwdw==", None),
        ("Bearer", None),
        ("", None),
        (None, None),
    ],
)
def test_bearer_token_reads_the_authorization_header(header: str | None, token: str | None) -> None:
    assert bearer_token(header) == token


# --- the key file ------------------------------------------------------------------------------


def test_the_key_is_made_on_first_run_owner_only_and_reused(tmp_path: Path) -> None:
    first = load_or_create_signing_key(tmp_path)
    path = key_path(tmp_path)
    assert path == tmp_path / "keys" / "jwt-es256.pem"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert b"PRIVATE KEY" in path.read_bytes()
    second = load_or_create_signing_key(tmp_path)
    assert first.private_numbers() == second.private_numbers()
    assert [p.name for p in path.parent.iterdir()] == ["jwt-es256.pem"]  # no leftovers


def test_replacing_the_key_file_invalidates_every_token(tmp_path: Path, clock: FixedClock) -> None:
    before = TokenService(load_or_create_signing_key(tmp_path), clock, BASE_URL, FHIR_BASE)
    token = before.issue_access_token(NURSE, {"user/*.rs"})
    os.remove(key_path(tmp_path))
    after = TokenService(load_or_create_signing_key(tmp_path), clock, BASE_URL, FHIR_BASE)
    assert after.kid != before.kid
    _refused(after, token, "Access token was not signed with this server's current key")


def test_a_key_file_of_the_wrong_kind_is_refused(tmp_path: Path) -> None:
    path = key_path(tmp_path)
    path.parent.mkdir(mode=0o700)
    rsa_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    path.write_bytes(
        rsa_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    with pytest.raises(InvalidError, match="must hold an EC P-256 private key"):
        load_or_create_signing_key(tmp_path)


# --- chartkeeper token -------------------------------------------------------------------------


def _run(database_url: str, tmp_path: Path, *args: str) -> Any:
    base = ["--data-dir", str(tmp_path), "--database-url", database_url]
    return CliRunner().invoke(cli, [*base, *args])


def _verify(database_url: str, tmp_path: Path, token: str) -> Actor:
    """Verify as a server on the same data directory would (same settings as the CLI)."""
    settings = load_settings({"data_dir": str(tmp_path), "database_url": database_url})
    services = build_services(settings)
    try:
        security = build_security(services.engine, tmp_path, SystemClock(), settings.base_url)
        return security.tokens.verify_access_token(token)
    finally:
        services.close()


def test_cli_token_prints_a_system_token_alone_on_the_last_line(
    database_url: str, tmp_path: Path
) -> None:
    result = _run(
        database_url, tmp_path, "token", "--scope", "system/*.rs", "--ttl", "30m", "--role", "coder"
    )
    assert result.exit_code == 0, result.output
    token = result.output.splitlines()[-1]
    assert result.stdout == token + "\n"
    claims = _segments(token)[1]
    assert claims["exp"] - claims["iat"] == 1800
    actor = _verify(database_url, tmp_path, token)
    assert (actor.kind, actor.name, actor.role) == ("client", "chartkeeper-cli", "coder")
    assert actor.scopes == {"system/*.rs"}


def test_cli_token_for_a_user(database_url: str, tmp_path: Path) -> None:
    _run(database_url, tmp_path, "user", "add", "pat", "--role", "patient",
         "--patient", "Patient/p1", "--password", PASSWORD)  # fmt: skip
    result = _run(database_url, tmp_path, "token", "--user", "pat", "--scope", "patient/*.rs")
    assert result.exit_code == 0, result.output
    actor = _verify(database_url, tmp_path, result.output.splitlines()[-1])
    assert (actor.name, actor.role, actor.patient_id) == ("pat", "patient", "p1")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--scope", "user/*.rs"], "Without --user, ask for system/ scopes only"),
        (["--scope", "system/*.rs", "--user", "nobody"], "system/ scopes and --role are for"),
        (["--scope", "user/*.rs", "--user", "x", "--role", "coder"], "--role are for tokens"),
        (["--scope", "system/*.rs", "--role", "patient"], "cannot act in the patient role"),
        (["--scope", "user/*.rs", "--user", "nobody"], "User nobody does not exist"),
        (["--scope", "patient/*.bad"], "letters of 'cruds'"),
        (["--scope", "system/*.rs", "--ttl", "2d"], "--ttl must be more than 0 and at most"),
        (["--scope", "system/*.rs", "--ttl", "soon"], "use a number with s, m, h or d"),
    ],
)
def test_cli_token_refusals(
    database_url: str, tmp_path: Path, args: list[str], message: str
) -> None:
    result = _run(database_url, tmp_path, "token", *args)
    assert result.exit_code in (65, 77)
    assert message in result.output
