"""The demo hospital's billing: code sets, charges, claims (some wrong on purpose), a released
837, and remittances from a simulated payer, all through the same services a biller uses.

What the demo shows a newcomer: the worklist holds the claims the scrubber stopped, each with
the rule it broke and how to fix it (a header diagnosis code, a code that does not exist, a
diagnosis pointer to nothing, a zero charge, a duplicate bill, a claim filed too late); the
clean ones leave in one 837 file; the simulated payer pays most, denies some (CO-50), and the
denials land in the denial queue; patients get statements.
"""

from __future__ import annotations

import copy
from collections import Counter, defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Any

from chartkeeper.app import Services
from chartkeeper.billing import systems
from chartkeeper.billing.charges import demo_cdm_path
from chartkeeper.billing.charges.control import control_number_for
from chartkeeper.billing.claims.lines import service_lines
from chartkeeper.billing.codes.loaders import open_code_file
from chartkeeper.billing.codes.model import CDM, HCPCS, ICD10CM, MCE
from chartkeeper.billing.remit import simulate
from chartkeeper.billing.x12.envelope import Envelope, SequentialControlNumbers
from chartkeeper.billing.x12.write835 import write_835
from chartkeeper.core.errors import ChartkeeperError
from chartkeeper.core.ids import new_id
from chartkeeper.fhir.interactions import create, update
from chartkeeper.fhir.interactions.search import run_search
from chartkeeper.fhir.search_parser import parse_search
from chartkeeper.privacy.actor import SYSTEM

#: How far back the demo bills finished encounters, and at most how many.
BILLING_WINDOW_DAYS = 120
MAX_ENCOUNTERS = 150
#: The simulated payer's answers, in turn, for released claims: the second is denied, so even a
#: small demo has a denial to work.
PAYER_OUTCOMES = ("paid", "denied", "paid", "partial", "paid", "paid")

Echo = Callable[[str], None]


@dataclass
class DemoBilling:
    """What the demo's billing run did."""

    claims: int = 0
    not_billed: Counter[str] = field(default_factory=Counter)
    statuses: Counter[str] = field(default_factory=Counter)
    broken: list[str] = field(default_factory=list)
    released: int = 0
    posted: int = 0
    denials: int = 0


def _ensure_code_sets(services: Services) -> None:
    """The shipped code sets (ICD-10-CM, HCPCS, MCE) and the demo charge master, once."""
    registry = services.codes
    loaded = {v.kind for v in registry.versions()}
    for kind, path in ((ICD10CM, None), (HCPCS, None), (MCE, None), (CDM, demo_cdm_path())):
        if kind in loaded:
            continue
        found = open_code_file(kind, path)
        start = date.fromisoformat(found.effective_from or "2020-01-01")
        registry.load(kind, found.entries, found.version or "demo", (start, None), found.source)


def _encounters(services: Services, since: date) -> list[dict[str, Any]]:
    request = parse_search(
        "Encounter",
        [
            ("status", "finished"),
            ("date", f"ge{since.isoformat()}"),
            ("_sort", "date"),
            ("_count", str(MAX_ENCOUNTERS)),
        ],
    )
    return [stored.resource() for stored in run_search(services.fhir, request).matches]


def _late_encounter(services: Services, before: date) -> dict[str, Any] | None:
    request = parse_search(
        "Encounter",
        [("status", "finished"), ("date", f"lt{before.isoformat()}"), ("_sort", "-date")],
    )
    page = run_search(services.fhir, request)
    return page.matches[0].resource() if page.matches else None


def _build(services: Services, encounter_id: str, result: DemoBilling) -> str | None:
    billing = services.billing
    try:
        billing.capture(SYSTEM, encounter_id)
        return str(billing.build_claim(SYSTEM, encounter_id).claim["id"])
    except ChartkeeperError as refused:
        result.not_billed[refused.message.split(":")[0][:60]] += 1
        return None


def _break(services: Services, claim_ids: list[str], result: DemoBilling) -> list[str]:
    """Make a few claims wrong the way real ones go wrong (the scrubber must stop each): every
    other claim from the second, so at least half stay clean; the twin's id is returned."""
    ctx = services.fhir
    candidates = iter(claim_ids[1::2])
    for label, mistake, professional_only in MISTAKES:
        for claim_id in candidates:
            claim = copy.deepcopy(_read(services, "Claim", claim_id))
            if professional_only and not _is_professional(claim):
                continue  # an 837I has no diagnosis pointers to get wrong
            mistake(claim)
            update.update(ctx, "Claim", claim_id, claim)
            result.broken.append(f"Claim/{claim_id}: {label}")
            break
    if not claim_ids:
        return []
    twin = copy.deepcopy(_read(services, "Claim", claim_ids[0]))
    twin_id = new_id()
    twin["identifier"] = [{"system": systems.CLAIM_NUMBER, "value": control_number_for(twin_id)}]
    twin.pop("meta", None)
    with ctx.repository.transaction() as tx:
        stored, _ = create.create_in(ctx, tx, "Claim", twin, assigned_id=twin_id)
    result.broken.append(f"Claim/{stored.id}: the same bill as Claim/{claim_ids[0]} again")
    return [stored.id]


def _is_professional(claim: dict[str, Any]) -> bool:
    codes = {c.get("code") for c in claim.get("type", {}).get("coding", [])}
    return "institutional" not in codes


def _read(services: Services, resource_type: str, resource_id: str) -> dict[str, Any]:
    with services.fhir.repository.reading() as tx:
        stored = tx.read(resource_type, resource_id)
    if stored is None or stored.deleted:
        raise ChartkeeperError(f"{resource_type}/{resource_id} vanished during the demo load")
    return stored.resource()


def _header_code(claim: dict[str, Any]) -> None:
    claim["diagnosis"][0]["diagnosisCodeableConcept"]["coding"][0]["code"] = "E11"


def _unknown_code(claim: dict[str, Any]) -> None:
    claim["diagnosis"][-1]["diagnosisCodeableConcept"]["coding"][0]["code"] = "Z99.999"


def _bad_pointer(claim: dict[str, Any]) -> None:
    claim["item"][0]["diagnosisSequence"] = [9]


def _zero_charge(claim: dict[str, Any]) -> None:
    claim["item"][0]["unitPrice"] = {"value": 0, "currency": "USD"}
    claim["item"][0]["net"] = {"value": 0, "currency": "USD"}
    claim["total"] = {
        "value": sum(float(i.get("net", {}).get("value", 0)) for i in claim["item"]),
        "currency": "USD",
    }


#: The deliberate mistakes: what the worklist says, how to make it, professional claims only.
MISTAKES: tuple[tuple[str, Callable[[dict[str, Any]], None], bool], ...] = (
    ("header diagnosis code (E11, not billable)", _header_code, False),
    ("diagnosis code that does not exist (Z99.999)", _unknown_code, False),
    ("diagnosis pointer to nothing", _bad_pointer, True),
    ("zero charge on a line", _zero_charge, False),
)


def _pay(services: Services, batch_id: str, today: date, result: DemoBilling) -> None:
    """The simulated payer answers every claim of the batch, one 835 per payer."""
    billing = services.billing
    rows, _ = billing.worklist.items("released", 10_000, 0, batch_id=batch_id)
    by_payer: dict[str, list[Any]] = defaultdict(list)
    names: dict[str, str] = {}  # payer id → name, and the hospital's name: from the claims
    for number, row in enumerate(rows):
        claim = _read(services, "Claim", row.claim_id)
        names[row.payer_id] = str((claim.get("insurer") or {}).get("display") or row.payer_id)
        names[row.billing_npi] = str((claim.get("provider") or {}).get("display") or "")
        lines = service_lines(claim)[0]
        outcome = PAYER_OUTCOMES[number % len(PAYER_OUTCOMES)]
        payment = simulate.adjudicate(row.control_number, lines, outcome, f"PCN{number:08d}")
        by_payer[row.payer_id].append(payment)
    for number, (payer_id, payments) in enumerate(sorted(by_payer.items())):
        remittance = simulate.remittance(
            payments,
            f"DEMO{today:%Y%m%d}{number:03d}",
            today,
            payer=(names[payer_id].upper(), payer_id),
            payee=(
                str((claim.get("provider") or {}).get("display", "")).upper(),
                rows[0].billing_npi,
            ),
        )
        envelope = Envelope(payer_id, services.settings.billing_submitter_id, billing.clock.now())
        text = write_835([remittance], SequentialControlNumbers(), envelope)
        report = billing.post_remittance(SYSTEM, text, f"demo-{payer_id}.835")
        result.posted += report.claims_matched
        result.denials += report.denials_created


def bill_demo(services: Services, echo: Echo) -> DemoBilling:
    """Bill the demo hospital's recent encounters, break a few claims, send, get paid."""
    result = DemoBilling()
    _ensure_code_sets(services)
    billing = services.billing
    today = billing.today()
    encounters = _encounters(services, today - timedelta(days=BILLING_WINDOW_DAYS))
    recent = [c for e in encounters if (c := _build(services, str(e["id"]), result))]
    late = _late_encounter(services, today - timedelta(days=400))
    late_claim = _build(services, str(late["id"]), result) if late else None
    claim_ids = [*recent, *_break(services, recent, result)]
    if late_claim:
        claim_ids.append(late_claim)
        result.broken.append(f"Claim/{late_claim}: filed long after the date of service")
    for claim_id in claim_ids:
        result.statuses[billing.scrub(SYSTEM, claim_id).status] += 1
    result.claims = len(claim_ids)
    if result.broken:
        echo("Claims made wrong on purpose, for the scrubber to hold:")
        for line in result.broken:
            echo(f"  {line}")
    if result.statuses.get("clean"):
        batch = billing.release(SYSTEM)
        result.released = batch.claim_count
        _pay(services, batch.batch_id, today, result)
    return result
