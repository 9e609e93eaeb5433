"""Rows of ``resources`` and ``history`` as the FHIR layer's ``StoredResource``."""

from __future__ import annotations

from typing import Any

from chartkeeper.fhir.repository import StoredResource


def stored(row: Any) -> StoredResource:
    """The version a ``resources`` or ``history`` row holds (history rows carry a method).

    ``method`` is looked up with ``in`` first: ``RowMapping.get`` of a missing key raises and
    catches an exception inside SQLAlchemy, which cost more than the rest of this function on
    every row of a compartment or search."""
    mapping = row._mapping
    return StoredResource(
        resource_type=row.res_type,
        id=row.res_id,
        version_id=row.version_id,
        last_updated=row.last_updated,
        deleted=bool(row.deleted),
        body=row.body,
        method=mapping["method"] if "method" in mapping else "PUT",  # noqa: SIM401 (see above)
        patient_id=row.patient_id,
    )


#: The columns ``stored_tuple`` reads, in its order (point reads and compartment reads select
#: exactly these).
STORED_COLUMNS = (
    "res_type",
    "res_id",
    "version_id",
    "last_updated",
    "deleted",
    "patient_id",
    "body",
)


def stored_tuple(row: tuple[Any, ...]) -> StoredResource:
    """The version a row of ``STORED_COLUMNS`` holds, then ``method`` for history rows."""
    return StoredResource(
        resource_type=row[0],
        id=row[1],
        version_id=row[2],
        last_updated=row[3],
        deleted=bool(row[4]),
        body=row[6],
        method=row[7] if len(row) > 7 else "PUT",
        patient_id=row[5],
    )


def as_dict(row: Any) -> dict[str, Any]:
    """A result row as a plain dict: column names as ``str`` (SQLAlchemy hands back a
    ``str`` subclass that JSON encoders such as orjson refuse)."""
    return {str(key): value for key, value in row._mapping.items()}
