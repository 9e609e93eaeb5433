"""Synthetic demo hospital: deterministic, plainly fake FHIR R4 transaction Bundles.

Public API:

- ``generate_hospital(patients=100, seed=1, today=date(2026, 11, 1))`` yields the hospital's
  shared-resource Bundle, then one Bundle per patient record (near-duplicate records included).
- ``duplicate_pairs(patients, seed)`` lists (original, duplicate) Patient ids of the same person.

All data is synthetic: names come from small built-in lists, SSNs are 999-xx-xxxx, phone numbers
are 555-01xx and addresses are in the made-up town of Riverbend. Pure data: no I/O, no database.
"""

from __future__ import annotations

from .duplicates import duplicate_pairs
from .generator import DEFAULT_TODAY, generate_hospital

__all__ = ["DEFAULT_TODAY", "duplicate_pairs", "generate_hospital"]
