"""Versions, ETags and meta (http://hl7.org/fhir/R4/http.html#versioning)."""

from __future__ import annotations

from datetime import UTC
from email.utils import format_datetime
from typing import Any

from chartkeeper.core.clock import format_instant
from chartkeeper.core.errors import InvalidError, PreconditionFailedError
from chartkeeper.fhir.dates import from_micros
from chartkeeper.fhir.repository import StoredResource


def etag(version_id: int) -> str:
    """The weak ETag of a version: ``W/"3"``."""
    return f'W/"{version_id}"'


def parse_etag(header: str) -> int:
    """The version number in an ``If-Match`` header (``W/"3"`` or ``"3"`` or ``3``)."""
    text = header.strip()
    text = text.removeprefix("W/").strip('"')
    # ASCII digits of a sane length: int() refuses '²' (which isdigit() takes) and 5000 digits.
    if not (text.isascii() and text.isdigit()) or len(text.lstrip("0")) > 18:
        raise InvalidError(f"If-Match must name a version like W/\"1\", not '{header[:40]}'")
    return int(text)


def check_if_match(if_match: str | None, current: StoredResource | None) -> None:
    """412 when ``If-Match`` names another version than the current one."""
    if if_match is None:
        return
    wanted = parse_etag(if_match)
    if current is None or current.deleted or current.version_id != wanted:
        have = "none" if current is None or current.deleted else str(current.version_id)
        raise PreconditionFailedError(
            f"Version conflict: If-Match asked for version {wanted}, the current version is {have}"
        )


def headers_for(stored: StoredResource, location_base: str | None = None) -> dict[str, str]:
    """ETag, Last-Modified and (for writes) Location of a stored version."""
    moment = from_micros(stored.last_updated).astimezone(UTC)
    headers = {
        "ETag": etag(stored.version_id),
        "Last-Modified": format_datetime(moment, usegmt=True),
    }
    if location_base is not None:
        headers["Location"] = (
            f"{location_base}/{stored.resource_type}/{stored.id}/_history/{stored.version_id}"
        )
    return headers


def stamp(resource: dict[str, Any], version_id: int, last_updated: int) -> None:
    """Set ``meta.versionId`` and ``meta.lastUpdated`` as the server assigns them."""
    meta = resource.get("meta")
    if not isinstance(meta, dict):
        meta = {}
    meta["versionId"] = str(version_id)
    meta["lastUpdated"] = format_instant(from_micros(last_updated))
    resource["meta"] = meta
