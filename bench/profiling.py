"""cProfile helpers: run a callable under the profiler and split its time into layers, exclusively.

Each function's own (self) time goes to the layer of its file. Time in code of no layer (the
standard library, C built-ins other than sqlite3 and orjson) goes to the layer of whoever called
it, shared out by caller. So the layers never overlap and add up to the profiled total.
"""

from __future__ import annotations

import cProfile
import pstats
from collections.abc import Callable
from typing import Any

from common import short_name

Stats = dict[Any, Any]  # pstats' raw table: (file, line, name) -> (cc, nc, tt, ct, callers)
Key = tuple[str, int, str]

VALIDATION = "validation (`fhir.validation`, `structure_check`, `primitives`, models)"
INDEXING = "indexing (`fhir.indexing`, `fhirpath_lite`, `index_rows`, `search_values`)"
REWRITE = "reference rewrite (`interactions.references`)"
PRIVACY = "access control + audit (`chartkeeper.privacy`)"
SQL_PY = "SQL, Python side (`chartkeeper.store` + SQLAlchemy Core)"
SQL_C = "SQL, sqlite3 driver (execute, fetch, commit)"
ORJSON = "orjson (parse / serialize)"
OTHER = "other chartkeeper code (interactions, bundles, meta, ids)"
ORDER = (VALIDATION, INDEXING, REWRITE, PRIVACY, SQL_PY, SQL_C, ORJSON, OTHER)
_INDEXING_FILES = ("indexing.py", "index_rows.py", "fhirpath_lite.py", "search_values.py")
_VALIDATION_FILES = (
    "/validation.py",
    "/structure_check.py",
    "/structure_plans.py",
    "/primitives.py",
    "/findings.py",
    "/reference_targets.py",
)


def layer_of(key: Key) -> str | None:
    """The layer a function belongs to, or None when its time belongs to its caller."""
    filename, _, name = key
    if filename == "~":
        if "sqlite3." in name:
            return SQL_C
        return ORJSON if "orjson" in name else None
    if "/sqlalchemy/" in filename or "/chartkeeper/store/" in filename:
        return SQL_PY
    if "/chartkeeper/privacy/" in filename:
        return PRIVACY
    if any(m in filename for m in ("/fhir_core/", "/fhir/resources/", "/pydantic")):
        return VALIDATION
    if "/chartkeeper/fhir/" in filename:
        if filename.endswith(_VALIDATION_FILES):
            return VALIDATION
        if filename.endswith(_INDEXING_FILES):
            return INDEXING
        if filename.endswith("interactions/references.py"):
            return REWRITE
    return OTHER if "/chartkeeper/" in filename else None


def profile(work: Callable[[], object]) -> Stats:
    """The raw pstats table of one call of ``work``."""
    profiler = cProfile.Profile()
    profiler.enable()
    try:
        work()
    finally:
        profiler.disable()
    return pstats.Stats(profiler).stats  # type: ignore[attr-defined, no-any-return]


def _shares(stats: Stats, key: Key, memo: dict[Key, dict[str, float]]) -> dict[str, float]:
    """How ``key``'s time divides over layers: its own layer, else its callers' by time."""
    if key in memo:
        return memo[key]
    layer = layer_of(key)
    if layer is not None:
        memo[key] = {layer: 1.0}
        return memo[key]
    memo[key] = {OTHER: 1.0}  # breaks cycles (recursion through uncategorized frames)
    callers = stats[key][4] if key in stats else {}
    weights = {caller: float(edge[3]) for caller, edge in callers.items()}
    total = sum(weights.values())
    if not total:
        return memo[key]
    mixed: dict[str, float] = {}
    for caller, weight in weights.items():
        for name, part in _shares(stats, caller, memo).items():
            mixed[name] = mixed.get(name, 0.0) + part * weight / total
    memo[key] = mixed
    return mixed


def split(stats: Stats) -> tuple[list[tuple[str, float]], float]:
    """Seconds per layer (in ``ORDER``, empty layers left out) and the profiled total."""
    seconds = dict.fromkeys(ORDER, 0.0)
    memo: dict[Key, dict[str, float]] = {}
    for key, (_, _, self_time, _, callers) in stats.items():
        layer = layer_of(key)
        if layer is not None:
            seconds[layer] += float(self_time)
            continue
        if not callers:
            seconds[OTHER] += float(self_time)
            continue
        for caller, edge in callers.items():
            for name, part in _shares(stats, caller, memo).items():
                seconds[name] += float(edge[2]) * part
    total = sum(float(v[2]) for v in stats.values())
    return [(name, sec) for name, sec in seconds.items() if sec > 0.0005], total


def phase_table(stats: Stats) -> list[str]:
    """The layer split as a Markdown table."""
    phases, total = split(stats)
    return [
        "| Layer | Seconds | Share |",
        "|---|---:|---:|",
        *(f"| {label} | {sec:.2f} | {100 * sec / total:.1f}% |" for label, sec in phases),
        f"| total profiled | {total:.2f} | 100% |",
    ]


def self_time_table(stats: Stats, limit: int = 15) -> list[str]:
    """The functions with the most self time."""
    total = sum(float(v[2]) for v in stats.values())
    lines = ["| Function | Self s | Share | Calls |", "|---|---:|---:|---:|"]
    top = sorted(stats.items(), key=lambda kv: float(kv[1][2]), reverse=True)[:limit]
    for key, (_, calls, self_time, _, _) in top:
        share = 100 * self_time / total
        lines.append(f"| {short_name(key)} | {self_time:.3f} | {share:.1f}% | {calls:,} |")
    return lines
