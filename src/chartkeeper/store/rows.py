"""Rows of ``resources`` and ``history`` as the FHIR layer's ``StoredResource``."""

from __future__ import annotations

from typing import Any

from chartkeeper.fhir.repository import StoredResource


def stored(row: Any) -> StoredResource:
    """The version a ``resources`` or ``history`` row holds (history rows carry a method)."""
    return StoredResource(
        resource_type=row.res_type,
        id=row.res_id,
        version_id=row.version_id,
        last_updated=row.last_updated,
        deleted=bool(row.deleted),
        body=row.body,
        method=row._mapping.get("method", "PUT"),
        patient_id=row.patient_id,
    )
