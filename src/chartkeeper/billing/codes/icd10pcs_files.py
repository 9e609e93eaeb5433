"""ICD-10-PCS from the official CMS files: the order file and the code tables XML.

https://www.cms.gov/medicare/coding-billing/icd-10-codes. The order file
(``icd10pcs_order_YYYY.txt``) is fixed-width: order number (1-5), code (7-13), 1 for a valid
code or 0 for a header (15), short title (17-76), long title (78-). The tables XML
(``icd10pcs_tables_YYYY.xml``) lists per table rows whose four axes' labels combine: every code
of a row is the table's three characters followed by one label of each axis.
"""

from __future__ import annotations

import itertools
import xml.etree.ElementTree as ET
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import IO

from chartkeeper.billing.codes.model import CodeEntry
from chartkeeper.core.errors import InvalidError


def parse_order_file(lines: Iterable[str]) -> Iterator[CodeEntry]:
    """Codes of an order file; headers (flag 0) are kept as non-billable."""
    for number, raw in enumerate(lines, start=1):
        line = raw.rstrip("\r\n")
        if not line.strip():
            continue
        if len(line) < 17 or line[5] != " " or line[14] not in "01":
            raise InvalidError(f"Line {number} is not an order-file record", (f"line {number}",))
        code = line[6:13].strip()
        short = line[16:76].strip()
        long = line[77:].strip() or short
        yield CodeEntry(code, long, line[14] == "1", {"shortDescription": short})


def _labels(axis: ET.Element) -> list[tuple[str, str]]:
    return [(label.get("code", ""), (label.text or "").strip()) for label in axis.findall("label")]


def parse_tables(source: Path | IO[bytes]) -> Iterator[CodeEntry]:
    """The valid codes of a tables XML, each titled by its seven axis labels."""
    root = ET.parse(source).getroot()  # noqa: S314 - official CMS files, not untrusted input
    for table in root.findall("pcsTable"):
        head = sorted(table.findall("axis"), key=lambda a: a.get("pos", ""))
        prefix = "".join(_labels(axis)[0][0] for axis in head)
        titles = [_labels(axis)[0][1] for axis in head]
        for row in table.findall("pcsRow"):
            axes = sorted(row.findall("axis"), key=lambda a: a.get("pos", ""))
            for combo in itertools.product(*(_labels(axis) for axis in axes)):
                code = prefix + "".join(char for char, _ in combo)
                display = ", ".join([titles[2], *(text for _, text in combo)])
                yield CodeEntry(
                    code, display, True, {"section": titles[0], "bodySystem": titles[1]}
                )
