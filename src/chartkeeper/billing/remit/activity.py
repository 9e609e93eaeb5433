"""A patient's account activity (`account_model.AccountActivity`) from Claims and postings.

Pure except `postings_for_claims`, which reads the posting rows. A reversed posting and its
reversal cancel out and are left out, so a claim shows what the payer's latest answer says;
a claim with no standing posting is "awaiting insurance". Money in the posting rows is cents.
"""

from __future__ import annotations

import json
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from datetime import date
from decimal import Decimal
from typing import Any

from sqlalchemy import Engine, select

from chartkeeper.billing import systems
from chartkeeper.billing.account_model import (
    AccountActivity,
    Adjustment,
    ChargeLine,
    ClaimActivity,
)
from chartkeeper.store.billing_schema import billing_postings, billing_remittances

AWAITING = "awaiting insurance"
Json = dict[str, Any]
_CHUNK = 1000


def postings_for_claims(engine: Engine, claim_ids: Iterable[str]) -> dict[str, list[Json]]:
    """The posting rows of these claims, oldest first, each with its remittance's payer_name
    and payment_date."""
    ids = sorted(set(claim_ids))
    p, r = billing_postings.c, billing_remittances.c
    out: dict[str, list[Json]] = defaultdict(list)
    with engine.connect() as conn:
        for start in range(0, len(ids), _CHUNK):
            query = (
                select(billing_postings, r.payer_name, r.payment_date)
                .select_from(billing_postings.join(billing_remittances, r.remit_id == p.remit_id))
                .where(p.claim_id.in_(ids[start : start + _CHUNK]))
                .order_by(p.posted, p.posting_id)
            )
            for row in conn.execute(query).mappings():
                out[row["claim_id"]].append(dict(row))
    return dict(out)


def account_activity(
    patient: Json,
    claims: Sequence[Json],
    postings: Mapping[str, Sequence[Json]],
    statement_date: date,
    payer_names: Mapping[str, str] | None = None,
) -> AccountActivity:
    """The activity of ``patient`` (a Patient resource) over ``claims`` (Claim resources),
    ``postings`` by Claim id; ``payer_names`` by Claim id overrides the remittance's name."""
    activities = [
        _claim_activity(claim, postings.get(str(claim.get("id")), ()), payer_names or {})
        for claim in claims
    ]
    activities.sort(key=lambda a: (a.service_from, a.claim_id))
    return AccountActivity(
        patient_id=str(patient.get("id", "")),
        patient_name=_name(patient),
        address_lines=_address(patient),
        statement_date=statement_date,
        claims=tuple(activities),
    )


def standing_postings(rows: Sequence[Json]) -> list[Json]:
    """The postings still in force: reversals and the postings they reversed left out."""
    reversed_ids = {row["reverses"] for row in rows if row.get("reverses")}
    return [
        row
        for row in rows
        if row["posting_id"] not in reversed_ids and row.get("status_code") != "22"
    ]


def _claim_activity(
    claim: Json, rows: Sequence[Json], payer_names: Mapping[str, str]
) -> ClaimActivity:
    lines = tuple(_charge_line(item) for item in claim.get("item") or [])
    start, end = _period(claim, lines)
    standing = standing_postings(rows)
    details = [json.loads(row["detail"]) for row in standing]
    status = details[-1].get("status", "partial") if details else AWAITING
    return ClaimActivity(
        claim_id=_claim_number(claim),
        service_from=start,
        service_to=end,
        provider_name=str((claim.get("provider") or {}).get("display", "")),
        payer_name=_payer(claim, rows, payer_names),
        lines=lines,
        status=status,
        insurance_paid=Decimal(sum(int(row["paid_cents"]) for row in standing)) / 100,
        adjustments=tuple(a for detail in details for a in _adjustments(detail)),
    )


def _claim_number(claim: Json) -> str:
    for identifier in claim.get("identifier") or []:
        if identifier.get("system") == systems.CLAIM_NUMBER and identifier.get("value"):
            return str(identifier["value"])
    return str(claim.get("id", ""))


def _payer(claim: Json, rows: Sequence[Json], payer_names: Mapping[str, str]) -> str:
    named = payer_names.get(str(claim.get("id")))
    if named:
        return named
    if rows and rows[-1].get("payer_name"):
        return str(rows[-1]["payer_name"])
    for insurance in claim.get("insurance") or []:
        display = (insurance.get("coverage") or {}).get("display")
        if display:
            return str(display)
    return ""


def _charge_line(item: Json) -> ChargeLine:
    coding = ((item.get("productOrService") or {}).get("coding") or [{}])[0]
    text = (item.get("productOrService") or {}).get("text", "")
    units = (item.get("quantity") or {}).get("value", 1)
    return ChargeLine(
        service_date=_date(item.get("servicedDate")),
        code=str(coding.get("code", "")),
        description=str(coding.get("display") or text or ""),
        charge=Decimal(str((item.get("net") or {}).get("value", 0))),
        units=Decimal(str(units)),
    )


def _period(claim: Json, lines: Sequence[ChargeLine]) -> tuple[date, date]:
    period = claim.get("billablePeriod") or {}
    dates = [line.service_date for line in lines if line.service_date is not None]
    start = _date(period.get("start")) or (min(dates) if dates else None)
    end = _date(period.get("end")) or (max(dates) if dates else None) or start
    created = _date(claim.get("created")) or date.min
    return start or created, end or created


def _adjustments(detail: Json) -> Iterable[Adjustment]:
    """Claim-level CAS, then each billed line's (matched) or each SVC's (not matched)."""
    for item in detail.get("claim_adjustments", []):
        yield _adjustment(item, (), None)
    if detail.get("matches"):
        for match in detail["matches"]:
            for item in match["adjustments"]:
                yield _adjustment(item, tuple(item.get("remarks", ())), match["line"])
        return
    for service in detail.get("services", []):
        for item in service["adjustments"]:
            yield _adjustment(item, tuple(service.get("remarks", ())), None)


def _adjustment(item: Json, remarks: tuple[str, ...], line: int | None) -> Adjustment:
    amount = Decimal(int(item["amount"])) / 100
    return Adjustment(item["group"], item["reason"], amount, remarks, line)


def _date(value: Any) -> date | None:
    if not value:
        return None
    try:
        return date.fromisoformat(str(value)[:10])
    except ValueError:
        return None


def _name(patient: Json) -> str:
    names = patient.get("name") or [{}]
    official = next((n for n in names if n.get("use") == "official"), names[0])
    given = " ".join(official.get("given") or [])
    return " ".join(part for part in (given, official.get("family", "")) if part)


def _address(patient: Json) -> tuple[str, ...]:
    addresses = patient.get("address") or []
    if not addresses:
        return ()
    address = addresses[0]
    city = ", ".join(p for p in (address.get("city"), address.get("state")) if p)
    last = " ".join(p for p in (city, address.get("postalCode")) if p)
    return (*(str(line) for line in address.get("line") or []), *([last] if last else ()))
