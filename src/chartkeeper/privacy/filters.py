"""Turn the access decision's ``SearchFilter`` into the store's ``Visibility``."""

from __future__ import annotations

from chartkeeper.fhir.visibility import Visibility
from chartkeeper.privacy.decision import SearchFilter


def visibility_of(search_filter: SearchFilter) -> Visibility:
    """The rows ``search_filter`` admits, as data the store compiles to SQL."""
    return Visibility(
        resource_types=search_filter.resource_types,
        patient_ids=search_filter.patient_ids,
        include_shared=search_filter.include_non_patient_resources,
        shared_types=search_filter.non_patient_resource_types,
        hidden_labels=search_filter.hidden_security_codes,
        visible_labels_by_patient=dict(search_filter.visible_security_codes_by_patient),
        author_reference=search_filter.author_reference,
        author_exempt_labels=search_filter.author_exempt_codes,
        denied=tuple((r.patient_id, r.denied) for r in search_filter.denied_by_consent),
    )
