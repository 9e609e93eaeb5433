"""Patient statements as HTML and PDF, from a realistic synthetic account."""

from __future__ import annotations

import html
import re
import zlib
from dataclasses import replace
from datetime import date
from decimal import Decimal

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chartkeeper.billing.account_model import (
    AccountActivity,
    Adjustment,
    ChargeLine,
    ClaimActivity,
)
from chartkeeper.billing.statements import (
    BillingOffice,
    statement_css,
    statement_html,
    statement_pdf,
)
from chartkeeper.billing.statements.pdf import latin1

OFFICE = BillingOffice(
    name="Riverside Community Hospital",
    phone="(555) 010-4477",
    hours="Monday to Friday, 8 a.m. to 5 p.m.",
    address_lines=("Billing Office", "400 River Road", "Springfield, IL 62701"),
    web="https://billing.riverside.example",
)

PAID = ClaimActivity(
    claim_id="CLM-1001",
    service_from=date(2026, 3, 2),
    service_to=date(2026, 3, 2),
    provider_name="Dr. Ada Lind",
    payer_name="Acme Health Plan",
    lines=(
        ChargeLine(date(2026, 3, 2), "G0463", "Hospital outpatient clinic visit", Decimal("250")),
        ChargeLine(date(2026, 3, 2), "J1885", "Ketorolac injection", Decimal("50"), Decimal(2)),
    ),
    status="paid",
    insurance_paid=Decimal("120.00"),
    adjustments=(
        Adjustment("CO", "45", Decimal("100.00")),
        Adjustment("PR", "1", Decimal("40.00"), line=0),
        Adjustment("PR", "2", Decimal("40.00"), line=0),
    ),
)
DENIED = ClaimActivity(
    claim_id="CLM-1002",
    service_from=date(2026, 3, 9),
    service_to=date(2026, 3, 10),
    provider_name="Dr. Ben Okafor",
    payer_name="Acme Health Plan",
    lines=(ChargeLine(None, "G0283", "Electrical stimulation", Decimal("180.00")),),
    status="denied",
    adjustments=(Adjustment("CO", "50", Decimal("180.00"), remarks=("N115",)),),
)
WAITING = ClaimActivity(
    claim_id="CLM-1003",
    service_from=date(2026, 3, 20),
    service_to=date(2026, 3, 20),
    provider_name="Dr. Ada Lind",
    payer_name="Acme Health Plan",
    lines=(ChargeLine(date(2026, 3, 20), "G0463", "Clinic visit", Decimal("250.00")),),
    status="submitted",
)
ACTIVITY = AccountActivity(
    patient_id="PAT-000123",
    patient_name="Zoë Ńowak 🙂",
    address_lines=("12 Elm Street", "Springfield, IL 62701"),
    statement_date=date(2026, 4, 1),
    claims=(PAID, DENIED, WAITING),
    patient_payments=Decimal("10.00"),
)


def text_of(page: str) -> str:
    """The page's text as a reader sees it: tags dropped, entities decoded, spaces collapsed."""
    return " ".join(html.unescape(re.sub(r"<[^>]+>", " ", page)).split())


def pdf_text(pdf: bytes) -> str:
    """The text shown by the PDF's Tj operators, streams inflated, in drawing order."""
    shown: list[str] = []
    for found in re.finditer(rb"<<([^<>]*?)>>\s*stream\r?\n", pdf):
        length = int(re.search(rb"/Length (\d+)", found[1])[1])  # type: ignore[index]
        stream = pdf[found.end() : found.end() + length]
        content = zlib.decompress(stream) if b"/FlateDecode" in found[1] else stream
        for literal in re.findall(rb"\(((?:\\.|[^\\)])*)\) Tj", content):
            shown.append(re.sub(rb"\\(.)", rb"\1", literal).decode("latin-1"))
    return " ".join(shown)


def page_count(pdf: bytes) -> int:
    objects = re.findall(rb"\d+ 0 obj(.*?)endobj", pdf, re.S)
    page_trees = [o for o in objects if re.search(rb"/Type /Pages\b", o)]
    counts = [re.search(rb"/Count (\d+)", tree)[1] for tree in page_trees]  # type: ignore[index]
    assert len(counts) == 1
    assert int(counts[0]) == len(re.findall(rb"/Type /Page\b(?!s)", pdf))
    return int(counts[0])


# HTML


def test_amount_owed_is_the_patients_share_less_their_payments() -> None:
    shares = [a.amount for c in ACTIVITY.claims for a in c.adjustments if a.group == "PR"]
    owed = sum(shares, Decimal(0)) - ACTIVITY.patient_payments
    assert owed == Decimal("70.00") == ACTIVITY.balance
    page = text_of(statement_html(ACTIVITY, OFFICE))
    assert "Amount you owe: $70.00 Please pay by May 1, 2026." in page
    assert "Your share $80.00 Payments you made -$10.00 Amount you owe $70.00" in page


def test_html_header_names_the_hospital_patient_date_and_account() -> None:
    page = text_of(statement_html(ACTIVITY, OFFICE))
    assert page.startswith(
        "Your bill · Riverside Community Hospital Riverside Community Hospital Your bill"
        " Statement date April 1, 2026 Account number PAT-000123"
        " Zoë Ńowak 🙂 12 Elm Street Springfield, IL 62701"
    )


def test_html_shows_each_visit_with_its_services_sums_and_sentences() -> None:
    page = text_of(statement_html(ACTIVITY, OFFICE))
    assert (
        "Visit on March 2, 2026 Seen by Dr. Ada Lind Insurance Acme Health Plan"
        " Claim number CLM-1001 Status Paid"
    ) in page
    assert "March 2, 2026 Ketorolac injection (x2) J1885 $50.00" in page
    assert (
        "Billed $300.00 Insurance paid $120.00"
        " Insurance discounts (you don't owe these) $100.00 Your share $80.00"
    ) in page
    assert "Your plan applied $40.00 to your deductible. You pay this part." in page
    assert "Your coinsurance is $40.00. This is your share of the cost. You pay this part." in page
    assert "so we took off $100.00. You do not owe this." in page


def test_html_explains_a_denial_the_patient_is_protected_from() -> None:
    page = text_of(statement_html(ACTIVITY, OFFICE))
    assert "Visit on March 9 to March 10, 2026" in page
    assert "Status Denied by your insurance — we are working on it" in page
    assert "March 9, 2026 Electrical stimulation G0283 $180.00" in page
    assert "Insurance discounts (you don't owe these) $180.00 Your share $0.00" in page
    assert (
        "Your plan says $180.00 of this care was not needed for your health."
        " We cannot bill you for it unless you agreed in writing before the visit."
    ) in page


def test_html_shows_a_claim_still_with_insurance_and_warns_more_may_be_owed() -> None:
    page = text_of(statement_html(ACTIVITY, OFFICE))
    assert "Status Waiting for your insurance" in page
    assert "Still with your insurance $250.00 Your share $0.00" in page
    assert "Some visits are still with your insurance. You may owe more later." in page
    assert "You do not owe anything for this visit yet." in page


def test_html_says_how_to_ask_a_question_and_links_the_claims() -> None:
    page = text_of(statement_html(ACTIVITY, OFFICE))
    assert "Questions? Call us at (555) 010-4477. Hours: Monday to Friday, 8 a.m. to 5 p.m." in page
    assert "Billing Office 400 River Road Springfield, IL 62701" in page
    assert "Your account number: PAT-000123" in page
    assert page.endswith(
        "This bill is linked to these insurance claims: CLM-1001, CLM-1002, CLM-1003."
    )


def test_html_has_no_inline_style_or_script_and_links_the_given_stylesheet() -> None:
    page = statement_html(ACTIVITY, OFFICE, css_href="/billing/statement.css")
    assert '<link rel="stylesheet" href="/billing/statement.css">' in page
    assert "style=" not in page and "<style" not in page and "<script" not in page
    assert '<html lang="en">' in page
    default = statement_html(ACTIVITY, OFFICE)
    assert '<link rel="stylesheet" href="/static/statement.css">' in default


def test_html_escapes_a_hostile_patient_name_and_address() -> None:
    hostile = replace(
        ACTIVITY,
        patient_name='<script>alert("x")</script>',
        address_lines=("<img src=x onerror=alert(1)>",),
    )
    page = statement_html(hostile, OFFICE)
    assert "<script" not in page and "<img" not in page
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page


def test_no_claims_gives_a_friendly_no_charges_statement() -> None:
    empty = replace(ACTIVITY, claims=(), patient_payments=Decimal(0))
    page = text_of(statement_html(empty, OFFICE))
    assert "You have no charges There is nothing to pay. Thank you!" in page
    assert "Your visits" not in page and "Please pay by" not in page
    assert "Questions? Call us at (555) 010-4477." in page


def test_more_paid_than_owed_is_a_credit() -> None:
    overpaid = replace(ACTIVITY, patient_payments=Decimal("105.00"))
    page = text_of(statement_html(overpaid, OFFICE))
    assert "You have a credit of $25.00 You paid more than you owe." in page
    assert "Payments you made -$105.00 Your credit $25.00" in page
    assert "Please pay by" not in page


def test_nothing_owed_after_payment_says_so() -> None:
    settled = replace(ACTIVITY, claims=(PAID, DENIED), patient_payments=Decimal("80.00"))
    page = text_of(statement_html(settled, OFFICE))
    assert "Amount you owe: $0.00 You do not owe anything right now." in page
    assert "You may owe more later." not in page


def test_the_stylesheet_prints_and_needs_no_outside_resources() -> None:
    css = statement_css()
    assert "@media print" in css
    assert "url(" not in css and "@import" not in css


# PDF


def test_pdf_is_a_pdf_with_page_numbers_and_the_statement_date_as_creation_date() -> None:
    pdf = statement_pdf(ACTIVITY, OFFICE)
    assert pdf.startswith(b"%PDF-1.")
    assert pdf.rstrip().endswith(b"%%EOF")
    pages = page_count(pdf)
    text = pdf_text(pdf)
    assert [f"Page {n} of {pages}" in text for n in range(1, pages + 1)] == [True] * pages
    assert b"/CreationDate (D:20260401000000Z" in pdf


def test_pdf_shows_the_amounts_and_sentences() -> None:
    text = pdf_text(statement_pdf(ACTIVITY, OFFICE))
    assert "Amount you owe: $70.00" in text
    assert "Please pay by May 1, 2026." in text
    assert "Status: Denied by your insurance - we are working on it" in text
    assert "- Your plan applied $40.00 to your deductible. You pay this part." in text
    assert "$300.00 Insurance paid $120.00" in text
    assert "Call us at (555) 010-4477." in text


def test_pdf_folds_the_name_to_latin1_keeping_what_it_can() -> None:
    text = pdf_text(statement_pdf(ACTIVITY, OFFICE))
    assert "Zoë Nowak ?" in text
    assert latin1("Zoë Ńowak 🙂 — “ok” …") == 'Zoë Nowak ? - "ok" ...'


def test_pdf_and_html_say_the_same_things_in_the_same_order() -> None:
    page = text_of(statement_html(ACTIVITY, OFFICE))
    text = pdf_text(statement_pdf(ACTIVITY, OFFICE))
    milestones = [
        "Account number",
        "12 Elm Street",
        "Amount you owe: $70.00",
        "Your account at a glance",
        "Visit on March 2, 2026",
        "Visit on March 9 to March 10, 2026",
        "Visit on March 20, 2026",
        "Questions?",
        "Your insurance card",
        "This bill is linked to these insurance claims: CLM-1001, CLM-1002, CLM-1003.",
    ]
    for document in (page, text):
        positions = [document.find(milestone) for milestone in milestones]
        assert -1 not in positions
        assert positions == sorted(positions)


def test_pdf_is_the_same_bytes_every_time() -> None:
    assert statement_pdf(ACTIVITY, OFFICE) == statement_pdf(ACTIVITY, OFFICE)


def test_a_long_statement_breaks_pages_and_numbers_them_all() -> None:
    claims = tuple(
        replace(PAID, claim_id=f"CLM-2{n:03}", service_from=date(2026, 1, n + 1)) for n in range(12)
    )
    long = replace(ACTIVITY, claims=claims, patient_payments=Decimal(0))
    pdf = statement_pdf(long, OFFICE)
    pages = page_count(pdf)
    text = pdf_text(pdf)
    assert pages >= 4
    assert f"Page {pages} of {pages}" in text
    assert all(f"Claim number: CLM-2{n:03}" in text for n in range(12))
    assert "Amount you owe: $960.00" in text


@pytest.mark.parametrize("payments", ["0", "300"])
def test_pdf_of_no_claims_or_a_credit(payments: str) -> None:
    activity = replace(ACTIVITY, claims=(), patient_payments=Decimal(payments))
    text = pdf_text(statement_pdf(activity, OFFICE))
    expected = "You have no charges" if payments == "0" else "You have a credit of $300.00"
    assert expected in text
    assert page_count(statement_pdf(activity, OFFICE)) == 1


# Any activity at all gives a statement whose headline is its balance.

_GROUPS = st.sampled_from(["PR", "CO", "OA", "PI", "CR", "XX"])
_CENTS = st.integers(min_value=-50_000, max_value=500_000).map(lambda c: Decimal(c) / 100)
_ADJUSTMENTS = st.builds(Adjustment, _GROUPS, st.sampled_from(["1", "2", "45", "50", "B7"]), _CENTS)
_TEXT = st.text(max_size=20)
_LINES = st.builds(ChargeLine, st.none() | st.dates(), st.just("G0463"), _TEXT, _CENTS)
_CLAIMS = st.builds(
    ClaimActivity,
    claim_id=st.text(min_size=1, max_size=12),
    service_from=st.dates(),
    service_to=st.dates(),
    provider_name=_TEXT,
    payer_name=_TEXT,
    lines=st.tuples(_LINES) | st.tuples(_LINES, _LINES),
    status=st.text(max_size=10),
    insurance_paid=_CENTS,
    adjustments=st.lists(_ADJUSTMENTS, max_size=4).map(tuple),
)


@settings(max_examples=30, deadline=None)
@given(
    name=_TEXT,
    address=st.lists(_TEXT, max_size=3).map(tuple),
    claims=st.lists(_CLAIMS, max_size=3).map(tuple),
    payments=_CENTS,
)
def test_any_activity_renders_with_its_balance_as_the_headline(
    name: str, address: tuple[str, ...], claims: tuple[ClaimActivity, ...], payments: Decimal
) -> None:
    activity = AccountActivity("PAT-1", name, address, date(2026, 4, 1), claims, payments)
    page = text_of(statement_html(activity, OFFICE))
    text = pdf_text(statement_pdf(activity, OFFICE))
    balance = activity.balance.quantize(Decimal("0.01"))
    if balance > 0:
        headline = f"Amount you owe: ${balance:,.2f}"
    elif balance < 0:
        headline = f"You have a credit of ${-balance:,.2f}"
    else:
        headline = "Amount you owe: $0.00" if claims else "You have no charges"
    assert headline in page
    assert headline in text
