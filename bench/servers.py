"""uvicorn servers in subprocesses on loopback, with identical settings for every app."""

from __future__ import annotations

import importlib.util
import os
import socket
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

import httpx
from common import BENCH, PYTHON, REPO

HOST = "127.0.0.1"


def server_options() -> list[str]:
    """The uvicorn options both apps run with (httptools and uvloop when installed)."""
    options = ["--workers", "1", "--log-level", "warning", "--no-access-log"]
    if importlib.util.find_spec("httptools") is not None:
        options += ["--http", "httptools"]
    if importlib.util.find_spec("uvloop") is not None:
        options += ["--loop", "uvloop"]
    return options


def free_port() -> int:
    """A loopback port nobody listens on right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


@dataclass
class Server:
    """One uvicorn process serving ``app`` (``module:attr``); a context manager."""

    name: str
    app: str
    env: dict[str, str]
    factory: bool = False
    app_dir: Path | None = None
    port: int = 0
    process: subprocess.Popen[bytes] | None = field(default=None, repr=False)
    log_path: Path | None = None

    @property
    def base(self) -> str:
        return f"http://{HOST}:{self.port}"

    @property
    def pid(self) -> int:
        assert self.process is not None
        return self.process.pid

    def start(self, log_dir: Path, probe: str = "/") -> Server:
        """Start the server and wait until it answers HTTP on ``probe``."""
        self.port = free_port()
        command = [PYTHON, "-m", "uvicorn", self.app, "--host", HOST, "--port", str(self.port)]
        command += server_options()
        if self.factory:
            command.append("--factory")
        if self.app_dir is not None:
            command += ["--app-dir", str(self.app_dir)]
        self.log_path = log_dir / f"{self.name}.log"
        inherited = {k: v for k, v in os.environ.items() if not k.startswith("CHARTKEEPER_")}
        env = {**inherited, **self.env}
        with self.log_path.open("wb") as log:
            self.process = subprocess.Popen(
                command, cwd=REPO, env=env, stdout=log, stderr=subprocess.STDOUT
            )
        self._wait(probe)
        return self

    def _wait(self, probe: str, timeout: float = 120.0) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                raise RuntimeError(f"{self.name} exited at start:\n{self._log_tail()}")
            try:
                httpx.get(self.base + probe, timeout=2.0)
                return
            except httpx.TransportError:
                time.sleep(0.2)
        self.stop()
        raise RuntimeError(f"{self.name} did not answer in {timeout:.0f} s:\n{self._log_tail()}")

    def _log_tail(self, lines: int = 20) -> str:
        if self.log_path is None or not self.log_path.is_file():
            return ""
        text = self.log_path.read_text(encoding="utf-8", errors="replace")
        return "\n".join(text.splitlines()[-lines:])

    def status(self) -> dict[str, int]:
        """The server process's memory lines (kB) from /proc/<pid>/status."""
        values: dict[str, int] = {}
        text = Path(f"/proc/{self.pid}/status").read_text(encoding="utf-8")
        for line in text.splitlines():
            key, _, rest = line.partition(":")
            if key in ("VmHWM", "VmRSS", "RssAnon", "RssFile", "VmSize", "Threads"):
                values[key] = int(rest.split()[0])
        return values

    def mappings_of(self, path: Path) -> tuple[int, int]:
        """How many times ``path`` is mmap'd in the server, and the resident kB of those maps."""
        count = rss = 0
        inside = False
        target = str(path.resolve())
        for line in Path(f"/proc/{self.pid}/smaps").read_text(encoding="utf-8").splitlines():
            first = line.split(maxsplit=1)[0] if line.strip() else ""
            if "-" in first and not first.endswith(":"):
                inside = line.rstrip().endswith(target)
                count += inside
            elif inside and first == "Rss:":
                rss += int(line.split()[1])
        return count, rss

    def cpu_seconds(self) -> float:
        """User + system CPU the server process (all threads) has used so far."""
        text = Path(f"/proc/{self.pid}/stat").read_text(encoding="utf-8")
        fields = text.rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    def stop(self) -> None:
        """Terminate the server (SIGTERM, then SIGKILL after 10 s)."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)

    def __enter__(self) -> Server:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


def chartkeeper_server(data_dir: Path) -> Server:
    """chartkeeper's ASGI app over the loaded store."""
    env = {"CHARTKEEPER_DATA_DIR": str(data_dir)}
    return Server("chartkeeper", "chartkeeper.web.asgi:app_factory", env, factory=True)


def unaudited_server(data_dir: Path) -> Server:
    """chartkeeper's app over the loaded store with auditing off (``bench/unaudited_app.py``)."""
    env = {"CHARTKEEPER_DATA_DIR": str(data_dir)}
    return Server("unaudited", "unaudited_app:app_factory", env, factory=True, app_dir=BENCH)


def bare_server(database: Path) -> Server:
    """The baseline: a bare Starlette read handler over the same SQLite file."""
    return Server("bare", "bare_read:app", {"BARE_READ_DB": str(database)}, app_dir=BENCH)
