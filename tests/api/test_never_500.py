"""No request a client can send yields a 5xx.

Hypothesis generates searches (and searches too big for one SQL statement), writes, batch and
transaction Bundles, odd paths under ``/fhir``, workbench pages, requests to the security
surface (credentials, sign-in, OAuth, audit, break-the-glass) and values a database cannot hold,
and sends each through the real ASGI app over a real database (SQLite always; PostgreSQL too
when ``CHARTKEEPER_TEST_POSTGRES_URL`` is set: see ``module_database_url`` in tests/conftest.py).
Every response must be below 500, and every 4xx must say what was wrong: a FHIR OperationOutcome
with at least one issue carrying ``diagnostics`` (an RFC 6749 error body from ``/oauth``, an
error page for a browser). The requests that once broke this are pinned, one example each, in
test_bad_input_regressions.py; one known PostgreSQL gap is an xfail at the end of this file.

Set ``CHARTKEEPER_NEVER500_SCALE`` (e.g. ``10``) to multiply the number of examples for a soak.
"""

from __future__ import annotations

import base64
import copy
import json
import math
import os
import random
import string
from collections.abc import Iterator
from datetime import UTC, datetime
from functools import cache
from typing import Any
from urllib.parse import quote, urlencode

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from starlette.testclient import TestClient

from chartkeeper.app import build_services
from chartkeeper.core.clock import FixedClock
from chartkeeper.core.settings import load_settings
from chartkeeper.fhir.searchparams import load_registry
from chartkeeper.fhir.validation import storable_types
from chartkeeper.web.app import create_app
from tests.api.conftest import bearer

SCALE = max(1, int(os.environ.get("CHARTKEEPER_NEVER500_SCALE", "1")))
MAX_BODY = 200_000
REQUESTS_SENT = [0]  # requests sent by this module (read by whoever wants the tally)


def fuzz_settings(examples: int) -> Any:
    """A hypothesis budget for one property, with no deadline (database work varies)."""
    return settings(
        max_examples=examples * SCALE,
        deadline=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
    )


# --- the app over a real database -------------------------------------------------------------

PATIENT_1: dict[str, Any] = {
    "resourceType": "Patient",
    "id": "p1",
    "identifier": [
        {
            "system": "urn:mrn",
            "value": "x",
            "type": {"coding": [{"system": "http://terminology.hl7.org/CodeSystem/v2-0203",
                                 "code": "MR"}]},
        }
    ],
    "name": [{"family": "Smith", "given": ["Anna"]}],
    "gender": "female",
    "birthDate": "1980-02-03",
    "generalPractitioner": [{"reference": "Practitioner/dr1"}],
}  # fmt: skip
PATIENT_2: dict[str, Any] = {
    **PATIENT_1,
    "id": "p2",
    "identifier": [{"system": "urn:mrn", "value": "y"}],
    "name": [{"family": "Smith", "given": ["Bo"]}],
}
PRACTITIONER: dict[str, Any] = {
    "resourceType": "Practitioner",
    "id": "dr1",
    "name": [{"family": "Jones", "prefix": ["Dr"]}],
}
OBSERVATION: dict[str, Any] = {
    "resourceType": "Observation",
    "id": "o1",
    "status": "final",
    "code": {"coding": [{"system": "http://loinc.org", "code": "8867-4", "display": "Heart rate"}]},
    "subject": {"reference": "Patient/p1"},
    "performer": [{"reference": "Practitioner/dr1"}],
    "effectiveDateTime": "2024-05-06T07:08:09Z",
    "valueQuantity": {"value": 72, "unit": "/min", "system": "http://unitsofmeasure.org",
                      "code": "/min"},
    "component": [
        {"code": {"coding": [{"system": "http://loinc.org", "code": "8480-6"}]},
         "valueQuantity": {"value": 120, "unit": "mmHg"}}
    ],
}  # fmt: skip
CONDITION: dict[str, Any] = {
    "resourceType": "Condition",
    "id": "c1",
    "subject": {"reference": "Patient/p1"},
    "code": {"text": "Asthma"},
    "onsetPeriod": {"start": "2001-01-01", "end": "2002-02"},
    "text": {
        "status": "generated",
        "div": '<div xmlns="http://www.w3.org/1999/xhtml">Asthma</div>',
    },
}
SEEDS = (PRACTITIONER, PATIENT_1, PATIENT_2, OBSERVATION, CONDITION)
SEED_IDS = ("p1", "p2", "dr1", "o1", "c1", "gone1")
FHIR_JSON = "application/fhir+json"


def _seed(client: TestClient) -> None:
    """A few real rows, so reads, updates and conditional operations hit something."""
    for resource in SEEDS:
        path = f"/fhir/{resource['resourceType']}/{resource['id']}"
        response = client.put(path, json=resource, headers={"content-type": FHIR_JSON})
        assert response.status_code in (200, 201), response.text
    gone = {"resourceType": "Patient", "id": "gone1"}
    assert client.put(
        "/fhir/Patient/gone1", json=gone, headers={"content-type": FHIR_JSON}
    ).is_success
    assert client.delete("/fhir/Patient/gone1").status_code == 204
    patch = [{"op": "replace", "path": "/birthDate", "value": "1980-02-04"}]
    headers = {"content-type": "application/json-patch+json"}
    assert client.patch("/fhir/Patient/p1", json=patch, headers=headers).status_code == 200


@pytest.fixture(scope="module")
def fuzz_client(
    module_database_url: str, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[TestClient]:
    """The real app over a seeded database (one per backend), shared by every example."""
    overrides = {
        "data_dir": str(tmp_path_factory.mktemp("never500")),
        "database_url": module_database_url,
        "max_body_bytes": MAX_BODY,
    }
    clock = FixedClock(datetime(2026, 1, 15, 9, 30, tzinfo=UTC))
    services = build_services(load_settings(overrides, environ={}), clock=clock)
    app = create_app(services)
    try:
        with TestClient(app, raise_server_exceptions=False, headers=bearer(services)) as client:
            _seed(client)
            yield client
    finally:
        services.close()


# --- sending and checking ---------------------------------------------------------------------


def _describe(method: str, url: str, headers: dict[str, bytes], body: bytes | None) -> str:
    shown = (body or b"")[:600]
    return f"{method} {url[:600]}\nheaders: {headers}\nbody: {shown!r}"


def _check_outcome(body: Any, where: str) -> None:
    assert isinstance(body, dict), where
    assert body.get("resourceType") == "OperationOutcome", where
    issues = body.get("issue")
    assert isinstance(issues, list), where
    assert issues, where
    assert any(isinstance(i, dict) and i.get("diagnostics") for i in issues), where


def _check_bundle_entries(body: Any, where: str) -> None:
    """A batch/transaction response: no entry failed with a 5xx; failures carry an outcome."""
    if not isinstance(body, dict) or not str(body.get("type", "")).endswith("-response"):
        return
    for entry in body.get("entry", []):
        status = str(entry["response"]["status"])
        assert not status.startswith("5"), f"{where}\nentry: {entry}"
        if status.startswith("4"):
            _check_outcome(entry["response"].get("outcome"), f"{where}\nentry: {entry}")


def send(
    client: TestClient,
    method: str,
    url: str,
    body: bytes | None = None,
    headers: dict[str, bytes] | None = None,
) -> httpx.Response:
    """Send one request; assert it got no 5xx, and that a 4xx says what was wrong."""
    headers = headers or {}
    REQUESTS_SENT[0] += 1
    response = client.request(method, url, content=body, headers=headers)
    where = _describe(method, url, headers, body)
    status = response.status_code
    assert status < 500, f"{status} for\n{where}\nresponse: {response.text[:1000]}"
    if method == "HEAD" or status < 400:
        if status == 200 and method == "POST" and url.split("?")[0] in ("/fhir", "/fhir/"):
            _check_bundle_entries(response.json(), where)
        return response
    content_type = response.headers.get("content-type", "")
    if content_type.startswith("text/html") and not url.startswith("/fhir"):
        assert "<html" in response.text.lower(), where  # a page that says what went wrong
        return response
    if url.startswith("/oauth/") and "error" in response.json():
        return response  # an RFC 6749 §5.2 error body (routing errors are OperationOutcomes)
    assert content_type.startswith(FHIR_JSON), where
    _check_outcome(response.json(), f"{status} for\n{where}\nresponse: {response.text[:1000]}")
    return response


# --- building blocks --------------------------------------------------------------------------

STORABLE = tuple(sorted(storable_types()))
COMMON_TYPES = ("Patient", "Observation", "Condition", "Practitioner", "Encounter")
JUNK_TYPES = (
    "Spaceship", "patient", "Bundle", "OperationOutcome", "Parameters", "Resource", "A" * 100,
    "Pat\x00ient", "..", "Patient/", "Ré", "_history", "$everything", "metadata",
)  # fmt: skip
HOSTILE_STRINGS = (
    "", " ", "\x00", "a\x00b", "\x01", "\t\n\r", "\ufeff", "\u202e", "🙂", "é",
    "\uff46\uff55\uff4c\uff4c",
    "\\", "\\\\", "\\,", "\\$", "\\|", ",", ",,", "$", "a$b", "|", "||", "a|b|c", "a|b", "|b",
    "a|", "%", "%00", "%2F", "..", "../..", "/", "?", "#", "&", "=", "'", '"', "' OR 1=1 --",
    "*", "_", "%_", "null", "true", "false", "[]", "{}", "x" * 300,
)  # fmt: skip
HUGE_NUMBERS = (
    "1e400", "-1e400", "1e-400", "99999999999999999999999", "-99999999999999999999999",
    "1e308", "1.7976931348623157e308", "9" * 40, "0." + "0" * 40 + "1", "1e9999", "1e", ".",
    "-", "+", "0x10", "1_000", "NaN", "Infinity", "-0", "00001", "1.", ".5", "\u0661\u0662", "²",
)  # fmt: skip
EXTREME_DATES = (
    "0001", "0001-01-01", "0001-01-01T00:00:00+14:00", "0001-01-01T00:00:00Z", "0000",
    "9999", "9999-12-31", "9999-12-31T23:59:59-14:00", "9999-12-31T23:59:59.999999999Z",
    "2020-02-30", "2020-13", "2020-01-01T24:00:00Z", "2020-01-01T10:61", "2020-01-01T10:00+99:99",
    "20200101", "2020-1-1", "junk", "2020-01-01T10:00:00", "2021-06", "1980-02-03",
)  # fmt: skip
PREFIXES = ("", "eq", "ne", "gt", "lt", "ge", "le", "sa", "eb", "ap", "xx", "e")
MODIFIERS = (
    "exact", "contains", "not", "text", "missing", "of-type", "above", "below", "Patient",
    "iterate", "in", "not-in", "identifier", "Practitioner", "Spaceship", "", "EXACT", "a:b",
)  # fmt: skip
CONTROLS = (
    "_count", "_offset", "_getpagesoffset", "_sort", "_include", "_revinclude", "_summary",
    "_total", "_elements", "_type", "_format", "_pretty", "_id", "_lastUpdated", "_text",
    "_content", "_has", "_list", "_query", "_filter", "_contained", "_tag", "_profile",
    "_security", "_source",
)  # fmt: skip
CHAINS = (
    "subject:Patient.name", "subject.name", "patient.identifier", "subject:Patient.birthdate",
    "general-practitioner.name", "general-practitioner:Practitioner.family", "subject._id",
    "subject.general-practitioner.name", "performer.name:exact", "subject:Group.name",
    "subject.nonsense", "gender.name", "subject:Spaceship.name", "subject._has:Observation:x:y",
    "subject.", ".name", "subject:Patient.name:missing", "patient._lastUpdated",
)  # fmt: skip
HAS = (
    "_has:Observation:patient:code", "_has:Observation:subject:_id", "_has:Condition:subject:code",
    "_has:Observation:patient:subject.name", "_has:Observation:code:code", "_has:Spaceship:x:y",
    "_has:Observation", "_has::patient:code", "_has:Observation:patient:_has:Condition:x:y",
    "_has:Observation:performer:status", "_has",
)  # fmt: skip
PREFER = (
    "return=representation", "return=minimal", "return=OperationOutcome", "handling=strict",
    "handling=lenient", "return=", "=", ";;", "respond-async", "return=representation; "
    "handling=strict", 'return="minimal"', "RETURN=MINIMAL",
)  # fmt: skip
IF_MATCH = (
    'W/"1"', '"1"', "1", 'W/"2"', 'W/"0"', 'W/"abc"', "", "W/", 'W/""', "*", "²", 'W/"²"',
    'W/"' + "9" * 40 + '"', "9" * 5000, 'W/"-1"', 'W/"1.5"', "\u0661", ' W/"1" ',
)  # fmt: skip
CONTENT_TYPES = (
    FHIR_JSON, "application/json", "application/json+fhir", "application/fhir+json; charset=utf-8",
    "application/json-patch+json", "application/x-www-form-urlencoded", "application/xml",
    "text/plain", "", "multipart/form-data; boundary=x", "APPLICATION/FHIR+JSON", ";", "*/*",
)  # fmt: skip

header_text = st.text(
    alphabet=st.characters(min_codepoint=0x20, max_codepoint=0xFF, exclude_characters="\x7f"),
    max_size=40,
)


def latin1(value: str) -> bytes:
    """A header value as bytes (httpx would refuse non-ASCII text)."""
    return value.encode("latin-1", errors="replace")


@cache
def params_of(resource_type: str) -> tuple[str, ...]:
    """The registry's search parameters of ``resource_type`` (Patient's for junk types)."""
    registry = load_registry()
    found = registry.for_type(resource_type) or registry.for_type("Patient")
    return tuple(sorted(found))


RESOURCE_TYPES = st.one_of(
    st.sampled_from(COMMON_TYPES),
    st.sampled_from(STORABLE),
    st.sampled_from(JUNK_TYPES),
    st.text(max_size=12),
)
IDS = st.one_of(
    st.sampled_from(SEED_IDS),
    st.sampled_from(
        ("new-1", "x" * 64, "x" * 65, "a.b", "..", ".", "a/b", "é", "\x00", "a\x00", "bad$id",
         "²", "-", " ", "%2F", "%00", "Patient", "9" * 100, "🙂" * 30)
    ),
    st.text(max_size=100),
)  # fmt: skip


def segment(value: str) -> str:
    """A URL path segment, percent-encoded so every value reaches the server."""
    return quote(value, safe="")


# --- search queries ---------------------------------------------------------------------------

ZONES = ("", "Z", "+14:00", "-14:00", "+05:30", "+99:99", "-00:00")
DATES = st.one_of(
    st.sampled_from(EXTREME_DATES),
    st.dates().map(str),
    st.tuples(st.datetimes().map(lambda d: d.isoformat()), st.sampled_from(ZONES)).map("".join),
)
NUMBERS = st.one_of(
    st.sampled_from(HUGE_NUMBERS),
    st.integers().map(str),
    st.floats(allow_nan=False).map(repr),
    st.decimals(allow_nan=False, allow_infinity=False).map(str),
)
KNOWN_VALUES = (
    "Patient/p1", "p1", "Practitioner/dr1", "urn:mrn|x", "http://loinc.org|8867-4", "http://[abc",
    "http://x/Patient/p1", "Patient/", "/p1", "urn:uuid:x", "female", "Smith",
    "http://terminology.hl7.org/CodeSystem/v2-0203|MR|x", "http://loinc.org|8480-6$gt100",
)  # fmt: skip
SIMPLE_VALUES = st.one_of(
    st.sampled_from(HOSTILE_STRINGS),
    st.tuples(st.sampled_from(PREFIXES), DATES | NUMBERS).map("".join),
    st.tuples(
        NUMBERS,
        st.sampled_from(("", "|", "|http://unitsofmeasure.org|", "||")),
        st.sampled_from(("", "mg", "/min", "$")),
    ).map("".join),
    st.sampled_from(KNOWN_VALUES),
    st.text(max_size=30),
)
VALUES = SIMPLE_VALUES | st.tuples(
    st.lists(SIMPLE_VALUES, min_size=2, max_size=4), st.sampled_from((",", "|", "$"))
).map(lambda parts: parts[1].join(parts[0]))
CONTROL_VALUES: dict[str, st.SearchStrategy[str]] = {
    "_count": st.sampled_from(("-1", "0", "1", "abc", "9" * 40, "1.5", "²", "1000", "1001")),
    "_offset": st.sampled_from(("-1", "0", "3", "9" * 19, "9" * 40, "9223372036854775808", "²")),
    "_include": st.sampled_from(
        ("Observation:subject", "Observation:subject:Patient", "Observation:*", "*",
         "Patient:general-practitioner", "Observation:subject:Spaceship", "x:y:z:w",
         "Observation:code", ":", "Spaceship:x", "Observation:subject:Group",
         "Observation:performer:Practitioner")),
    "_revinclude": st.sampled_from(
        ("Observation:subject", "Observation:patient", "Condition:subject:Patient", "*:*",
         "Patient:link", "Observation:*")),
    "_summary": st.sampled_from(("true", "false", "count", "text", "data", "x", "")),
    "_total": st.sampled_from(("none", "estimate", "accurate", "x")),
    "_elements": st.sampled_from(("id", "name,gender", "name.given", "1x", "a..b", "*", ",")),
    "_type": st.sampled_from(("Patient", "Patient,Observation", "Spaceship", ",")),
}  # fmt: skip
CONTROL_MODIFIERS = st.sampled_from(("", "", "", "", ":iterate", ":recurse", ":x"))
SORT_DIRECTIONS = st.sampled_from(("", "-", "+", " "))


@cache
def param_names(resource_type: str) -> st.SearchStrategy[str]:
    """Parameter codes of ``resource_type`` from the registry, plus junk."""
    known = st.sampled_from((*params_of(resource_type), "_id", "_lastUpdated"))
    return known | known | known | st.text(max_size=8)


def draw_control(draw: st.DrawFn, resource_type: str) -> tuple[str, str]:
    """A result parameter (_count, _sort, _include...) with a value good or bad for it."""
    name = draw(st.sampled_from(CONTROLS))
    if name == "_sort":
        keys = [draw(SORT_DIRECTIONS) + draw(param_names(resource_type)) for _ in range(2)]
        value = ",".join(keys[: draw(st.integers(0, 2))])
    else:
        value = draw(CONTROL_VALUES.get(name, VALUES) | VALUES)
    return name + draw(CONTROL_MODIFIERS), value


def draw_criterion(draw: st.DrawFn, resource_type: str) -> tuple[str, str]:
    """A search criterion: a real or junk code, with a modifier, chain or _has, and a value."""
    code = draw(param_names(resource_type))
    shape = draw(st.integers(0, 5))
    if shape <= 2:
        name = code
    elif shape == 3:
        name = f"{code}:{draw(st.sampled_from(MODIFIERS))}"
    else:
        name = draw(st.sampled_from(CHAINS if shape == 4 else HAS))
    if name.endswith(":missing") and draw(st.booleans()):
        return name, draw(st.sampled_from(("true", "false")))
    return name, draw(VALUES)


def draw_items(draw: st.DrawFn, resource_type: str, most: int = 6) -> list[tuple[str, str]]:
    """Search parameters for ``resource_type``: criteria and result controls, in any order."""
    items = []
    for _ in range(draw(st.integers(0, most))):
        control = draw(st.integers(0, 2)) == 0
        make = draw_control if control else draw_criterion
        items.append(make(draw, resource_type))
    return items


@st.composite
def search_requests(draw: st.DrawFn) -> tuple[str, str, bytes | None, dict[str, bytes]]:
    """(method, url, body, headers) of a type or system search, by GET or POST _search."""
    system = draw(st.integers(0, 5)) == 0
    resource_type = "Resource" if system else draw(RESOURCE_TYPES)
    items = draw_items(draw, resource_type)
    headers: dict[str, bytes] = {}
    if draw(st.booleans()):
        headers["prefer"] = latin1(draw(st.sampled_from(PREFER)))
    base = "/fhir" if system else f"/fhir/{segment(resource_type)}"
    query = urlencode(items, quote_via=quote)
    if draw(st.booleans()):
        return "GET", f"{base}?{query}" if query else base, None, headers
    split = draw(st.integers(0, len(items)))
    in_url = urlencode(items[:split], quote_via=quote)
    form = urlencode(items[split:], quote_via=quote).encode()
    url = f"{base}/_search?{in_url}" if in_url else f"{base}/_search"
    kind = draw(st.sampled_from(("application/x-www-form-urlencoded", "", FHIR_JSON, "text/plain")))
    if kind:
        headers["content-type"] = latin1(kind)
    return "POST", url, form, headers


# --- resources and bodies ---------------------------------------------------------------------


def as_number(text: str) -> Any:
    """``text`` as a JSON number when it is a finite one (integers kept exact), else as text."""
    if text.isascii() and text.lstrip("-").isdigit():
        return int(text)
    try:
        number = float(text)
    except ValueError:
        return text
    return number if math.isfinite(number) else text


json_scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(min_value=-(2**80), max_value=2**80),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=20),
    st.sampled_from(HOSTILE_STRINGS),
    st.sampled_from(EXTREME_DATES),
)
FHIR_KEYS = (
    "resourceType", "id", "meta", "extension", "url", "valueString", "reference", "system",
    "value", "code", "coding", "name", "family", "given", "subject", "status", "text", "div",
    "contained", "identifier", "birthDate", "_birthDate", "modifierExtension", "valueQuantity",
)  # fmt: skip
json_values = st.recursive(
    json_scalars,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(st.sampled_from(FHIR_KEYS) | st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=12,
)
MUTATIONS = st.one_of(
    json_scalars,
    st.sampled_from(([], {}, [None], [{}], [[]], {"x": 1}, [1, "a"], {"extension": [{"url": 5}]},
                     {"url": "http://x", "valueString": None}, {"reference": "urn:uuid:nowhere"},
                     {"reference": "Patient?identifier=urn:mrn|x"}, {"reference": "Patient/\x00"},
                     {"reference": "urn:uuid:11111111-1111-1111-1111-111111111111"},
                     {"reference": "urn:uuid:2"}, {"reference": "Patient?gender=female"})),
    st.sampled_from(HUGE_NUMBERS).map(lambda n: as_number(n)),
    st.integers(min_value=-(2**80), max_value=2**80),
    json_values,
)  # fmt: skip
BASES: tuple[dict[str, Any], ...] = (
    PATIENT_1,
    OBSERVATION,
    CONDITION,
    PRACTITIONER,
    {
        "resourceType": "MedicationRequest",
        "status": "active",
        "intent": "order",
        "subject": {"reference": "Patient/p1"},
        "medicationCodeableConcept": {"text": "aspirin"},
        "dosageInstruction": [{"timing": {"repeat": {"boundsPeriod": {"start": "2020"}}}}],
        "extension": [{"url": "http://example.org/x", "valueInteger": 1}],
    },
    {
        "resourceType": "RiskAssessment",
        "status": "final",
        "subject": {"reference": "Patient/p1"},
        "prediction": [{"probabilityDecimal": 0.5}],
    },
)


def _locations(node: Any, here: tuple[Any, ...] = ()) -> Iterator[tuple[Any, ...]]:
    yield here
    if isinstance(node, dict):
        for key, value in node.items():
            yield from _locations(value, (*here, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _locations(value, (*here, index))


def _set(resource: Any, location: tuple[Any, ...], value: Any, mode: str) -> Any:
    if not location:
        return value if mode == "replace" else resource
    parent = resource
    for step in location[:-1]:
        parent = parent[step]
    last = location[-1]
    if mode == "delete":
        del parent[last]
    elif mode == "wrap":
        parent[last] = [parent[last]]
    elif mode == "add" and isinstance(parent[last], dict):
        parent[last]["unknownElement"] = value
    else:
        parent[last] = value
    return resource


BASE_BY_TYPE = {base["resourceType"]: base for base in BASES}
BASE_TYPES = tuple(BASE_BY_TYPE)


def draw_almost_valid(
    draw: st.DrawFn,
    resource_type: str | None = None,
    resource_id: str | None = None,
    mutations: int = 2,
) -> Any:
    """A valid resource (of ``resource_type`` when we have one) with up to two elements
    mutated: a wrong type, null, empty array or object, junk extension, unknown element..."""
    base = BASE_BY_TYPE.get(resource_type or "")
    if base is None:
        base = BASES[draw(st.integers(0, len(BASES) - 1))]
    resource = copy.deepcopy(base)
    if resource_id is not None and (mutations == 0 or draw(st.integers(0, 3)) > 0):
        resource["id"] = resource_id
    else:
        resource.pop("id", None)
    for _ in range(draw(st.integers(0, mutations))):
        locations = list(_locations(resource))
        location = locations[draw(st.integers(0, len(locations) - 1))]
        mode = draw(st.sampled_from(("replace", "replace", "delete", "wrap", "add")))
        resource = _set(resource, location, copy.deepcopy(draw(MUTATIONS)), mode)
    return resource


@st.composite
def _any_almost_valid(draw: st.DrawFn) -> Any:
    return draw_almost_valid(draw)


ALMOST_VALID = _any_almost_valid()


SHAPES = ("extension", "array")


def _deep(depth: int, kind: str) -> bytes:
    """A body nested ``depth`` levels deep (orjson refuses more than 1024)."""
    if kind == "extension":
        opening = b'[{"url":"http://x","extension":' * depth
        return b'{"resourceType":"Patient","extension":' + opening + b"[]" + b"}]" * depth + b"}"
    return b'{"resourceType":"Patient","x":' + b"[" * depth + b"]" * depth + b"}"


def _deep_bundle(kind: str, depth: int, shape: str) -> bytes:
    resource = _deep(depth, shape)
    entry = b'{"request":{"method":"POST","url":"Patient"},"resource":' + resource + b"}"
    return b'{"resourceType":"Bundle","type":"' + kind.encode() + b'","entry":[' + entry + b"]}"


def _deep_patch(depth: int) -> bytes:
    value = b"[" * depth + b"]" * depth
    return b'[{"op":"add","path":"/extension","value":' + value + b"}]"


DEPTHS = st.sampled_from((100, 400, 500, 900, 1015))
DEEP_BUNDLES = st.builds(
    _deep_bundle, st.sampled_from(("transaction", "batch")), DEPTHS, st.sampled_from(SHAPES)
)
DEEP_PATCHES = st.builds(_deep_patch, DEPTHS)


def _huge(size: int) -> bytes:
    div = '<div xmlns="http://www.w3.org/1999/xhtml">' + "x" * size + "</div>"
    return json.dumps({"resourceType": "Patient", "text": {"status": "generated", "div": div}})\
        .encode()  # fmt: skip


RAW_BODIES = st.one_of(
    st.sampled_from((b"", b" ", b"{", b"null", b"[]", b"{}", b'"x"', b"1e400", b"\xff\xfe",
                     b'{"resourceType":"Patient","id":"\\ud800"}', b'{"a":1,"a":2}',
                     b'{"resourceType":"Patient","multipleBirthInteger":99999999999999999999999}',
                     b'{"resourceType":"Patient","multipleBirthInteger":1e400}', b"\x00",
                     b'{"resourceType":"Patient","birthDate":"\\u0000"}', b"NaN")),
    st.builds(_deep, st.sampled_from((100, 400, 900, 1030)), st.sampled_from(SHAPES)),
    st.sampled_from((MAX_BODY - 200, MAX_BODY + 10)).map(_huge),
    st.binary(max_size=40),
)  # fmt: skip


def encode(value: Any) -> bytes:
    """JSON text of ``value`` (stdlib: it keeps integers beyond 64 bits and escapes controls)."""
    return json.dumps(value, ensure_ascii=False).encode("utf-8", errors="surrogatepass")


JUNK_PATIENTS = st.dictionaries(st.sampled_from(FHIR_KEYS), json_values, max_size=4).map(
    lambda d: {"resourceType": "Patient", **d}
)


def draw_body(draw: st.DrawFn, resource_type: str, resource_id: str | None = None) -> bytes:
    """A request body: mostly an almost-valid resource of the URL's type, else any junk."""
    choice = draw(st.integers(0, 6))
    if choice <= 3:
        return encode(draw_almost_valid(draw, resource_type, resource_id))
    if choice == 4:
        return encode(draw(json_values | JUNK_PATIENTS))
    return draw(RAW_BODIES)


JSON_PATCH = st.one_of(
    st.lists(
        st.fixed_dictionaries(
            {
                "op": st.sampled_from(("add", "remove", "replace", "move", "copy", "test", "x")),
                "path": st.sampled_from(("/birthDate", "/id", "/resourceType", "/name/0/family",
                                         "/name/-", "", "/", "birthDate", "/a/b/c", "/name/99",
                                         "/meta", "/identifier/0/value", "/~2")),
            },
            optional={"value": MUTATIONS, "from": st.sampled_from(("/name", "/x", "", "/id"))},
        ),
        max_size=3,
    ),
    json_values,
)  # fmt: skip


WRITE_IDS = st.sampled_from((*SEED_IDS, "new-1", "new-2", "o1"))
IF_NONE_EXIST = st.sampled_from(
    ("identifier=urn:mrn|x", "gender=female", "name=Smith", "x=y", "", "?", "_id=p1", "name=\x00")
)
#: What may be wrong with an otherwise well-formed write; each request gets up to two.
FAULTS = ("type", "id", "body", "body", "content-type", "if-match", "prefer", "if-none-exist")
GOOD_HEADERS = {
    "if-match": st.sampled_from(('W/"1"', 'W/"2"', '"1"')),
    "prefer": st.sampled_from(PREFER[:5]),
    "if-none-exist": st.sampled_from(IF_NONE_EXIST.elements[:4]),
}
BAD_HEADERS = {
    "if-match": st.sampled_from(IF_MATCH) | header_text,
    "prefer": st.sampled_from(PREFER) | header_text,
    "if-none-exist": IF_NONE_EXIST | header_text,
}


def draw_write_headers(draw: st.DrawFn, faults: set[str], query: str) -> dict[str, bytes]:
    """Conditional and Prefer headers: well-formed, absent, or (when a fault) junk."""
    headers: dict[str, bytes] = {}
    for name, good in GOOD_HEADERS.items():
        if name in faults:
            headers[name] = latin1(draw(BAD_HEADERS[name]))
        elif draw(st.integers(0, 3)) == 0:
            headers[name] = latin1(draw(good))
    if query and "if-none-exist" in headers and draw(st.booleans()):
        headers["if-none-exist"] = latin1(query)
    return headers


@st.composite
def write_requests(draw: st.DrawFn) -> tuple[str, str, bytes | None, dict[str, bytes]]:
    """(method, url, body, headers) of a create, update, patch or delete that is well-formed
    but for up to two faults: a junk type or id, a mutated body, a wrong media type or junk
    conditional headers."""
    faults = set(draw(st.lists(st.sampled_from(FAULTS), max_size=2)))
    resource_type = BASE_TYPES[draw(st.integers(0, len(BASE_TYPES) - 1))]
    url_type = draw(RESOURCE_TYPES) if "type" in faults else resource_type
    resource_id = draw(IDS) if "id" in faults else draw(WRITE_IDS)
    kind = draw(st.sampled_from(("create", "update", "update", "conditional", "patch", "delete")))
    base = f"/fhir/{segment(url_type)}"
    instance = f"{base}/{segment(resource_id)}"
    query = urlencode(draw_items(draw, url_type, most=2), quote_via=quote)
    method, url = {"create": ("POST", base), "update": ("PUT", instance)}.get(
        kind, ("DELETE", instance)
    )
    if kind == "conditional":
        method = draw(st.sampled_from(("PUT", "DELETE")))
        url = f"{base}?{query}" if query else base
    elif kind == "patch":
        method = "PATCH"
    body: bytes | None = None
    if method == "PATCH":
        body = draw(JSON_PATCH.map(encode) | RAW_BODIES | DEEP_PATCHES)
    elif method in ("POST", "PUT"):
        body_id = resource_id if kind == "update" else None
        if "body" in faults:
            body = draw_body(draw, resource_type, body_id)
        else:
            body = encode(draw_almost_valid(draw, resource_type, body_id, mutations=0))
    headers = draw_write_headers(draw, faults, query)
    if body is not None:
        default = "application/json-patch+json" if method == "PATCH" else FHIR_JSON
        chosen = draw(st.sampled_from(CONTENT_TYPES)) if "content-type" in faults else default
        if chosen:
            headers["content-type"] = latin1(chosen)
    return method, url, body, headers


# --- batch and transaction Bundles ------------------------------------------------------------

FULL_URLS = ("urn:uuid:11111111-1111-1111-1111-111111111111", "urn:uuid:2", "Patient/p1",
             "http://example.org/fhir/Patient/p9", "", "urn:uuid:")  # fmt: skip
ENTRY_URLS = (
    "Patient", "Patient/p1", "Patient/p2", "Patient/gone1", "Patient/new-1", "Observation/o1",
    "Patient?identifier=urn:mrn|x", "Patient?gender=female", "Patient?identifier=nobody",
    "Patient?x=y", "Patient?", "Observation?subject=urn:uuid:nowhere", "Patient/p1/_history/1",
    "Patient/p1/_history/99", "Patient/p1/$everything", "http://[abc", "http://x/fhir/Patient/p1",
    "/Patient", "", "?", "Spaceship/1", "Patient/\x00", "Patient?name=\x00", "metadata",
    "Patient/" + "9" * 70, "Patient?_count=abc", "Patient?birthdate=9999-12-31T23:59:59-14:00",
)  # fmt: skip


BINARY_PATCH = st.fixed_dictionaries(
    {"resourceType": st.just("Binary"), "contentType": st.just("application/json-patch+json")},
    optional={
        "data": JSON_PATCH.map(lambda p: base64.b64encode(encode(p)).decode())
        | st.sampled_from(("", "!!!", "bm90IGpzb24=", "W10=", "e30=", "W3t9XQ=="))
        | json_scalars
    },
)
ENTRY_METHODS = st.sampled_from(("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE"))
ENTRY_RESOURCES = st.one_of(ALMOST_VALID, ALMOST_VALID, BINARY_PATCH, JSON_PATCH, json_values)
ENTRY_IF_NONE_EXIST = IF_NONE_EXIST | json_scalars
ENTRY_IF_MATCH = st.sampled_from(IF_MATCH) | json_scalars
COHERENT_URLS = (
    "{t}", "{t}/p1", "{t}/o1", "{t}/new-{n}", "{t}?identifier=urn:mrn|x", "{t}?gender=female",
    "{t}?_id=p1", "{t}?subject=urn:uuid:2", "{t}/{n}/_history/1",
)  # fmt: skip


def draw_coherent_entry(draw: st.DrawFn) -> dict[str, Any]:
    """An entry whose method, url and resource fit together, so processing goes deep."""
    resource_type = BASE_TYPES[draw(st.integers(0, len(BASE_TYPES) - 1))]
    method = draw(ENTRY_METHODS)
    url = draw(st.sampled_from(COHERENT_URLS)).format(t=resource_type, n=draw(st.integers(0, 3)))
    entry: dict[str, Any] = {"request": {"method": method, "url": url}}
    resource_id = url.split("/")[1].split("?")[0] if "/" in url.split("?")[0] else None
    if method in ("POST", "PUT"):
        entry["resource"] = draw_almost_valid(draw, resource_type, resource_id)
    elif method == "PATCH":
        entry["resource"] = draw(BINARY_PATCH | JSON_PATCH)
    return entry


@st.composite
def bundle_entries(draw: st.DrawFn) -> Any:
    """A batch/transaction entry: coherent, or random in method, url, resource and conditions."""
    if draw(st.booleans()):
        entry = draw_coherent_entry(draw)
    else:
        entry = {
            "request": {
                "method": draw(
                    ENTRY_METHODS | st.sampled_from(("get", "", "TRACE")) | json_scalars
                ),
                "url": draw(st.sampled_from(ENTRY_URLS) | st.text(max_size=30) | json_scalars),
            }
        }
        if draw(st.integers(0, 4)) > 0:
            entry["resource"] = draw(ENTRY_RESOURCES)
    if draw(st.integers(0, 3)) == 0:
        entry["request"]["ifMatch"] = draw(ENTRY_IF_MATCH)
    if draw(st.integers(0, 3)) == 0:
        entry["request"]["ifNoneExist"] = draw(ENTRY_IF_NONE_EXIST)
    if draw(st.booleans()):
        entry["fullUrl"] = draw(st.sampled_from(FULL_URLS) | json_scalars)
    if draw(st.integers(0, 15)) == 0:
        return draw(json_values)
    return entry


BUNDLE_ENTRIES = st.lists(bundle_entries(), max_size=6)


@st.composite
def bundles(draw: st.DrawFn) -> bytes:
    body: dict[str, Any] = {
        "resourceType": draw(st.sampled_from(("Bundle", "Bundle", "Bundle", "Patient", ""))),
        "type": draw(st.sampled_from(("batch", "transaction")) | json_scalars),
    }
    if draw(st.integers(0, 20)) == 0:
        return draw(DEEP_BUNDLES)
    body["entry"] = draw(BUNDLE_ENTRIES) if draw(st.integers(0, 5)) else draw(json_values)
    return encode(body)


# --- random paths and workbench pages ---------------------------------------------------------

PATH_SEGMENTS = (
    "_history", "_search", "$everything", "$validate", "$meta", "metadata", "Patient",
    "Observation", "p1", "gone1", "1", "2", "99", "²", "9" * 30, "9" * 5000, "..", "%2F", "%00",
    "é", "Spaceship", "", "_history", "x" * 100,
)  # fmt: skip
PATH_QUERIES = (
    "", "_since=junk", "_since=0001-01-01T00:00:00%2B14:00", "_since=9999-12-31", "_at=junk",
    "_count=abc", "_count=-1", "_count=²", "_count=" + "9" * 5000, "_offset=" + "9" * 30,
    "_offset=%C2%B2", "_type=Observation,Spaceship", "_type=,", "_count=0", "_since=2020",
    "_summary=count", "_elements=id",
)  # fmt: skip


PATH_METHODS = ("GET", "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS")
PATH_PARTS = st.lists(
    st.sampled_from(PATH_SEGMENTS) | st.text(max_size=10).map(segment), max_size=5
)
PARAMETERS = st.fixed_dictionaries(
    {
        "resourceType": st.just("Parameters"),
        "parameter": st.lists(
            st.fixed_dictionaries(
                {"name": st.sampled_from(("resource", "x"))}, optional={"resource": json_values}
            ),
            max_size=3,
        )
        | json_values,
    }
)


@st.composite
def path_requests(draw: st.DrawFn) -> tuple[str, str, bytes | None, dict[str, bytes]]:
    """Any method on a random path under /fhir, with junk paging and date parameters."""
    url = "/fhir/" + "/".join(draw(PATH_PARTS))
    query = "&".join(q for q in draw(st.lists(st.sampled_from(PATH_QUERIES), max_size=3)) if q)
    if query:
        url += "?" + query
    method = draw(st.sampled_from(PATH_METHODS))
    headers: dict[str, bytes] = {}
    body = None
    if method in ("POST", "PUT", "PATCH"):
        body = encode(draw(PARAMETERS)) if draw(st.booleans()) else draw_body(draw, "Patient")
        headers["content-type"] = latin1(draw(st.sampled_from(CONTENT_TYPES)))
    return method, url, body, headers


WORKBENCH_FIELDS = st.sampled_from(("name", "birthdate", "identifier", "offset", "x", "_count"))
WORKBENCH_QUERIES = st.lists(st.tuples(WORKBENCH_FIELDS, VALUES), max_size=4)
WORKBENCH_PATHS = (
    "/", "/patients/", "/static/x", "/static/..%2F..%2Fetc", "/patients/p1/x", "/nowhere",
    "/patients?offset=%C2%B2", "/patients?offset=" + "9" * 40,
)  # fmt: skip


@st.composite
def workbench_requests(draw: st.DrawFn) -> tuple[str, str, bytes | None, dict[str, bytes]]:
    """The patient search page with odd fields, charts of odd ids, and stray paths."""
    choice = draw(st.integers(0, 3))
    if choice == 0:
        url = f"/patients?{urlencode(draw(WORKBENCH_QUERIES), quote_via=quote)}"
    elif choice == 1:
        url = f"/patients/{segment(draw(IDS))}"
    elif choice == 2:
        url = draw(st.sampled_from(WORKBENCH_PATHS))
    else:
        url = f"/patients/{draw(st.sampled_from(SEED_IDS))}"
    return "GET", url, None, {}


# --- values PostgreSQL cannot hold --------------------------------------------------------------

PG_HOSTILE = ("\x00", "a\x00b", "\x00" * 3, "1e400", "99999999999999999999999", "-1e400", "1e-400",
              "0001-01-01T00:00:00+14:00", "9999-12-31T23:59:59-14:00", "0001", "9999",
              "ap0001-01-01", "ap9999-12-31", "sa9999", "eb0001", "9" * 40)  # fmt: skip


@st.composite
def hostile_requests(draw: st.DrawFn) -> tuple[str, str, bytes | None, dict[str, bytes]]:
    """NUL characters, numbers beyond float/bigint and dates at the ends of the calendar, at
    every place a client can put them: search values of each type, ids, bodies, Bundles."""
    value = draw(st.sampled_from(PG_HOSTILE))
    resource_type = draw(st.sampled_from(("Patient", "Observation", "RiskAssessment")))
    place = draw(st.integers(0, 6))
    json_headers = {"content-type": latin1(FHIR_JSON)}
    if place == 0:
        param = draw(st.sampled_from(params_of(resource_type)))
        prefix = draw(st.sampled_from(PREFIXES))
        return "GET", f"/fhir/{resource_type}?{urlencode({param: prefix + value})}", None, {}
    if place == 1:
        form = urlencode({draw(st.sampled_from(params_of(resource_type))): value}).encode()
        headers = {"content-type": b"application/x-www-form-urlencoded"}
        return "POST", f"/fhir/{resource_type}/_search", form, headers
    if place == 2:
        method = draw(st.sampled_from(("GET", "DELETE", "PATCH")))
        suffix = draw(st.sampled_from(("", "/_history", "/_history/1", "/$everything")))
        return method, f"/fhir/Patient/{segment(value)}{suffix}", None, {}
    if place == 3:
        resource = copy.deepcopy(BASE_BY_TYPE[resource_type])
        resource.pop("id", None)
        location = draw(st.sampled_from([loc for loc in _locations(resource) if loc]))
        number = as_number(value)
        resource = _set(resource, location, draw(st.sampled_from((value, number))), "replace")
        return "POST", f"/fhir/{resource_type}", encode(resource), json_headers
    if place == 4:
        raw = (
            b'{"resourceType":"Observation","status":"final","code":{"text":"x"},'
            b'"valueQuantity":{"value":' + value.encode("unicode_escape") + b"}}"
        )
        return "POST", "/fhir/Observation", raw, json_headers
    if place == 5:
        entry = {"request": {"method": draw(st.sampled_from(("GET", "DELETE", "POST"))),
                             "url": f"Patient?name={value}", "ifNoneExist": f"name={value}"},
                 "resource": {"resourceType": "Patient", "name": [{"family": value}]}}  # fmt: skip
        bundle = {"resourceType": "Bundle", "type": draw(st.sampled_from(("batch", "transaction"))),
                  "entry": [entry]}  # fmt: skip
        return "POST", "/fhir", encode(bundle), json_headers
    headers = {"if-none-exist": latin1(f"name={value}".replace("\x00", "%00")), **json_headers}
    return "POST", "/fhir/Patient", encode({"resourceType": "Patient"}), headers


# --- the security surface: credentials, sign-in, OAuth, audit and break-the-glass -------------

JWT_LIKE = ("eyJhbGciOiJub25lIn0.e30.", "a.b.c", "a.b", "...", "eyJ.eyJ.sig", "x" * 5000)
AUTHORIZATIONS = st.one_of(
    st.sampled_from(("", "Bearer", "Bearer ", "bearer x", "Basic", "Basic !!!", "Basic Og==",
                     "Basic " + base64.b64encode(b"a:b").decode(), "Digest x", "Bearer \xff")),
    st.sampled_from(JWT_LIKE).map(lambda t: f"Bearer {t}"),
    header_text,
)  # fmt: skip
COOKIES = st.one_of(
    st.sampled_from(("chartkeeper_session=x", "chartkeeper_session=a.b.c", "=", ";;",
                     "chartkeeper_login=x; chartkeeper_oauth_csrf=y")),
    header_text,
)  # fmt: skip
SECURITY_PATHS = (
    "/fhir/AuditEvent", "/fhir/AuditEvent/_search", "/fhir/AuditEvent/{id}",
    "/fhir/AuditEvent/{id}/x", "/fhir/Patient/{id}/$access-log",
    "/fhir/Patient/{id}/$break-the-glass",
    "/api/break-glass/queue", "/api/break-glass/{id}/review", "/oauth/token", "/oauth/authorize",
    "/.well-known/smart-configuration", "/.well-known/jwks.json", "/signin", "/signout",
    "/portal/access-log", "/patients/{id}/break-the-glass", "/privacy/break-glass",
    "/privacy/break-glass/{id}", "/fhir/Patient/{id}", "/patients/{id}",
    "/fhir/$explain", "/fhir/Observation/{id}/$explain", "/fhir/Condition/{id}/$explain",
    "/fhir/Patient/{id}/$summary", "/api/patients/{id}/summary", "/api/patients/{id}/search",
    "/patients/{id}/search", "/patients/{id}/emergency", "/patients/{id}/emergency/break-the-glass",
    "/portal/explain", "/portal/explain/Observation/{id}", "/portal/explain/{id}/{id}",
)  # fmt: skip
FORM_FIELDS = (
    "grant_type", "client_id", "client_secret", "client_assertion", "client_assertion_type",
    "scope", "code", "redirect_uri", "code_verifier", "refresh_token", "response_type", "state",
    "aud", "code_challenge", "code_challenge_method", "name", "password", "next", "csrf",
    "reason", "hours", "decision", "patient", "date", "_count", "agent", "entity", "x",
    "q", "limit", "text", "reference", "resource",
)  # fmt: skip
FORM_VALUES = st.one_of(
    st.sampled_from(("client_credentials", "authorization_code", "refresh_token", "code",
                     "system/*.read", "patient/*.cruds launch/patient openid", "S256", "plain",
                     "http://localhost/cb",
                     "urn:ietf:params:oauth:client-assertion-type:jwt-bearer",
                     "/patients", "//evil.example", "https://evil.example", "approve", "reject")),
    st.sampled_from(JWT_LIKE),
    VALUES,
)  # fmt: skip


@st.composite
def security_requests(draw: st.DrawFn) -> tuple[str, str, bytes | None, dict[str, bytes]]:
    """Requests to the security endpoints, and any endpoint with odd credentials or cookies."""
    path = draw(st.sampled_from(SECURITY_PATHS)).format(id=segment(draw(IDS)))
    fields = draw(st.lists(st.tuples(st.sampled_from(FORM_FIELDS), FORM_VALUES), max_size=6))
    method = draw(st.sampled_from(("GET", "POST", "POST", "PUT", "DELETE")))
    headers: dict[str, bytes] = {}
    if draw(st.booleans()):
        headers["authorization"] = latin1(draw(AUTHORIZATIONS))
    if draw(st.booleans()):
        headers["cookie"] = latin1(draw(COOKIES))
    if draw(st.booleans()):
        headers["accept"] = b"text/html"
    body: bytes | None = None
    if method == "GET":
        query = urlencode(fields, quote_via=quote)
        return method, f"{path}?{query}" if query else path, None, headers
    if draw(st.booleans()):
        body = urlencode(fields, quote_via=quote).encode()
        headers["content-type"] = b"application/x-www-form-urlencoded"
    else:
        body = draw_body(draw, "Parameters") if draw(st.booleans()) else encode(dict(fields))
        headers["content-type"] = latin1(draw(st.sampled_from(CONTENT_TYPES)))
    return method, path, body, headers


# --- searches too big for one SQL statement ------------------------------------------------------

BIG_SEARCH_PARAMS = (
    ("Patient", "birthdate", "ge19{i:02}"),
    ("Patient", "name", "n{i}"),
    ("Patient", "_id", "id{i}"),
    ("Patient", "_has:Observation:patient:date", "ge20{i:02}"),
    ("Patient", "_has:Observation:patient:value-quantity", "ge{i}|http://unitsofmeasure.org|mg"),
    ("Observation", "subject:Patient.birthdate", "le19{i:02}-01"),
    ("Observation", "code-value-quantity", "http://loinc.org|{i}$gt{i}"),
    ("Observation", "_lastUpdated", "ne20{i:02}"),
    ("Observation", "_content", "w{i}"),
)  # fmt: skip


@st.composite
def big_searches(draw: st.DrawFn) -> tuple[str, str, bytes | None, dict[str, bytes]]:
    """Many OR-ed values, many AND-ed criteria or many sort keys, around the server's limits
    and past what SQLite (expression depth, variables) and PostgreSQL (parameters) take."""
    resource_type, name, template = draw(st.sampled_from(BIG_SEARCH_PARAMS))
    values = draw(st.sampled_from((1, 10, 99, 100, 101, 130, 260, 600)))
    repeats = draw(st.sampled_from((1, 2, 10, 11, 100, 101, 1100)))
    if values * repeats > 6000:  # keep the request small enough to build quickly
        repeats = max(1, 6000 // values)
    value = ",".join(template.format(i=i % 100) for i in range(values))
    items = [(name, value)] * repeats
    if draw(st.integers(0, 4)) == 0:
        items.append(("_sort", ",".join(["_id"] * draw(st.sampled_from((50, 51, 2500))))))
    form = urlencode(items).encode()
    headers = {"content-type": b"application/x-www-form-urlencoded"}
    return "POST", f"/fhir/{resource_type}/_search", form, headers


# --- the properties -----------------------------------------------------------------------------

Request = tuple[str, str, bytes | None, dict[str, bytes]]


@fuzz_settings(800)
@given(request=search_requests())
def test_no_search_query_yields_a_server_error(fuzz_client: TestClient, request: Request) -> None:
    send(fuzz_client, *request)


@fuzz_settings(800)
@given(request=write_requests())
def test_no_create_update_patch_or_delete_yields_a_server_error(
    fuzz_client: TestClient, request: Request
) -> None:
    send(fuzz_client, *request)


@fuzz_settings(500)
@given(body=bundles(), prefer=st.sampled_from(("", "return=representation", "return=minimal")))
def test_no_batch_or_transaction_bundle_yields_a_server_error(
    fuzz_client: TestClient, body: bytes, prefer: str
) -> None:
    headers = {"content-type": latin1(FHIR_JSON)}
    if prefer:
        headers["prefer"] = latin1(prefer)
    send(fuzz_client, "POST", "/fhir", body, headers)


@fuzz_settings(400)
@given(request=path_requests())
def test_no_path_under_fhir_yields_a_server_error(
    fuzz_client: TestClient, request: Request
) -> None:
    send(fuzz_client, *request)


@fuzz_settings(150)
@given(request=workbench_requests())
def test_no_workbench_page_request_yields_a_server_error(
    fuzz_client: TestClient, request: Request
) -> None:
    send(fuzz_client, *request)


@fuzz_settings(300)
@given(request=hostile_requests())
def test_values_a_database_cannot_hold_are_refused_not_crashed_on(
    fuzz_client: TestClient, request: Request
) -> None:
    send(fuzz_client, *request)


@fuzz_settings(40)
@given(request=big_searches())
def test_searches_too_big_for_one_sql_statement_are_refused_not_crashed_on(
    fuzz_client: TestClient, request: Request
) -> None:
    send(fuzz_client, *request)


@fuzz_settings(300)
@given(request=security_requests())
def test_no_request_to_the_security_surface_yields_a_server_error(
    fuzz_client: TestClient, request: Request
) -> None:
    send(fuzz_client, *request)


def test_a_long_free_text_value_is_stored_not_crashed_on(fuzz_client: TestClient) -> None:
    """A 12 000-character Observation.valueString (a pathology note, say) is valid FHIR, and
    is indexed for the R4 ``value-string`` parameter. PostgreSQL refuses B-tree index rows over
    ~2.7 kB, so indexed text keeps its first 1,000 bytes (store.value_sql.bounded), alike on
    both stores, and searches on it still find the record."""
    words = random.Random(4)
    note = " ".join(
        "".join(words.choices(string.ascii_lowercase, k=words.randint(2, 9))) for _ in range(2000)
    )
    body = {**OBSERVATION, "id": "long-note", "valueString": note}
    del body["valueQuantity"]
    headers = {"content-type": latin1(FHIR_JSON)}
    response = send(fuzz_client, "PUT", "/fhir/Observation/long-note", encode(body), headers)
    assert response.status_code in (200, 201)
    for query in (note[:40], note, note[:1500]):  # shorter than, and longer than, the bound
        search = {"value-string": query, "_elements": "id"}
        found = fuzz_client.post("/fhir/Observation/_search", data=search)
        assert found.status_code == 200, found.text
        assert [e["resource"]["id"] for e in found.json()["entry"]] == ["long-note"]
    code = "x" * 3000  # a token that long is silly, but valid: it is stored and found
    coded = {**OBSERVATION, "id": "long-code", "code": {"coding": [{"code": code}]}}
    response = send(fuzz_client, "PUT", "/fhir/Observation/long-code", encode(coded), headers)
    assert response.status_code in (200, 201)
    found = fuzz_client.post("/fhir/Observation/_search", data={"code": code})
    assert [e["resource"]["id"] for e in found.json()["entry"]] == ["long-code"]
