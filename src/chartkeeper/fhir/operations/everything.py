"""Patient/$everything (http://hl7.org/fhir/R4/patient-operation-everything.html).

The Patient, every resource in its compartment, and the resources those refer to (practitioners,
organizations, locations, medications), paged with ``_count``; ``_since`` and ``_type`` filter.
"""

from __future__ import annotations

from typing import Any

import orjson

from chartkeeper.core.errors import InvalidError
from chartkeeper.fhir.bundles import bundle, full_url, page_links
from chartkeeper.fhir.dates import parse_date_range
from chartkeeper.fhir.interactions.context import FhirContext, Result
from chartkeeper.fhir.interactions.read import found
from chartkeeper.fhir.repository import StoredResource


def _options(
    ctx: FhirContext, items: list[tuple[str, str]]
) -> tuple[int | None, list[str], int, int]:
    params = dict(items)
    since = parse_date_range(params["_since"])[0] if params.get("_since") else None
    types = [t for t in params.get("_type", "").split(",") if t]
    for name in ("_count", "_offset"):
        value = params.get(name)
        # ASCII digits only (int() refuses '²', which str.isdigit() takes), and a sane length.
        if value and (not (value.isascii() and value.isdigit()) or len(value.lstrip("0")) > 18):
            raise InvalidError(f"{name} must be a non-negative integer below 10^18", (name,))
    count = min(int(params.get("_count") or 1000), ctx.options.max_page_size * 10)
    return since, types, count, int(params.get("_offset") or 0)


def everything(ctx: FhirContext, patient_id: str, items: list[tuple[str, str]]) -> Result:
    """A searchset Bundle of the patient's whole record."""
    since, types, count, offset = _options(ctx, items)
    with ctx.repository.reading() as tx:
        patient = found("Patient", patient_id, tx.read("Patient", patient_id))
        members = [m for m in tx.compartment(patient_id, types or None, since)]
        has_patient = any(m.resource_type == "Patient" and m.id == patient_id for m in members)
        if not has_patient and (not types or "Patient" in types):
            members.insert(0, patient)
        if not types:
            known = {(m.resource_type, m.id) for m in members}
            members += [
                r
                for r in tx.referenced_by_compartment(patient_id)
                if (r.resource_type, r.id) not in known
            ]
    page = members[offset : offset + count]
    entries: list[dict[str, Any]] = [_entry(ctx, m) for m in page]
    url = f"{ctx.options.base_url}/Patient/{patient_id}/$everything"
    more = offset + len(page) < len(members)
    links = page_links(url, items, offset, count, more=more)
    return Result(200, body=bundle("searchset", entries, total=len(members), link=links))


def _entry(ctx: FhirContext, stored: StoredResource) -> dict[str, Any]:
    return {
        "fullUrl": full_url(ctx.options.base_url, stored),
        "resource": orjson.Fragment(stored.body or "{}"),  # served as stored, never re-parsed
        "search": {"mode": "match"},
    }
