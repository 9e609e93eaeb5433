"""What every interaction needs: the repository, the clock and the server's options."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from chartkeeper.core.clock import Clock
from chartkeeper.fhir.repository import ResourceRepository
from chartkeeper.fhir.searchparams import SearchParamRegistry, load_registry


@dataclass(frozen=True)
class FhirOptions:
    """Server options that change FHIR behaviour."""

    base_url: str = "http://127.0.0.1:8000/fhir"
    default_page_size: int = 20
    max_page_size: int = 1000
    validate_on_write: bool = True


@dataclass
class FhirContext:
    """The dependencies of the interactions, built once by ``app``."""

    repository: ResourceRepository
    clock: Clock
    options: FhirOptions = field(default_factory=FhirOptions)
    registry: SearchParamRegistry = field(default_factory=load_registry)
    #: called on every resource before it is validated and stored (e.g. to add the security
    #: labels the access decision needs to see in search)
    prepare: Callable[[dict[str, Any]], None] | None = None


@dataclass
class Result:
    """The outcome of one interaction, before HTTP: status, body and headers.

    ``body`` is a resource dict, or ``body_text`` already-serialized JSON (read fast path).
    """

    status: int
    body: dict[str, Any] | None = None
    body_text: str | None = None
    headers: dict[str, str] = field(default_factory=dict)
