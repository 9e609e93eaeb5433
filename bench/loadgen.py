"""Load generators for read throughput: wrk with a random-path Lua script, or an httpx fallback."""

from __future__ import annotations

import asyncio
import json
import random
import shutil
import subprocess
import time
from dataclasses import dataclass
from pathlib import Path

import httpx
from common import BENCH, percentile

LUA = BENCH / "wrk_random.lua"
SEED = 20240601


@dataclass
class LoadResult:
    """Throughput and errors of one bounded load run against one server."""

    requests: int
    seconds: float
    errors: int
    p50_ms: float
    p99_ms: float

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0


def tool() -> str:
    """The generator this machine has: ``wrk`` when installed, else the httpx fallback."""
    return "wrk" if shutil.which("wrk") else "httpx"


def describe(connections: int, seconds: float) -> str:
    """How the load is generated, for the report."""
    if tool() == "wrk":
        return (
            f"`wrk -t1 -c{connections} -d{seconds:g}s` with `bench/wrk_random.lua` (random ids "
            f"from a list, seeded identically for every server)"
        )
    return (
        f"asyncio httpx client, {connections} concurrent connections, {seconds:g} s per run "
        "(wrk not installed; a Python client caps throughput, so ratios are compressed)"
    )


def run_load(
    base: str, paths_file: Path, connections: int, seconds: float, authorization: str = ""
) -> LoadResult:
    """Drive ``base`` with random GETs from ``paths_file`` for ``seconds``."""
    if tool() == "wrk":
        return _wrk(base, paths_file, connections, seconds, authorization)
    paths = [p for p in paths_file.read_text(encoding="utf-8").splitlines() if p]
    return asyncio.run(_httpx(base, paths, connections, seconds, authorization))


def _wrk(
    base: str, paths_file: Path, connections: int, seconds: float, authorization: str
) -> LoadResult:
    command = ["wrk", "-t1", f"-c{connections}", f"-d{seconds:g}s", "--timeout", "10s"]
    command += ["-s", str(LUA), base, "--", str(paths_file), str(SEED), authorization]
    out = subprocess.run(command, capture_output=True, text=True, timeout=seconds + 60, check=True)
    line = next(x for x in out.stdout.splitlines() if x.startswith("BENCH_JSON "))
    data = json.loads(line.removeprefix("BENCH_JSON "))
    errors = sum(data[k] for k in ("connect", "read", "write", "status", "timeout"))
    return LoadResult(
        requests=data["requests"],
        seconds=data["duration_us"] / 1e6,
        errors=errors,
        p50_ms=data["p50_us"] / 1000,
        p99_ms=data["p99_us"] / 1000,
    )


async def _httpx(
    base: str, paths: list[str], connections: int, seconds: float, authorization: str
) -> LoadResult:
    rng = random.Random(SEED)
    latencies: list[float] = []
    errors = 0
    limits = httpx.Limits(max_connections=connections, max_keepalive_connections=connections)
    headers = {"Accept": "application/fhir+json"}
    if authorization:
        headers["Authorization"] = authorization
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=10.0) as client:
        deadline = time.perf_counter() + seconds

        async def worker() -> None:
            nonlocal errors
            while time.perf_counter() < deadline:
                started = time.perf_counter()
                try:
                    response = await client.get(rng.choice(paths), headers=headers)
                    errors += response.status_code >= 400
                except httpx.HTTPError:
                    errors += 1
                latencies.append(time.perf_counter() - started)

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(connections)))
        elapsed = time.perf_counter() - started
    return LoadResult(
        requests=len(latencies),
        seconds=elapsed,
        errors=errors,
        p50_ms=percentile(latencies, 50) * 1000,
        p99_ms=percentile(latencies, 99) * 1000,
    )
