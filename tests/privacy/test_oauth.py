"""OAuth endpoints through the real routes: client credentials, PKCE codes, refresh, discovery."""

from __future__ import annotations

import base64
import html
import json
import re
import secrets
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from jwt.algorithms import ECAlgorithm, RSAAlgorithm
from starlette.applications import Starlette
from starlette.testclient import TestClient

from chartkeeper.core.clock import FixedClock
from chartkeeper.core.errors import UnauthorizedError
from chartkeeper.privacy.services import SecurityServices
from chartkeeper.web.oauth import oauth_routes
from tests.privacy.security_support import (
    BASE_URL,
    FHIR_BASE,
    PASSWORD,
    START,
    TOKEN_URL,
    pkce_pair,
    security_services,
)

CALLBACK = "http://localhost:9000/callback"
ASSERTION_TYPE = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"


@dataclass
class World:
    """A running app with two users, a public SMART app and a confidential backend client."""

    http: TestClient
    security: SecurityServices
    clock: FixedClock
    app_id: str
    backend_id: str
    backend_secret: str


@pytest.fixture
def world(database_url: str, tmp_path: Path) -> Iterator[World]:
    clock = FixedClock(START)
    with security_services(database_url, tmp_path, clock) as security:
        identity = security.identity
        identity.add_user("pat", "patient", PASSWORD, patient_id="p1")
        identity.add_user("doc", "physician", PASSWORD, practitioner_id="pr1")
        app = identity.add_client(
            "Chart viewer",
            "patient/*.rs user/*.rs launch/patient offline_access",
            public=True,
            redirect_uris=(CALLBACK,),
        )
        backend = identity.add_client(
            "lab-feed", "system/Observation.cruds system/Patient.rs", role="him_technician"
        )
        assert backend.secret is not None
        starlette = Starlette(routes=oauth_routes())
        starlette.state.security = security
        with TestClient(starlette, base_url=BASE_URL, follow_redirects=False) as http:
            yield World(
                http, security, clock, app.client.client_id, backend.client.client_id,
                backend.secret,
            )  # fmt: skip


def _basic(client_id: str, secret: str) -> dict[str, str]:
    encoded = base64.b64encode(f"{client_id}:{secret}".encode()).decode()
    return {"Authorization": f"Basic {encoded}"}


def _token(world: World, form: dict[str, str], **headers: str) -> Any:
    return world.http.post("/oauth/token", data=form, headers=headers)


def _oauth_error(response: Any, status: int, error: str, description: str | None = None) -> None:
    assert response.status_code == status, response.text
    body = response.json()
    assert body["error"] == error
    if description is not None:
        assert body["error_description"] == description
    assert response.headers["cache-control"] == "no-store"


# --- discovery ---------------------------------------------------------------------------------


def test_smart_configuration_describes_the_endpoints(world: World) -> None:
    response = world.http.get("/.well-known/smart-configuration")
    assert response.status_code == 200
    body = response.json()
    assert body["issuer"] == BASE_URL
    assert body["token_endpoint"] == TOKEN_URL
    assert body["authorization_endpoint"] == f"{BASE_URL}/oauth/authorize"
    assert body["jwks_uri"] == f"{BASE_URL}/.well-known/jwks.json"
    assert body["code_challenge_methods_supported"] == ["S256"]
    assert set(body["grant_types_supported"]) == {
        "authorization_code", "client_credentials", "refresh_token",
    }  # fmt: skip
    assert "private_key_jwt" in body["token_endpoint_auth_methods_supported"]
    assert {"launch-standalone", "permission-v2", "client-confidential-asymmetric"} <= set(
        body["capabilities"]
    )
    assert "system/*.cruds" in body["scopes_supported"]


def test_the_jwks_document_verifies_issued_tokens(world: World) -> None:
    response = world.http.get("/.well-known/jwks.json")
    assert response.status_code == 200
    [key] = response.json()["keys"]
    assert "d" not in key
    body = _token(
        world,
        {"grant_type": "client_credentials", "scope": "system/Patient.rs"},
        **_basic(world.backend_id, world.backend_secret),
    ).json()
    claims = jwt.decode(
        body["access_token"], jwt.PyJWK(key).key, ["ES256"], {"verify_exp": False},
        audience=FHIR_BASE,
    )  # fmt: skip
    assert claims["sub"] == world.backend_id


# --- client credentials with a secret ----------------------------------------------------------


def test_client_credentials_with_http_basic(world: World) -> None:
    response = _token(
        world,
        {"grant_type": "client_credentials", "scope": "system/*.rs"},
        **_basic(world.backend_id, world.backend_secret),
    )
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert set(body) == {"access_token", "token_type", "expires_in", "scope"}
    assert (body["token_type"], body["expires_in"]) == ("Bearer", 3600)
    assert body["scope"] == "system/Observation.rs system/Patient.rs"  # narrowed
    actor = world.security.actor_from_authorization(f"Bearer {body['access_token']}")
    assert (actor.kind, actor.name, actor.role) == ("client", world.backend_id, "him_technician")
    assert actor.scopes == {"system/Observation.rs", "system/Patient.rs"}


def test_client_credentials_with_the_secret_in_the_form(world: World) -> None:
    form = {
        "grant_type": "client_credentials",
        "scope": "system/Observation.cruds",
        "client_id": world.backend_id,
        "client_secret": world.backend_secret,
    }
    response = _token(world, form)
    assert response.status_code == 200, response.text
    assert response.json()["scope"] == "system/Observation.cruds"


def test_a_wrong_secret_is_invalid_client_401(world: World) -> None:
    response = _token(
        world,
        {"grant_type": "client_credentials", "scope": "system/*.rs"},
        **_basic(world.backend_id, "x" * 43),
    )
    _oauth_error(response, 401, "invalid_client", "Client authentication failed")
    assert response.headers["www-authenticate"] == 'Basic realm="chartkeeper"'


@pytest.mark.parametrize(
    ("form", "error", "description"),
    [
        ({"grant_type": "password"}, "unsupported_grant_type", None),
        ({"grant_type": "client_credentials"}, "invalid_scope", None),
        ({"grant_type": "client_credentials", "scope": "patient/*.rs"}, "invalid_scope", None),
        ({"grant_type": "client_credentials", "scope": "patient/x"}, "invalid_scope", None),
        (
            {"grant_type": "client_credentials", "client_secret": "again"},
            "invalid_request",
            "Use one client authentication method, not two",
        ),
    ],
)
def test_token_request_errors(
    world: World, form: dict[str, str], error: str, description: str | None
) -> None:
    response = _token(world, form, **_basic(world.backend_id, world.backend_secret))
    _oauth_error(response, 400, error, description)


def test_a_token_request_must_be_form_encoded_with_each_parameter_once(world: World) -> None:
    headers = _basic(world.backend_id, world.backend_secret)
    as_json = world.http.post(
        "/oauth/token", json={"grant_type": "client_credentials"}, headers=headers
    )
    _oauth_error(as_json, 400, "invalid_request", "Send application/x-www-form-urlencoded")
    twice = world.http.post(
        "/oauth/token",
        content=b"grant_type=client_credentials&scope=system/*.rs&scope=system/*.cruds",
        headers={**headers, "content-type": "application/x-www-form-urlencoded"},
    )
    _oauth_error(twice, 400, "invalid_request", "Parameter scope is given more than once")


def test_a_public_client_cannot_use_client_credentials(world: World) -> None:
    form = {"grant_type": "client_credentials", "scope": "system/*.rs", "client_id": world.app_id}
    _oauth_error(_token(world, form), 400, "unauthorized_client")


# --- client credentials with private_key_jwt ---------------------------------------------------


def _key_pair(kind: str) -> tuple[Any, dict[str, Any], str]:
    if kind == "ES384":
        private: Any = ec.generate_private_key(ec.SECP384R1())
        public = json.loads(ECAlgorithm.to_jwk(private.public_key()))
    else:
        private = rsa.generate_private_key(public_exponent=65537, key_size=2048)
        public = json.loads(RSAAlgorithm.to_jwk(private.public_key()))
    return private, {**public, "kid": "key-1"}, kind


def _assertion(world: World, client_id: str, key: Any, alg: str, **changes: Any) -> str:
    now = int(world.clock.now().timestamp())
    claims = {"iss": client_id, "sub": client_id, "aud": TOKEN_URL, "exp": now + 300}
    claims["jti"] = secrets.token_urlsafe(12)
    claims.update(changes)
    return jwt.encode(claims, key, alg, headers={"kid": "key-1"})


def _assert_form(assertion: str, scope: str = "system/*.rs") -> dict[str, str]:
    return {
        "grant_type": "client_credentials",
        "scope": scope,
        "client_assertion_type": ASSERTION_TYPE,
        "client_assertion": assertion,
    }


@pytest.fixture(params=["ES384", "RS384"])
def keyed(world: World, request: pytest.FixtureRequest) -> tuple[str, Any, str]:
    private, jwk, alg = _key_pair(request.param)
    created = world.security.identity.add_client("bulk", "system/*.rs", jwks={"keys": [jwk]})
    return created.client.client_id, private, alg


def test_private_key_jwt_gets_a_token_once_per_assertion(
    world: World, keyed: tuple[str, Any, str]
) -> None:
    client_id, private, alg = keyed
    assertion = _assertion(world, client_id, private, alg)
    response = _token(world, _assert_form(assertion))
    assert response.status_code == 200, response.text
    actor = world.security.actor_from_authorization(f"Bearer {response.json()['access_token']}")
    assert (actor.kind, actor.name, actor.scopes) == ("client", client_id, {"system/*.rs"})
    assert actor.role is None  # registered without a role: the access decision refuses it
    replay = _token(world, _assert_form(assertion))
    _oauth_error(replay, 401, "invalid_client", "Client assertion jti was already used (replay)")


def test_private_key_jwt_refusals(world: World, keyed: tuple[str, Any, str]) -> None:
    client_id, private, alg = keyed
    other, _, _ = _key_pair(alg)
    now = int(world.clock.now().timestamp())
    cases = [
        (_assertion(world, client_id, other, alg), "client_assertion signature does not verify"),
        (
            _assertion(world, client_id, private, alg, aud=f"{BASE_URL}/elsewhere"),
            f"client_assertion aud must be the token endpoint {TOKEN_URL}",
        ),
        (_assertion(world, client_id, private, alg, exp=now - 1), "client_assertion expired"),
        (
            _assertion(world, client_id, private, alg, exp=now + 3600),
            "client_assertion exp must be at most five minutes ahead",
        ),
        (
            _assertion(world, client_id, private, alg, sub="someone-else"),
            "client_assertion is invalid (iss and sub must be the client id)",
        ),
        (
            jwt.encode({"iss": client_id}, "a-shared-secret-of-32-bytes-long!", "HS256"),
            "client_assertion algorithm 'HS256' does not suit the registered key",
        ),
        (
            _assertion(world, "unknown", private, alg),
            "client_assertion names no active private_key_jwt client",
        ),
        ("not-a-jwt", "client_assertion is not a signed JWT"),
    ]
    for assertion, description in cases:
        _oauth_error(_token(world, _assert_form(assertion)), 401, "invalid_client", description)


def test_a_secret_client_cannot_authenticate_with_an_assertion(world: World) -> None:
    private, _, alg = _key_pair("ES384")
    assertion = _assertion(world, world.backend_id, private, alg)
    _oauth_error(_token(world, _assert_form(assertion)), 401, "invalid_client")


# --- authorization code with PKCE --------------------------------------------------------------


def _query(world: World, challenge: str, **changes: str) -> dict[str, str]:
    query = {
        "response_type": "code",
        "client_id": world.app_id,
        "redirect_uri": CALLBACK,
        "scope": "patient/*.rs launch/patient offline_access",
        "state": "st-123",
        "code_challenge": challenge,
        "code_challenge_method": "S256",
        "aud": FHIR_BASE,
    }
    query.update(changes)
    return {k: v for k, v in query.items() if v != "-"}


def _hidden_fields(page: str) -> dict[str, str]:
    found = re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', page)
    return {name: html.unescape(value) for name, value in found}


def _sign_in(
    world: World, query: dict[str, str], name: str = "pat", password: str = PASSWORD, **extra: str
) -> Any:
    page = world.http.get("/oauth/authorize", params=query)
    assert page.status_code == 200, page.text
    form = {**_hidden_fields(page.text), "name": name, "password": password, "action": "approve"}
    form.update(extra)
    return world.http.post("/oauth/authorize", data=form)


def _redirect_params(response: Any) -> dict[str, str]:
    assert response.status_code == 303, response.text
    location = response.headers["location"]
    assert location.startswith(CALLBACK + "?")
    return {k: v[0] for k, v in parse_qs(urlsplit(location).query).items()}


def _code_form(world: World, code: str, verifier: str) -> dict[str, str]:
    return {
        "grant_type": "authorization_code",
        "code": code,
        "code_verifier": verifier,
        "redirect_uri": CALLBACK,
        "client_id": world.app_id,
    }


def _code(world: World, **changes: str) -> tuple[str, str]:
    verifier, challenge = pkce_pair()
    params = _redirect_params(_sign_in(world, _query(world, challenge), **changes))
    return params["code"], verifier


def test_authorization_code_with_pkce_for_a_patient(world: World) -> None:
    verifier, challenge = pkce_pair()
    page = world.http.get("/oauth/authorize", params=_query(world, challenge))
    assert "Chart viewer" in page.text and "read, search your records" in page.text
    assert "chartkeeper_oauth_csrf" in page.headers["set-cookie"]
    assert "httponly" in page.headers["set-cookie"].lower()
    assert page.headers["cache-control"] == "no-store"
    form = {**_hidden_fields(page.text), "name": "pat", "password": PASSWORD, "action": "approve"}
    params = _redirect_params(world.http.post("/oauth/authorize", data=form))
    assert (params["state"], params["iss"]) == ("st-123", BASE_URL)
    response = _token(world, _code_form(world, params["code"], verifier))
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["scope"] == "launch/patient offline_access patient/*.rs"
    assert body["patient"] == "p1" and body["refresh_token"]
    actor = world.security.actor_from_authorization(f"Bearer {body['access_token']}")
    assert (actor.name, actor.role, actor.patient_id) == ("pat", "patient", "p1")


def test_a_clinician_gets_no_patient_scopes_without_a_patient_context(world: World) -> None:
    verifier, challenge = pkce_pair()
    query = _query(world, challenge, scope="patient/*.rs user/*.rs launch/patient")
    params = _redirect_params(_sign_in(world, query, name="doc"))
    body = _token(world, _code_form(world, params["code"], verifier)).json()
    assert body["scope"] == "user/*.rs"
    assert "patient" not in body and "refresh_token" not in body


def test_a_wrong_code_verifier_is_refused_and_uses_up_the_code(world: World) -> None:
    code, verifier = _code(world)
    wrong = _token(world, _code_form(world, code, pkce_pair()[0]))
    _oauth_error(
        wrong, 400, "invalid_grant", "code_verifier does not match the code_challenge (PKCE S256)"
    )
    again = _token(world, _code_form(world, code, verifier))
    _oauth_error(again, 400, "invalid_grant", "Authorization code was already used")


def test_a_reused_code_is_refused_and_revokes_what_it_gave(world: World) -> None:
    code, verifier = _code(world)
    first = _token(world, _code_form(world, code, verifier))
    assert first.status_code == 200
    second = _token(world, _code_form(world, code, verifier))
    _oauth_error(second, 400, "invalid_grant", "Authorization code was already used")
    refresh = {
        "grant_type": "refresh_token",
        "refresh_token": first.json()["refresh_token"],
        "client_id": world.app_id,
    }
    _oauth_error(_token(world, refresh), 400, "invalid_grant")


def test_a_code_lives_sixty_seconds(world: World) -> None:
    code, verifier = _code(world)
    world.clock.advance(seconds=60)
    expired = _token(world, _code_form(world, code, verifier))
    _oauth_error(expired, 400, "invalid_grant", "Authorization code expired (they live 60 seconds)")


def test_the_code_exchange_checks_redirect_uri_and_client(world: World) -> None:
    code, verifier = _code(world)
    form = {**_code_form(world, code, verifier), "redirect_uri": "http://localhost:9000/other"}
    _oauth_error(_token(world, form), 400, "invalid_grant")
    code, verifier = _code(world)
    form = _code_form(world, code, verifier)
    del form["client_id"]
    stolen = _token(world, form, **_basic(world.backend_id, world.backend_secret))
    _oauth_error(stolen, 400, "invalid_grant", "Authorization code was issued to another client")


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"redirect_uri": "https://attacker.example/cb"}, "redirect_uri is not registered"),
        ({"redirect_uri": "-"}, "redirect_uri is not registered"),
        ({"client_id": "nobody"}, "Unknown or disabled client_id"),
    ],
)
def test_an_untrusted_redirect_is_shown_never_followed(
    world: World, changes: dict[str, str], message: str
) -> None:
    response = world.http.get("/oauth/authorize", params=_query(world, pkce_pair()[1], **changes))
    assert response.status_code == 400
    assert "location" not in response.headers
    assert message in response.text and "password" not in response.text


@pytest.mark.parametrize(
    ("changes", "error"),
    [
        ({"code_challenge_method": "plain"}, "invalid_request"),
        ({"code_challenge": "-", "code_challenge_method": "-"}, "invalid_request"),
        ({"response_type": "token"}, "unsupported_response_type"),
        ({"aud": "https://other.example.org/fhir"}, "invalid_request"),
        ({"scope": "patient/*.bad"}, "invalid_scope"),
        ({"scope": "system/*.rs"}, "invalid_scope"),
    ],
)
def test_bad_authorization_requests_go_back_to_the_app(
    world: World, changes: dict[str, str], error: str
) -> None:
    response = world.http.get("/oauth/authorize", params=_query(world, pkce_pair()[1], **changes))
    params = _redirect_params(response)
    assert (params["error"], params["state"]) == (error, "st-123")


def test_a_missing_state_is_refused(world: World) -> None:
    response = world.http.get("/oauth/authorize", params=_query(world, pkce_pair()[1], state="-"))
    assert _redirect_params(response)["error"] == "invalid_request"


def test_a_wrong_password_shows_the_page_again_without_a_code(world: World) -> None:
    response = _sign_in(world, _query(world, pkce_pair()[1]), password="wrong password!")
    assert response.status_code == 401
    assert "location" not in response.headers
    assert "Sign-in refused: wrong name or password" in response.text


def test_the_form_needs_its_csrf_token(world: World) -> None:
    response = _sign_in(world, _query(world, pkce_pair()[1]), csrf_token="forged")
    assert response.status_code == 403
    assert "location" not in response.headers
    world.http.cookies.clear()
    form = {**_query(world, pkce_pair()[1]), "name": "pat", "password": PASSWORD}
    response = world.http.post("/oauth/authorize", data={**form, "action": "approve"})
    assert response.status_code == 403


def test_denying_sends_access_denied_to_the_app(world: World) -> None:
    response = _sign_in(world, _query(world, pkce_pair()[1]), action="deny")
    params = _redirect_params(response)
    assert (params["error"], params["state"]) == ("access_denied", "st-123")
    assert "code" not in params


# --- refresh tokens ----------------------------------------------------------------------------


def _tokens(world: World) -> dict[str, Any]:
    code, verifier = _code(world)
    response = _token(world, _code_form(world, code, verifier))
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


def _refresh(world: World, token: str, **extra: str) -> Any:
    form = {"grant_type": "refresh_token", "refresh_token": token, "client_id": world.app_id}
    return _token(world, {**form, **extra})


def test_refresh_rotates_and_a_used_refresh_token_revokes_the_family(world: World) -> None:
    first = _tokens(world)
    world.clock.advance(minutes=30)
    response = _refresh(world, first["refresh_token"])
    assert response.status_code == 200, response.text
    second = response.json()
    assert second["refresh_token"] != first["refresh_token"]
    assert second["scope"] == first["scope"] and second["patient"] == "p1"
    reused = _refresh(world, first["refresh_token"])
    _oauth_error(
        reused, 400, "invalid_grant", "Refresh token was already used or revoked; sign in again"
    )
    _oauth_error(_refresh(world, second["refresh_token"]), 400, "invalid_grant")


def test_refresh_may_narrow_but_not_widen_the_scope(world: World) -> None:
    first = _tokens(world)
    wider = _refresh(world, first["refresh_token"], scope="patient/*.cruds")
    _oauth_error(wider, 400, "invalid_scope")
    assert "wider than granted" in wider.json()["error_description"]
    narrower = _refresh(world, first["refresh_token"], scope="patient/Observation.rs")
    assert narrower.status_code == 200, narrower.text  # the refused request used nothing up
    assert narrower.json()["scope"] == "patient/Observation.rs"
    again = _refresh(world, narrower.json()["refresh_token"])
    assert again.json()["scope"] == first["scope"]


def test_refresh_is_refused_for_a_disabled_user_another_client_or_after_expiry(
    world: World,
) -> None:
    first = _tokens(world)
    stolen = _token(
        world,
        {"grant_type": "refresh_token", "refresh_token": first["refresh_token"]},
        **_basic(world.backend_id, world.backend_secret),
    )
    _oauth_error(stolen, 400, "invalid_grant", "Unknown refresh token")
    world.clock.advance(days=30)
    _oauth_error(
        _refresh(world, first["refresh_token"]),
        400,
        "invalid_grant",
        "Refresh token expired; sign in again",
    )
    second = _tokens(world)
    world.security.identity.disable_user("pat")
    _oauth_error(
        _refresh(world, second["refresh_token"]),
        400,
        "invalid_grant",
        "The user of this grant is disabled",
    )


def test_the_access_token_lifetime_is_one_hour(world: World) -> None:
    body = _tokens(world)
    world.clock.advance(seconds=3599)
    assert world.security.actor_from_authorization(f"Bearer {body['access_token']}").name == "pat"
    world.clock.advance(seconds=1)
    with pytest.raises(UnauthorizedError, match=r"^Access token expired"):
        world.security.actor_from_authorization(f"Bearer {body['access_token']}")


@pytest.mark.parametrize(
    "form",
    [
        {"grant_type": "client_credentials", "client_id": "a\x00b"},
        {"grant_type": "client_credentials", "client_id": "a\x00b", "client_secret": "x"},
        {"grant_type": "refresh_token", "client_id": "a\nb", "refresh_token": "\x00"},
        {"grant_type": "authorization_code", "client_id": "\x00", "code": "\x00"},
    ],
)
def test_nul_bytes_are_refused_not_sent_to_the_database(world: World, form: dict[str, str]) -> None:
    _oauth_error(_token(world, form), 401, "invalid_client")
    page = world.http.get("/oauth/authorize", params={"client_id": form["client_id"]})
    assert page.status_code == 400
    response = _sign_in(world, _query(world, pkce_pair()[1]), name="pat\x00")
    assert response.status_code == 401


# --- never a 500 -------------------------------------------------------------------------------

_names = st.sampled_from(
    ["grant_type", "scope", "client_id", "client_secret", "code", "code_verifier",
     "redirect_uri", "refresh_token", "client_assertion", "client_assertion_type", "state",
     "response_type", "code_challenge", "code_challenge_method", "aud", "csrf_token", "name",
     "password", "action"]
)  # fmt: skip
_values = st.one_of(
    st.text(max_size=80),
    st.sampled_from(["client_credentials", "authorization_code", "refresh_token", "S256", "code"]),
    st.just(ASSERTION_TYPE),
)
_forms = st.dictionaries(_names, _values, max_size=8)
_ascii = st.characters(min_codepoint=32, max_codepoint=126)


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(form=_forms, basic=st.one_of(st.none(), st.text(_ascii, max_size=40)))
def test_the_oauth_endpoints_never_answer_500(
    world: World, form: dict[str, str], basic: str | None
) -> None:
    headers = {"Authorization": f"Basic {basic}"} if basic is not None else {}
    for response in (
        world.http.post("/oauth/token", data=form, headers=headers),
        world.http.get("/oauth/authorize", params=form),
        world.http.post("/oauth/authorize", data=form),
    ):
        assert response.status_code in {200, 303, 400, 401, 403}, response.text
