"""The duplicate-claim key: same patient, same billing provider, same services on same dates.

One function shared by the duplicate rule and the claim worklist (which stores the key of
every claim it has scrubbed), so "a duplicate of an earlier claim" means one thing. Charges
and claim ids are left out on purpose: a resubmission of the same services with a new id or a
new price is still the same bill.
"""

from __future__ import annotations

import hashlib

from chartkeeper.billing.scrub.model import ScrubClaim


def claim_signature(scrub: ScrubClaim) -> str:
    """A 64-character hex key of patient, billing NPI and each line's date, code and modifiers."""
    claim = scrub.claim
    default = claim.statement_from
    lines = sorted(
        "{}|{}|{}|{}".format(
            (line.service_date or default or "").__str__(),
            line.procedure_code.strip().upper(),
            ",".join(sorted(m.strip().upper() for m in line.modifiers)),
            line.units.normalize(),
        )
        for line in claim.lines
    )
    key = "\n".join([scrub.patient_key, scrub.billing_provider.npi, *lines])
    return hashlib.sha256(key.encode()).hexdigest()
