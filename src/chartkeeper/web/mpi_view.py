"""Shape MPI data for the workbench pages: chart cards, the waterfall, masked identifiers.

Pure functions over plain dicts, so the templates stay free of FHIR digging and the rules that
protect patients (designated identifiers shown masked but for the last 4) live in one place.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from chartkeeper.mpi.merge import hard_identifiers
from chartkeeper.web.chart_view import concept_text

#: How the matching library's field keys read on screen (others are de-snaked).
FIELD_LABELS = {
    "prior": "Prior odds (before comparing)",
    "given_name": "Given name",
    "family_name": "Family name",
    "birth_date": "Birth date",
    "ssn": "SSN",
    "dl": "Driver's licence",
    "mrn": "MRN",
    "address_number": "House number",
    "address_other": "Address (other)",
    "postal_code": "Postal code",
}
#: v2 identifier type codes as words.
IDENTIFIER_TYPES = {"MR": "MRN", "SS": "SSN", "DL": "Driver's licence", "PPN": "Passport"}
#: Half the width of the waterfall's bar area (SVG user units); zero weight sits in the middle.
BAR_HALF = 100.0


@dataclass(frozen=True)
class Identifier:
    """One identifier as shown: what it is, and its value (masked when designated)."""

    label: str
    value: str
    masked: bool


@dataclass
class ChartCard:
    """One side of the side-by-side view."""

    id: str
    found: bool
    names: list[str] = field(default_factory=list)
    birth_date: str = ""
    sex: str = ""
    addresses: list[str] = field(default_factory=list)
    phones: list[str] = field(default_factory=list)
    identifiers: list[Identifier] = field(default_factory=list)
    counts: list[tuple[str, int]] = field(default_factory=list)
    total: int = 0
    encounter_type: str = ""
    encounter_date: str = ""
    active: bool = True
    merged_into: str = ""


@dataclass(frozen=True)
class Step:
    """One row of the waterfall, with its bar's geometry (x and width in SVG units)."""

    field: str
    level: str
    label: str
    weight: float
    tf_adjusted: bool
    bar_x: float
    bar_width: float

    @property
    def direction(self) -> str:
        """'for', 'against' or 'none': the bar's meaning in words (never colour alone)."""
        if self.weight > 0.005:
            return "for"
        return "against" if self.weight < -0.005 else "none"


def when(micros: int | None) -> str:
    """A stored timestamp (microseconds since the epoch) as 'YYYY-MM-DD HH:MM UTC'."""
    if micros is None:
        return ""
    return datetime.fromtimestamp(micros / 1_000_000, UTC).strftime("%Y-%m-%d %H:%M UTC")


def mask(value: str) -> str:
    """Every letter and digit but the last 4 as '•', separators kept: •••-••-6789."""
    keep = sum(ch.isalnum() for ch in value) - 4
    shown = []
    for ch in value:
        if ch.isalnum() and keep > 0:
            keep -= 1
            shown.append("•")
        else:
            shown.append(ch)
    return "".join(shown)


def full_name(name: dict[str, Any]) -> str:
    """'Family, Given Middle' of one HumanName, with its use when not the usual one."""
    given = " ".join(str(g) for g in name.get("given") or [])
    family = str(name.get("family") or "")
    text = ", ".join(part for part in (family, given) if part) or str(name.get("text") or "")
    use = name.get("use")
    return f"{text} ({use})" if use and use not in ("official", "usual") and text else text


def identifier(item: dict[str, Any]) -> Identifier:
    """An identifier as shown; SSNs and driver's licences masked but for the last 4."""
    value = str(item.get("value") or "")
    hard = next(iter(hard_identifiers({"identifier": [item]})), None)
    if hard is not None:
        return Identifier(hard[0].upper() + hard[1:], mask(value), True)
    kind = item.get("type") or {}
    codes = [c.get("code") for c in kind.get("coding") or [] if isinstance(c, dict)]
    label = (
        kind.get("text")
        or next((IDENTIFIER_TYPES[c] for c in codes if c in IDENTIFIER_TYPES), None)
        or concept_text(kind)
        or str(item.get("system") or "Identifier")
    )
    return Identifier(str(label), value, False)


def _address(address: dict[str, Any]) -> str:
    parts = [*(str(line) for line in address.get("line") or [])]
    parts += [str(address[k]) for k in ("city", "state", "postalCode") if address.get(k)]
    return ", ".join(parts) or str(address.get("text") or "")


def _merged_into(patient: dict[str, Any]) -> str:
    for link in patient.get("link") or []:
        if link.get("type") == "replaced-by":
            return str((link.get("other") or {}).get("reference") or "")
    return ""


def chart_card(chart: dict[str, Any]) -> ChartCard:
    """A side of ``MasterPatientIndex.side_by_side`` as the page shows it."""
    patient = chart.get("patient")
    counts = sorted((chart.get("counts") or {}).items(), key=lambda item: (-item[1], item[0]))
    card = ChartCard(str(chart["id"]), patient is not None, counts=counts)
    card.total = sum(n for _, n in counts)
    if patient is None:
        return card
    card.names = [full_name(n) for n in patient.get("name") or [] if isinstance(n, dict)]
    card.birth_date = str(patient.get("birthDate") or "")
    card.sex = str(patient.get("gender") or "")
    card.addresses = [_address(a) for a in patient.get("address") or [] if isinstance(a, dict)]
    card.phones = [
        str(t.get("value"))
        for t in patient.get("telecom") or []
        if isinstance(t, dict) and t.get("system") == "phone" and t.get("value")
    ]
    card.identifiers = [
        identifier(i) for i in patient.get("identifier") or [] if isinstance(i, dict)
    ]
    card.active = patient.get("active") is not False
    card.merged_into = _merged_into(patient)
    encounter = chart.get("latest_encounter")
    if isinstance(encounter, dict):
        kinds = encounter.get("type") or []
        card.encounter_type = concept_text(kinds[0]) if kinds else ""
        card.encounter_type = card.encounter_type or str(
            (encounter.get("class") or {}).get("display")
            or (encounter.get("class") or {}).get("code")
            or "encounter"
        )
        card.encounter_date = str((encounter.get("period") or {}).get("start") or "")[:10]
    return card


def _number(value: Any) -> float:
    try:
        return float(value)
    except (TypeError, ValueError):
        return 0.0


def waterfall(explanation: list[dict[str, Any]]) -> list[Step]:
    """The explanation's rows with bars scaled to the largest weight, whatever keys the
    matching library adds (only ``field``, ``level``, ``label`` and ``weight`` are read)."""
    rows = [row for row in explanation if isinstance(row, dict)]
    largest = max((abs(_number(row.get("weight"))) for row in rows), default=0.0) or 1.0
    steps: list[Step] = []
    for row in rows:
        weight = _number(row.get("weight"))
        width = round(abs(weight) / largest * BAR_HALF, 1)
        key = str(row.get("field") or "")
        steps.append(
            Step(
                field=FIELD_LABELS.get(key, key.replace("_", " ").capitalize()),
                level=str(row.get("level") or ""),
                label=str(row.get("label") or row.get("level") or ""),
                weight=weight,
                tf_adjusted=bool(row.get("tf_adjusted")),
                bar_x=BAR_HALF if weight >= 0 else BAR_HALF - width,
                bar_width=width,
            )
        )
    return steps


def differences(left: ChartCard, right: ChartCard) -> set[str]:
    """Which demographics differ between the two charts (marked on the page in words)."""
    differ: set[str] = set()
    if left.birth_date and right.birth_date and left.birth_date != right.birth_date:
        differ.add("birth_date")
    if left.sex and right.sex and left.sex != right.sex:
        differ.add("sex")
    return differ
