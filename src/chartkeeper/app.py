"""Composition root: the only place that builds engines, repositories, guards and clocks."""

from __future__ import annotations

from dataclasses import dataclass, replace
from decimal import Decimal
from functools import cached_property
from pathlib import Path
from typing import Any

from sqlalchemy import Engine

from chartkeeper.billing.codes.registry import CodeRegistry
from chartkeeper.billing.inputs import parse_filing_limits
from chartkeeper.billing.service import Billing, BillingConfig
from chartkeeper.billing.statements import BillingOffice
from chartkeeper.billing.x12.claim_model import Contact
from chartkeeper.core.clock import Clock, SystemClock, format_instant
from chartkeeper.core.settings import Settings
from chartkeeper.fhir.interactions.context import FhirContext, FhirOptions
from chartkeeper.mpi.keys import load_identifier_key
from chartkeeper.mpi.models import ModelStore
from chartkeeper.mpi.registration import MatchIndexer
from chartkeeper.mpi.service import MasterPatientIndex, Settled
from chartkeeper.privacy.actor import CLINICAL_ROLES, SYSTEM, Actor
from chartkeeper.privacy.audit import AuditLedger, load_keys
from chartkeeper.privacy.break_glass import BreakGlassStore
from chartkeeper.privacy.encryption import EncryptedRepository, FieldCipher, load_keyring
from chartkeeper.privacy.guard import GuardedRepository
from chartkeeper.privacy.sensitivity import labels_to_add
from chartkeeper.privacy.services import SecurityServices, build_security
from chartkeeper.store.engine import is_sqlite, make_engine
from chartkeeper.store.migrate import upgrade
from chartkeeper.store.repository import SqlRepository
from chartkeeper.summary.explain import Explainer


def add_sensitivity_labels(resource: dict[str, Any]) -> None:
    """Label what the access decision must see in search (e.g. psychotherapy notes)."""
    extra = labels_to_add(resource)
    if extra:
        meta = resource.setdefault("meta", {})
        meta["security"] = [*meta.get("security", []), *extra]


@dataclass
class Services:
    """Everything the entry points (web, CLI) use, built from the settings.

    Patient data is reached only through ``for_actor``: a FHIR context whose repository is
    guarded (decided, filtered and audited) for that actor. ``fhir`` is the system actor's.
    """

    settings: Settings
    engine: Engine
    repository: SqlRepository
    ledger: AuditLedger
    security: SecurityServices
    clock: Clock
    options: FhirOptions
    break_glass: BreakGlassStore
    #: the store with designated identifiers encrypted at rest: what the guard wraps
    encrypted: EncryptedRepository
    #: keeps the master patient index's match features current on every Patient write
    match_indexer: MatchIndexer

    def for_actor(self, actor: Actor) -> FhirContext:
        """The FHIR interactions' context for ``actor``."""
        emergency = frozenset[str]()
        if actor.kind == "user" and actor.role in CLINICAL_ROLES:
            emergency = self.break_glass.active_patients(actor.name)
        guarded = GuardedRepository(
            self.encrypted, actor, self.ledger, self.clock, break_glass=emergency
        )
        return FhirContext(
            repository=guarded,
            clock=self.clock,
            options=self.options,
            prepare=add_sensitivity_labels,
        )

    @cached_property
    def mpi(self) -> MasterPatientIndex:
        """The master patient index: $match, the duplicate review queue, merge and unmerge."""
        leads = frozenset(n.strip() for n in self.settings.mpi_leads.split(",") if n.strip())
        settled = Settled(
            self.settings.mpi_review_threshold, self.settings.mpi_auto_link_threshold, leads
        )
        return MasterPatientIndex(
            self.engine,
            self.match_indexer,
            self.match_indexer.models,
            self.ledger,
            self.clock,
            settled,
            self.for_actor,
        )

    @cached_property
    def codes(self) -> CodeRegistry:
        """The code set registry (one per process, so its search indexes are built once)."""
        return CodeRegistry(self.engine, self.clock)

    @cached_property
    def billing(self) -> Billing:
        """Charge capture, claims, the scrubber, batches, remittance posting, statements."""
        s = self.settings
        config = BillingConfig(
            submitter=Contact(s.billing_office_name, s.billing_submitter_id, phone=_digits(s)),
            receiver=Contact(s.billing_receiver_id, s.billing_receiver_id),
            office=BillingOffice(
                s.billing_office_name, s.billing_office_phone, s.billing_office_hours
            ),
            timely_filing_days=s.billing_timely_filing_days,
            timely_filing=parse_filing_limits(s.billing_timely_filing),
            charge_ceiling=Decimal(str(s.billing_charge_ceiling)),
        )
        return Billing(self.engine, self.codes, self.ledger, self.clock, config, self.for_actor)

    @cached_property
    def explainer(self) -> Explainer:
        """Plain-language explanations for patients (``$explain`` and the portal)."""
        return Explainer(self.for_actor, self._icd10cm_title)

    def _icd10cm_title(self, code: str) -> str | None:
        """The official ICD-10-CM title of ``code`` in the version in force today, if loaded."""
        view = self.codes.on("icd10cm", self.clock.now().date())
        found = view.get(code.replace(".", "").strip().upper())
        return found.display if found else None

    @property
    def fhir(self) -> FhirContext:
        """The system actor's context (CLI import, demo load): allowed, and still audited."""
        return self.for_actor(SYSTEM)

    @property
    def embedded(self) -> bool:
        """True on the embedded SQLite store (a local file: reads wait on no network)."""
        return is_sqlite(self.engine)

    def close(self) -> None:
        """Flush buffered audit entries and release database connections."""
        self.ledger.close()
        self.repository.close()
        self.engine.dispose()


def _digits(settings: Settings) -> str:
    """The billing office phone as the 837's PER04 wants it: digits only."""
    return "".join(ch for ch in settings.billing_office_phone if ch.isdigit())


def build_services(
    settings: Settings, clock: Clock | None = None, migrate: bool = True
) -> Services:
    """Build the services for ``settings``; by default bring the schema up to date first."""
    engine = make_engine(settings.resolved_database_url)
    if migrate:
        upgrade(engine)
    clock = clock or SystemClock()
    data_dir = Path(settings.data_dir)
    repository = SqlRepository(engine)
    ledger = AuditLedger(engine, load_keys(data_dir), clock, writer=repository.writer_lock)
    security = build_security(engine, data_dir, clock, settings.base_url)
    options = FhirOptions(
        base_url=settings.base_url.rstrip("/") + "/fhir",
        default_page_size=settings.default_page_size,
        max_page_size=settings.max_page_size,
        validate_on_write=settings.validate_on_write,
    )
    break_glass = BreakGlassStore(engine, clock, ledger)
    keyring = load_keyring(data_dir, created=format_instant(clock.now()))
    indexer = MatchIndexer(
        load_identifier_key(data_dir), ModelStore(), settings.mpi_review_threshold, clock
    )
    encrypted = EncryptedRepository(repository, FieldCipher(keyring), after_write=(indexer,))
    return Services(
        settings,
        engine,
        repository,
        ledger,
        security,
        clock,
        options,
        break_glass,
        encrypted,
        indexer,
    )


def with_options(services: Services, **changes: Any) -> Services:
    """A copy of ``services`` with other FHIR options (tests, benchmarks)."""
    return replace(services, options=replace(services.options, **changes))
