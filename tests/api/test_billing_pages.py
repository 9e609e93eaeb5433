"""The billing workbench pages through the real app and database: the worklist and a claim's
findings, releasing from the form, posting an 835 by pasting it, working a denial, who sees the
Billing link, and the patient's statement page.

One billed demo hospital per backend, as in test_billing_api; each browser signs in through the
form and posts with its session's CSRF token.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from html import escape, unescape
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import text
from starlette.testclient import TestClient

from chartkeeper.app import Services, build_services
from chartkeeper.billing.codes.loaders import open_code_file
from chartkeeper.cli.demo_billing import bill_demo
from chartkeeper.cli.demo_loader import load_demo
from chartkeeper.core.clock import FixedClock
from chartkeeper.core.settings import load_settings
from chartkeeper.web.app import create_app
from chartkeeper.web.workbench import CSP
from tests.api.conftest import bearer
from tests.api.people import user
from tests.api.test_billing_api import miscounted, remittance_for
from tests.api.test_mpi_pages import sign_in

HOME = "/workbench/billing"
NOW = datetime(2026, 11, 2, 9, 0, tzinfo=UTC)


@dataclass
class Ward:
    """The billed demo hospital of one backend and its app."""

    services: Services
    app: Any
    unbilled: list[str]

    def browser(self, name: str, role: str, **links: str) -> tuple[TestClient, str]:
        """A new user of ``role`` signed in through the form; the browser and its CSRF token."""
        user(self.services, name, role, **links)
        browser = TestClient(self.app, raise_server_exceptions=True)
        return browser, sign_in(browser, name)


@pytest.fixture(scope="module")
def ward(module_database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Ward]:
    settings = load_settings(
        {"data_dir": str(tmp_path_factory.mktemp("pages")), "database_url": module_database_url},
        environ={},
    )
    services = build_services(settings, clock=FixedClock(NOW))
    try:
        load_demo(services, 30, 1)
        bill_demo(services, lambda _line: None)
        app = create_app(services)
        with TestClient(app, headers=bearer(services)) as client:
            params = {
                "status": "finished",
                "date": ["ge2026-01-01", "lt2026-07-04"],
                "_sort": "date",
            }
            found = client.get("/fhir/Encounter", params=params).json()
            unbilled = [entry["resource"]["id"] for entry in found.get("entry", [])]
            yield Ward(services, app, unbilled)
    finally:
        services.close()


@pytest.fixture(scope="module")
def biller(ward: Ward) -> tuple[TestClient, str]:
    return ward.browser("bella", "biller")


def count(services: Services, sql: str, **params: Any) -> Any:
    with services.engine.connect() as conn:
        return conn.execute(text(sql), params).scalar()


def cells(page: str, marker: str) -> list[list[str]]:
    """The words of each cell of the table row that contains ``marker``."""
    at = page.index(marker)
    row = page[page.rindex("<tr", 0, at) : page.index("</tr>", at)]
    found = re.findall(r"<td[^>]*>(.*?)</td>", row, re.S)
    return [unescape(re.sub(r"<[^>]+>", " ", cell)).split() for cell in found]


def test_the_worklist_shows_held_claims_and_their_error_counts(
    ward: Ward, biller: tuple[TestClient, str]
) -> None:
    browser, _ = biller
    page = browser.get(HOME)
    assert page.status_code == 200
    assert '<a href="/workbench/billing">Billing</a>' in page.text  # the navigation
    assert page.headers["content-security-policy"] == CSP
    held, total = ward.services.billing.worklist.items("held", 50, 0)
    assert total >= 3 and f'<span class="count">({total})</span>' in page.text
    for row in held:
        errors = sum(1 for f in row.findings if f["severity"] == "error")
        assert errors >= 1
        link = f'<a href="/workbench/billing/claims/{row.claim_id}">{row.control_number}</a>'
        assert link in page.text
        shown = cells(page.text, link)
        assert shown[-2] == ["held"]
        assert shown[-1][:2] == [str(errors), "error" if errors == 1 else "errors"]


def test_a_claim_page_shows_the_findings_table(ward: Ward, biller: tuple[TestClient, str]) -> None:
    browser, _ = biller
    held, _ = ward.services.billing.worklist.items("held", 50, 0)
    row = next(r for r in held if any(f.get("code") == "E11" for f in r.findings))
    page = browser.get(f"{HOME}/claims/{row.claim_id}")
    assert page.status_code == 200
    finding = next(f for f in row.findings if f["code"] == "E11")
    assert '<th scope="col">Rule</th>' in page.text and "How to fix it" in page.text
    assert f"<code>{finding['rule']}</code>" in page.text
    assert escape(finding["message"]) in page.text
    assert escape(finding["hint"]) in page.text
    assert f"<code>{finding['expression']}</code>" in page.text
    missing = browser.get(f"{HOME}/claims/no-such-claim")
    assert missing.status_code == 404 and missing.headers["content-type"].startswith("text/html")


def test_the_release_form_sends_clean_claims_and_shows_batches(
    ward: Ward, biller: tuple[TestClient, str]
) -> None:
    browser, csrf = biller
    coder = TestClient(ward.app, headers=user(ward.services, "coraline", "coder"))
    encounter = ward.unbilled.pop()
    captured = coder.post(f"/api/billing/encounters/{encounter}/charges")
    assert captured.status_code in (200, 201), captured.text
    built = coder.post(f"/api/billing/encounters/{encounter}/claim")
    assert built.status_code == 201, built.text
    claim_id = built.json()["claim"].removeprefix("Claim/")
    assert ward.services.billing.worklist.get(claim_id).status == "clean"
    assert "Release 1 clean claim<" in browser.get(HOME).text
    batches = count(ward.services, "SELECT count(*) FROM billing_batches")

    refused = browser.post(f"{HOME}/release", data={"csrf": "forged"}, follow_redirects=False)
    assert refused.status_code == 403
    assert "expired" in refused.text
    assert count(ward.services, "SELECT count(*) FROM billing_batches") == batches
    assert ward.services.billing.worklist.get(claim_id).status == "clean"

    sent = browser.post(f"{HOME}/release", data={"csrf": csrf}, follow_redirects=False)
    assert (sent.status_code, sent.headers["location"]) == (303, f"{HOME}/batches?done=released")
    row = ward.services.billing.worklist.get(claim_id)
    assert row.status == "released"
    listing = browser.get(sent.headers["location"])
    assert listing.status_code == 200
    assert "Released: the clean claims are in a new 837 file" in listing.text
    assert row.batch_id in listing.text

    again = browser.post(f"{HOME}/release", data={"csrf": csrf}, follow_redirects=False)
    assert again.status_code == 400
    assert "There are no clean claims to release" in again.text
    assert count(ward.services, "SELECT count(*) FROM billing_batches") == batches + 1


def test_a_pasted_835_is_posted_and_reported(ward: Ward, biller: tuple[TestClient, str]) -> None:
    browser, csrf = biller
    coder = TestClient(ward.app, headers=user(ward.services, "corin", "coder"))
    encounter = ward.unbilled.pop()
    assert coder.post(f"/api/billing/encounters/{encounter}/charges").status_code == 201
    built = coder.post(f"/api/billing/encounters/{encounter}/claim").json()
    claim_id = built["claim"].removeprefix("Claim/")
    sent = browser.post(f"{HOME}/release", data={"csrf": csrf}, follow_redirects=False)
    assert sent.status_code == 303
    row = ward.services.billing.worklist.get(claim_id)
    file = remittance_for(ward.services, [claim_id], "paid", "TRACEPAGE02")
    page = browser.post(f"{HOME}/remittances", data={"csrf": csrf, "x12": file})
    assert page.status_code == 200
    assert "<dt>Claims matched</dt><dd>1</dd>" in page.text
    assert f"<dt>{row.control_number}</dt>" in page.text
    assert "TRACEPAGE02" in page.text  # the recent remittances table
    assert ward.services.billing.worklist.get(claim_id).status == "paid"


def test_scrub_again_needs_the_forms_token(ward: Ward, biller: tuple[TestClient, str]) -> None:
    browser, csrf = biller
    held, _ = ward.services.billing.worklist.items("held", 1, 0)
    path = f"{HOME}/claims/{held[0].claim_id}/scrub"
    assert browser.post(path, data={"csrf": "x"}, follow_redirects=False).status_code == 403
    done = browser.post(path, data={"csrf": csrf}, follow_redirects=False)
    assert done.status_code == 303
    assert done.headers["location"] == f"{HOME}/claims/{held[0].claim_id}?done=scrubbed"
    page = browser.get(done.headers["location"])
    assert "Scrubbed again with the current code sets and tables." in page.text
    assert ward.services.billing.worklist.get(held[0].claim_id).status == "held"


def test_a_malformed_835_is_shown_on_the_page_with_the_pasted_text(
    ward: Ward, biller: tuple[TestClient, str]
) -> None:
    browser, csrf = biller
    sent, _ = ward.services.billing.worklist.items("paid", 1, 0)
    file = remittance_for(ward.services, [sent[0].claim_id], "paid", "TRACEPAGE01")
    pasted, at = miscounted(file)
    postings = count(ward.services, "SELECT count(*) FROM billing_postings")
    page = browser.post(f"{HOME}/remittances", data={"csrf": csrf, "x12": pasted})
    assert page.status_code == 400
    assert 'role="alert"' in page.text and "<strong>400</strong>" in page.text
    assert f"SE segment at position {at}" in page.text
    textarea = re.search(r'<textarea id="x12"[^>]*>(.*?)</textarea>', page.text, re.S)
    assert textarea and unescape(textarea.group(1)) == pasted  # kept, escaped
    assert count(ward.services, "SELECT count(*) FROM billing_postings") == postings


def test_the_denial_form_moves_a_denial(ward: Ward, biller: tuple[TestClient, str]) -> None:
    browser, csrf = biller
    page = browser.get(f"{HOME}/denials")
    assert page.status_code == 200
    denial_ids = re.findall(r'action="/workbench/billing/denials/([^"]+)"', page.text)
    assert denial_ids
    denial_id = denial_ids[0]
    denial = ward.services.billing.denials.get(denial_id)
    # the reason in the patient's words, with the amount (CO-50: not medically necessary)
    amount = f"${denial.amount_cents / 100:,.2f}"
    assert f"Your plan says {amount} of this care was not needed" in unescape(page.text)
    path = f"{HOME}/denials/{denial_id}"
    refused = browser.post(path, data={"csrf": csrf, "state": "written_off", "note": " "})
    assert refused.status_code == 400 and "Say what was done in a note" in refused.text
    moved = browser.post(
        path,
        data={"csrf": csrf, "state": "written_off", "note": "Below the appeal threshold"},
        follow_redirects=False,
    )
    assert (moved.status_code, moved.headers["location"]) == (303, f"{HOME}/denials?done=denial")
    state = count(
        ward.services, "SELECT state FROM billing_denials WHERE denial_id = :d", d=denial_id
    )
    assert state == "written_off"
    written_off = browser.get(f"{HOME}/denials", params={"state": "written_off"}).text
    assert "Below the appeal threshold" in written_off


def test_a_coder_sees_the_worklist_but_is_offered_no_biller_work(ward: Ward) -> None:
    browser, csrf = ward.browser("cosmo", "coder")
    page = browser.get(HOME)
    assert page.status_code == 200
    assert '<a href="/workbench/billing">Billing</a>' in page.text
    assert "/workbench/billing/claims/" in page.text  # the held claims
    assert 'action="/workbench/billing/release"' not in page.text
    assert 'href="/workbench/billing/denials"' not in page.text
    refused = browser.post(f"{HOME}/release", data={"csrf": csrf})
    assert refused.status_code == 403 and "Only biller users may release claims" in refused.text
    biller_page = ward.browser("bertha", "biller")[0].get(HOME).text
    assert 'action="/workbench/billing/release"' in biller_page
    assert 'href="/workbench/billing/denials"' in biller_page


def test_a_physician_gets_no_billing_link_and_a_403_page(ward: Ward) -> None:
    browser, _ = ward.browser("phoebe", "physician")
    assert '<a href="/workbench/billing">Billing</a>' not in browser.get("/patients").text
    for path in (HOME, f"{HOME}/denials", f"{HOME}/remittances", f"{HOME}/batches"):
        refused = browser.get(path)
        assert refused.status_code == 403, path
        assert refused.headers["content-type"].startswith("text/html")
        assert "Only biller" in refused.text


def test_a_patient_reads_their_statement_page(ward: Ward) -> None:
    patient_id = count(
        ward.services,
        "SELECT patient_id FROM billing_postings GROUP BY patient_id "
        "HAVING sum(patient_cents) > 0 ORDER BY patient_id",
    )
    owed = count(
        ward.services,
        "SELECT sum(patient_cents) FROM billing_postings WHERE patient_id = :p",
        p=patient_id,
    )
    browser, _ = ward.browser("paulo", "patient", patient_id=patient_id)
    page = browser.get(f"/statements/{patient_id}")
    assert page.status_code == 200
    assert page.headers["content-security-policy"] == CSP
    assert page.headers["x-content-type-options"] == "nosniff"
    assert f"${owed / 100:,.2f}" in page.text
    assert 'href="/billing/statement.css"' in page.text
    other = count(
        ward.services,
        "SELECT patient_id FROM billing_claims WHERE patient_id <> :p ORDER BY patient_id",
        p=patient_id,
    )
    assert browser.get(f"/statements/{other}").status_code in (403, 404)

    css = browser.get("/billing/statement.css")
    assert css.status_code == 200
    assert css.headers["content-type"].startswith("text/css")
    assert "{" in css.text and "}" in css.text


def test_a_loaded_carc_list_gives_billers_its_description_beside_the_plain_words(
    ward: Ward, biller: tuple[TestClient, str], tmp_path: Path
) -> None:
    carc = tmp_path / "carc_2020-01.csv"
    carc.write_text(
        "Code,Description,Start Date,Last Modified,Stop Date\n"
        "50,Synthetic test text: not deemed a medical necessity,01/01/1995,,\n",
        encoding="latin-1",
    )
    found = open_code_file("carc", carc)
    ward.services.codes.load(
        "carc", found.entries, "2020-01", (date(2020, 1, 1), None), found.source
    )
    browser, _csrf = biller
    page = unescape(browser.get(f"{HOME}/denials", params={"state": "all"}).text)
    assert "Synthetic test text: not deemed a medical necessity — Your plan says $" in page
