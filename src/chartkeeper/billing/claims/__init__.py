"""Claims: FHIR Claims as 837s, the claim worklist, and batches released to the payer.

Public API (see docs/billing-claims.md):

- `convert.to_scrub_claim(claim, resolve, today, patient_key=None) -> ScrubClaim`, with
  `convert.references_of(claim)` and `convert.coverage_references(coverage)` to read ahead;
- `worklist.ClaimWorklist(engine, clock)`: ``record``, ``find`` (the scrubber's duplicate
  index), ``items``, ``get``, ``for_patient``, ``by_control_number``, ``counts``,
  ``set_status``; `worklist.change_status(conn, ...)` inside a caller's transaction;
- `batches.release(engine, clock, worklist, claim_ids, build, submitter, receiver)`,
  `batches.batch_x12(engine, batch_id)`, `batches.batches(engine, limit, offset)`,
  `batches.preview_x12(scrub, submitter, receiver, now)`.
"""
