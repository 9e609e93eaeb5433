"""Claim adjustments and claim statuses in plain words a patient can act on.

Keyed by the X12 claim adjustment group (CO, PR, OA, PI, CR) and the claim adjustment reason
code (CARC, https://x12.org/codes/claim-adjustment-reason-codes), with a sentence per group
when the reason has none of its own. The sentences are our own, written for a US grade 6-8
reader (tests hold them to Flesch-Kincaid grade 8); they are not X12's code descriptions.
Each one says whether the patient pays the amount, because that is what a patient asks first.
"""

from __future__ import annotations

from collections.abc import Iterable
from decimal import Decimal

from chartkeeper.billing.account_model import Adjustment, ClaimActivity
from chartkeeper.billing.statements.money import money

_YOU_PAY = "You pay this part."
_NOT_OWED = "You do not owe this."
_NOT_NOW = "You do not owe this now."
_CODING = (
    f"A billing code for {{amount}} did not match your plan's rules. We are fixing it. {_NOT_NOW}"
)

#: (group, CARC) -> sentence; ``{amount}`` is filled with the dollar amount.
ADJUSTMENT_WORDS: dict[tuple[str, str], str] = {
    ("PR", "1"): f"Your plan applied {{amount}} to your deductible. {_YOU_PAY}",
    ("PR", "2"): f"Your coinsurance is {{amount}}. This is your share of the cost. {_YOU_PAY}",
    ("PR", "3"): f"Your copay for this visit is {{amount}}. {_YOU_PAY}",
    ("PR", "96"): f"Your plan does not cover {{amount}} of this care. {_YOU_PAY}",
    ("PR", "204"): f"Your plan does not cover this service, so {{amount}} is not paid. {_YOU_PAY}",
    ("PR", "27"): (
        "Your plan says your coverage had ended before this visit, so {amount} is billed to you."
        " If you had other insurance then, please tell us."
    ),
    ("PR", "31"): (
        "Your plan could not find you as a member, so {amount} is billed to you for now."
        " Please call us with your insurance card so we can fix it."
    ),
    ("CO", "45"): (
        f"We agreed with your plan on a lower price, so we took off {{amount}}. {_NOT_OWED}"
    ),
    ("CO", "97"): (
        "Your plan paid for this as part of another service, so we took off {amount}."
        f" {_NOT_OWED}"
    ),
    ("CO", "50"): (
        "Your plan says {amount} of this care was not needed for your health."
        " We cannot bill you for it unless you agreed in writing before the visit."
        " We are looking into it."
    ),
    ("CO", "29"): (
        f"We sent this bill to your plan too late, so we took off {{amount}}. {_NOT_OWED}"
    ),
    ("CO", "16"): (
        f"Your plan needs more facts before it pays {{amount}}. Our office is fixing it. {_NOT_NOW}"
    ),
    ("CO", "18"): (
        f"Your plan got this bill twice, so the extra {{amount}} was not paid. {_NOT_OWED}"
    ),
    ("CO", "22"): (
        "Your plan says another insurance should pay {amount} first. We will send it there."
        f" {_NOT_NOW} If you have other insurance, please tell us."
    ),
    ("CO", "109"): (
        f"This plan does not pay for {{amount}} of this care. We will send it to the right payer."
        f" {_NOT_NOW}"
    ),
    ("CO", "4"): _CODING,
    ("CO", "11"): _CODING,
    ("OA", "23"): f"Your other insurance already paid or settled {{amount}}. {_NOT_OWED}",
}

#: group -> sentence for a reason with no sentence of its own.
GROUP_WORDS: dict[str, str] = {
    "PR": f"Your plan says {{amount}} is your share. {_YOU_PAY}",
    "CO": f"Your plan and our office agreed to take off {{amount}}. {_NOT_OWED}",
    "OA": f"Your plan took off {{amount}} for another reason. {_NOT_OWED}",
    "PI": f"Your plan lowered what it paid by {{amount}}. {_NOT_OWED}",
    "CR": (
        "Your plan fixed an earlier answer on this bill by {amount}."
        " This is a fix, not a new charge."
    ),
}

#: Any group we do not know (the 835 allows only the five above).
OTHER_WORDS = "Your plan changed this bill by {amount}. Please call us if you have a question."

#: Claim worklist statuses (`billing.claims.worklist.STATUSES`, `billing.remit.activity.AWAITING`),
#: a few common synonyms, and 835 CLP02 claim status codes -> words for the patient.
STATUS_WORDS: dict[str, str] = {
    "awaiting insurance": "Waiting for your insurance",
    "clean": "Waiting for your insurance",
    "released": "Waiting for your insurance",
    "new": "Waiting for your insurance",
    "draft": "Waiting for your insurance",
    "ready": "Waiting for your insurance",
    "scrubbed": "Waiting for your insurance",
    "held": "Waiting for your insurance",
    "batched": "Waiting for your insurance",
    "submitted": "Waiting for your insurance",
    "sent": "Waiting for your insurance",
    "accepted": "Waiting for your insurance",
    "pending": "Waiting for your insurance",
    "rejected": "Sent back to us to fix — we are working on it",
    "paid": "Paid",
    "partial": "Partly paid — we are working on the rest",
    "denied": "Denied by your insurance — we are working on it",
    "appealed": "We asked your insurance to look again",
    "reversed": "Your insurance took back its payment — we are working on it",
    "forwarded": "Sent on to your other insurance",
    "closed": "Done",
    # 835 CLP02
    "1": "Paid",
    "2": "Paid by your second insurance",
    "3": "Paid by your third insurance",
    "4": "Denied by your insurance — we are working on it",
    "19": "Paid, and sent on to your other insurance",
    "20": "Paid by your second insurance, and sent on to the next",
    "21": "Paid by your third insurance, and sent on to the next",
    "22": "Your insurance took back its payment — we are working on it",
    "23": "Sent on to another insurance",
    "25": "Checked by your insurance ahead of time",
}

#: A status we have no words for: honest, and it tells the patient what to do.
OTHER_STATUS = "In progress — call us with any question"


def explain(adjustment: Adjustment) -> str:
    """The sentence a patient reads for one adjustment, amount included."""
    template = ADJUSTMENT_WORDS.get((adjustment.group, adjustment.reason))
    if template is None:
        template = GROUP_WORDS.get(adjustment.group, OTHER_WORDS)
    if adjustment.amount < 0 and adjustment.group != "CR":
        return _taken_back(adjustment)
    return template.format(amount=money(adjustment.amount))


def _taken_back(adjustment: Adjustment) -> str:
    """A negative amount undoes part of an earlier adjustment (a reversal or a correction)."""
    amount = money(-adjustment.amount)
    if adjustment.group == "PR":
        return f"Your plan took back {amount} of your share from before. This adds to what you owe."
    return f"Your plan took back {amount} it had taken off before. This does not change your share."


def is_waiting(claim: ClaimActivity) -> bool:
    """Part of the bill is not yet answered: billed is more than paid plus every adjustment."""
    return unsettled(claim) != 0


def unsettled(claim: ClaimActivity) -> Decimal:
    """What the payer has not yet paid, adjusted or assigned to the patient."""
    adjusted = sum((a.amount for a in claim.adjustments), Decimal(0))
    return claim.billed - claim.insurance_paid - adjusted


def not_owed(claim: ClaimActivity) -> Decimal:
    """Every adjustment the patient does not pay: all groups but PR."""
    return sum((a.amount for a in claim.adjustments if a.group != "PR"), Decimal(0))


def claim_summary(claim: ClaimActivity) -> list[str]:
    """What happened to one claim, in the order a patient asks: paid, taken off, owed."""
    sentences: list[str] = []
    if claim.insurance_paid:
        sentences.append(f"{claim.payer_name} paid {money(claim.insurance_paid)}.")
    sentences.extend(explain(adjustment) for adjustment in _merged(claim.adjustments))
    if is_waiting(claim):
        sentences.append(_waiting_sentence(claim))
    share = claim.patient_owes
    if share > 0:
        sentences.append(f"Your share for this visit is {money(share)}.")
    elif not is_waiting(claim):
        sentences.append("You owe nothing for this visit.")
    return sentences


def _waiting_sentence(claim: ClaimActivity) -> str:
    if not claim.adjustments and not claim.insurance_paid:
        return (
            f"We sent this bill to {claim.payer_name} and are waiting for an answer."
            " You do not owe anything for this visit yet."
        )
    return f"{money(unsettled(claim))} is still with {claim.payer_name}. You may owe more later."


def _merged(adjustments: Iterable[Adjustment]) -> list[Adjustment]:
    """One adjustment per (group, reason), amounts added, first seen first; zeros dropped."""
    totals: dict[tuple[str, str], Decimal] = {}
    for adjustment in adjustments:
        key = (adjustment.group, adjustment.reason)
        totals[key] = totals.get(key, Decimal(0)) + adjustment.amount
    return [
        Adjustment(group, reason, amount) for (group, reason), amount in totals.items() if amount
    ]


def status_words(status: str) -> str:
    """The claim's status as a patient would say it."""
    return STATUS_WORDS.get(status.strip().lower().replace("_", " "), OTHER_STATUS)
