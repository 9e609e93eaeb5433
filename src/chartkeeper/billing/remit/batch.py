"""The rows one 835 file posts, gathered in memory so `posting` writes them in batches.

Pure apart from new ids: given the worklist rows the file's control numbers found, the billed
lines and each claim's latest posting, it turns every CLP into a billing_postings row, its
billing_denials rows and the claim's new status (see `detail` for the values themselves).
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from chartkeeper.billing.remit.detail import ClaimPosting, DenialFinding, post_claim
from chartkeeper.billing.remit.rules import REVERSAL
from chartkeeper.billing.x12.claim_model import ServiceLine
from chartkeeper.billing.x12.parse835 import ClaimPayment, Remittance
from chartkeeper.core.ids import new_id

Row = dict[str, Any]


@dataclass(frozen=True)
class ClaimOutcome:
    """What one CLP did: the claim it found (None: unmatched), its new status, the money."""

    control_number: str
    claim_id: str | None
    posting_id: str
    status_code: str
    status: str | None
    paid_cents: int
    denials: int
    reverses: str | None = None


@dataclass
class PostingBatch:
    """Rows for one file. ``claims``: worklist rows (claim_id, patient_id) by control number;
    ``lines``: billed lines by control number; ``latest``: claim id → latest posting id."""

    now: int
    source: str
    claims: Mapping[str, Mapping[str, Any]]
    lines: Mapping[str, Sequence[ServiceLine]]
    latest: dict[str, str]
    remittances: list[Row] = field(default_factory=list)
    postings: list[Row] = field(default_factory=list)
    denials: list[Row] = field(default_factory=list)
    statuses: dict[str, str] = field(default_factory=dict)
    reversed_postings: list[str] = field(default_factory=list)
    paid_claims: set[str] = field(default_factory=set)
    outcomes: list[ClaimOutcome] = field(default_factory=list)
    patients: set[str] = field(default_factory=set)

    def add_remittance(self, remittance: Remittance, digest: str) -> None:
        """One billing_remittances row and everything its claim payments post."""
        remit_id = new_id()
        unmatched = 0
        for payment in remittance.claims:
            claim = self.claims.get(payment.claim_id)
            unmatched += claim is None
            self._add_posting(remit_id, payment, claim)
        paid_on = remittance.payment_date
        self.remittances.append(
            {
                "remit_id": remit_id,
                "digest": digest,
                "trace_number": remittance.trace_number[:64],
                "payer_name": remittance.payer_name,
                "payer_id": remittance.payer_id[:80],
                "payment_cents": round(remittance.amount * 100),
                "payment_date": paid_on.isoformat() if paid_on else None,
                "source": self.source,
                "claim_count": len(remittance.claims),
                "unmatched": unmatched,
                "received": self.now,
            }
        )

    @property
    def paid_cents(self) -> int:
        """What the posted claim payments paid, in cents (reversals count negative)."""
        return sum(o.paid_cents for o in self.outcomes)

    def _add_posting(
        self, remit_id: str, payment: ClaimPayment, claim: Mapping[str, Any] | None
    ) -> None:
        posting = post_claim(payment, self.lines.get(payment.claim_id))
        posting_id = new_id()
        claim_id = None if claim is None else str(claim["claim_id"])
        reverses = None
        if claim is not None and claim_id is not None:
            self.patients.add(str(claim["patient_id"]))
            reverses = self._track(claim_id, posting_id, payment, posting)
        self.postings.append(_posting_row(posting_id, remit_id, payment, posting, claim, self.now))
        self.postings[-1]["reverses"] = reverses
        self.denials.extend(_denial_row(posting_id, claim_id, d, self.now) for d in posting.denials)
        status = posting.status if claim_id else None
        self.outcomes.append(
            ClaimOutcome(
                payment.claim_id,
                claim_id,
                posting_id,
                payment.status,
                status,
                posting.paid_cents,
                len(posting.denials),
                reverses,
            )
        )

    def _track(
        self, claim_id: str, posting_id: str, payment: ClaimPayment, posting: ClaimPosting
    ) -> str | None:
        """Record the claim's new status and latest posting; the posting a reversal takes back."""
        self.statuses[claim_id] = posting.status
        if posting.status == "paid":
            self.paid_claims.add(claim_id)
        if payment.status != REVERSAL:
            self.latest[claim_id] = posting_id
            return None
        reverses = self.latest.pop(claim_id, None)
        if reverses is not None:
            self.reversed_postings.append(reverses)
        return reverses


def _posting_row(
    posting_id: str,
    remit_id: str,
    payment: ClaimPayment,
    posting: ClaimPosting,
    claim: Mapping[str, Any] | None,
    now: int,
) -> Row:
    return {
        "posting_id": posting_id,
        "remit_id": remit_id,
        "claim_id": claim["claim_id"] if claim else None,
        "patient_id": claim["patient_id"] if claim else None,
        "patient_control": payment.claim_id[:64],
        "payer_claim_id": payment.payer_claim_id[:64],
        "status_code": payment.status[:4],
        "charge_cents": posting.charge_cents,
        "paid_cents": posting.paid_cents,
        "patient_cents": posting.patient_cents,
        "adjusted_cents": posting.adjusted_cents,
        "detail": json.dumps(posting.detail, separators=(",", ":")),
        "posted": now,
    }


def _denial_row(posting_id: str, claim_id: str | None, denial: DenialFinding, now: int) -> Row:
    return {
        "denial_id": new_id(),
        "posting_id": posting_id,
        "claim_id": claim_id,
        "line": denial.line,
        "group_code": denial.group[:2],
        "reason_code": denial.reason[:8],
        "remarks": json.dumps(list(denial.remarks)),
        "amount_cents": denial.amount_cents,
        "state": "open",
        "note": "",
        "updated": now,
        "updated_by": "remittance",
    }


def dollars(cents: int) -> Decimal:
    """Cents as dollars."""
    return Decimal(cents) / 100
