"""What a caller may see of the store, as data the store applies in SQL."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Visibility:
    """Which stored rows a caller may see, applied in SQL so that totals, paging, includes,
    history, ``$everything`` and export never leak a hidden row.

    ``None`` fields mean "no restriction". Set by the access-control layer, never by clients.
    """

    resource_types: frozenset[str] | None = None
    #: rows in these Patients' compartments (and, with ``include_shared``, rows in none)
    patient_ids: frozenset[str] | None = None
    include_shared: bool = True
    #: (system, code) security labels whose resources are hidden
    hidden_labels: frozenset[tuple[str, str]] = frozenset()
    #: (patient id, resource type) pairs hidden by a patient's Consent
    hidden_patient_types: frozenset[tuple[str, str]] = frozenset()
