"""What the scrubber reads and what it says: one claim as it would be sent, and its issues.

The scrubber checks the claim in the 837 model (`chartkeeper.billing.x12.claim_model`), the
exact content that would leave, so a clean claim is a clean 837. Rules name what is wrong by a
*model location* (``line[1].procedure_code``, ``diagnosis[0]``, ``subscriber.person.birth_date``,
``billing_provider.npi``); ``ScrubClaim.locations`` maps those to FHIRPath expressions of the
FHIR Claim (and the resources it refers to) the claim was built from, so an OperationOutcome can
point at the element a biller must fix.

Model locations (``i`` is 0-based): ``claim``, ``claim.claim_id``, ``claim.facility_code``,
``claim.statement_from``, ``claim.statement_to``, ``diagnosis[i]``, ``line[i]``,
``line[i].procedure_code``, ``line[i].modifiers``, ``line[i].units``, ``line[i].charge``,
``line[i].service_date``, ``line[i].diagnosis_pointers``, ``line[i].revenue_code``,
``subscriber.person.FIELD`` and ``patient.FIELD`` (a `Person` field), ``subscriber.payer.FIELD``,
``subscriber.FIELD``, ``billing_provider.FIELD``, ``rendering.FIELD``, ``referring.FIELD``,
``attending.FIELD`` (a `Provider` field).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import date
from typing import Literal

from chartkeeper.billing.x12.claim_model import Claim, ClaimKind, Provider

Severity = Literal["error", "warning", "information"]


@dataclass(frozen=True, slots=True)
class ScrubClaim:
    """One claim as the scrubber sees it: the 837 content plus what the 837 does not carry.

    ``patient_key`` identifies the patient across claims (the FHIR Patient id) for duplicate
    detection; ``created`` is the day the claim is scrubbed for submission (timely filing).
    """

    claim: Claim
    kind: ClaimKind
    billing_provider: Provider
    patient_key: str
    created: date
    locations: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class Issue:
    """One finding of one rule: a stable rule id, how bad, where, what, and how to fix it.

    ``severity`` error holds the claim; warning and information let it go with a note.
    """

    rule: str
    severity: Severity
    location: str
    message: str
    hint: str
    code: str = ""
