"""Billing as the entry points see it: capture, claims, scrubbing, release, posting, statements.

Every look at patient data goes through the caller's guarded FHIR context (decided, filtered,
audited), so the role table decides who may do what: coders capture charges and build claims
(they read the clinical record and write ChargeItem and Claim); billers scrub, release, post
remittances and work denials (they read demographics, coverage and claims). The work tables
(`store.billing_schema`) hold what billing needs beyond the FHIR resources (statuses, findings
with their codes, the 837 files as sent, postings); every operation on them is audited here,
one ledger entry naming the patients concerned (scrub, release, batch download, posting, a
denial's move, a statement).
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import Engine

from chartkeeper.billing import drg, systems
from chartkeeper.billing.account_model import AccountActivity, Adjustment
from chartkeeper.billing.charges import capture as charge_capture
from chartkeeper.billing.charges import claim_build
from chartkeeper.billing.charges.master import RegistryChargeMaster
from chartkeeper.billing.charges.reading import (
    code_in,
    ranked_diagnoses,
    read_reference,
    service_day,
)
from chartkeeper.billing.claims import batches as claim_batches
from chartkeeper.billing.claims.convert import to_scrub_claim
from chartkeeper.billing.claims.lines import service_lines
from chartkeeper.billing.claims.worklist import ClaimWorklist
from chartkeeper.billing.codes import suggest
from chartkeeper.billing.codes.mce import PatientFacts
from chartkeeper.billing.codes.mce_checks import check_encounter
from chartkeeper.billing.codes.model import CARC, ICD10CM, MCE
from chartkeeper.billing.codes.outcome import coding_outcome
from chartkeeper.billing.codes.registry import CodeRegistry
from chartkeeper.billing.inputs import (
    age_in_years,
    drg_stay,
    known_id,
    parse_birth,
    parse_day,
    plain_text,
)
from chartkeeper.billing.remit import activity as remit_activity
from chartkeeper.billing.remit.denials import Denial, DenialQueue
from chartkeeper.billing.remit.posting import PostingReport, RemittancePoster
from chartkeeper.billing.scrub.context import ScrubContext
from chartkeeper.billing.scrub.engine import Scrubber, is_clean
from chartkeeper.billing.scrub.model import Issue, ScrubClaim
from chartkeeper.billing.scrub.outcome import to_operation_outcome
from chartkeeper.billing.statements import (
    BillingOffice,
    explain,
    statement_html,
    statement_pdf,
)
from chartkeeper.billing.x12.claim_model import Contact, ServiceLine
from chartkeeper.core.clock import Clock
from chartkeeper.core.errors import ForbiddenError, InvalidError, NotFoundError
from chartkeeper.core.ids import is_valid_id
from chartkeeper.fhir.interactions.context import FhirContext
from chartkeeper.fhir.repository import ResourceTransaction
from chartkeeper.privacy.actor import Actor
from chartkeeper.privacy.audit import AuditLedger, audit_event

#: ``Type/id`` (an optional ``/_history/n`` is ignored): the only references read to convert,
#: and only of the types a claim's conversion reads.
RELATIVE_REFERENCE = re.compile(r"([A-Z][A-Za-z]{1,63})/([A-Za-z0-9\-.]{1,64})(?:/_history/\d+)?")
CLAIM_PARTIES = frozenset({"Patient", "RelatedPerson", "Coverage", "Organization", "Practitioner"})
#: Who captures charges and builds claims (reads the clinical record).
CODING_ROLES = frozenset({"coder"})
#: Who works the claim worklist, releases batches, posts remittances, works denials.
BILLING_ROLES = frozenset({"biller"})
#: Who may see a patient's statement besides the patient themself.
STATEMENT_ROLES = frozenset({"biller"})


@dataclass(frozen=True)
class BillingConfig:
    """What billing needs from the settings."""

    submitter: Contact
    receiver: Contact
    office: BillingOffice
    timely_filing_days: int = 365
    timely_filing: Mapping[str, int] = field(default_factory=dict)
    charge_ceiling: Decimal = Decimal("100000")
    #: where the statement page links its stylesheet
    statement_css: str = "/billing/statement.css"


@dataclass(frozen=True)
class Scrubbed:
    """One claim scrubbed: its worklist status, issues and the OperationOutcome saying them."""

    claim_id: str
    status: str
    issues: tuple[Issue, ...]
    outcome: dict[str, Any]
    scrub: ScrubClaim


class Billing:
    """Facade over charge capture, claims, the scrubber, batches, posting and statements."""

    def __init__(
        self,
        engine: Engine,
        registry: CodeRegistry,
        ledger: AuditLedger,
        clock: Clock,
        config: BillingConfig,
        for_actor: Callable[[Actor], FhirContext],
    ) -> None:
        self.engine = engine
        self.registry = registry
        self.ledger = ledger
        self.clock = clock
        self.config = config
        self.for_actor = for_actor
        self.charge_master = RegistryChargeMaster(registry)
        self.worklist = ClaimWorklist(engine, clock)
        self.denials = DenialQueue(engine, clock)
        self.poster = RemittancePoster(engine, clock)
        self._scrubber: Scrubber | None = None
        self._carc: dict[tuple[str, int, str], str] = {}
        self._lock = threading.Lock()

    # -- who may ------------------------------------------------------------------------------

    def require(self, actor: Actor, roles: frozenset[str], what: str) -> None:
        """Refuse (403, audited) anyone whose role does not do this work."""
        if actor.kind == "system" or (actor.kind == "user" and actor.role in roles):
            return
        self.audit(actor, what, [], outcome="4", description="role not allowed")
        raise ForbiddenError(f"Only {' or '.join(sorted(roles))} users may {what}")

    def audit(
        self,
        actor: Actor,
        what: str,
        patient_ids: Sequence[str],
        outcome: str = "0",
        description: str | None = None,
        connection: Any = None,
    ) -> None:
        """One ledger entry for a billing operation (resources it reads have their own)."""
        ids = sorted(set(patient_ids))
        event = audit_event(
            action="E",
            subtype="operation",
            outcome=outcome,
            actor=actor,
            patient_ids=ids,
            resource=f"Patient/{ids[0]}" if len(ids) == 1 else None,
            recorded=self.clock.now(),
            description=f"{what}: {description}" if description else what,
        )
        if connection is not None:
            self.ledger.append(
                connection, event, patient_ids=ids, agent=actor.name, action="E", outcome=outcome
            )
        else:
            self.ledger.append_now(
                event, patient_ids=ids, agent=actor.name, action="E", outcome=outcome
            )

    def today(self) -> date:
        """The billing day (the clock's date)."""
        return self.clock.now().date()

    # -- charges and claims -------------------------------------------------------------------

    def capture(self, actor: Actor, encounter_id: str) -> charge_capture.CaptureResult:
        """Turn an encounter's services into priced ChargeItems (idempotent)."""
        self.require(actor, CODING_ROLES, "capture charges")
        return charge_capture.capture_encounter(
            self.for_actor(actor), encounter_id, self.charge_master, self.today()
        )

    def build_claim(self, actor: Actor, encounter_id: str) -> claim_build.BuiltClaim:
        """A FHIR Claim for an encounter's charges and the patient's Coverage (not yet scrubbed)."""
        self.require(actor, CODING_ROLES, "build claims")
        return claim_build.build_claim_report(self.for_actor(actor), encounter_id, self.today())

    # -- scrubbing ----------------------------------------------------------------------------

    @property
    def scrubber(self) -> Scrubber:
        """The scrubber, built on first use (its context caches code sets per version)."""
        with self._lock:
            if self._scrubber is None:
                context = ScrubContext(
                    self.registry,
                    timely_filing=dict(self.config.timely_filing),
                    default_filing_days=self.config.timely_filing_days,
                    charge_ceiling=self.config.charge_ceiling,
                    duplicates=self.worklist,
                )
                self._scrubber = Scrubber(context)
            return self._scrubber

    def _scrub_claim(self, tx: ResourceTransaction, claim: dict[str, Any]) -> ScrubClaim:
        def resolve(reference: str) -> dict[str, Any] | None:
            """A relative ``Type/id`` of a claim party read through the guard; anything else
            resolves to nothing (an absolute URL, a malformed reference or another type leaves
            the fields it would fill empty, and the scrubber says which)."""
            found = RELATIVE_REFERENCE.fullmatch(reference)
            if found is None or found.group(1) not in CLAIM_PARTIES:
                return None
            stored = tx.read(found.group(1), found.group(2))
            return None if stored is None or stored.deleted else stored.resource()

        return to_scrub_claim(claim, resolve, self.today())

    def _stored_scrub(self, tx: ResourceTransaction, claim_id: str) -> ScrubClaim:
        """A stored Claim in the 837 model (404 when there is none)."""
        stored = tx.read("Claim", known_id("Claim", claim_id))
        if stored is None or stored.deleted:
            raise NotFoundError(f"Claim/{claim_id} is not known")
        return self._scrub_claim(tx, stored.resource())

    def scrub(self, actor: Actor, claim_id: str) -> Scrubbed:
        """Scrub a stored Claim and record the result in the worklist (held or clean)."""
        self.require(actor, BILLING_ROLES | CODING_ROLES, "scrub claims")
        with self.for_actor(actor).repository.reading() as tx:
            scrub = self._stored_scrub(tx, claim_id)
        issues = self.scrubber.scrub(scrub)
        status = self.worklist.record(claim_id, scrub, issues)
        self.audit(actor, f"claim scrubbed: {status}", [scrub.patient_key], description=claim_id)
        outcome = to_operation_outcome(issues, scrub.locations)
        return Scrubbed(claim_id, status, tuple(issues), outcome, scrub)

    def scrub_resource(self, actor: Actor, claim: Any) -> dict[str, Any]:
        """Scrub a Claim that is not stored (``POST Claim/$scrub``): nothing is recorded."""
        self.require(actor, BILLING_ROLES | CODING_ROLES, "scrub claims")
        if not isinstance(claim, dict) or claim.get("resourceType") != "Claim":
            raise InvalidError("$scrub needs a Claim resource", ("resourceType",))
        ctx = self.for_actor(actor)
        with ctx.repository.reading() as tx:
            scrub = self._scrub_claim(tx, claim)
        return to_operation_outcome(self.scrubber.scrub(scrub), scrub.locations)

    def scrub_many(self, actor: Actor, claim_ids: Iterable[str]) -> dict[str, int]:
        """Scrub several stored claims; how many ended held and clean."""
        counts = {"held": 0, "clean": 0}
        for claim_id in claim_ids:
            status = self.scrub(actor, claim_id).status
            counts[status] = counts.get(status, 0) + 1
        return counts

    def x12_preview(self, actor: Actor, claim_id: str) -> str:
        """One claim as an 837 (``GET Claim/{id}/$x12``), without consuming control numbers."""
        self.require(actor, BILLING_ROLES | CODING_ROLES, "see claims as X12")
        with self.for_actor(actor).repository.reading() as tx:
            scrub = self._stored_scrub(tx, claim_id)
        issues = [i for i in self.scrubber.scrub(scrub) if i.severity == "error"]
        if not is_clean(issues):
            first = issues[0]
            raise InvalidError(
                f"Claim/{claim_id} cannot be written as an 837 until it is fixed: "
                f"{first.message} ({first.rule})",
                (scrub.locations.get(first.location, first.location),),
            )
        return claim_batches.preview_x12(
            scrub, self.config.submitter, self.config.receiver, self.clock.now()
        )

    # -- worklist and batches -----------------------------------------------------------------

    def worklist_items(
        self, actor: Actor, status: str | None, limit: int = 50, offset: int = 0
    ) -> tuple[list[Any], int]:
        """A page of the claim worklist."""
        self.require(actor, BILLING_ROLES | CODING_ROLES, "see the claim worklist")
        return self.worklist.items(status, limit, offset)

    def release(self, actor: Actor, claim_ids: Sequence[str] | None = None) -> Any:
        """Release clean claims (all of them when ``claim_ids`` is None) as one 837 file."""
        self.require(actor, BILLING_ROLES, "release claims")
        unknown = [c for c in claim_ids or () if not is_valid_id(c)]
        if unknown:
            raise InvalidError(f"Not on the claim worklist: Claim/{unknown[0][:64]!r}", ("claims",))
        ctx = self.for_actor(actor)
        wanted = list(claim_ids) if claim_ids is not None else self.worklist.clean_ids()
        with ctx.repository.reading() as tx:  # one read transaction, the Claims fetched at once
            tx.prefetch([("Claim", claim_id) for claim_id in wanted])
            built = {claim_id: self._stored_scrub(tx, claim_id) for claim_id in wanted}

        def build(claim_id: str) -> ScrubClaim:
            if claim_id in built:
                return built[claim_id]
            with ctx.repository.reading() as tx:  # became clean since: read it alone
                return self._stored_scrub(tx, claim_id)

        def audited(connection: Any, patient_ids: Sequence[str]) -> None:
            self.audit(actor, "claims released as an 837", patient_ids, connection=connection)

        return claim_batches.release(
            self.engine,
            self.clock,
            self.worklist,
            claim_ids,
            build,
            self.config.submitter,
            self.config.receiver,
            on_released=audited,
        )

    def worklist_claim(self, actor: Actor, claim_id: str) -> Any:
        """One worklist row (404 when the claim was never scrubbed)."""
        self.require(actor, BILLING_ROLES | CODING_ROLES, "see the claim worklist")
        row = self.worklist.get(known_id("Claim", claim_id))
        if row is None:
            raise NotFoundError(f"Claim/{claim_id} is not on the worklist (scrub it first)")
        return row

    def claim_view(self, actor: Actor, claim_id: str) -> dict[str, Any]:
        """A claim's lines and diagnoses as the worklist page shows them."""
        self.require(actor, BILLING_ROLES | CODING_ROLES, "see claims")
        with self.for_actor(actor).repository.reading() as tx:
            claim = self._stored_scrub(tx, claim_id).claim
        lines = [
            {
                "date": (line.service_date or claim.statement_from or "").__str__(),
                "code": line.procedure_code or f"rev {line.revenue_code}",
                "modifiers": " ".join(line.modifiers),
                "units": f"{line.units.normalize():f}",
                "pointers": ", ".join(str(p) for p in line.diagnosis_pointers),
                "charge": f"${line.charge:,.2f}",
            }
            for line in claim.lines
        ]
        return {"lines": lines, "diagnoses": list(claim.diagnoses)}

    def batches(self, actor: Actor, limit: int = 50) -> list[claim_batches.Batch]:
        """Released 837 files, newest first."""
        self.require(actor, BILLING_ROLES, "see claim batches")
        return claim_batches.batches(self.engine, limit)

    def batch_x12(self, actor: Actor, batch_id: str) -> str:
        """One released 837 file, as sent."""
        self.require(actor, BILLING_ROLES, "see claim batches")
        text = claim_batches.batch_x12(self.engine, known_id("Batch", batch_id))
        patients = self.worklist.patients_of_batch(batch_id)
        self.audit(actor, "837 batch downloaded", patients, description=batch_id)
        return text

    # -- remittance ---------------------------------------------------------------------------

    def post_remittance(self, actor: Actor, text: str, source: str) -> PostingReport:
        """Post an 835: payments, adjustments and denials, all or nothing, audited."""
        self.require(actor, BILLING_ROLES, "post remittances")
        plain_text(source, "source")
        ctx = self.for_actor(actor)

        def claim_lines(controls: Sequence[str]) -> Mapping[str, Sequence[ServiceLine]]:
            """The billed lines of the claims the file answers, read through the guard."""
            ids = self.worklist.claim_ids_of(controls)
            lines: dict[str, Sequence[ServiceLine]] = {}
            with ctx.repository.reading() as tx:
                tx.prefetch([("Claim", claim_id) for claim_id in ids.values()])
                for control, claim_id in ids.items():
                    stored = tx.read("Claim", claim_id)
                    if stored is not None and not stored.deleted:
                        lines[control] = service_lines(stored.resource())[0]
            return lines

        def audited(connection: Any) -> Callable[[Sequence[str]], None]:
            return lambda ids: self.audit(
                actor, "835 remittance posted", ids, description=source, connection=connection
            )

        return self.poster.post(text, source, claim_lines=claim_lines, audit=audited)

    def remittances(self, actor: Actor, limit: int = 20) -> list[Any]:
        """The latest posted remittances."""
        self.require(actor, BILLING_ROLES, "see remittances")
        return self.poster.recent(limit)

    def denial_items(
        self, actor: Actor, state: str | None, limit: int = 50, offset: int = 0
    ) -> tuple[list[Denial], int]:
        """A page of the denial work queue."""
        self.require(actor, BILLING_ROLES, "see the denial queue")
        return self.denials.items(state, limit, offset)

    def work_denial(self, actor: Actor, denial_id: str, state: str, note: str) -> Denial:
        """Move a denial on (appealed, corrected, written off, resolved), with a note."""
        self.require(actor, BILLING_ROLES, "work denials")
        if not plain_text(note, "note").strip():
            raise InvalidError("Say what was done in a note", ("note",))
        before = self.denials.get(known_id("Denial", denial_id))
        after = self.denials.update(denial_id, state, note.strip(), actor.name)
        patients = [before.patient_id] if before.patient_id else []
        self.audit(actor, f"denial {before.state} -> {after.state}", patients)
        return after

    def explain_adjustment(self, group: str, reason: str, amount_cents: int) -> str:
        """What a denial means: X12's own description of the reason code when a CARC list is
        loaded (``codes load carc``), and always the plain words a statement would use."""
        plain = explain(Adjustment(group, reason, Decimal(amount_cents) / 100))
        official = self._carc_description(reason)
        return f"{official} — {plain}" if official else plain

    def _carc_description(self, reason: str) -> str:
        """The loaded CARC list's description of a reason code, remembered per version (a
        page of denials asks for the same few codes again and again)."""
        version = self.registry.version_on(CARC, self.today())
        if version is None:
            return ""
        key = (version.version, version.loaded_at, reason)
        if key not in self._carc:
            found = self.registry.lookup(CARC, reason, version.version)
            self._carc[key] = found.display if found is not None else ""
        return self._carc[key]

    # -- coding help --------------------------------------------------------------------------

    def suggest_codes(
        self, actor: Actor, text: str, on: str | None = None, count: int = 5
    ) -> list[dict[str, Any]]:
        """ICD-10-CM codes the text supports, with the words that support each."""
        self.require(actor, CODING_ROLES | BILLING_ROLES, "ask for code suggestions")
        found = suggest.suggest(text, self._icd10cm_index(on), limit=count)
        return [asdict(s) for s in found]

    def suggest_for_condition(
        self, actor: Actor, condition_id: str, on: str | None = None, count: int = 5
    ) -> list[dict[str, Any]]:
        """Codes for a stored Condition from its text, displays and notes (read as ``actor``);
        each piece of evidence names the element it was found in."""
        self.require(actor, CODING_ROLES, "ask for code suggestions on a Condition")
        ctx = self.for_actor(actor)
        with ctx.repository.reading() as tx:
            stored = tx.read("Condition", known_id("Condition", condition_id))
            if stored is None or stored.deleted:
                raise NotFoundError(f"Condition/{condition_id} is not known")
            condition = stored.resource()
        index = self._icd10cm_index(on)
        return [asdict(s) for s in suggest.suggest_for_condition(condition, index, limit=count)]

    def check_encounter_coding(self, actor: Actor, encounter_id: str) -> dict[str, Any]:
        """The coding checks (ICD-10-CM conventions, MCE edits) of an encounter's diagnoses,
        principal first, as an OperationOutcome pointing at each ``Encounter.diagnosis``."""
        self.require(actor, CODING_ROLES, "check an encounter's coding")
        ctx = self.for_actor(actor)
        with ctx.repository.reading() as tx:
            stored = tx.read("Encounter", known_id("Encounter", encounter_id))
            if stored is None or stored.deleted:
                raise NotFoundError(f"Encounter/{encounter_id} is not known")
            encounter = stored.resource()
            conditions = ranked_diagnoses(tx, encounter)
            patient = read_reference(tx, encounter.get("subject")) or {}
        day = service_day(encounter)
        diagnoses = [code_in(c.get("code"), systems.ICD10CM) or "" for c in conditions]
        coded = [code for code in diagnoses if code]
        born = parse_birth(patient.get("birthDate"))
        facts = PatientFacts(
            patient.get("gender") if patient.get("gender") in ("male", "female") else None,
            None if born is None else age_in_years(born, day),
        )
        findings = check_encounter(
            self.registry.on(ICD10CM, day),
            self.registry.on(MCE, day),
            coded,
            day,
            facts,
            inpatient=(encounter.get("class") or {}).get("code") == "IMP",
        )
        return coding_outcome(encounter, conditions, diagnoses, findings)

    def _icd10cm_index(self, on: str | None) -> Any:
        day = parse_day(on, "date") if on else self.today()
        version = self.registry.version_on(ICD10CM, day)
        if version is None:
            raise InvalidError(f"No ICD-10-CM version is loaded for {day.isoformat()}")
        return self.registry.index(version)

    def group_drg(self, actor: Actor, body: Any) -> dict[str, Any]:
        """MS-DRG and MCE edits for an inpatient stay given as JSON."""
        self.require(actor, CODING_ROLES | BILLING_ROLES, "group inpatient stays")
        return asdict(drg.group(drg_stay(body)))

    # -- statements ---------------------------------------------------------------------------

    def statement(self, actor: Actor, patient_id: str, form: str = "html") -> Any:
        """The patient's statement as ``html`` (str), ``pdf`` (bytes) or ``json`` (dict)."""
        activity = self.account(actor, patient_id)
        self.audit(actor, f"statement ({form})", [patient_id])
        if form == "pdf":
            return statement_pdf(activity, self.config.office)
        if form == "json":
            return _jsonable(asdict(activity)) | {"balance": str(activity.balance)}
        return statement_html(activity, self.config.office, css_href=self.config.statement_css)

    def account(self, actor: Actor, patient_id: str) -> AccountActivity:
        """What a statement for ``patient_id`` says, read as ``actor`` (patients: their own)."""
        if not (actor.kind == "user" and actor.role == "patient"):
            self.require(actor, STATEMENT_ROLES, "see patient statements")
        ctx = self.for_actor(actor)
        with ctx.repository.reading() as tx:
            stored = tx.read("Patient", patient_id)
            if stored is None or stored.deleted:
                raise NotFoundError(f"Patient/{patient_id} is not known")
            patient = stored.resource()
            rows = self.worklist.for_patient(patient_id)
            tx.prefetch([("Claim", row.claim_id) for row in rows])
            claims = []
            for row in rows:
                found = tx.read("Claim", row.claim_id)
                if found is not None and not found.deleted:
                    claims.append(found.resource())
        postings = remit_activity.postings_for_claims(self.engine, [r.claim_id for r in rows])
        return remit_activity.account_activity(patient, claims, postings, self.today())


def _jsonable(value: Any) -> Any:
    """Dates and Decimals as strings (a statement's JSON form)."""
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_jsonable(v) for v in value]
    if isinstance(value, date | Decimal):
        return str(value)
    return value
