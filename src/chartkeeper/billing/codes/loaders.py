"""Which parser reads a code file, and the version and dates a file name implies.

``chartkeeper codes load KIND [FILE]``: ICD-10-CM reads the tabular XML (shipped with the
product when FILE is omitted); HCPCS the ANWEB fixed-width file; ICD-10-PCS the order file or
the tables XML; CPT the licensee's own AMA descriptor file (it never ships). ``.xz`` and ``.gz``
files are read compressed.
"""

from __future__ import annotations

import gzip
import lzma
import re
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from chartkeeper.billing.codes import (
    cdm,
    cpt,
    hcpcs_anweb,
    icd10cm_tabular,
    icd10pcs_files,
    mce,
    ncci,
    policy,
    reasons,
)
from chartkeeper.billing.codes.model import (
    CARC,
    CDM,
    CPT,
    HCPCS,
    ICD10CM,
    ICD10PCS,
    LICENSED,
    LOADABLE,
    MCE,
    MUE_DME,
    MUE_OUTPATIENT,
    MUE_PRACTITIONER,
    POLICY,
    PTP_OUTPATIENT,
    PTP_PRACTITIONER,
    RARC,
    CodeEntry,
)
from chartkeeper.core.errors import InvalidError

MONTHS = {"JAN": "01", "APR": "04", "JUL": "07", "OCT": "10"}


@dataclass(frozen=True, slots=True)
class CodeFile:
    """What to load: the parsed entries, and the version and start date the file implies."""

    entries: Iterator[CodeEntry]
    source: str
    version: str | None
    effective_from: str | None


@contextmanager
def _open(path: Path) -> Iterator[IO[bytes]]:
    opener: Any = {".xz": lzma.open, ".gz": gzip.open}.get(path.suffix, open)
    with opener(path, "rb") as handle:
        yield handle


def _text_lines(handle: IO[bytes]) -> Iterator[str]:
    for raw in handle:
        yield raw.decode("latin-1")


def _hcpcs_version(name: str) -> tuple[str, str] | None:
    found = re.search(r"HCPC(20\d\d)_?(JAN|APR|JUL|OCT)", name, re.IGNORECASE)
    if found is None:
        return None
    year, month = found.group(1), MONTHS[found.group(2).upper()]
    return f"{year}-{month}", f"{year}-{month}-01"


def _pcs_version(name: str) -> tuple[str, str] | None:
    found = re.search(r"(20\d\d)", name)
    if found is None:
        return None
    year = int(found.group(1))
    return str(year), f"{year - 1}-10-01"


def _mce_version(name: str) -> tuple[str, str] | None:
    """``mce_v43_1_...``: version 43.1; its rows carry their own dates since ICD-10 began."""
    found = re.search(r"v(\d+)[_.](\d+)", name)
    return (f"{found.group(1)}.{found.group(2)}", "2015-10-01") if found else None


TextParser = Callable[[Iterable[str]], Iterator[CodeEntry]]
VersionGuess = Callable[[str], "tuple[str, str] | None"]

#: Kinds read from text lines (Latin-1, the encoding of CMS's text and CSV files; the CPT
#: parser re-reads a line as UTF-8 when it is).
_TEXT_PARSERS: dict[str, TextParser] = {
    HCPCS: hcpcs_anweb.parse_anweb,
    CPT: cpt.parse,
    MCE: mce.parse_master,
    PTP_PRACTITIONER: ncci.parse_ptp,
    PTP_OUTPATIENT: ncci.parse_ptp,
    MUE_PRACTITIONER: ncci.parse_mue,
    MUE_OUTPATIENT: ncci.parse_mue,
    MUE_DME: ncci.parse_mue,
    POLICY: policy.parse,
    CARC: reasons.parse_carc,
    RARC: reasons.parse_rarc,
    CDM: cdm.parse,
}

#: Version and start date implied by a file name, per kind.
_VERSION_GUESSES: dict[str, VersionGuess] = {
    ICD10CM: icd10cm_tabular.version_of_file,
    HCPCS: _hcpcs_version,
    ICD10PCS: _pcs_version,
    CPT: cpt.version_of_file,
    MCE: _mce_version,
    PTP_PRACTITIONER: ncci.ptp_version,
    PTP_OUTPATIENT: ncci.ptp_version,
    MUE_PRACTITIONER: ncci.mue_version,
    MUE_OUTPATIENT: ncci.mue_version,
    MUE_DME: ncci.mue_version,
    POLICY: policy.version_of_file,
    CARC: reasons.version_of_file,
    RARC: reasons.version_of_file,
    CDM: cdm.version_of_file,
}


def _entries(kind: str, path: Path) -> Iterator[CodeEntry]:
    with _open(path) as handle:
        if kind == ICD10CM:
            yield from icd10cm_tabular.parse_tabular(handle)
        elif kind in _TEXT_PARSERS:
            yield from _TEXT_PARSERS[kind](_text_lines(handle))
        elif ".xml" in path.name.lower():
            yield from icd10pcs_files.parse_tables(handle)
        else:
            yield from icd10pcs_files.parse_order_file(_text_lines(handle))


#: Code sets that ship with the product besides ICD-10-CM (public domain CMS files, see
#: data/SOURCES.md): kind → file under ``billing/codes/data``.
BUNDLED_FILES = {
    HCPCS: "HCPC2025_JAN_ANWEB_12172024.txt.xz",
    MCE: "mce_v43_1_icd10cm_dx_master.tsv.xz",
}
_DATA = Path(__file__).resolve().parent / "data"


def _bundled_icd10cm() -> Iterator[CodeEntry]:
    with icd10cm_tabular.bundled_tabular() as handle:
        yield from icd10cm_tabular.parse_tabular(handle)


def open_code_file(kind: str, path: Path | None) -> CodeFile:
    """The entries of ``path`` for ``kind``; None means the version shipped with chartkeeper
    (ICD-10-CM, HCPCS Level II, the MCE diagnosis edits)."""
    if kind not in LOADABLE:
        raise InvalidError(f"Unknown code set '{kind}'; expected one of {', '.join(LOADABLE)}")
    if path is None and kind in BUNDLED_FILES:
        path = _DATA / BUNDLED_FILES[kind]
    if path is None:
        if kind in LICENSED:
            raise InvalidError(LICENSED[kind])
        if kind != ICD10CM:
            raise InvalidError(f"{kind} does not ship with chartkeeper: give the CMS file")
        version, start = icd10cm_tabular.BUNDLED_VERSION
        source = f"simple-icd-10-cm:{icd10cm_tabular.BUNDLED_FILE}"
        return CodeFile(_bundled_icd10cm(), source, version, start)
    if not path.is_file():
        raise InvalidError(f"No such file: {path}")
    guess = _VERSION_GUESSES[kind](path.name)
    if guess is None:
        return CodeFile(_entries(kind, path), path.name, None, None)
    return CodeFile(_entries(kind, path), path.name, guess[0], guess[1])
