"""The charge description master: parsing, refusing bad rows, the shipped demo CDM."""

from __future__ import annotations

import lzma
from collections.abc import Callable
from decimal import Decimal
from pathlib import Path

import pytest

from chartkeeper.billing.charges import demo_cdm_path
from chartkeeper.billing.charges.master import ChargeMaster
from chartkeeper.billing.codes import cdm
from chartkeeper.billing.codes.hcpcs_anweb import parse_anweb
from chartkeeper.billing.codes.loaders import open_code_file
from chartkeeper.billing.codes.model import CDM, CodeEntry
from chartkeeper.core.errors import InvalidError

HEADER = (
    "charge_code,description,service_system,service_code,hcpcs,modifiers,units,revenue_code,amount"
)
SNOMED = "http://snomed.info/sct"
ACT = "http://terminology.hl7.org/CodeSystem/v3-ActCode"


def parsed(*rows: str) -> list[CodeEntry]:
    return list(cdm.parse([HEADER + "\n", *(row + "\n" for row in rows)]))


def test_a_row_becomes_an_entry_keyed_by_charge_code() -> None:
    [entry] = parsed(f'ck-ecg,"ECG, 12 leads",{SNOMED},29303009,g0404,gp  59,2,0730,$95.5')
    assert entry == CodeEntry(
        "CK-ECG",
        "ECG, 12 leads",
        True,
        {
            "service_system": SNOMED,
            "service_code": "29303009",
            "hcpcs": "G0404",
            "modifiers": ["GP", "59"],
            "units": 2,
            "revenue_code": "0730",
            "amount": "95.50",
        },
    )


def test_room_and_board_may_omit_hcpcs_when_it_has_a_revenue_code() -> None:
    [entry] = parsed(f"CK-ROOM,Room,{ACT},IMP,,,1,0120,1850")
    assert (entry.extra["hcpcs"], entry.extra["revenue_code"], entry.extra["amount"]) == (
        "",
        "0120",
        "1850.00",
    )


def test_blank_lines_are_skipped_and_line_numbers_count_them() -> None:
    with pytest.raises(InvalidError) as caught:
        parsed(f"A,x,{ACT},AMB,G0463,,1,,1", "", f"B,x,{ACT},AMB,G0463,,0,,1")
    assert caught.value.message == "Line 4, field units: '0' is not a positive whole number"
    assert caught.value.expression == ("line 4", "units")


@pytest.mark.parametrize(
    ("row", "message"),
    [
        (
            f"CK-X,x,{SNOMED},1,99213,,1,0510,10",
            "Line 2, field hcpcs: '99213' is not an HCPCS Level II code (letter + 4 digits)",
        ),
        (
            f"CK-X,x,{SNOMED},1,,,1,,10",
            "Line 2, field hcpcs: is empty; only a line with a revenue_code may omit it",
        ),
        (
            f"CK-X,x,{SNOMED},1,G0463,,1,510,10",
            "Line 2, field revenue_code: '510' is not a 4-digit NUBC revenue code",
        ),
        (
            f"CK-X,x,{SNOMED},1,G0463,,1.5,0510,10",
            "Line 2, field units: '1.5' is not a positive whole number",
        ),
        (
            f"CK-X,x,{SNOMED},1,G0463,,1,0510,ten",
            "Line 2, field amount: 'ten' is not an amount in dollars",
        ),
        (
            f"CK-X,x,{SNOMED},1,G0463,,1,0510,-1",
            "Line 2, field amount: '-1' is not a non-negative amount in whole cents",
        ),
        (
            f"CK-X,x,{SNOMED},1,G0463,,1,0510,1.005",
            "Line 2, field amount: '1.005' is not a non-negative amount in whole cents",
        ),
        (
            f"CK-X,x,{SNOMED},1,G0463,A B C D E,1,0510,1",
            "Line 2, field modifiers: at most 4 modifiers, not 5",
        ),
        (
            f"CK-X,x,{SNOMED},1,G0463,LTX,1,0510,1",
            "Line 2, field modifiers: 'LTX' is not a 2-character modifier",
        ),
        (f"CK-X,,{SNOMED},1,G0463,,1,0510,1", "Line 2, field description: is empty"),
        ("CK-X,x,,1,G0463,,1,0510,1", "Line 2, field service_system: is empty"),
        (f"CK-X,x,{SNOMED},,G0463,,1,0510,1", "Line 2, field service_code: is empty"),
        (
            f"CK X,x,{SNOMED},1,G0463,,1,0510,1",
            "Line 2, field charge_code: 'CK X' is not 1-16 letters, digits, '.', '-', '_'",
        ),
        (f"CK-X,x,{SNOMED},1,G0463,,1,0510", "Line 2, field row: has 8 fields, expected 9"),
    ],
)
def test_a_bad_row_is_refused_naming_line_and_field(row: str, message: str) -> None:
    with pytest.raises(InvalidError) as caught:
        parsed(row)
    assert caught.value.message == message


def test_a_charge_code_given_twice_is_refused() -> None:
    row = f"CK-X,x,{SNOMED},1,G0463,,1,0510,1"
    with pytest.raises(InvalidError) as caught:
        parsed(row, row.lower())
    assert caught.value.message == "Line 3, field charge_code: 'CK-X' appears twice"


def test_a_file_without_the_header_is_refused() -> None:
    with pytest.raises(InvalidError) as caught:
        list(cdm.parse([f"CK-X,x,{SNOMED},1,G0463,,1,0510,1\n"]))
    assert caught.value.message.startswith("Line 1 must be the CDM header: charge_code,")
    with pytest.raises(InvalidError):
        list(cdm.parse([]))


def test_version_and_start_come_from_a_dated_file_name_only() -> None:
    assert cdm.version_of_file("riverside-cdm-2026-07.csv") == ("2026-07", "2026-07-01")
    assert cdm.version_of_file("CDM_2025_12.csv.gz") == ("2025-12", "2025-12-01")
    assert cdm.version_of_file("demo-cdm.csv") is None
    assert cdm.version_of_file("cdm-2026-13.csv") is None


def test_the_demo_cdm_loads_through_the_code_file_dispatch() -> None:
    opened = open_code_file(CDM, demo_cdm_path())
    entries = list(opened.entries)
    assert (opened.source, opened.version, opened.effective_from) == ("demo-cdm.csv", None, None)
    assert len(entries) == 22
    master = ChargeMaster.from_entries("demo", entries)
    [room] = master.rows_for(ACT, "IMP")
    assert (room.charge_code, room.hcpcs, room.revenue_code, room.per_day, room.amount) == (
        "CK-ROOM-MEDSURG",
        "",
        "0120",
        True,
        Decimal("1850.00"),
    )
    assert [r.charge_code for r in master.rows_for(SNOMED, "609588000")] == [
        "CK-IMPLANT-KNEE",
        "CK-OR-TKA",
    ]
    assert master.rows_for(SNOMED, "399208008") == []  # chest X-ray: CPT only, not priced


def test_the_demo_cdm_holds_no_cpt_codes() -> None:
    for entry in cdm.parse(demo_cdm_path().read_text().splitlines()):
        hcpcs = entry.extra["hcpcs"]
        assert hcpcs == "" or hcpcs[0].isalpha(), entry.code
        assert hcpcs or entry.extra["revenue_code"], entry.code


def test_every_demo_cdm_code_is_a_current_hcpcs_level_ii_code(
    require_shared: Callable[..., Path],
) -> None:
    path = require_shared("data", "billing", "hcpcs", "HCPC2025_JAN_ANWEB_12172024.txt.xz")
    with lzma.open(path, "rt", encoding="latin-1") as handle:
        hcpcs = {e.code: e for e in parse_anweb(handle)}
    entries = list(cdm.parse(demo_cdm_path().read_text().splitlines()))
    checked = 0
    for entry in entries:
        code = entry.extra["hcpcs"]
        if code:
            found = hcpcs.get(code)
            assert found is not None and found.extra["record"] == "code", code
            assert "terminated" not in found.extra, code
            checked += 1
        for modifier in entry.extra["modifiers"]:
            assert hcpcs[modifier].extra["record"] == "modifier", modifier
    assert checked == 16  # the other 6 are institutional lines (room, OR, cath lab)
