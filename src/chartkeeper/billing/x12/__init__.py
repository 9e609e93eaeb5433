"""X12 005010 claims and remittances: write 837P/837I, read 837 and 835, scrub with pyx12.

Public API:

- `segments`: `read_interchanges`, `read_segments`, `read_separators`, `write_segments`,
  `Separators`, `Segment`, `Interchange`, `X12Error` (an `InvalidError` naming segment and
  position).
- `claim_model`: `ClaimBatch`, `Claim`, `ServiceLine`, `Subscriber`, `Person`, `Provider`,
  `Payer`, `Contact`, `Address`.
- `envelope`: `Envelope`, `ControlNumbers` (Protocol), `SequentialControlNumbers`.
- `write837.write_837`, `parse837.parse_837`, `parse835.parse_835` (`Remittance` & co.),
  `write835.write_835` (tests, the demo's simulated payer, benchmarks),
  `npi.is_valid_npi`, `scrub.scrub` / `scrub.structure_findings`.

Pure library: no storage, no HTTP; imports nothing from chartkeeper but `chartkeeper.core`.
"""
