"""Billing work tables: the claim worklist, 837 batches, remittances, postings and denials.

Migration 0009 creates them; ``chartkeeper.billing`` owns them. Claims, charges and coverage
themselves are FHIR resources in the store (``Claim``, ``ChargeItem``, ``Coverage``); these
tables hold what a biller's work queues need and what posting must write fast: a claim's
scrub status and findings, the batches it left in, and the payer's answer line by line.
Money is integer cents; times are epoch microseconds UTC; dates are ISO ``YYYY-MM-DD``.
"""

from __future__ import annotations

from sqlalchemy import BigInteger, Column, Index, Integer, String, Table, Text

from chartkeeper.store.schema import metadata

#: One row per FHIR Claim: where it stands in the billing workflow.
#: ``status``: held (scrubber errors), clean, released (in a batch), paid, partial, denied,
#: reversed. ``signature`` is the duplicate-claim key (patient, provider, dates, codes).
#: ``control_number`` is the patient control number sent in CLM01 (at most 20 characters) and
#: returned by the payer in the 835's CLP01: how a remittance finds its claim.
billing_claims = Table(
    "billing_claims",
    metadata,
    Column("claim_id", String(64), primary_key=True),
    Column("control_number", String(20), nullable=False, unique=True),
    Column("patient_id", String(64), nullable=False),
    Column("kind", String(4), nullable=False),
    Column("payer_id", String(80), nullable=False),
    Column("billing_npi", String(10), nullable=False),
    Column("service_from", String(10), nullable=False),
    Column("service_to", String(10), nullable=False),
    Column("total_cents", BigInteger, nullable=False),
    Column("signature", String(64), nullable=False),
    Column("status", String(16), nullable=False),
    Column("findings", Text, nullable=False),
    Column("batch_id", String(64), nullable=True),
    Column("scrubbed_at", BigInteger, nullable=True),
    Column("updated", BigInteger, nullable=False),
    Index("ix_billing_claims_status", "status", "updated"),
    Index("ix_billing_claims_patient", "patient_id"),
    Index("ix_billing_claims_signature", "signature"),
)

#: One row per generated 837 interchange; ``x12`` is the file as sent.
billing_batches = Table(
    "billing_batches",
    metadata,
    Column("batch_id", String(64), primary_key=True),
    Column("kind", String(4), nullable=False),
    Column("interchange_control", BigInteger, nullable=False),
    Column("created", BigInteger, nullable=False),
    Column("claim_count", Integer, nullable=False),
    Column("total_cents", BigInteger, nullable=False),
    Column("x12", Text, nullable=False),
)

#: Named counters (ISA13 interchange control numbers), advanced inside the write transaction.
billing_counters = Table(
    "billing_counters",
    metadata,
    Column("name", String(32), primary_key=True),
    Column("value", BigInteger, nullable=False),
)

#: One row per posted 835 transaction (one payment: a check or an EFT trace).
#: ``digest`` (sha256 of the transaction text) makes posting the same 835 twice a no-op.
billing_remittances = Table(
    "billing_remittances",
    metadata,
    Column("remit_id", String(64), primary_key=True),
    Column("digest", String(64), nullable=False, unique=True),
    Column("trace_number", String(64), nullable=False),
    Column("payer_name", Text, nullable=False),
    Column("payer_id", String(80), nullable=False),
    Column("payment_cents", BigInteger, nullable=False),
    Column("payment_date", String(10), nullable=True),
    Column("source", Text, nullable=False),
    Column("claim_count", Integer, nullable=False),
    Column("unmatched", Integer, nullable=False),
    Column("received", BigInteger, nullable=False),
)

#: One row per 835 claim payment (CLP), matched to a claim when possible.
#: ``detail`` is JSON: claim- and line-level adjustments (group, CARC, amount, RARCs) and the
#: line matches. ``reverses`` points at the posting a reversal (CLP02 22) takes back.
billing_postings = Table(
    "billing_postings",
    metadata,
    Column("posting_id", String(64), primary_key=True),
    Column("remit_id", String(64), nullable=False),
    Column("claim_id", String(64), nullable=True),
    Column("patient_id", String(64), nullable=True),
    Column("patient_control", String(64), nullable=False),
    Column("payer_claim_id", String(64), nullable=False),
    Column("status_code", String(4), nullable=False),
    Column("charge_cents", BigInteger, nullable=False),
    Column("paid_cents", BigInteger, nullable=False),
    Column("patient_cents", BigInteger, nullable=False),
    Column("adjusted_cents", BigInteger, nullable=False),
    Column("detail", Text, nullable=False),
    Column("reverses", String(64), nullable=True),
    Column("posted", BigInteger, nullable=False),
    Index("ix_billing_postings_claim", "claim_id", "posted"),
    Index("ix_billing_postings_patient", "patient_id"),
    Index("ix_billing_postings_remit", "remit_id"),
)

#: The denial work queue: one row per denied claim or line, with its reasons.
#: ``state``: open, appealed, corrected, written_off, resolved.
billing_denials = Table(
    "billing_denials",
    metadata,
    Column("denial_id", String(64), primary_key=True),
    Column("posting_id", String(64), nullable=False),
    Column("claim_id", String(64), nullable=True),
    Column("line", Integer, nullable=True),
    Column("group_code", String(2), nullable=False),
    Column("reason_code", String(8), nullable=False),
    Column("remarks", Text, nullable=False),
    Column("amount_cents", BigInteger, nullable=False),
    Column("state", String(16), nullable=False),
    Column("note", Text, nullable=False),
    Column("updated", BigInteger, nullable=False),
    Column("updated_by", String(128), nullable=False),
    Index("ix_billing_denials_state", "state", "updated"),
    Index("ix_billing_denials_claim", "claim_id"),
)
