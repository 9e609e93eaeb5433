"""Server-assigned resource ids."""

from __future__ import annotations

import re
import uuid

ID_PATTERN = re.compile(r"^[A-Za-z0-9\-.]{1,64}$")


def new_id() -> str:
    """A fresh logical id (a UUID4, valid as a FHIR ``id``)."""
    return str(uuid.uuid4())


def is_valid_id(value: str) -> bool:
    """True when ``value`` is a valid FHIR logical id (R4 ``id`` datatype)."""
    return bool(ID_PATTERN.fullmatch(value))
