"""The scrubber context on a real registry (SQLite and PostgreSQL), and on the CMS files."""

from __future__ import annotations

import itertools
import random
from collections.abc import Callable, Iterator
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
from sqlalchemy import Engine

from chartkeeper.billing.codes.checks import check_diagnoses
from chartkeeper.billing.codes.loaders import open_code_file
from chartkeeper.billing.codes.mce import PatientFacts
from chartkeeper.billing.codes.mce_checks import check_mce
from chartkeeper.billing.codes.registry import CodeRegistry
from chartkeeper.billing.scrub.context import EMPTY, ScrubContext
from chartkeeper.billing.scrub.engine import Scrubber
from chartkeeper.billing.scrub.rules import code_validity, mce_edits, ncci_ptp
from chartkeeper.billing.scrub.screen import DiagnosisScreen
from chartkeeper.store.engine import make_engine
from chartkeeper.store.migrate import upgrade
from tests.unit.billing.data.scrub.builders import DOS, PTP, claim, institutional, line, load


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    built = make_engine(database_url)
    upgrade(built)
    yield built
    built.dispose()


@pytest.fixture
def registry(engine: Engine) -> CodeRegistry:
    found = CodeRegistry(engine)
    load(found)
    return found


def test_tables_are_read_into_memory_by_the_version_in_force(registry: CodeRegistry) -> None:
    context = ScrubContext(registry)
    hcpcs = context.table("hcpcs", DOS)
    assert hcpcs.version == "2026-01"
    assert hcpcs.get("G0463") is not None and hcpcs.rows["XS"].extra["record"] == "modifier"
    assert context.table("hcpcs", DOS) is hcpcs  # one copy per version
    assert context.table("ptp-prac", date(2026, 6, 30)) is EMPTY
    ptp = context.table("ptp-prac", DOS)
    assert ptp.version == "2026Q3" and sorted(ptp.rows)[0] == "A0428|A0425"
    assert context.table("mue-prac", DOS).rows["J1885"].extra == {
        "value": 8,
        "mai": 3,
        "rationale": "Clinical: CMS Workgroup",
    }
    icd = context.table("icd10cm", DOS)
    assert icd.children("E11", 5) == ["E119"]


def test_a_table_loaded_later_is_seen_after_refresh(registry: CodeRegistry) -> None:
    context = ScrubContext(registry)
    pair = institutional(line("G0463"), line("J1885"))
    assert list(ncci_ptp.check(pair, context)) == []
    found = open_code_file("ptp-opps", PTP)
    registry.load("ptp-opps", found.entries, "2026Q3", (date(2026, 7, 1), None), PTP.name)
    context.refresh()
    [issue] = ncci_ptp.check(pair, context)
    assert (issue.rule, issue.location) == ("ncci-ptp", "line[1].procedure_code")


def test_the_whole_scrubber_runs_on_the_store(registry: CodeRegistry) -> None:
    scrubber = Scrubber(ScrubContext(registry))
    assert scrubber.scrub(claim()) == []
    found = scrubber.scrub(claim(line("G0463"), line("J1885"), diagnoses=("E85.4",)))
    assert [(i.rule, i.location) for i in found] == [
        ("medical-necessity", "line[1].diagnosis_pointers"),
        ("ncci-ptp", "line[1].procedure_code"),
    ]
    uncovered = scrubber.scrub(claim(line("J1885"), diagnoses=("E85.4",)))
    assert [(i.rule, i.location) for i in uncovered] == [
        ("medical-necessity", "line[0].diagnosis_pointers")
    ]


def test_the_screen_finds_what_the_coding_checks_find(registry: CodeRegistry) -> None:
    table = ScrubContext(registry).table("icd10cm", DOS)
    screen = DiagnosisScreen(table)
    codes = [*sorted(table.rows), "Z9999", "S0230A"]
    compared = 0
    for size in (1, 2, 3):
        for combination in itertools.permutations(codes, size):
            if size == 3 and compared > 20_000:
                break
            assert screen.findings(combination) == check_diagnoses(table, combination)
            compared += 1
    assert screen.may_interact(["E109", "E119"]) and not screen.may_interact(["E119", "E854"])


_CMS: dict[str, ScrubContext] = {}


def _cms_context(require_shared: Callable[..., Path], folder: Path) -> ScrubContext:
    """Bundled ICD-10-CM, the CMS HCPCS file and MCE lists in one SQLite registry (built once)."""
    hcpcs_file = require_shared("data", "billing", "hcpcs", "HCPC2025_JAN_ANWEB_12172024.txt.xz")
    mce_file = require_shared("data", "billing", "mce", "mce_v43_1_icd10cm_dx_master.tsv.xz")
    if "cms" not in _CMS:
        engine = make_engine(f"sqlite:///{folder}/cms.db")
        upgrade(engine)
        registry = CodeRegistry(engine)
        for kind, path in (("hcpcs", hcpcs_file), ("mce", mce_file), ("icd10cm", None)):
            found = open_code_file(kind, path)
            assert found.version and found.effective_from
            start = date.fromisoformat(found.effective_from)
            registry.load(kind, found.entries, found.version, (start, None), found.source)
        _CMS["cms"] = ScrubContext(registry)
    return _CMS["cms"]


@pytest.fixture(scope="module")
def cms_folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("cms")


CMS_DAY = date(2026, 5, 4)


def test_the_cms_files_load_and_scrub(
    require_shared: Callable[..., Path], cms_folder: Path
) -> None:
    context = _cms_context(require_shared, cms_folder)
    day = CMS_DAY
    rows = context.table("hcpcs", day).rows
    ended = sorted(
        c
        for c, s in rows.items()
        if s.extra.get("record") == "code" and s.extra.get("terminated", "9") < "2026"
    )[0]
    scrub = claim(
        line("G0463", service_date=day, modifiers=("LT", "ZZ")),
        line(ended, service_date=day),
        diagnoses=("E11.9", "O80"),
        created=date(2026, 6, 1),
    )
    validity = [(i.severity, i.location, i.code) for i in code_validity.check(scrub, context)]
    assert validity == [
        ("error", "line[0].modifiers", "ZZ"),
        ("error", "line[1].procedure_code", ended),
    ]
    [age] = mce_edits.check(scrub, context)  # O80 maternity (9-64); the patient is 66
    assert (age.severity, age.location, age.code) == ("error", "diagnosis[1]", "O80")
    assert "maternity" in age.message
    assert Scrubber(context).scrub(claim(line("G0463", service_date=day))) == []


def test_the_shortcuts_agree_with_the_coding_checks_on_real_code_sets(
    require_shared: Callable[..., Path], cms_folder: Path
) -> None:
    context = _cms_context(require_shared, cms_folder)
    icd = context.table("icd10cm", CMS_DAY)
    edits = context.table("mce", CMS_DAY)
    rng = random.Random(20261127)
    billable = sorted(c for c, s in icd.rows.items() if s.billable)
    noted = [c for c in billable if c[:3] in {"E10", "E11", "O24", "G63", "M05", "Z38", "V00"}]
    pool = rng.sample(billable, 400) + noted + ["E11", "Z9999", "S0230A"]
    screen = DiagnosisScreen(icd)
    interacting = 0
    for _ in range(600):
        diagnoses = rng.sample(pool, rng.randint(1, 12))
        assert screen.findings(diagnoses) == check_diagnoses(icd, diagnoses)
        interacting += screen.may_interact(diagnoses)
        facts = PatientFacts(rng.choice(["male", "female", None]), rng.randint(0, 99))
        person = claim().claim.subscriber.person
        expected = [(f.code, f.message) for f in check_mce(edits, diagnoses, CMS_DAY, facts)]
        sex = {"male": "M", "female": "F", None: "U"}[facts.sex]
        born = date(CMS_DAY.year - facts.age - 1, 12, 31) if facts.age is not None else None
        person = replace(person, gender=sex, birth_date=born)
        # institutional: every MCE edit applies (unacceptable-principal is inpatient only)
        scrub = institutional(
            line(service_date=CMS_DAY),
            diagnoses=tuple(diagnoses),
            subscriber=replace(claim().claim.subscriber, person=person),
        )
        found = [
            (i.code, i.message)
            for i in mce_edits.check(scrub, context)
            if "manifestation" not in i.message
        ]
        assert found == expected
    assert 20 < interacting < 600  # both paths were taken
