"""Remittance: post 835s onto the claim worklist, work the denials, build account activity.

Public API:

- `posting.RemittancePoster(engine, clock).post(text, source, on_posted=None, *,
  claim_lines=None, audit=None) -> PostingReport`.
- `denials.DenialQueue(engine, clock)`: `items`, `get`, `update`, `counts`.
- `activity.account_activity(patient, claims, postings, statement_date, payer_names=None)`
  and `activity.postings_for_claims(engine, claim_ids)`.
- `match.match_claim(payment, billed_lines)`, `rules` (the denial rule, claim status),
  `detail` (one CLP as posting values), `batch` (a file's rows in memory), `simulate`:
  pure.
"""
