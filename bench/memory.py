"""Memory of the chartkeeper server after the read and search load, from /proc/<pid>/status."""

from __future__ import annotations

from pathlib import Path

import bare_read
from common import Row, Section
from ingest import services_for
from servers import Server

LIMIT_MB = 500.0


def sqlite_settings(database: Path) -> str:
    """The page-cache and mmap pragmas a connection of chartkeeper's engine really has."""
    services = services_for(database.parent)
    try:
        with services.engine.connect() as conn:
            cache = int(conn.exec_driver_sql("PRAGMA cache_size").scalar() or 0)
            mmap = int(conn.exec_driver_sql("PRAGMA mmap_size").scalar() or 0)
        size = getattr(services.engine.pool, "size", lambda: "?")()
    finally:
        services.close()
    cache_text = f"{-cache / 1024:.0f} MiB" if cache < 0 else f"{cache} pages"
    return (
        f"chartkeeper's SQLite connections have cache_size={cache} ({cache_text} of page cache "
        f"each, anonymous memory) and mmap_size={mmap} ({mmap / 2**20:.0f} MiB of the file "
        f"mapped per connection, file-backed memory); its engine's pool keeps up to {size} "
        "connections (plus overflow)."
    )


def run(ck: Server, bare: Server, database: Path, loads: list[str], patients: int) -> Section:
    """VmHWM (peak) and VmRSS (now) of the uvicorn process, against the bare server's."""
    section = Section("memory", "4. Server memory")
    mine, base = ck.status(), bare.status()
    maps, mapped_kb = ck.mappings_of(database)
    bare_maps, bare_kb = bare.mappings_of(database)
    lines = (
        ("VmHWM", "peak resident (VmHWM)", True),
        ("VmRSS", "resident now (VmRSS)", True),
        ("RssAnon", "of which anonymous (RssAnon)", False),
        ("RssFile", "of which file-backed (RssFile: mmap, libraries)", False),
    )
    for key, label, judged in lines:
        value, floor = mine[key] / 1024, base[key] / 1024
        section.rows.append(
            Row(
                metric=f"chartkeeper uvicorn process, {label}",
                target=f"< {LIMIT_MB:g} MB" if judged else "-",
                measured=f"{value:.2f} MB",
                baseline=f"{floor:.2f} MB",
                ratio=f"{value / floor:.2f}" if floor else "-",
                passed=value < LIMIT_MB if judged else None,
            )
        )
    section.notes += [
        f"Read from /proc/{ck.pid}/status of the chartkeeper uvicorn server (1 worker, so the "
        f"server is that one process) with {patients} Synthea patients loaded, after: "
        f"{', '.join(loads)}. Threads: {mine.get('Threads', '?')}.",
        "Baseline: the bare Starlette read server's process after the same read load "
        "(MB = MiB here, 1024 kB); it opens one connection per threadpool thread with "
        f"cache_size={bare_read.CACHE_SIZE} and mmap_size={bare_read.MMAP_SIZE}.",
        sqlite_settings(database),
        "Each connection maps the file on its own, so a database page read through several "
        "connections is counted in the resident size once per mapping.",
        f"Measured from /proc/<pid>/smaps: the database file is mapped {maps} times in the "
        f"chartkeeper server, {mapped_kb / 1024:.1f} MB resident through those maps "
        f"(bare server: {bare_maps} maps, {bare_kb / 1024:.1f} MB). Database file size: "
        f"{database.stat().st_size / 1024 / 1024:.0f} MB.",
    ]
    return section
