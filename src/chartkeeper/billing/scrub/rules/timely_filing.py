"""Timely filing: a claim sent after the payer's limit is denied, whatever it is for.

Medicare: 12 months after the date of service (42 CFR 424.44(a)(1); Medicare Claims
Processing Manual ch. 1 §70). Other payers' limits are the context's ``timely_filing`` map.
"""

from __future__ import annotations

from collections.abc import Iterator

from chartkeeper.billing.scrub.context import ScrubContext
from chartkeeper.billing.scrub.facts import last_day
from chartkeeper.billing.scrub.model import Issue, ScrubClaim
from chartkeeper.billing.scrub.rule import Rule

RULE = Rule(
    id="timely-filing",
    title="Timely filing limit",
    severity="error",
    checks=(
        "days from the latest date of service to the claim's creation: over the payer's limit "
        "(default 365) is an error, within 30 days of it a warning"
    ),
    source="42 CFR 424.44(a)(1); Medicare Claims Processing Manual ch. 1 §70",
    category="business-rule",
)
WARNING_DAYS = 30


def check(scrub: ScrubClaim, context: ScrubContext) -> Iterator[Issue]:
    """One issue at most, counted from the latest date of service."""
    claim = scrub.claim
    latest = last_day(claim)
    if latest is None:
        return
    payer = claim.subscriber.payer
    limit = context.filing_limit(payer.payer_id)
    days = (scrub.created - latest).days
    if days > limit:
        message = (
            f"The claim is {days} days after the last date of service; "
            f"{payer.name or payer.payer_id} accepts claims for {limit} days"
        )
        hint = "Send only with proof of an exception (e.g. retroactive eligibility)"
        yield RULE.issue("claim", message, hint)
    elif days > limit - WARNING_DAYS:
        message = f"The claim is {days} days after the last date of service; the limit is {limit}"
        yield RULE.issue("claim", message, "Send it now", severity="warning")
