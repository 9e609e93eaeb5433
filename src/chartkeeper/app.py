"""Composition root: the only place that builds engines, repositories and clocks."""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import Engine

from chartkeeper.core.clock import Clock, SystemClock
from chartkeeper.core.settings import Settings
from chartkeeper.fhir.interactions.context import FhirContext, FhirOptions
from chartkeeper.store.engine import make_engine
from chartkeeper.store.migrate import upgrade
from chartkeeper.store.repository import SqlRepository


@dataclass
class Services:
    """Everything the entry points (web, CLI) use, built from the settings."""

    settings: Settings
    engine: Engine
    repository: SqlRepository
    fhir: FhirContext
    clock: Clock = field(default_factory=SystemClock)

    def close(self) -> None:
        """Release database connections."""
        self.engine.dispose()


def build_services(
    settings: Settings, clock: Clock | None = None, migrate: bool = True
) -> Services:
    """Build the services for ``settings``; by default bring the schema up to date first."""
    engine = make_engine(settings.resolved_database_url)
    if migrate:
        upgrade(engine)
    repository = SqlRepository(engine)
    clock = clock or SystemClock()
    options = FhirOptions(
        base_url=settings.base_url.rstrip("/") + "/fhir",
        default_page_size=settings.default_page_size,
        max_page_size=settings.max_page_size,
        validate_on_write=settings.validate_on_write,
    )
    fhir = FhirContext(repository=repository, clock=clock, options=options)
    return Services(settings, engine, repository, fhir, clock)
