"""The guarded repository: the single point where access is decided, filtered and audited.

Every caller outside ``app`` gets a ``GuardedRepository`` bound to its actor. Reads of one
record are decided on the stored record (a refused read looks exactly like a missing one);
searches, includes, history, ``$everything`` and export are filtered in SQL through the
``Visibility`` the decision computes; writes are decided on the old and the new content. Each
interaction becomes an AuditEvent: writes in the same database transaction as the change, reads
through the ledger's buffer, refusals in a transaction of their own after the request's work is
rolled back.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field, replace
from typing import Any

from chartkeeper.core.clock import Clock
from chartkeeper.core.errors import ChartkeeperError, ForbiddenError
from chartkeeper.fhir.index_rows import IndexRows
from chartkeeper.fhir.repository import (
    ChartMatch,
    HistoryQuery,
    ResourceRepository,
    ResourceTransaction,
    SearchPage,
    StoredResource,
    TextQuery,
)
from chartkeeper.fhir.search_request import Include, SearchRequest
from chartkeeper.fhir.visibility import Visibility
from chartkeeper.privacy.actor import Actor
from chartkeeper.privacy.audit import AuditLedger, audit_event
from chartkeeper.privacy.audit.pending import pending_entry
from chartkeeper.privacy.decision import AccessContext, Decision, decide, search_filter
from chartkeeper.privacy.facts import active_consents, active_only, treated_patients
from chartkeeper.privacy.filters import visibility_of
from chartkeeper.privacy.rules import READ_INTERACTIONS, SERVER_WRITTEN
from chartkeeper.privacy.scopes import ResourceScope, parse_scopes, scope_allows

#: FHIR interaction → (BALP action code, restful-interaction subtype)
ACTIONS = {
    "read": ("R", "read"),
    "vread": ("R", "vread"),
    "search": ("E", "search-type"),
    "history": ("R", "history-instance"),
    "everything": ("E", "operation"),
    "export": ("E", "operation"),
    "create": ("C", "create"),
    "update": ("U", "update"),
    "delete": ("D", "delete"),
}


#: FHIR interaction → the SMART permission letter it needs
SCOPE_LETTERS = {
    "read": "r",
    "vread": "r",
    "history": "r",
    "everything": "r",
    "export": "r",
    "search": "s",
    "create": "c",
    "update": "u",
    "patch": "u",
    "delete": "d",
}


def is_service_client(actor: Actor) -> bool:
    """A backend service client without a role (SMART Backend Services): its ``system/``
    scopes alone say what it may do, across all patients. An administrator registers such a
    client on purpose (``chartkeeper client add``); every access is still audited."""
    return actor.kind == "client" and actor.role is None


def scope_refusal(actor: Actor, interaction: str, resource_type: str) -> Decision | None:
    """A refusal when the token's SMART scopes do not cover the interaction (workbench
    sessions carry no scopes: their role alone decides)."""
    if actor.kind == "system" or not actor.scopes:
        return None
    letter = SCOPE_LETTERS.get(interaction, "r")
    if scope_allows(actor.scopes, resource_type, letter):
        return None
    reason = f"the token's scopes do not allow '{letter}' on {resource_type}"
    return Decision(allowed=False, reason=reason, rule="smart-scope")


def scope_readable_types(actor: Actor) -> frozenset[str] | None:
    """The types a token may read (None: any, or no token scopes)."""
    if actor.kind == "system" or not actor.scopes:
        return None
    types: set[str] = set()
    for scope in parse_scopes(actor.scopes):
        if isinstance(scope, ResourceScope) and "r" in scope.permissions:
            if scope.resource_type == "*":
                return None
            types.add(scope.resource_type)
    return frozenset(types)


SYSTEM_DECISION = Decision(True, "the system itself (CLI import, demo load)", "system")
_ID_TAKEN = Decision(False, "that id is not available to you", "default-deny", True)


def emergency_note(decision: Decision | None) -> str | None:
    """The audit description of an access that rested on a break-the-glass grant."""
    if decision is None or decision.rule != "break-the-glass":
        return None
    return f"break-the-glass: {decision.reason}"


class RefusedError(ForbiddenError):
    """Carries the decision so the refusal can be audited once the transaction is over."""


@dataclass
class _Pending:
    """Audit entries of one transaction: written with the change, or after a refusal."""

    writes: list[tuple[dict[str, Any], list[str], str, str]] = field(default_factory=list)
    refusals: list[tuple[dict[str, Any], list[str], str]] = field(default_factory=list)


class GuardedTransaction:
    """A ``ResourceTransaction`` that decides, filters and audits for one actor."""

    def __init__(
        self, inner: Any, guard: GuardedRepository, pending: _Pending, read_only: bool
    ) -> None:
        self._inner = inner
        self._guard = guard
        self._pending = pending
        self._read_only = read_only
        self._relationships: frozenset[str] | None = None
        #: Consents by patient set, remembered in read-only transactions (nothing changes them)
        self._consents: dict[frozenset[str] | None, tuple[dict[str, Any], ...]] = {}

    @property
    def connection(self) -> Any:
        """The database connection of this transaction, for services (the MPI's merge) that
        keep their own rows beside the records they change, in the same commit."""
        return self._inner.connection

    # -- facts and decisions ------------------------------------------------------------------

    @property
    def actor(self) -> Actor:
        return self._guard.actor

    def _context(self, patient_ids: frozenset[str] | None) -> AccessContext:
        if self._relationships is None:
            self._relationships = treated_patients(self._inner, self.actor.practitioner_id)
        consents = self._consents.get(patient_ids)
        if consents is None and patient_ids is not None and len(patient_ids) == 1:
            # the usual case, a read of one record: a point read, no transaction opened
            (patient,) = patient_ids
            consents = active_only(self._inner.compartment_bodies("Consent", patient))
        if consents is None:
            consents = active_consents(self._inner.connection, patient_ids)
            if self._read_only:
                self._consents[patient_ids] = consents
        return AccessContext(
            now=self._guard.clock.now(),
            relationships=self._relationships,
            break_glass=self._guard.break_glass,
            sensitivity_grants=self._guard.sensitivity_grants,
            consents=consents,
        )

    def _decide(
        self, interaction: str, kind: str, resource: dict[str, Any] | None, patient: str | None
    ) -> Decision:
        if self.actor.kind == "system":
            return SYSTEM_DECISION
        refused = scope_refusal(self.actor, interaction, kind)
        if refused is not None:
            return refused
        if is_service_client(self.actor):
            if kind in SERVER_WRITTEN and interaction not in READ_INTERACTIONS:
                return Decision(False, f"{kind}s are written by the server only", "default-deny")
            return Decision(True, "service client acting within its system/ scopes", "service")
        context = self._context(frozenset({patient}) if patient else frozenset())
        return decide(self.actor, interaction, kind, resource, patient, context)

    def _visibility(self, resource_type: str | None) -> Visibility | None:
        if self.actor.kind == "system":
            return None
        if is_service_client(self.actor):
            return Visibility(resource_types=scope_readable_types(self.actor))
        # first the reach, then again with the Consents of the patients in reach
        reach = search_filter(self.actor, resource_type, self._context(frozenset()))
        if reach.resource_types != frozenset():
            reach = search_filter(self.actor, resource_type, self._context(reach.patient_ids))
        visibility = visibility_of(reach)
        readable = scope_readable_types(self.actor)
        if readable is not None:
            allowed = (
                readable
                if visibility.resource_types is None
                else (visibility.resource_types & readable)
            )
            visibility = replace(visibility, resource_types=allowed)
        return visibility

    def _refuse(self, decision: Decision, what: str, patients: list[str], interaction: str) -> None:
        action, subtype = ACTIONS.get(interaction, ("E", interaction))
        event = self._event(action, subtype, "4", patients, what, decision.reason)
        self._pending.refusals.append((event, patients, action))
        raise RefusedError(f"Not allowed: {decision.reason}")

    def _event(
        self,
        action: str,
        subtype: str,
        outcome: str,
        patients: list[str],
        resource: str | None,
        description: str | None = None,
        query: str | None = None,
    ) -> dict[str, Any]:
        return audit_event(
            action=action,
            subtype=subtype,
            outcome=outcome,
            actor=self.actor,
            patient_ids=patients,
            resource=resource,
            query=query,
            recorded=self._guard.clock.now(),
            description=description,
        )

    def _audit_read(
        self,
        interaction: str,
        patients: list[str],
        what: str | None,
        query: str | None = None,
        decision: Decision | None = None,
    ) -> None:
        if not self._read_only or not self._guard.ledger.records:
            return  # inside a write the interaction reads before it writes: the write is audited
        action, subtype = ACTIONS[interaction]
        # A compact entry: the AuditEvent is built from it only when the ledger is searched,
        # so a read pays for a tuple rather than for its event (privacy.audit.compact).
        note = emergency_note(decision)
        self._guard.ledger.record_read(self.actor, action, subtype, patients, what, query, note)

    # -- reads of one record ------------------------------------------------------------------

    def _visible_version(
        self, stored: StoredResource | None, interaction: str
    ) -> StoredResource | None:
        if stored is None:
            return None
        patients = [stored.patient_id] if stored.patient_id else []
        # the system actor and service clients are decided without the content: skip parsing it
        needs_content = not (self.actor.kind == "system" or is_service_client(self.actor))
        resource = stored.resource() if needs_content and not stored.deleted else None
        what = f"{stored.resource_type}/{stored.id}"
        decision = self._decide(interaction, stored.resource_type, resource, stored.patient_id)
        if not decision.allowed:
            if decision.hide_existence:
                action, subtype = ACTIONS[interaction]
                event = self._event(action, subtype, "4", patients, what, decision.reason)
                self._pending.refusals.append((event, patients, action))
                return None
            self._refuse(decision, what, patients, interaction)
        self._audit_read(interaction, patients, what, decision=decision)
        return stored

    def read(self, resource_type: str, resource_id: str) -> StoredResource | None:
        stored = self._inner.read(resource_type, resource_id)
        if stored is None and self._read_only:
            self.intend("read", resource_type, resource_id)
        return self._visible_version(stored, "read")

    def vread(self, resource_type: str, resource_id: str, version_id: int) -> StoredResource | None:
        stored = self._inner.vread(resource_type, resource_id, version_id)
        if stored is None:
            self.intend("vread", resource_type, resource_id)
        return self._visible_version(stored, "vread")

    def intend(self, interaction: str, resource_type: str, resource_id: str | None = None) -> None:
        """Refuse (403, audited) a kind of request the caller may never make, whether or not
        the record exists: a refusal given only when a record was found would tell that it
        exists. Deletes call this before their look-up; reads when nothing was found (a found
        record is decided with its content, which refuses the same kinds of request). Requests
        the caller may make on some records go on, and each record found is decided on its own
        (a hidden one then looks exactly like a missing one)."""
        if self.actor.kind == "system":
            return
        decision = self._decide(interaction, resource_type, None, None)
        if decision.allowed or decision.hide_existence:
            return
        patients: list[str] = []
        if resource_id is not None:  # the answer is the same either way; the ledger says whose
            stored = self._inner.read(resource_type, resource_id)
            if stored is not None and stored.patient_id:
                patients = [stored.patient_id]
        what = f"{resource_type}/{resource_id}" if resource_id else resource_type
        self._refuse(decision, what, patients, interaction)

    def prefetch(self, keys: list[tuple[str, str]]) -> None:
        self._inner.prefetch(keys)

    # -- filtered reads -----------------------------------------------------------------------

    def search(self, request: SearchRequest) -> SearchPage:
        kind = request.resource_type
        if kind is not None:
            self.intend("search", kind)
        # every type the actor may see: chains and _has reach into other types, which the
        # same filter must hide; the type searched was decided just above
        request.visibility = self._visibility(None)
        page: SearchPage = self._inner.search(request)
        patients = sorted({m.patient_id for m in page.matches if m.patient_id})
        self._audit_read("search", patients, None, query=kind or "*")
        return page

    def include(
        self,
        matches: list[StoredResource],
        includes: list[Include],
        reverse: bool,
        visibility: Visibility | None = None,
    ) -> list[StoredResource]:
        found: list[StoredResource] = self._inner.include(
            matches, includes, reverse, self._visibility(None)
        )
        return found

    def history(self, query: HistoryQuery) -> tuple[list[StoredResource], int]:
        if query.resource_type and query.resource_id:
            current = self._inner.read(query.resource_type, query.resource_id)
            if current is not None and self._visible_version(current, "history") is None:
                return [], 0
        visible = HistoryQuery(
            query.resource_type,
            query.resource_id,
            query.since,
            query.at,
            query.count,
            query.offset,
            self._visibility(query.resource_type),
        )
        result: tuple[list[StoredResource], int] = self._inner.history(visible)
        return result

    def compartment(
        self,
        patient_id: str,
        types: list[str] | None,
        since: int | None,
        visibility: Visibility | None = None,
    ) -> Iterator[StoredResource]:
        decision = self._decide("everything", "Patient", None, patient_id)
        if not decision.allowed:
            self._refuse(decision, f"Patient/{patient_id}", [patient_id], "everything")
        self._audit_read("everything", [patient_id], f"Patient/{patient_id}", decision=decision)
        yield from self._inner.compartment(patient_id, types, since, self._visibility(None))

    def referenced_by_compartment(
        self, patient_id: str, visibility: Visibility | None = None
    ) -> list[StoredResource]:
        found: list[StoredResource] = self._inner.referenced_by_compartment(
            patient_id, self._visibility(None)
        )
        return found

    def iterate(
        self, resource_type: str | None, visibility: Visibility | None = None
    ) -> Iterator[StoredResource]:
        decision = self._decide("export", resource_type or "Patient", None, None)
        if not decision.allowed and self.actor.kind != "system":
            self._refuse(decision, resource_type or "*", [], "export")
        self._audit_read("export", [], resource_type or "*")
        yield from self._inner.iterate(resource_type, self._visibility(resource_type))

    def chart_search(
        self,
        patient_id: str,
        query: TextQuery,
        limit: int,
        visibility: Visibility | None = None,
    ) -> tuple[list[ChartMatch], int]:
        """Decided as a search (a token needs the search permission), filtered exactly as a
        search is (the same ``Visibility``, so a hidden row is neither returned nor counted)
        and audited as one, naming the patient whose chart was searched even when nothing was
        found; the caller decides first whether the Patient itself is visible."""
        self.intend("search", "Patient")
        found: tuple[list[ChartMatch], int] = self._inner.chart_search(
            patient_id, query, limit, self._visibility(None)
        )
        self._audit_read("search", [patient_id], f"Patient/{patient_id}", query="chart-search")
        return found

    # -- writes -------------------------------------------------------------------------------

    def write(
        self,
        stored: StoredResource,
        index: IndexRows | None,
        patient_id: str | None,
        replaces: bool = True,
    ) -> StoredResource:
        interaction = "delete" if stored.deleted else ("update" if replaces else "create")
        what = f"{stored.resource_type}/{stored.id}"
        decisions: list[Decision] = []
        previous = None
        if replaces or stored.method == "PUT":
            previous = self._inner.read(stored.resource_type, stored.id)
            if replaces and previous is not None and not previous.deleted:
                resource = previous.resource()
                decisions.append(
                    self._check_write(interaction, resource, previous.patient_id, what)
                )
        if not stored.deleted:
            decisions.append(self._check_write(interaction, stored.resource(), patient_id, what))
        if previous is not None and not replaces:
            # a PUT that would create lands on a record the guarded read hid: refuse without
            # describing it (rather than fail on the duplicate key)
            self._refuse(_ID_TAKEN, what, [p for p in [previous.patient_id] if p], interaction)
        written: StoredResource = self._inner.write(stored, index, patient_id, replaces)
        if not self._guard.ledger.records:
            return written
        action, subtype = ACTIONS[interaction]
        patients = [patient_id] if patient_id else []
        version = f"{what}/_history/{stored.version_id}"
        notes = [note for note in map(emergency_note, decisions) if note]
        event = self._event(action, subtype, "0", patients, version, notes[0] if notes else None)
        self._pending.writes.append((event, patients, action, "0"))
        return written

    def _check_write(
        self, interaction: str, resource: dict[str, Any], patient: str | None, what: str
    ) -> Decision:
        decision = self._decide(interaction, str(resource["resourceType"]), resource, patient)
        if not decision.allowed:
            self._refuse(decision, what, [patient] if patient else [], interaction)
        return decision


class GuardedRepository:
    """A ``ResourceRepository`` bound to one actor (see the module docstring)."""

    def __init__(
        self,
        inner: ResourceRepository,
        actor: Actor,
        ledger: AuditLedger,
        clock: Clock,
        break_glass: frozenset[str] = frozenset(),
        sensitivity_grants: frozenset[str] = frozenset(),
    ) -> None:
        self.inner = inner
        self.actor = actor
        self.ledger = ledger
        self.clock = clock
        self.break_glass = break_glass
        self.sensitivity_grants = sensitivity_grants

    @contextmanager
    def transaction(self) -> Iterator[ResourceTransaction]:
        pending = _Pending()
        try:
            with self.inner.transaction() as inner:
                guarded = GuardedTransaction(inner, self, pending, read_only=False)
                yield guarded
                self._write_audit(inner, pending)
        except ChartkeeperError:
            self._write_refusals(pending)
            raise
        self._write_refusals(pending)

    @contextmanager
    def reading(self) -> Iterator[ResourceTransaction]:
        pending = _Pending()
        try:
            with self.inner.reading() as inner:
                yield GuardedTransaction(inner, self, pending, read_only=True)
        finally:
            self._write_refusals(pending)

    def _write_audit(self, inner: Any, pending: _Pending) -> None:
        """All of a transaction's write entries, last, in one append (one head lock)."""
        entries = [
            pending_entry(
                event, patient_ids=patients, agent=self.actor.name, action=action, outcome=outcome
            )
            for event, patients, action, outcome in pending.writes
        ]
        if entries:
            self.ledger.append_many(inner.connection, entries)

    def _write_refusals(self, pending: _Pending) -> None:
        for event, patients, action in pending.refusals:
            self.ledger.append_now(
                event, patient_ids=patients, agent=self.actor.name, action=action, outcome="4"
            )
        pending.refusals.clear()
