"""Long-running MPI work with progress: rows in ``mpi_jobs`` that the workbench polls.

A job runs in a background thread of the server (``start``) or in the foreground of the CLI
(``run``); either way its progress is written at most every half second, so a page can draw a
progress bar and a second process can see that a run is going on.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine, select, update

from chartkeeper.core.clock import Clock
from chartkeeper.core.errors import ChartkeeperError, ConflictError, NotFoundError
from chartkeeper.core.ids import new_id
from chartkeeper.fhir.dates import to_micros
from chartkeeper.store.mpi_schema import mpi_jobs
from chartkeeper.store.rows import as_dict

log = logging.getLogger(__name__)

#: (done, total, what is happening) → None
Progress = Callable[[int, int, str], None]
#: The work of a job: given a progress callback, returns a one-line summary.
Work = Callable[[Progress], str]


@dataclass(frozen=True)
class Job:
    """One job as stored."""

    id: str
    kind: str
    state: str  # running, done, failed
    done: int
    total: int
    started: int
    finished: int | None
    started_by: str
    message: str | None

    def to_json(self) -> dict[str, Any]:
        """The job for the API and the progress bar."""
        percent = (
            100 if self.state == "done" else int(100 * self.done / self.total) if self.total else 0
        )
        return {**self.__dict__, "percent": percent}


class Jobs:
    """Starts jobs and reports their progress."""

    def __init__(self, engine: Engine, clock: Clock) -> None:
        self.engine = engine
        self.clock = clock
        self._lock = threading.Lock()

    def get(self, job_id: str) -> Job:
        """One job (404 if unknown)."""
        with self.engine.connect() as connection:
            row = connection.execute(select(mpi_jobs).where(mpi_jobs.c.id == job_id)).first()
        if row is None:
            raise NotFoundError(f"No MPI job {job_id}")
        return Job(**as_dict(row))

    def latest(self, limit: int = 10) -> list[Job]:
        """The latest jobs, newest first."""
        with self.engine.connect() as connection:
            rows = connection.execute(
                select(mpi_jobs).order_by(mpi_jobs.c.started.desc()).limit(limit)
            )
            return [Job(**as_dict(row)) for row in rows]

    def _begin(self, kind: str, by: str) -> str:
        with self._lock, self.engine.begin() as connection:
            running = connection.execute(
                select(mpi_jobs.c.id).where(mpi_jobs.c.kind == kind, mpi_jobs.c.state == "running")
            ).first()
            if running is not None:
                raise ConflictError(f"An MPI {kind} job is already running ({running.id})")
            job_id = new_id()
            connection.execute(
                mpi_jobs.insert().values(
                    id=job_id,
                    kind=kind,
                    state="running",
                    done=0,
                    total=0,
                    started=to_micros(self.clock.now()),
                    started_by=by,
                    message="starting",
                )
            )
        return job_id

    def _set(self, job_id: str, **values: Any) -> None:
        with self.engine.begin() as connection:
            connection.execute(update(mpi_jobs).where(mpi_jobs.c.id == job_id).values(**values))

    def _execute(self, job_id: str, kind: str, work: Work, echo: Progress | None) -> bool:
        """Run ``work``, recording progress and the outcome; False if it failed."""
        last = 0.0

        def progress(done: int, total: int, what: str) -> None:
            nonlocal last
            if echo is not None:
                echo(done, total, what)
            now = time.monotonic()
            if now - last >= 0.5 or done >= total:
                last = now
                self._set(job_id, done=done, total=total, message=what)

        try:
            summary = work(progress)
        except Exception as error:
            log.exception("MPI %s job %s failed", kind, job_id)
            shown = str(error) if isinstance(error, ChartkeeperError) else type(error).__name__
            self._set(
                job_id,
                state="failed",
                finished=to_micros(self.clock.now()),
                message=f"failed: {shown}",
            )
            return False
        self._set(job_id, state="done", finished=to_micros(self.clock.now()), message=summary)
        return True

    def run(self, kind: str, by: str, work: Work, echo: Progress | None = None) -> Job:
        """Run ``work`` now, recording its progress; the finished (or failed) job."""
        job_id = self._begin(kind, by)
        self._execute(job_id, kind, work, echo)
        return self.get(job_id)

    def start(self, kind: str, by: str, work: Work) -> str:
        """Run ``work`` in a background thread; the job id to poll."""
        job_id = self._begin(kind, by)
        threading.Thread(
            target=self._execute,
            args=(job_id, kind, work, None),
            name=f"mpi-{kind}-{job_id}",
            daemon=True,
        ).start()
        return job_id
