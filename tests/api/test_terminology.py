"""CodeSystem/$lookup, $validate-code and ValueSet/$expand over the loaded code sets."""

from __future__ import annotations

from datetime import date

import pytest
from starlette.testclient import TestClient

from chartkeeper.app import Services
from chartkeeper.billing.codes.loaders import open_code_file
from chartkeeper.billing.codes.registry import CodeRegistry
from tests.api.conftest import post
from tests.unit.billing.support import DATA, mini_entries

CM = "http://hl7.org/fhir/sid/icd-10-cm"


@pytest.fixture
def loaded(services: Services) -> Services:
    """The synthetic ICD-10-CM excerpt as version 2026-04, from April 1, 2026 (the test clock
    says January 15, 2026: requests pass a date or get 404)."""
    registry = CodeRegistry(services.engine)
    registry.load("icd10cm", mini_entries(), "2026-04", (date(2026, 4, 1), None), "mini.xml")
    return services


def _outcome(code: str, diagnostics: str, *expression: str) -> dict[str, object]:
    issue: dict[str, object] = {"severity": "error", "code": code, "diagnostics": diagnostics}
    if expression:
        issue["expression"] = list(expression)
    return {"resourceType": "OperationOutcome", "issue": [issue]}


def test_lookup_answers_display_and_properties(loaded: Services, client: TestClient) -> None:
    response = client.get(
        "/fhir/CodeSystem/$lookup", params={"system": CM, "code": "E11.9", "date": "2026-05-01"}
    )
    assert response.status_code == 200
    assert response.headers["content-type"] == "application/fhir+json; charset=utf-8"
    assert response.json() == {
        "resourceType": "Parameters",
        "parameter": [
            {"name": "name", "valueString": "ICD-10-CM"},
            {"name": "version", "valueString": "2026-04"},
            {"name": "display", "valueString": "Type 2 diabetes mellitus without complications"},
            {
                "name": "property",
                "part": [
                    {"name": "code", "valueCode": "billable"},
                    {"name": "value", "valueBoolean": True},
                ],
            },
            {
                "name": "property",
                "part": [
                    {"name": "code", "valueCode": "parent"},
                    {"name": "value", "valueCode": "E11"},
                ],
            },
        ],
    }


def test_lookup_by_post_with_parameters(loaded: Services, client: TestClient) -> None:
    body = {
        "resourceType": "Parameters",
        "parameter": [
            {"name": "system", "valueUri": CM},
            {"name": "code", "valueCode": "E11"},
            {"name": "date", "valueDate": "2026-05-01"},
        ],
    }
    response = post(client, "/fhir/CodeSystem/$lookup", body)
    assert response.status_code == 200
    properties = [p["part"] for p in response.json()["parameter"] if p["name"] == "property"]
    assert [
        {"name": "code", "valueCode": "excludes1"},
        {"name": "value", "valueString": "type 1 diabetes mellitus (E10.-)"},
    ] in properties


def test_lookup_errors_are_operation_outcomes(loaded: Services, client: TestClient) -> None:
    missing = client.get(
        "/fhir/CodeSystem/$lookup", params={"system": CM, "code": "Q99.9", "date": "2026-05-01"}
    )
    assert (missing.status_code, missing.json()) == (
        404,
        _outcome("not-found", "Q99.9 is not in ICD-10-CM 2026-04"),
    )
    before = client.get("/fhir/CodeSystem/$lookup", params={"system": CM, "code": "E11.9"})
    assert (before.status_code, before.json()) == (
        404,
        _outcome("not-found", "No ICD-10-CM version is loaded for 2026-01-15"),
    )
    unknown = client.get("/fhir/CodeSystem/$lookup", params={"system": "http://x", "code": "1"})
    assert unknown.status_code == 400
    assert unknown.json()["issue"][0]["diagnostics"].startswith("Unknown code system 'http://x'")
    no_code = client.get("/fhir/CodeSystem/$lookup", params={"system": CM})
    assert (no_code.status_code, no_code.json()["issue"][0]["diagnostics"]) == (
        400,
        "Parameter 'code' is required",
    )


def test_terminology_needs_a_signed_in_caller(loaded: Services, anonymous: TestClient) -> None:
    response = anonymous.get("/fhir/CodeSystem/$lookup", params={"system": CM, "code": "E11.9"})
    assert response.status_code == 401
    assert response.json()["issue"][0]["code"] == "login"


def test_validate_code(loaded: Services, client: TestClient) -> None:
    def run(**params: str) -> list[dict[str, object]]:
        response = client.get(
            "/fhir/CodeSystem/$validate-code", params={"system": CM, "date": "2026-05-01", **params}
        )
        assert response.status_code == 200
        return response.json()["parameter"]  # type: ignore[no-any-return]

    assert run(code="E11.9") == [
        {"name": "result", "valueBoolean": True},
        {"name": "display", "valueString": "Type 2 diabetes mellitus without complications"},
    ]
    assert run(code="E11")[2] == {
        "name": "message",
        "valueString": "E11 is valid but not billable (a header)",
    }
    assert run(code="Q99.9") == [
        {"name": "result", "valueBoolean": False},
        {"name": "message", "valueString": "Q99.9 is not valid in ICD-10-CM 2026-04"},
    ]
    assert run(code="E11.9", display="Diabetes")[0] == {"name": "result", "valueBoolean": False}
    on_value_set = client.get(
        "/fhir/ValueSet/$validate-code",
        params={"url": f"{CM}?fhir_vs", "code": "A00.0", "date": "2026-05-01"},
    )
    assert on_value_set.json()["parameter"][0] == {"name": "result", "valueBoolean": True}


def test_expand_filters_the_implicit_value_set(loaded: Services, client: TestClient) -> None:
    response = client.get(
        "/fhir/ValueSet/$expand",
        params={"url": f"{CM}?fhir_vs", "filter": "classical chol", "date": "2026-05-01"},
    )
    assert response.status_code == 200
    assert response.json() == {
        "resourceType": "ValueSet",
        "url": f"{CM}?fhir_vs",
        "status": "active",
        "expansion": {
            "timestamp": "2026-01-15T09:30:00.000Z",
            "total": 1,
            "offset": 0,
            "parameter": [
                {"name": "version", "valueUri": f"{CM}|2026-04"},
                {"name": "filter", "valueString": "classical chol"},
            ],
            "contains": [
                {
                    "system": CM,
                    "version": "2026-04",
                    "code": "A000",
                    "display": "Cholera due to Vibrio cholerae 01, biovar cholerae",
                }
            ],
        },
    }


def test_expand_pages_through_the_whole_code_system(loaded: Services, client: TestClient) -> None:
    params = {"url": CM, "count": "2", "offset": "1", "date": "2026-05-01"}
    expansion = client.get("/fhir/ValueSet/$expand", params=params).json()["expansion"]
    assert expansion["total"] == len([e for e in mini_entries() if "level" not in e.extra])
    assert [c["code"] for c in expansion["contains"]] == ["A000", "A009"]
    bad = client.get("/fhir/ValueSet/$expand", params={"url": CM, "count": "-1"})
    assert (bad.status_code, bad.json()["issue"][0]["diagnostics"]) == (
        400,
        "'count' must be a non-negative integer",
    )


def test_a_terminated_hcpcs_code_is_not_valid(services: Services, client: TestClient) -> None:
    from tests.unit.billing.support import MINI_HCPCS

    found = open_code_file("hcpcs", MINI_HCPCS)
    CodeRegistry(services.engine).load(
        "hcpcs", found.entries, "2026-01", (date(2026, 1, 1), None), found.source
    )
    system = "http://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets"

    def run(code: str) -> list[dict[str, object]]:
        params = {"system": system, "code": code, "date": "2026-02-01"}
        response = client.get("/fhir/CodeSystem/$validate-code", params=params)
        assert response.status_code == 200
        return response.json()["parameter"]  # type: ignore[no-any-return]

    assert run("G0001") == [
        {"name": "result", "valueBoolean": False},
        {"name": "message", "valueString": "G0001 was terminated on 2012-12-31"},
    ]
    assert run("A4206")[0] == {"name": "result", "valueBoolean": True}


# CPT is licensed by the AMA: the codes below are synthetic, CPT-shaped but not CPT codes, and
# the loaded file (tests/unit/billing/data/cpt_synthetic_2026.txt) has synthetic descriptors.
CPT = "http://www.ama-assn.org/go/cpt"
CPT_NOT_LOADED = (
    "CPT (HCPCS Level I) is licensed by the AMA and not included in chartkeeper; "
    "load your licensed file with `chartkeeper codes load cpt FILE`"
)


def test_cpt_is_not_included_and_the_answer_says_why(loaded: Services, client: TestClient) -> None:
    params = {"system": CPT, "code": "9990T"}
    response = client.get("/fhir/CodeSystem/$lookup", params=params)
    assert (response.status_code, response.json()) == (
        400,
        _outcome("not-supported", CPT_NOT_LOADED, "system"),
    )
    validate = client.get("/fhir/CodeSystem/$validate-code", params=params)
    assert (validate.status_code, validate.json()) == (
        400,
        _outcome("not-supported", CPT_NOT_LOADED, "system"),
    )
    expand = client.get("/fhir/ValueSet/$expand", params={"url": f"{CPT}?fhir_vs"})
    assert (expand.status_code, expand.json()) == (
        400,
        _outcome("not-supported", CPT_NOT_LOADED, "url"),
    )


@pytest.fixture
def cpt_loaded(services: Services) -> Services:
    """The synthetic CPT file as version 2026, from 2026-01-01 (the test clock's year)."""
    found = open_code_file("cpt", DATA / "cpt_synthetic_2026.txt")
    CodeRegistry(services.engine).load(
        "cpt", found.entries, "2026", (date(2026, 1, 1), None), found.source
    )
    return services


def test_a_loaded_cpt_version_answers_like_any_code_system(
    cpt_loaded: Services, client: TestClient
) -> None:
    response = client.get("/fhir/CodeSystem/$lookup", params={"system": CPT, "code": "9990T"})
    assert response.status_code == 200
    assert response.json()["parameter"] == [
        {"name": "name", "valueString": "CPT"},
        {"name": "version", "valueString": "2026"},
        {"name": "display", "valueString": "Synthetic test descriptor one, Category-III-shaped"},
        {
            "name": "property",
            "part": [
                {"name": "code", "valueCode": "billable"},
                {"name": "value", "valueBoolean": True},
            ],
        },
    ]
    unknown = client.get("/fhir/CodeSystem/$lookup", params={"system": CPT, "code": "9993T"})
    assert (unknown.status_code, unknown.json()) == (
        404,
        _outcome("not-found", "9993T is not in CPT 2026"),
    )
    before = client.get(
        "/fhir/CodeSystem/$lookup", params={"system": CPT, "code": "9990T", "date": "2025-12-31"}
    )
    assert (before.status_code, before.json()) == (
        404,
        _outcome("not-found", "No CPT version is loaded for 2025-12-31"),
    )
    valid = client.get("/fhir/CodeSystem/$validate-code", params={"system": CPT, "code": "9991T"})
    assert valid.json()["parameter"][0] == {"name": "result", "valueBoolean": True}
    invalid = client.get(
        "/fhir/ValueSet/$validate-code", params={"url": f"{CPT}?fhir_vs", "code": "9993T"}
    )
    assert invalid.json()["parameter"] == [
        {"name": "result", "valueBoolean": False},
        {"name": "message", "valueString": "9993T is not valid in CPT 2026"},
    ]
    expansion = client.get(
        "/fhir/ValueSet/$expand", params={"url": CPT, "filter": "synthetic three"}
    ).json()["expansion"]
    assert (expansion["total"], expansion["contains"]) == (
        1,
        [
            {
                "system": CPT,
                "version": "2026",
                "code": "9992T",
                "display": "Synthetic test descriptor three, Category-III-shaped",
            }
        ],
    )
