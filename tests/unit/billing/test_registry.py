"""The registry on SQLite and PostgreSQL: versions by date of service, reloads, lookups."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, date, datetime

import pytest
from sqlalchemy import Engine, func, select

from chartkeeper.billing.codes.checks import check_diagnoses
from chartkeeper.billing.codes.model import CodeEntry
from chartkeeper.billing.codes.registry import CodeRegistry
from chartkeeper.core.clock import FixedClock
from chartkeeper.core.errors import InvalidError
from chartkeeper.store.code_schema import codes
from chartkeeper.store.engine import make_engine
from chartkeeper.store.migrate import upgrade
from tests.unit.billing.support import mini_entries

OCTOBER = (date(2025, 10, 1), date(2026, 3, 31))
APRIL = (date(2026, 4, 1), None)


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    built = make_engine(database_url)
    upgrade(built)
    yield built
    built.dispose()


@pytest.fixture
def registry(engine: Engine) -> CodeRegistry:
    clock = FixedClock(datetime(2026, 4, 2, 8, 0, tzinfo=UTC))
    found = CodeRegistry(engine, clock)
    older = [e for e in mini_entries() if e.code != "A009"] + [
        CodeEntry("Z9999", "A code the April update deleted", True, {"parent": "CH4"})
    ]
    found.load("icd10cm", older, "2026", OCTOBER, "october.xml")
    found.load("icd10cm", mini_entries(), "2026-04", APRIL, "april.xml")
    return found


def test_the_version_in_force_on_the_date_of_service_is_used(registry: CodeRegistry) -> None:
    assert registry.version_on("icd10cm", date(2025, 12, 1)).version == "2026"  # type: ignore[union-attr]
    assert registry.version_on("icd10cm", date(2026, 4, 1)).version == "2026-04"  # type: ignore[union-attr]
    assert registry.version_on("icd10cm", date(2030, 1, 1)).version == "2026-04"  # type: ignore[union-attr]
    assert registry.version_on("icd10cm", date(2025, 9, 30)) is None
    assert registry.version_on("hcpcs", date(2026, 4, 1)) is None


def test_list_shows_kind_version_dates_count_and_source(registry: CodeRegistry) -> None:
    listed = [
        (v.version, v.effective_from, v.effective_to, v.count, v.source)
        for v in registry.versions()
    ]
    count = len(mini_entries())
    assert listed == [
        ("2026", *OCTOBER, count, "october.xml"),
        ("2026-04", *APRIL, count, "april.xml"),
    ]
    assert registry.versions()[0].loaded_at == 1775116800000000


def test_checks_use_the_date_of_service(registry: CodeRegistry) -> None:
    december = registry.on("icd10cm", date(2025, 12, 1))
    may = registry.on("icd10cm", date(2026, 5, 1))
    assert check_diagnoses(december, ["Z99.99"]) == []
    [finding] = check_diagnoses(may, ["Z99.99"])
    assert (finding.rule, finding.hint.split(";")[0]) == (
        "not-valid-on-date",
        "It is valid in version(s) 2026",
    )
    assert [f.rule for f in check_diagnoses(december, ["A00.9"])] == ["not-valid-on-date"]
    assert check_diagnoses(may, ["A00.9"]) == []


def test_loading_a_version_again_replaces_it_whole(registry: CodeRegistry, engine: Engine) -> None:
    registry.load("icd10cm", [CodeEntry("A000", "Cholera", True)], "2026-04", APRIL, "fix.xml")
    with engine.connect() as conn:
        count = conn.execute(
            select(func.count()).select_from(codes).where(codes.c.version == "2026-04")
        ).scalar_one()
    assert count == 1
    found = registry.lookup("icd10cm", "A000", "2026-04")
    assert found is not None and (found.display, found.billable) == ("Cholera", True)
    assert registry.versions()[1].source == "fix.xml"


def test_search_index_is_rebuilt_after_a_reload(registry: CodeRegistry) -> None:
    april = registry.version_on("icd10cm", date(2026, 5, 1))
    assert april is not None
    assert [h.code for h in registry.index(april).search("cholera", billable_only=True).hits] == [
        "A000",
        "A009",
    ]
    registry.load(
        "icd10cm", [CodeEntry("A009", "Cholera, unspecified", True)], "2026-04", APRIL, "x"
    )
    april = registry.version_on("icd10cm", date(2026, 5, 1))
    assert april is not None
    assert [h.code for h in registry.index(april).search("cholera").hits] == ["A009"]


def test_bad_dates_and_empty_files_are_refused(registry: CodeRegistry) -> None:
    with pytest.raises(InvalidError, match="effective-to is before effective-from"):
        registry.load("hcpcs", mini_entries(), "x", (date(2026, 1, 2), date(2026, 1, 1)), "x")
    with pytest.raises(InvalidError, match="no codes"):
        registry.load("hcpcs", [], "x", APRIL, "x")
    assert registry.versions("hcpcs") == []


def test_migration_0008_matches_the_schema_and_downgrades(engine: Engine) -> None:
    from alembic import command
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from chartkeeper.store.migrate import alembic_config
    from chartkeeper.store.schema import metadata

    def code_diffs() -> list[object]:
        with engine.connect() as conn:
            diffs = compare_metadata(MigrationContext.configure(conn), metadata)
        return [d for d in diffs if "code_sets" in str(d) or "'codes'" in str(d)]

    assert code_diffs() == []
    config = alembic_config()
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.downgrade(config, "0008-1")
    assert len(code_diffs()) == 2  # both tables gone
    upgrade(engine)
    assert code_diffs() == []
