"""The import's background jobs, run by ``registry worker``.

``run_import_job`` claims a queued run and imports it in one transaction
(the job is the boundary that commits); ``sweep_runs`` fails runs whose
worker fell silent and queues again runs whose job was lost;
``purge_uploads_job`` deletes old uploads.  Every job is safe to run twice.
"""
from __future__ import annotations

import logging
import threading
import time
import uuid
from contextlib import nullcontext

import sqlalchemy as sa
from flask import current_app

from registry import jobs
from registry.database.engine import reading
from registry.extensions import db
from registry.imports import lease, services
from registry.imports.models import ImportRun

log = logging.getLogger(__name__)
# SQLite has one writer: the imports of one worker process take turns, from the claim to the commit
# (a worker may run other jobs meanwhile).
_SQLITE_WRITER = threading.Lock()


@jobs.task()
def run_import_job(run_id: int) -> None:
    """Run a queued background import; a run that is not queued any more (taken, done, gone) is left alone."""
    from registry.database.engine import is_lock_timeout

    worker = jobs.worker_name()
    with _SQLITE_WRITER if db.engine.dialect.name == "sqlite" else nullcontext():
        try:
            attempt = lease.claim(run_id, worker)
        except sa.exc.OperationalError as exc:
            if not is_lock_timeout(exc):
                raise
            log.info("import run %s: database busy (another process writes); job queued again", run_id)
            jobs.jobs().enqueue(run_import_job, run_id)
            return
        if attempt is None:
            log.info("import run %s: not queued any more, nothing to do", run_id)
            return
        log.info("import run %s: attempt %s on %s", run_id, attempt, worker)
        with lease.RunLease(run_id, worker, attempt) as held:
            _import_claimed(run_id, worker, attempt, held)


def _import_claimed(run_id: int, worker: str, attempt: int, held: lease.RunLease) -> None:
    from importers.run import run_import
    from registry.auth.models import User

    with reading():  # on SQLite: no write lock for these reads (see _take_write_lock)
        run = db.session.get(ImportRun, run_id)
        path = services.upload_path(run)
        actor = db.session.get(User, run.actor_id) if run.actor_id is not None else None
    if not path.is_file():
        _fail(run_id, worker, attempt, "upload_missing",
              services.upload_gone_message("无法导入，请重新上传", "it cannot be imported; upload it again"))
        return
    if actor is not None and not actor.active:
        _fail(run_id, worker, attempt, "account_inactive",
              "发起导入的账号已停用，导入未执行 / the account that started this import is deactivated; it did not run")
        return
    sqlite = db.engine.dialect.name == "sqlite"
    try:
        if sqlite:
            _take_write_lock(run_id, worker, attempt)
        run_import(path, actor=actor, dry_run=run.dry_run, filename=run.filename, run=run, progress=held.update,
                   sheet=run.sheet, lang=run.language)
        if not lease.still_ours(run_id, worker, attempt):
            raise lease.LeaseLost(f"import run {run_id} attempt {attempt} was failed while it ran")
        db.session.commit()
        log.info("import run %s: %s", run_id, run.status)
    except lease.LeaseLost as exc:
        db.session.rollback()
        log.warning("%s: rolled back, nothing written", exc)
    except Exception:
        db.session.rollback()
        error_id = uuid.uuid4().hex[:12]
        log.exception("import run %s failed (error id %s)", run_id, error_id)
        _fail(run_id, worker, attempt, "error",
              f"导入时发生意外错误（编号 {error_id}，见后台进程的日志），未写入任何数据；可以重试 / an unexpected "
              f"error stopped the import (id {error_id}, see the worker's log); nothing was written; it can be retried")


def _take_write_lock(run_id: int, worker: str, attempt: int) -> None:
    """SQLite: begin the import's transaction holding the database's write lock, and check the run is ours.

    A transaction that reads first cannot write once another connection has
    committed meanwhile (its snapshot is stale: "database is locked"), and an
    import reads for seconds before it writes; its transaction begins
    ``BEGIN IMMEDIATE`` (registry.database.engine) and its first statement is this
    UPDATE.  Wait for the lock as long as the lease (the heartbeat goes on
    meanwhile, from the queue's store), each try up to the busy timeout.
    """
    db.session.rollback()  # end the reads so far: the UPDATE below is the transaction's first statement
    deadline = time.monotonic() + lease.lease_seconds()
    while True:
        try:
            if not lease.still_ours(run_id, worker, attempt):
                raise lease.LeaseLost(f"import run {run_id} attempt {attempt} was failed before it started")
            return
        except sa.exc.OperationalError:
            db.session.rollback()
            if time.monotonic() > deadline:
                raise
            log.info("import run %s: waiting for the database's write lock", run_id)


def _fail(run_id: int, worker: str, attempt: int, reason: str, message: str) -> None:
    if not lease.fail_claimed(run_id, worker, attempt, reason, message):
        log.warning("import run %s: not ours any more, left as it is", run_id)


@jobs.periodic_task(minute="*")
def sweep_runs() -> None:
    """Fail running runs whose worker fell silent; queue again queued runs whose job is not in the queue."""
    try:
        expired = lease.expire_stale()
        db.session.commit()
    except sa.exc.OperationalError:  # SQLite, while an import holds the write lock: the next sweep will do
        db.session.rollback()
        log.info("sweep: database busy, failing silent runs postponed")
        expired = []
    waiting = {args[0] for name, args in jobs.jobs().pending() if name == run_import_job.__name__ and args}
    with reading():
        queued = list(db.session.scalars(
            db.select(ImportRun.id).where(ImportRun.status == "queued").order_by(ImportRun.id)))
        db.session.rollback()
    lost = [run_id for run_id in queued if run_id not in waiting]
    for run_id in lost:
        jobs.jobs().enqueue(run_import_job, run_id)
    if expired or lost:
        log.warning("sweep: failed runs %s (no heartbeat), queued again runs %s (job missing)", expired, lost)


@jobs.periodic_task(minute="17")
def purge_uploads_job() -> None:
    """Delete uploads older than ``IMPORT_RETENTION_DAYS`` (hourly)."""
    with reading():
        services.purge_uploads(days=current_app.config["IMPORT_RETENTION_DAYS"])
        db.session.rollback()
