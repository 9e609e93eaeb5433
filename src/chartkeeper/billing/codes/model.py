"""The shape of a code set in memory: kinds, their FHIR system URIs, one code, one loaded set."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date
from typing import Any

ICD10CM = "icd10cm"
ICD10PCS = "icd10pcs"
HCPCS = "hcpcs"
#: CPT (HCPCS Level I): licensed by the AMA, never shipped; a licensee loads its own file.
CPT = "cpt"

#: Kind → FHIR code system URI (http://hl7.org/fhir/R4/terminologies-systems.html).
SYSTEMS = {
    ICD10CM: "http://hl7.org/fhir/sid/icd-10-cm",
    ICD10PCS: "http://www.cms.gov/Medicare/Coding/ICD10",
    HCPCS: "http://www.cms.gov/Medicare/Coding/HCPCSReleaseCodeSets",
    CPT: "http://www.ama-assn.org/go/cpt",
}
KINDS = tuple(SYSTEMS)
#: The MCE edit lists: loaded and dated like a code set, but not a FHIR code system.
MCE = "mce"
#: Edit and reference tables, loaded and dated like code sets but not FHIR code systems:
#: NCCI procedure-to-procedure edits (practitioner, outpatient hospital), MUE unit limits
#: (practitioner, outpatient hospital, DME supplier), coverage policies (medical necessity),
#: claim adjustment reason and remittance remark codes, and the charge description master.
PTP_PRACTITIONER = "ptp-prac"
PTP_OUTPATIENT = "ptp-opps"
MUE_PRACTITIONER = "mue-prac"
MUE_OUTPATIENT = "mue-opps"
MUE_DME = "mue-dme"
POLICY = "policy"
CARC = "carc"
RARC = "rarc"
CDM = "cdm"
TABLES = (
    MCE,
    PTP_PRACTITIONER,
    PTP_OUTPATIENT,
    MUE_PRACTITIONER,
    MUE_OUTPATIENT,
    MUE_DME,
    POLICY,
    CARC,
    RARC,
    CDM,
)
LOADABLE = (*KINDS, *TABLES)
KIND_OF_SYSTEM = {uri: kind for kind, uri in SYSTEMS.items()}

#: Code systems that cannot ship with the product and cannot be loaded either, by URI: requests
#: for them are answered with this explanation instead of an "unknown system".
UNSHIPPABLE: dict[str, str] = {}
#: Licensed kinds that never ship but a licensee may load: while no version of one is loaded,
#: requests for it are answered with this explanation.
LICENSED = {
    CPT: (
        "CPT (HCPCS Level I) is licensed by the AMA and not included in chartkeeper; "
        "load your licensed file with `chartkeeper codes load cpt FILE`"
    ),
}


@dataclass(frozen=True, slots=True)
class CodeEntry:
    """One code of a code set; ``billable`` is False for headers (categories, sections)."""

    code: str
    display: str
    billable: bool
    extra: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True, slots=True)
class CodeSetVersion:
    """One load of a code set: what is valid from ``effective_from`` to ``effective_to``
    (inclusive; None means until a later version takes over)."""

    kind: str
    version: str
    effective_from: date
    effective_to: date | None
    loaded_at: int
    source: str
    count: int

    def covers(self, day: date) -> bool:
        """True when this version is in force on ``day``."""
        return self.effective_from <= day and (
            self.effective_to is None or day <= self.effective_to
        )


def normalise(code: str) -> str:
    """A code as stored: upper case, without the dot and surrounding blanks."""
    return code.strip().upper().replace(".", "")


def dotted(kind: str, code: str) -> str:
    """ICD-10-CM codes as written (``S72.001A``); other kinds have no dot."""
    if kind == ICD10CM and len(code) > 3 and "-" not in code and code[0].isalpha():
        return f"{code[:3]}.{code[3:]}"
    return code
