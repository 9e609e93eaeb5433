"""Which parser reads a code file, and the version and dates a file name implies.

``chartkeeper codes load KIND [FILE]``: ICD-10-CM reads the tabular XML (shipped with the
product when FILE is omitted); HCPCS the ANWEB fixed-width file; ICD-10-PCS the order file or
the tables XML. ``.xz`` and ``.gz`` files are read compressed.
"""

from __future__ import annotations

import gzip
import lzma
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from chartkeeper.billing.codes import hcpcs_anweb, icd10cm_tabular, icd10pcs_files, mce
from chartkeeper.billing.codes.model import HCPCS, ICD10CM, ICD10PCS, LOADABLE, MCE, CodeEntry
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


def _entries(kind: str, path: Path) -> Iterator[CodeEntry]:
    with _open(path) as handle:
        name = path.name.lower()
        if kind == ICD10CM:
            yield from icd10cm_tabular.parse_tabular(handle)
        elif kind == HCPCS:
            yield from hcpcs_anweb.parse_anweb(_text_lines(handle))
        elif kind == MCE:
            yield from mce.parse_master(_text_lines(handle))
        elif ".xml" in name:
            yield from icd10pcs_files.parse_tables(handle)
        else:
            yield from icd10pcs_files.parse_order_file(_text_lines(handle))


def _bundled_icd10cm() -> Iterator[CodeEntry]:
    with icd10cm_tabular.bundled_tabular() as handle:
        yield from icd10cm_tabular.parse_tabular(handle)


def open_code_file(kind: str, path: Path | None) -> CodeFile:
    """The entries of ``path`` (the shipped ICD-10-CM when None) for ``kind``."""
    if kind not in LOADABLE:
        raise InvalidError(f"Unknown code set '{kind}'; expected one of {', '.join(LOADABLE)}")
    if path is None:
        if kind != ICD10CM:
            raise InvalidError(f"{kind} does not ship with chartkeeper: give the CMS file")
        version, start = icd10cm_tabular.BUNDLED_VERSION
        source = f"simple-icd-10-cm:{icd10cm_tabular.BUNDLED_FILE}"
        return CodeFile(_bundled_icd10cm(), source, version, start)
    if not path.is_file():
        raise InvalidError(f"No such file: {path}")
    guess = {
        ICD10CM: icd10cm_tabular.version_of_file,
        HCPCS: _hcpcs_version,
        ICD10PCS: _pcs_version,
        MCE: _mce_version,
    }[kind](path.name)
    if guess is None:
        return CodeFile(_entries(kind, path), path.name, None, None)
    return CodeFile(_entries(kind, path), path.name, guess[0], guess[1])
