"""CPT (HCPCS Level I) from a licensee's own AMA data file.

CPT is licensed by the AMA and never ships with chartkeeper; a site that licenses it loads the
descriptor file it receives (``chartkeeper codes load cpt FILE``). Two layouts are read:

* the AMA's tab-delimited descriptor files (``LONGULT.txt``, ``MEDU.txt``, ``SHORTU.txt``, the
  consumer descriptors): one record per line, ``CODE<TAB>DESCRIPTOR``, optionally after one
  header line;
* a CSV (or a tab-delimited file) whose header names a code column (``code``, ``cpt code``) and a
  descriptor column (``long descriptor``, ``descriptor``, ``long description``,
  ``description``; case, blanks and underscores do not matter); other columns are ignored.

Lines are UTF-8 or Latin-1 (Windows-1252 punctuation is read as such). A code is five
characters: five digits (Category I), or four digits and ``F`` (Category II), ``T`` (Category
III), ``U`` (Proprietary Laboratory Analyses) or ``M`` (multianalyte assays), all of which the
AMA's files carry. A line in neither layout is refused with its number. The file has no dates:
a version is the year's release (``version_of_file``) and a code is valid in the versions
that list it.
"""

from __future__ import annotations

import csv
import itertools
import re
from collections.abc import Iterable, Iterator

from chartkeeper.billing.codes.model import CodeEntry
from chartkeeper.core.errors import InvalidError

CODE = re.compile(r"^[0-9]{4}[0-9FTUM]$")
CATEGORIES = {"F": "II", "T": "III", "U": "PLA", "M": "MAAA"}
#: Header names of the code column, and of the descriptor column by preference.
CODE_COLUMNS = ("cpt code", "code", "cpt", "cpt codes")
DESCRIPTOR_COLUMNS = ("long descriptor", "descriptor", "long description", "description")
_CODE_RULE = "5 digits, or 4 digits and F, T, U or M"


def _bad(number: int, why: str) -> InvalidError:
    return InvalidError(f"Line {number} {why}", (f"line {number}",))


def _text(line: str) -> str:
    """A line read as Latin-1 (the loader's decoding) as the UTF-8 or Windows-1252 it was."""
    try:
        raw = line.encode("latin-1")
    except UnicodeEncodeError:
        return line  # already decoded as something else
    for encoding in ("utf-8", "cp1252"):
        try:
            return raw.decode(encoding)
        except UnicodeDecodeError:
            continue
    return line


def _column_name(text: str) -> str:
    return " ".join(text.strip().lstrip("\ufeff").lower().replace("_", " ").split())


def _columns(fields: list[str]) -> tuple[int, int] | None:
    """(code column, descriptor column) when ``fields`` is a header naming both."""
    names = [_column_name(f) for f in fields]
    code = next((names.index(n) for n in CODE_COLUMNS if n in names), None)
    descriptor = next((names.index(n) for n in DESCRIPTOR_COLUMNS if n in names), None)
    return None if code is None or descriptor is None else (code, descriptor)


def is_code(code: str) -> bool:
    """True for a code of CPT's shape (``99999``, ``9999F``, ``9999T``, ``9999U``, ``9999M``)."""
    return CODE.match(code) is not None


def _entry(number: int, code: str, descriptor: str) -> CodeEntry:
    code = code.strip().upper()
    descriptor = descriptor.strip()
    if not is_code(code):
        raise _bad(number, f"has no CPT code ({_CODE_RULE}): '{code[:20]}'")
    if not descriptor:
        raise _bad(number, f"has no descriptor for {code}")
    return CodeEntry(code, descriptor, True, {"category": CATEGORIES.get(code[4], "I")})


def _numbered(lines: Iterable[str]) -> Iterator[tuple[int, str]]:
    for number, raw in enumerate(lines, start=1):
        line = _text(raw).rstrip("\r\n")
        if number == 1:
            line = line.lstrip("\ufeff")
        yield number, line


def _tab_records(
    rest: Iterator[tuple[int, str]], columns: tuple[int, int] | None
) -> Iterator[CodeEntry]:
    width = 2 if columns is None else max(columns) + 1
    code_at, descriptor_at = columns or (0, 1)
    for number, line in rest:
        if not line.strip():
            continue
        fields = line.split("\t")
        if columns is None:
            while len(fields) > 2 and not fields[-1].strip():
                fields.pop()  # trailing tabs
            if len(fields) != 2:
                raise _bad(number, "is not a CPT record (CODE<TAB>DESCRIPTOR)")
        elif len(fields) < width:
            raise _bad(number, f"has {len(fields)} fields; the header names {width}")
        yield _entry(number, fields[code_at], fields[descriptor_at])


def _csv_records(first: tuple[int, str], rest: Iterator[tuple[int, str]]) -> Iterator[CodeEntry]:
    start = first[0]
    reader = csv.reader(line for _, line in [first, *rest])
    header = next(reader)
    columns = _columns(header)
    if columns is None:
        raise _bad(start, "is not a CSV header with a code and a descriptor column")
    code_at, descriptor_at = columns
    while True:
        try:
            record = next(reader)
        except StopIteration:
            return
        except csv.Error as error:
            raise _bad(start - 1 + reader.line_num, f"is not valid CSV ({error})") from error
        number = start - 1 + reader.line_num
        if not any(f.strip() for f in record):
            continue
        if len(record) <= max(columns):
            raise _bad(number, f"has {len(record)} fields; the header names {max(columns) + 1}")
        yield _entry(number, record[code_at], record[descriptor_at])


def parse(lines: Iterable[str]) -> Iterator[CodeEntry]:
    """The codes and descriptors of a CPT data file (tab-delimited, or CSV with a header)."""
    numbered = _numbered(lines)
    first = next(((n, line) for n, line in numbered if line.strip()), None)
    if first is None:
        return
    number, line = first
    if "\t" in line:
        fields = line.split("\t")
        if is_code(fields[0].strip().upper()):
            yield from _tab_records(itertools.chain([first], numbered), None)
        else:
            yield from _tab_records(numbered, _columns(fields))  # a header line
        return
    if _columns(next(csv.reader([line]))) is not None:
        yield from _csv_records(first, numbered)
        return
    why = "is not a CPT record (CODE<TAB>DESCRIPTOR) nor a CSV header naming code and descriptor"
    raise _bad(number, why)


def version_of_file(name: str) -> tuple[str, str] | None:
    """A year in the file name (``cpt_2026_LONGULT.txt``) is that year's release, in force from
    January 1; any other name needs ``--version`` and ``--effective-from``."""
    found = re.search(r"(?<![0-9])((?:19|20)[0-9]{2})(?![0-9])", name)
    if found is None:
        return None
    year = found.group(1)
    return year, f"{year}-01-01"
