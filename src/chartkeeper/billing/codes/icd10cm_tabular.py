"""ICD-10-CM from the official CMS/NCHS tabular XML (``icd10cm-tabular-*.xml``).

https://www.cms.gov/medicare/coding-billing/icd-10-codes: chapters hold sections (blocks), which
hold nested ``diag`` elements. A ``diag`` without children is a billable leaf unless a 7th
character applies to it (``sevenChrDef`` on it or an ancestor); then the billable codes are the
leaf padded with the placeholder X to six characters plus each 7th character, as in the
official code list. The instructional notes (Excludes1/2, code first, use additional code, code
also, inclusion terms) are kept per code in ``extra``; they apply to every code below the one
that carries them, which the checks resolve through ``parent``.
"""

from __future__ import annotations

import importlib.util
import xml.etree.ElementTree as ET
from collections.abc import Iterator
from pathlib import Path
from typing import IO, Any

from chartkeeper.billing.codes.model import CodeEntry, normalise
from chartkeeper.core.errors import NotFoundError

#: The child elements whose notes are kept, under the names used in ``extra``.
NOTE_ELEMENTS = {
    "inclusionTerm": "inclusion",
    "includes": "includes",
    "excludes1": "excludes1",
    "excludes2": "excludes2",
    "codeFirst": "codeFirst",
    "useAdditionalCode": "useAdditional",
    "codeAlso": "codeAlso",
}

#: 7th characters a category's note withholds from some codes, which the tabular says only in
#: prose: category → (6th characters, 7th characters not allowed). S06: "7th characters D and S
#: do not apply to codes in category S06 with 6th character 7 ... or 8".
SEVENTH_EXCEPTIONS = {"S06": (("7", "8"), ("D", "S"))}

#: The tabular XML shipped inside simple-icd-10-cm (MIT; the data is US government work).
BUNDLED_PACKAGE = "simple_icd_10_cm.data"
BUNDLED_FILE = "icd10c-tabular-April-1-2026.xml"
#: FY2026 with the April 1, 2026 update: in force for discharges from April 1, 2026.
BUNDLED_VERSION = ("2026-04", "2026-04-01")


def bundled_tabular() -> IO[bytes]:
    """The ICD-10-CM tabular XML that ships with the product (via simple-icd-10-cm).

    Found through the package's spec rather than imported: importing simple_icd_10_cm parses
    the whole classification, seconds we do not need.
    """
    spec = importlib.util.find_spec(BUNDLED_PACKAGE.split(".", 1)[0])
    if spec is None or not spec.submodule_search_locations:
        raise NotFoundError("simple-icd-10-cm is not installed; give the tabular XML file")
    return (Path(spec.submodule_search_locations[0]) / "data" / BUNDLED_FILE).open("rb")


def _notes(element: ET.Element) -> dict[str, Any]:
    extra: dict[str, Any] = {}
    for tag, name in NOTE_ELEMENTS.items():
        notes = [n.text.strip() for c in element.findall(tag) for n in c.findall("note") if n.text]
        if notes:
            extra[name] = notes
    seven = element.find("sevenChrDef")
    if seven is not None:
        extra["seventh"] = {
            e.get("char", ""): (e.text or "").strip() for e in seven.findall("extension")
        }
    return extra


def _diag(element: ET.Element, parent: str, seventh: dict[str, str] | None) -> Iterator[CodeEntry]:
    code = normalise(element.findtext("name", ""))
    display = (element.findtext("desc") or "").strip()
    extra = {"parent": parent, **_notes(element)}
    seventh = extra.get("seventh", seventh)
    children = element.findall("diag")
    if children:
        yield CodeEntry(code, display, False, extra)
        for child in children:
            yield from _diag(child, code, seventh)
        return
    if not seventh:
        yield CodeEntry(code, display, True, extra)
        return
    extra["needsSeventh"] = seventh
    yield CodeEntry(code, display, False, extra)
    base = code.ljust(6, "X")
    sixth, withheld = SEVENTH_EXCEPTIONS.get(code[:3], ((), ()))
    for char, meaning in seventh.items():
        if base[5] in sixth and char in withheld:
            continue
        yield CodeEntry(base + char, f"{display}, {meaning}", True, {"parent": code})


def parse_tabular(source: Path | IO[bytes]) -> Iterator[CodeEntry]:
    """Every chapter, section, header and billable code of a tabular XML, parents first."""
    root = ET.parse(source).getroot()  # noqa: S314 - official CMS files, not untrusted input
    for chapter in root.findall("chapter"):
        number = chapter.findtext("name", "").strip()
        chapter_code = f"CH{number}"
        display = (chapter.findtext("desc") or "").strip()
        yield CodeEntry(chapter_code, display, False, {"level": "chapter", **_notes(chapter)})
        for section in chapter.findall("section"):
            section_code = section.get("id", "")
            if "-" not in section_code:  # a one-category block ("B10") is named like its category
                section_code = f"{section_code}-{section_code}"
            extra = {"level": "section", "parent": chapter_code, **_notes(section)}
            yield CodeEntry(section_code, (section.findtext("desc") or "").strip(), False, extra)
            for diag in section.findall("diag"):
                yield from _diag(diag, section_code, None)


def version_of_file(name: str) -> tuple[str, str] | None:
    """(version, effective from) guessed from an official file name, or None.

    The October release of fiscal year N is in force from October 1 of N-1; the April update
    (``April-1-2026`` in the name) from April 1.
    """
    import re

    year = re.search(r"(20\d\d)", name)
    if year is None:
        return None
    fiscal = int(year.group(1))
    if "april" in name.lower():
        return f"{fiscal}-04", f"{fiscal}-04-01"
    return f"{fiscal}", f"{fiscal - 1}-10-01"
