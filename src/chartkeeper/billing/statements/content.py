"""What a statement says, in reading order, built once and drawn as HTML and as PDF alike.

Both renderers walk the same `Statement`, so the two never disagree on an amount, a sentence
or their order. Every fixed phrase is in `TEXT`, where the readability test can reach it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from decimal import Decimal

from chartkeeper.billing.account_model import AccountActivity, ClaimActivity
from chartkeeper.billing.statements.money import date_span, long_date, money
from chartkeeper.billing.statements.words import (
    claim_summary,
    not_owed,
    status_words,
    unsettled,
)

#: Days from the statement date to the date payment is due.
DUE_DAYS = 30

#: Every fixed phrase of a statement; ``{...}`` fields are filled when it is built.
TEXT: dict[str, str] = {
    "title": "Your bill",
    "statement_date": "Statement date",
    "account": "Account number",
    "owe": "Amount you owe: {amount}",
    "due": "Please pay by {due}.",
    "owe_nothing": "You do not owe anything right now.",
    "credit": "You have a credit of {amount}",
    "credit_note": "You paid more than you owe. Call us if you want it back.",
    "no_charges": "You have no charges",
    "no_charges_note": "There is nothing to pay. Thank you!",
    "still_waiting": "Some visits are still with your insurance. You may owe more later.",
    "totals": "Your account at a glance",
    "visits": "Your visits",
    "visit": "Visit on {dates}",
    "provider": "Seen by",
    "insurance": "Insurance",
    "claim": "Claim number",
    "status": "Status",
    "services": "Services",
    "date": "Date",
    "service": "Service",
    "code": "Code",
    "charge": "Charge",
    "billed": "Billed",
    "insurance_paid": "Insurance paid",
    "not_owed": "Insurance discounts (you don't owe these)",
    "waiting": "Still with your insurance",
    "your_share": "Your share",
    "payments": "Payments you made",
    "balance": "Amount you owe",
    "credit_row": "Your credit",
    "why": "What this means",
    "questions": "Questions?",
    "call": "Call us at {phone}.",
    "hours": "Hours: {hours}",
    "write": "You can also write to us:",
    "have_ready": "Please have these ready when you call:",
    "ready_account": "Your account number: {account}",
    "ready_claim": "The claim number of the visit you are asking about",
    "ready_card": "Your insurance card",
    "linked": "This bill is linked to these insurance claims: {claims}.",
    "page": "Page {page} of {pages}",
}


@dataclass(frozen=True, slots=True)
class BillingOffice:
    """Who a patient calls or writes to with a question about this bill."""

    name: str
    phone: str
    hours: str
    address_lines: tuple[str, ...] = ()
    email: str = ""
    web: str = ""


@dataclass(frozen=True, slots=True)
class Row:
    """A label and an amount, as in a table of sums."""

    label: str
    amount: str


@dataclass(frozen=True, slots=True)
class ServiceRow:
    """One service line as shown."""

    date: str
    description: str
    code: str
    charge: str


@dataclass(frozen=True, slots=True)
class Visit:
    """One claim as shown: facts, services, sums and the sentences that explain them."""

    heading: str
    facts: tuple[Row, ...]
    services: tuple[ServiceRow, ...]
    sums: tuple[Row, ...]
    sentences: tuple[str, ...]


@dataclass(frozen=True, slots=True)
class Statement:
    """A whole statement in reading order."""

    office: BillingOffice
    title: str
    facts: tuple[Row, ...]
    patient_name: str
    address_lines: tuple[str, ...]
    headline: str
    notes: tuple[str, ...]
    totals: tuple[Row, ...]
    visits: tuple[Visit, ...]
    questions: tuple[str, ...]
    contact_lines: tuple[str, ...]
    have_ready: tuple[str, ...]
    linked: str


def build_statement(activity: AccountActivity, office: BillingOffice) -> Statement:
    """The statement for this activity, as both renderers draw it."""
    headline, notes = _headline(activity)
    return Statement(
        office=office,
        title=TEXT["title"],
        facts=(
            Row(TEXT["statement_date"], long_date(activity.statement_date)),
            Row(TEXT["account"], activity.patient_id),
        ),
        patient_name=activity.patient_name,
        address_lines=activity.address_lines,
        headline=headline,
        notes=notes,
        totals=_totals(activity) if activity.claims else (),
        visits=tuple(_visit(claim) for claim in activity.claims),
        questions=_questions(office),
        contact_lines=_contact_lines(office),
        have_ready=(
            TEXT["ready_account"].format(account=activity.patient_id),
            TEXT["ready_claim"],
            TEXT["ready_card"],
        ),
        linked=_linked(activity),
    )


def due_date(activity: AccountActivity) -> date:
    """The statement date plus `DUE_DAYS`."""
    return activity.statement_date + timedelta(days=DUE_DAYS)


def _headline(activity: AccountActivity) -> tuple[str, tuple[str, ...]]:
    balance = activity.balance
    waiting = (TEXT["still_waiting"],) if any(unsettled(c) for c in activity.claims) else ()
    if balance > 0:
        due = TEXT["due"].format(due=long_date(due_date(activity)))
        return TEXT["owe"].format(amount=money(balance)), (due, *waiting)
    if balance < 0:
        return TEXT["credit"].format(amount=money(-balance)), (TEXT["credit_note"], *waiting)
    if not activity.claims:
        return TEXT["no_charges"], (TEXT["no_charges_note"],)
    return TEXT["owe"].format(amount=money(balance)), (TEXT["owe_nothing"], *waiting)


def _sum(values: list[Decimal]) -> Decimal:
    return sum(values, Decimal(0))


def _totals(activity: AccountActivity) -> tuple[Row, ...]:
    claims = activity.claims
    waiting = _sum([unsettled(c) for c in claims])
    rows = [
        Row(TEXT["billed"], money(_sum([c.billed for c in claims]))),
        Row(TEXT["insurance_paid"], money(_sum([c.insurance_paid for c in claims]))),
        Row(TEXT["not_owed"], money(_sum([not_owed(c) for c in claims]))),
    ]
    if waiting:
        rows.append(Row(TEXT["waiting"], money(waiting)))
    rows.append(Row(TEXT["your_share"], money(_sum([c.patient_owes for c in claims]))))
    if activity.patient_payments:
        rows.append(Row(TEXT["payments"], money(-activity.patient_payments)))
    if activity.balance < 0:
        rows.append(Row(TEXT["credit_row"], money(-activity.balance)))
    else:
        rows.append(Row(TEXT["balance"], money(activity.balance)))
    return tuple(rows)


def _visit(claim: ClaimActivity) -> Visit:
    sums = [
        Row(TEXT["billed"], money(claim.billed)),
        Row(TEXT["insurance_paid"], money(claim.insurance_paid)),
        Row(TEXT["not_owed"], money(not_owed(claim))),
    ]
    if unsettled(claim):
        sums.append(Row(TEXT["waiting"], money(unsettled(claim))))
    sums.append(Row(TEXT["your_share"], money(claim.patient_owes)))
    return Visit(
        heading=TEXT["visit"].format(dates=date_span(claim.service_from, claim.service_to)),
        facts=(
            Row(TEXT["provider"], claim.provider_name),
            Row(TEXT["insurance"], claim.payer_name),
            Row(TEXT["claim"], claim.claim_id),
            Row(TEXT["status"], status_words(claim.status)),
        ),
        services=tuple(
            ServiceRow(
                date=long_date(line.service_date or claim.service_from),
                description=_described(line.description, line.units),
                code=line.code,
                charge=money(line.charge),
            )
            for line in claim.lines
        ),
        sums=tuple(sums),
        sentences=tuple(claim_summary(claim)),
    )


def _described(description: str, units: Decimal) -> str:
    if units == 1:
        return description
    return f"{description} (x{units.normalize():f})"


def _questions(office: BillingOffice) -> tuple[str, ...]:
    return (
        TEXT["call"].format(phone=office.phone),
        TEXT["hours"].format(hours=office.hours),
    )


def _contact_lines(office: BillingOffice) -> tuple[str, ...]:
    lines = [office.name, *office.address_lines]
    lines.extend(value for value in (office.email, office.web) if value)
    return tuple(lines)


def _linked(activity: AccountActivity) -> str:
    if not activity.claims:
        return ""
    return TEXT["linked"].format(claims=", ".join(c.claim_id for c in activity.claims))
