"""The lease of a background import: who runs it, how far it is, whether its worker is alive.

A worker claims a queued run with one conditional UPDATE (queued → running)
that only one worker can win, then imports inside one transaction while a
thread of its own reports, every second, the rows done and a heartbeat.  A
run whose heartbeat is older than ``IMPORT_LEASE_SECONDS`` lost its worker
(killed, machine gone): the worker's sweep or any poller fails it, and a
retry queues it again.  Before committing, the worker checks in the
import's own transaction that the run is still its own, so a run that was
failed meanwhile is rolled back, never applied.

Where the heartbeat goes depends on the database.  PostgreSQL: the run's row
(``heartbeat_at``, ``rows_done``, ``rows_total``), from a second connection in
short transactions, so the import's transaction is untouched and every web
worker reads it.  SQLite: a commit by any other connection between an
import's first read and its first write makes that write fail (a WAL
snapshot cannot be upgraded; "database is locked"), so the heartbeat goes to
the job queue's own store instead (``jobs.db`` or Redis) and the run's row
gets the final counts with the import.
"""
from __future__ import annotations

import logging
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone
from typing import Any

import sqlalchemy as sa
from flask import current_app

from registry.database.base import utcnow
from registry.extensions import db
from registry.imports.models import ImportRun

log = logging.getLogger(__name__)

runs = ImportRun.__table__


class LeaseLost(Exception):
    """The run is no longer this worker's (failed by a sweep or a poller): roll back, write nothing."""


@dataclass
class Beat:
    """The last word from a run's worker."""

    at: datetime
    rows_done: int
    rows_total: int


def lease_seconds() -> int:
    return current_app.config["IMPORT_LEASE_SECONDS"]


def claim(run_id: int, worker: str) -> int | None:
    """Take a queued run for ``worker``; its attempt number, or ``None`` if another worker has it or it is done."""
    now = utcnow()
    with db.engine.begin() as conn:  # a short transaction of its own, whatever the caller holds
        claimed = conn.execute(
            runs.update().where(runs.c.id == run_id, runs.c.status == "queued")
            .values(status="running", attempts=runs.c.attempts + 1, worker_id=worker, started_at=now,
                    heartbeat_at=now, rows_done=0, finished_at=None)
        ).rowcount
        if claimed != 1:
            return None
        return conn.execute(sa.select(runs.c.attempts).where(runs.c.id == run_id)).scalar_one()


def still_ours(run_id: int, worker: str, attempt: int) -> bool:
    """In the import's own transaction, just before it commits: is the run still this attempt's?

    The row is locked by this UPDATE until the commit (PostgreSQL); on SQLite a
    sweep that failed the run meanwhile makes the import's writes fail instead.
    """
    return db.session.execute(
        runs.update().where(runs.c.id == run_id, runs.c.worker_id == worker, runs.c.attempts == attempt,
                            runs.c.failure_reason.is_(None))
        .values(heartbeat_at=utcnow())
    ).rowcount == 1


def fail_claimed(run_id: int, worker: str, attempt: int, reason: str, message: str) -> bool:
    """Fail a run this attempt holds (after its import was rolled back); False if it was not ours any more."""
    with db.engine.begin() as conn:
        return conn.execute(
            runs.update().where(runs.c.id == run_id, runs.c.status == "running", runs.c.worker_id == worker,
                                runs.c.attempts == attempt)
            .values(status="failed", failure_reason=reason, message=message, finished_at=utcnow())
        ).rowcount == 1


class _DatabaseBeats:
    """PostgreSQL (and any database where another connection may write meanwhile): the run's row."""

    def __init__(self, engine: sa.Engine) -> None:
        self.engine = engine

    def beat(self, run_id: int, worker: str, attempt: int, done: int, total: int) -> bool:
        with self.engine.begin() as conn:
            return conn.execute(
                runs.update().where(runs.c.id == run_id, runs.c.status == "running", runs.c.worker_id == worker,
                                    runs.c.attempts == attempt)
                .values(heartbeat_at=utcnow(), rows_done=done, rows_total=total)
            ).rowcount == 1

    def read(self, run: ImportRun) -> Beat | None:
        if run.heartbeat_at is None:
            return None
        return Beat(run.heartbeat_at, run.rows_done, run.rows_total)

    def clear(self, run_id: int, attempt: int) -> None:
        pass


class _QueueStoreBeats:
    """SQLite: the job queue's key-value store (jobs.db or Redis), never the registry's file."""

    def __init__(self, engine: sa.Engine, huey: Any) -> None:
        self.engine = engine
        self.huey = huey

    @staticmethod
    def key(run_id: int, attempt: int) -> str:
        return f"import-run:{run_id}:{attempt}"

    def beat(self, run_id: int, worker: str, attempt: int, done: int, total: int) -> bool:
        from registry.database.engine import reading

        self.huey.put(self.key(run_id, attempt), (utcnow().isoformat(), done, total))
        with reading(), self.engine.connect() as conn:  # a deferred read: no wait for the import's write lock
            row = conn.execute(sa.select(runs.c.status, runs.c.worker_id, runs.c.attempts)
                               .where(runs.c.id == run_id)).one_or_none()
        return row is not None and tuple(row) == ("running", worker, attempt)

    def read(self, run: ImportRun) -> Beat | None:
        stored = self.huey.get(self.key(run.id, run.attempts), peek=True) if run.attempts else None
        claimed = Beat(run.heartbeat_at, run.rows_done, run.rows_total) if run.heartbeat_at else None
        if stored is None:
            return claimed
        at, done, total = stored
        beat = Beat(datetime.fromisoformat(at), done, total)
        return beat if claimed is None or beat.at >= claimed.at else claimed

    def clear(self, run_id: int, attempt: int) -> None:
        self.huey.delete(self.key(run_id, attempt))


def beats():
    """Where this registry's heartbeats go (see the module's docstring)."""
    engine = db.engine
    if engine.dialect.name == "sqlite":
        from registry.jobs import jobs

        return _QueueStoreBeats(engine, jobs().huey)
    return _DatabaseBeats(engine)


def last_beat(run: ImportRun) -> Beat | None:
    """The worker's last word about a running run (``None`` when it has not been claimed)."""
    try:
        return beats().read(run)
    except Exception:  # the queue's store unreachable: what the row says
        log.warning("cannot read the heartbeat of import run %s", run.id, exc_info=True)
        return _DatabaseBeats(db.engine).read(run)


class RunLease:
    """The worker's side of a claimed run, as a context manager around the import.

    ``update(done, total)`` is the import's progress callback: it only keeps
    the numbers (and raises :class:`LeaseLost` once the run is no longer
    ours); a thread writes them with a heartbeat every ``interval`` seconds.
    """

    def __init__(self, run_id: int, worker: str, attempt: int, *, interval: float = 1.0) -> None:
        self.run_id, self.worker, self.attempt = run_id, worker, attempt
        self.interval = min(interval, max(lease_seconds() / 4, 0.1))
        self.store = beats()
        self.lost = threading.Event()
        self._progress = (0, 0)
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, name=f"lease-{run_id}", daemon=True)

    def update(self, done: int, total: int) -> None:
        self._progress = (done, total)
        if self.lost.is_set():
            raise LeaseLost(f"import run {self.run_id} attempt {self.attempt} is no longer {self.worker}'s")

    def __enter__(self) -> RunLease:
        self._thread.start()
        return self

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()
        self._thread.join()
        try:
            self.store.clear(self.run_id, self.attempt)
        except Exception:
            log.warning("cannot clear the heartbeat of import run %s", self.run_id, exc_info=True)

    def _run(self) -> None:
        while not self._stop.wait(self.interval):
            try:
                if not self.store.beat(self.run_id, self.worker, self.attempt, *self._progress):
                    self.lost.set()
                    return
            except Exception:  # a busy database or queue store: try again at the next beat
                log.warning("heartbeat of import run %s failed", self.run_id, exc_info=True)


def expire_stale(candidates: list[ImportRun] | None = None, *, now: datetime | None = None) -> list[int]:
    """Fail running runs whose worker fell silent for longer than the lease; their ids.

    ``candidates`` defaults to every running run.  The UPDATE is conditional
    (still running, same attempt, row heartbeat as old as read), so a run that
    a worker finished or beat meanwhile is left alone.  The caller commits.
    """
    now = now or utcnow()
    lease = lease_seconds()
    cutoff = now - timedelta(seconds=lease)
    if candidates is None:
        candidates = list(db.session.scalars(sa.select(ImportRun).where(ImportRun.status == "running")))
    expired = []
    for run in candidates:
        if run.status != "running":
            continue
        beat = last_beat(run)
        if beat is not None and beat.at >= cutoff:
            continue
        silent_since = beat.at if beat is not None else (run.started_at or run.created_at)
        message = (f"处理此导入的后台进程自 {_utc(silent_since)} 起超过 {lease} 秒没有响应，导入已中止，"
                   f"未写入任何数据；可以重试 / the worker running this import stopped responding at "
                   f"{_utc(silent_since)} (more than {lease} s); nothing was written; it can be retried")
        done = db.session.execute(
            runs.update().where(runs.c.id == run.id, runs.c.status == "running", runs.c.attempts == run.attempts,
                                sa.or_(runs.c.heartbeat_at.is_(None), runs.c.heartbeat_at < cutoff))
            .values(status="failed", failure_reason="lease_expired", message=message, finished_at=now,
                    rows_done=beat.rows_done if beat else runs.c.rows_done,
                    rows_total=beat.rows_total if beat else runs.c.rows_total)
            .execution_options(synchronize_session=False)
        ).rowcount
        if done:
            log.warning("import run %s (attempt %s, worker %s) failed: no heartbeat since %s",
                        run.id, run.attempts, run.worker_id, _utc(silent_since))
            expired.append(run.id)
    return expired


def _utc(moment: datetime) -> str:
    return moment.astimezone(timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")
