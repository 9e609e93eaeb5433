"""The master patient index as the entry points see it: match, review, merge, batch work.

Every look at patient data goes through the caller's guarded FHIR context (decided, filtered,
audited): ``$match`` returns only the candidates the caller may read, and the side-by-side view
reads both charts as the technician. The queue, merges and batch runs are for the HIM
department (``MPI_ROLES``); a merge rewrites records of every type, which the technician's role
may not otherwise write, so it runs in a system context named after the technician — every
version it writes is still audited, under that name, and the Provenance names them too.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, func, select

from chartkeeper.core.clock import Clock, format_instant
from chartkeeper.core.errors import ConflictError, ForbiddenError, InvalidError, NotFoundError
from chartkeeper.fhir.dates import to_micros
from chartkeeper.fhir.interactions.context import FhirContext
from chartkeeper.fhir.interactions.search import run_search
from chartkeeper.fhir.search_parser import parse_search
from chartkeeper.mpi import merge as merging
from chartkeeper.mpi import overlays, pairs, records, runs
from chartkeeper.mpi.jobs import Job, Jobs, Progress, Work
from chartkeeper.mpi.matching.explanation import Score, explain
from chartkeeper.mpi.matching.model import score
from chartkeeper.mpi.models import ModelStore
from chartkeeper.mpi.registration import MatchIndexer, patient_features
from chartkeeper.privacy.actor import Actor
from chartkeeper.privacy.audit import AuditLedger, audit_event
from chartkeeper.store.schema import resources

#: Roles that work the duplicate queue, merge, unmerge and run batch matching.
MPI_ROLES = frozenset({"him_technician"})


@dataclass(frozen=True)
class Match:
    """One ``$match`` result: the Patient as the caller may see it, and its score."""

    resource: dict[str, Any]
    score: Score


@dataclass(frozen=True)
class Settled:
    """What the MPI needs from the settings."""

    review_threshold: float
    auto_link_threshold: float
    leads: frozenset[str]


class MasterPatientIndex:
    """Facade over matching, the review queue and merges (see the module docstring)."""

    def __init__(
        self,
        engine: Engine,
        indexer: MatchIndexer,
        models: ModelStore,
        ledger: AuditLedger,
        clock: Clock,
        settled: Settled,
        for_actor: Callable[[Actor], FhirContext],
    ) -> None:
        self.engine = engine
        self.indexer = indexer
        self.models = models
        self.ledger = ledger
        self.clock = clock
        self.settled = settled
        self.for_actor = for_actor
        self.jobs = Jobs(engine, clock)

    # -- who may ----------------------------------------------------------------------------

    def require(self, actor: Actor, what: str) -> None:
        """Refuse (403, audited) anyone outside the HIM department."""
        if actor.kind == "system" or (actor.kind == "user" and actor.role in MPI_ROLES):
            return
        self.audit(actor, what, [], outcome="4", description="not an HIM technician")
        raise ForbiddenError(f"Only HIM technicians may {what}")

    def audit(
        self,
        actor: Actor,
        what: str,
        patient_ids: list[str],
        outcome: str = "0",
        description: str | None = None,
        connection: Any = None,
    ) -> None:
        """One ledger entry for an MPI operation (the records it writes have their own)."""
        event = audit_event(
            action="E",
            subtype="operation",
            outcome=outcome,
            actor=actor,
            patient_ids=patient_ids,
            resource=f"Patient/{patient_ids[0]}" if patient_ids else None,
            recorded=self.clock.now(),
            description=f"{what}: {description}" if description else what,
        )
        if connection is not None:
            self.ledger.append(
                connection,
                event,
                patient_ids=patient_ids,
                agent=actor.name,
                action="E",
                outcome=outcome,
            )
        else:
            self.ledger.append_now(
                event, patient_ids=patient_ids, agent=actor.name, action="E", outcome=outcome
            )

    # -- matching ---------------------------------------------------------------------------

    def match(
        self,
        actor: Actor,
        patient: dict[str, Any],
        *,
        only_certain: bool = False,
        count: int | None = None,
    ) -> list[Match]:
        """Patient/$match: the candidates for ``patient`` the caller may see, best first."""
        if not isinstance(patient, dict) or patient.get("resourceType") != "Patient":
            raise InvalidError("$match needs a Patient resource in the parameter 'resource'")
        features = patient_features(patient, self.indexer.identifier_key)
        with self.engine.connect() as connection:
            model = self.models.active(connection)
            found = [
                (candidate.patient_id, score(model, features, candidate.features))
                for candidate in records.candidates(connection, features)
            ]
        wanted = ("certain",) if only_certain else ("certain", "probable", "possible")
        found = [(pid, s) for pid, s in found if s.grade in wanted]
        found.sort(key=lambda item: (-item[1].weight, item[0]))
        if only_certain and len(found) > 1:
            # only certain matches: a unique one, or none at all (the spec's intent)
            found = []
        limit = count if count is not None else 10
        results: list[Match] = []
        ctx = self.for_actor(actor)
        with ctx.repository.reading() as tx:
            tx.intend("search", "Patient")
            for patient_id, found_score in found:
                if len(results) >= limit:
                    break
                stored = tx.read("Patient", patient_id)
                if stored is None or stored.deleted:
                    continue
                results.append(Match(stored.resource(), found_score))
        return results

    def possible_duplicates(self, patient_id: str) -> list[pairs.Pair]:
        """The queued pairs a Patient is part of (what registration reports)."""
        with self.engine.connect() as connection:
            return pairs.involving(connection, patient_id)

    # -- the review queue ---------------------------------------------------------------------

    def queue(
        self,
        actor: Actor,
        statuses: tuple[str, ...] = pairs.QUEUED,
        limit: int = 50,
        offset: int = 0,
    ) -> tuple[list[pairs.Pair], int]:
        """A page of the review queue."""
        self.require(actor, "see the duplicate review queue")
        unknown = set(statuses) - set(pairs.STATUSES)
        if unknown:
            raise InvalidError(f"Unknown pair status {sorted(unknown)[0]!r}")
        with self.engine.connect() as connection:
            return pairs.queue(connection, statuses, limit, offset)

    def pair(self, actor: Actor, pair_id: str) -> pairs.Pair:
        """One pair of the queue."""
        self.require(actor, "see the duplicate review queue")
        with self.engine.connect() as connection:
            found = pairs.get(connection, pair_id)
        if found is None:
            raise NotFoundError(f"No candidate pair {pair_id}")
        return found

    def side_by_side(self, actor: Actor, pair_id: str) -> dict[str, Any]:
        """The two charts of a pair as the technician sees them: demographics, identifiers,
        record counts by type, the latest encounter; and the explanation."""
        found = self.pair(actor, pair_id)
        ctx = self.for_actor(actor)
        charts = [self._chart(ctx, pid) for pid in (found.left_id, found.right_id)]
        return {"pair": found, "charts": charts}

    def _chart(self, ctx: FhirContext, patient_id: str) -> dict[str, Any]:
        with ctx.repository.reading() as tx:
            stored = tx.read("Patient", patient_id)
        patient = None if stored is None or stored.deleted else stored.resource()
        counts: dict[str, int] = {}
        latest = None
        if patient is not None:
            with self.engine.connect() as connection:
                rows = connection.execute(
                    select(resources.c.res_type, func.count())
                    .where(resources.c.patient_id == patient_id, resources.c.deleted.is_(False))
                    .group_by(resources.c.res_type)
                    .order_by(resources.c.res_type)
                )
                counts = {str(kind): int(n) for kind, n in rows if kind != "Patient"}
            request = parse_search(
                "Encounter", [("patient", patient_id), ("_sort", "-date"), ("_count", "1")]
            )
            page = run_search(ctx, request)
            latest = page.matches[0].resource() if page.matches else None
        return {"id": patient_id, "patient": patient, "counts": counts, "latest_encounter": latest}

    def decide(
        self,
        actor: Actor,
        pair_id: str,
        decision: str,
        *,
        note: str | None = None,
        survivor_id: str | None = None,
        override: bool = False,
    ) -> dict[str, Any]:
        """Same person → merge; not the same → never match again; or defer."""
        if decision not in pairs.DECISIONS:
            raise InvalidError(
                f"decision must be one of {', '.join(sorted(pairs.DECISIONS))}, not {decision!r}"
            )
        found = self.pair(actor, pair_id)
        if found.status not in pairs.DECIDABLE:
            raise ConflictError(f"Pair {pair_id} has already been decided ({found.status})")
        if decision == "merge":
            survivor = survivor_id or found.left_id
            if survivor not in (found.left_id, found.right_id):
                raise InvalidError(f"survivor must be Patient/{found.left_id} or /{found.right_id}")
            outcome = self.merge(
                actor, survivor, found.other(survivor), note=note, override=override
            )
            return {"status": "merged", "merge": outcome}
        now = to_micros(self.clock.now())
        with self.engine.begin() as connection:
            if not pairs.decide(
                connection, pair_id, pairs.DECISIONS[decision], by=actor.name, note=note, now=now
            ):
                raise ConflictError(f"Pair {pair_id} was decided by someone else meanwhile")
            self.audit(
                actor,
                f"duplicate review: {decision}",
                [found.left_id, found.right_id],
                connection=connection,
            )
        return {"status": pairs.DECISIONS[decision]}

    # -- merge and unmerge --------------------------------------------------------------------

    def _who(self, actor: Actor) -> merging.Who:
        return merging.Who(actor.name, actor.practitioner_id, lead=actor.name in self.settled.leads)

    def _merge_context(self, actor: Actor) -> FhirContext:
        """A system context named after the technician (see the module docstring)."""
        return self.for_actor(
            Actor(kind="system", name=f"{actor.name} (MPI)", role="admin", purpose="HOPERAT")
        )

    def merge(
        self,
        actor: Actor,
        survivor_id: str,
        duplicate_id: str,
        *,
        note: str | None = None,
        override: bool = False,
    ) -> merging.MergeOutcome:
        """Merge ``duplicate_id`` into ``survivor_id`` (``mpi.merge``), audited."""
        self.require(actor, "merge patients")
        now = self.clock.now()
        try:
            outcome = merging.merge(
                self._merge_context(actor),
                self._who(actor),
                survivor_id,
                duplicate_id,
                recorded=format_instant(now),
                now=to_micros(now),
                note=note,
                override=override,
            )
        except ConflictError as error:
            self.audit(actor, "Patient merge", [survivor_id, duplicate_id], "4", str(error))
            raise
        self.audit(
            actor,
            "Patient merge",
            [survivor_id, duplicate_id],
            description=f"Patient/{duplicate_id} into Patient/{survivor_id}, "
            f"Provenance/{outcome.provenance_id}" + (" (override)" if override else ""),
        )
        return outcome

    def unmerge_patient(
        self, actor: Actor, duplicate_id: str, *, note: str | None = None
    ) -> merging.MergeOutcome:
        """Undo the standing merge of a duplicate Patient (``$unmerge``)."""
        self.require(actor, "unmerge patients")
        with self.engine.connect() as connection:
            merge_id = merging.standing_merge_of(connection, duplicate_id)
        return self.unmerge(actor, merge_id, note=note)

    def unmerge(
        self, actor: Actor, merge_id: str, *, note: str | None = None
    ) -> merging.MergeOutcome:
        """Undo a merge from its Provenance, audited."""
        self.require(actor, "unmerge patients")
        now = self.clock.now()
        outcome = merging.unmerge(
            self._merge_context(actor),
            self._who(actor),
            merge_id,
            recorded=format_instant(now),
            now=to_micros(now),
            note=note,
        )
        self.audit(
            actor,
            "Patient unmerge",
            [outcome.survivor_id, outcome.duplicate_id],
            description=f"merge {merge_id}, Provenance/{outcome.provenance_id}",
        )
        return outcome

    def merges(self, actor: Actor, limit: int = 50) -> list[dict[str, Any]]:
        """The latest merges."""
        self.require(actor, "see merges")
        with self.engine.connect() as connection:
            return merging.merges(connection, limit)

    def explain_pair(self, left: dict[str, Any], right: dict[str, Any]) -> list[dict[str, Any]]:
        """The waterfall for two Patient resources (tests, the CLI's ``mpi explain``)."""
        key = self.indexer.identifier_key
        with self.engine.connect() as connection:
            model = self.models.active(connection)
        return explain(score(model, patient_features(left, key), patient_features(right, key)))

    # -- batch work ---------------------------------------------------------------------------

    #: job kinds and what each does
    KINDS = ("reindex", "train", "dedupe", "overlays")

    def _work(self, actor: Actor, kind: str) -> Work:
        system = self._merge_context(actor)
        key = self.indexer.identifier_key
        works: dict[str, Work] = {
            "reindex": lambda progress: runs.reindex(system, self.engine, key, progress),
            "train": lambda progress: runs.train_model(
                self.engine, self.models, self.clock, progress
            ),
            "dedupe": lambda progress: runs.dedupe(
                self.engine,
                self.models,
                self.clock,
                self.settled.review_threshold,
                self.settled.auto_link_threshold,
                progress,
            ),
            "overlays": lambda progress: runs.scan_overlays(
                system, self.engine, self.clock, progress
            ),
        }
        if kind not in works:
            raise InvalidError(f"Unknown MPI job {kind!r}; one of {', '.join(self.KINDS)}")
        self.require(actor, f"run MPI {kind}")
        self.audit(actor, f"MPI {kind}", [])
        return works[kind]

    def run_job(self, actor: Actor, kind: str, echo: Progress | None = None) -> Job:
        """Run a batch job in the foreground (the CLI), echoing progress."""
        return self.jobs.run(kind, actor.name, self._work(actor, kind), echo)

    def start_job(self, actor: Actor, kind: str) -> str:
        """Start a batch job in the background (the workbench); its id to poll."""
        return self.jobs.start(kind, actor.name, self._work(actor, kind))

    def job(self, actor: Actor, job_id: str) -> Job:
        """One job's progress."""
        self.require(actor, "see MPI jobs")
        return self.jobs.get(job_id)

    # -- overlays ------------------------------------------------------------------------------

    def overlays(self, actor: Actor, status: str = "open") -> list[dict[str, Any]]:
        """Charts flagged as possible overlays."""
        self.require(actor, "see possible overlays")
        with self.engine.connect() as connection:
            return overlays.flagged(connection, status)

    def decide_overlay(
        self, actor: Actor, overlay_id: str, decision: str, note: str | None = None
    ) -> None:
        """Confirm a flagged overlay (the chart needs splitting) or dismiss it."""
        self.require(actor, "review possible overlays")
        status = {"confirm": "confirmed", "dismiss": "dismissed"}.get(decision)
        if status is None:
            raise InvalidError(f"decision must be confirm or dismiss, not {decision!r}")
        with self.engine.begin() as connection:
            if not overlays.decide(
                connection, overlay_id, status, actor.name, note, to_micros(self.clock.now())
            ):
                raise NotFoundError(f"No open overlay flag {overlay_id}")
            self.audit(actor, f"overlay review: {decision}", [], connection=connection)

    def reported_duplicates(self, actor: Actor, patient_id: str) -> list[tuple[str, pairs.Pair]]:
        """What registration tells the registering user: the queued pairs of a Patient whose
        other record the user may read (a hidden record is not confirmed by its score)."""
        found = self.possible_duplicates(patient_id)
        if not found:
            return []
        shown: list[tuple[str, pairs.Pair]] = []
        ctx = self.for_actor(actor)
        with ctx.repository.reading() as tx:
            for pair in found:
                other = pair.other(patient_id)
                stored = tx.read("Patient", other)
                if stored is not None and not stored.deleted:
                    shown.append((other, pair))
        return shown
