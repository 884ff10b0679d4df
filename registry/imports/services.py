"""Import runs started from the web: keep the upload, run it now or on the job queue.

The API and the import wizard call these; the work itself is
:func:`importers.run.run_import`, the same function the CLI calls.  A big
upload is queued for ``registry worker`` (:mod:`registry.imports.tasks`);
its claim, progress and heartbeat are kept with the run
(:mod:`registry.imports.lease`), so any web worker answers the same.
"""
from __future__ import annotations

import logging
import os
from datetime import datetime, timedelta
from pathlib import Path
from typing import IO, Any

import sqlalchemy as sa
from flask import current_app

from registry.auth.policy import is_staff
from registry.database.base import utcnow
from registry.errors import Conflict, Forbidden, NotFound
from registry.extensions import db
from registry.imports import lease
from registry.imports.models import ImportRun

log = logging.getLogger(__name__)
ACTIVE = ("queued", "running")


def upload_path(run: ImportRun) -> Path:
    return Path(current_app.config["IMPORT_STORAGE_DIR"]) / f"{run.id}.xlsx"


def upload_available(run: ImportRun) -> bool:
    """Whether the run's upload is still stored (uploads are deleted after ``IMPORT_RETENTION_DAYS``)."""
    return upload_path(run).is_file()


def upload_gone_message(zh: str, en: str) -> str:
    """Say the upload is gone and what that rules out (``zh``/``en``: e.g. 无法重试 / it cannot be retried)."""
    days = current_app.config["IMPORT_RETENTION_DAYS"]
    kept_zh, kept_en = (f"（上传文件保留 {days} 天）", f" (uploads are kept {days} days)") if days else ("", "")
    return f"上传的文件已不在服务器上{kept_zh}，{zh} / the uploaded file is no longer on the server{kept_en}; {en}"


def start_import(upload: IO[bytes], *, filename: str | None, actor: Any, dry_run: bool,
                 source_run: ImportRun | None = None, sheet: str | None = None,
                 lang: str | None = None) -> ImportRun:
    """Store the upload and run it: inline when small, else on the job queue.

    An inline run is finished when this returns; a background run is
    ``queued``, and its job is queued when the caller commits.  ``source_run``
    is the preview this run confirms (see :func:`apply_previewed`).  ``sheet``
    names the sheet a CSV upload is; ``lang`` the language of its messages
    (default: the request's); both are kept with the run for the worker.
    """
    from importers.messages import choose
    from registry.imports.tasks import run_import_job
    from registry.jobs import enqueue_after_commit

    run = ImportRun(actor_id=getattr(actor, "id", None), actor_label=getattr(actor, "email", None) or "system",
                    filename=(filename or "upload.xlsx")[:255], dry_run=dry_run, status="queued",
                    source_run_id=source_run.id if source_run is not None else None,
                    sheet=(sheet or "").strip()[:40] or None, language=choose(lang))
    db.session.add(run)
    db.session.flush()
    path = upload_path(run)
    _store(upload, path)
    if path.stat().st_size <= current_app.config["IMPORT_INLINE_MAX_BYTES"] or current_app.config["IMPORT_INLINE_ONLY"]:
        _execute(run, actor)
        return run
    enqueue_after_commit(run_import_job, run.id)
    return run


def _store(upload: IO[bytes], path: Path) -> None:
    """Keep an upload readable by the registry's own user only: the file 0600, its folder 0700."""
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    folder = path.parent.stat()
    if folder.st_uid == os.geteuid() and folder.st_mode & 0o077:
        path.parent.chmod(0o700)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    os.fchmod(fd, 0o600)
    with os.fdopen(fd, "wb") as out:
        while chunk := upload.read(1 << 20):
            out.write(chunk)


def _execute(run: ImportRun, actor: Any) -> None:
    from importers.run import run_import

    run.attempts, run.started_at = 1, utcnow()
    run_import(upload_path(run), actor=actor, dry_run=run.dry_run, filename=run.filename, run=run,
               sheet=run.sheet, lang=run.language)


def retry_run(run: ImportRun, *, actor: Any) -> ImportRun:
    """Queue a failed background run again (a fresh attempt), as its starter.

    Only the user who started the run may retry it (another institution user
    is told it does not exist; staff are refused), only a failed run, and only
    while its upload is kept.  The job is queued when the caller commits.
    """
    from registry.imports.tasks import run_import_job
    from registry.jobs import enqueue_after_commit

    _only_the_starter(run, actor, "只能重试自己发起的导入 / only the user who started an import may retry it")
    if run.status != "failed":
        raise Conflict("只能重试失败的导入 / only a failed import can be retried")
    if not upload_available(run):
        raise Conflict(upload_gone_message("无法重试，请重新上传", "it cannot be retried; upload it again"))
    run.status, run.failure_reason, run.message = "queued", None, None
    run.worker_id, run.started_at, run.heartbeat_at, run.finished_at = None, None, None, None
    run.rows_done = 0
    db.session.flush()
    enqueue_after_commit(run_import_job, run.id)
    log.info("import run %s queued again (attempt %s failed)", run.id, run.attempts)
    return run


def _only_the_starter(run: ImportRun, actor: Any, refusal: str) -> None:
    if run.actor_id is None or run.actor_id != getattr(actor, "id", None):
        if not is_staff(actor):
            raise NotFound("导入记录不存在 / no such import")
        raise Forbidden(refusal)


def check_lease(run: ImportRun) -> ImportRun:
    """Fail ``run`` if it is running and its worker fell silent for longer than the lease (the caller commits).

    Any poller does this, so a run whose worker was killed ends ``failed``
    even when no worker is left to sweep.  A busy database (SQLite, while
    another import writes) leaves the run as it is until the next poll.
    """
    if run.status != "running":
        return run
    beat = lease.last_beat(run)
    if beat is not None and beat.at >= utcnow() - timedelta(seconds=lease.lease_seconds()):
        return run
    try:
        with db.session.begin_nested():
            expired = lease.expire_stale([run])
    except sa.exc.OperationalError:
        log.info("import run %s: lease check postponed (database busy)", run.id)
        return run
    if expired:
        db.session.refresh(run)
    return run


def apply_previewed(run: ImportRun, *, actor: Any) -> ImportRun:
    """Import for real the workbook of a clean preview (确认导入), as its starter saw it.

    Only the user who ran the preview may confirm it (another institution
    user is told it does not exist; staff are refused), only a dry run that
    finished without errors, and only once.  The rows are validated again:
    what changed since the preview is reported, not overwritten blindly.
    """
    _only_the_starter(run, actor, "只能确认自己预览的导入 / only the user who previewed an import may confirm it")
    if not run.dry_run or run.status != "previewed" or run.errors:
        raise Conflict("只能确认没有错误的预览 / only a preview without errors can be confirmed")
    if confirmation_of(run) is not None:
        raise Conflict("此预览已确认导入 / this preview has already been imported")
    path = upload_path(run)
    if not path.exists():
        raise Conflict(upload_gone_message("无法确认导入，请重新上传", "the preview cannot be imported; upload it again"))
    with path.open("rb") as upload:
        return start_import(upload, filename=run.filename, actor=actor, dry_run=False, source_run=run,
                            sheet=run.sheet)


def confirmation_of(run: ImportRun) -> ImportRun | None:
    """The import that confirmed preview ``run``, if any."""
    return db.session.scalar(sa.select(ImportRun).where(ImportRun.source_run_id == run.id))


def get_run(run_id: int, *, actor: Any) -> ImportRun:
    """A run its starter may read; staff read every run.  Others get 404."""
    run = db.session.get(ImportRun, run_id)
    if run is None or not (is_staff(actor) or run.actor_id == getattr(actor, "id", None)):
        raise NotFound("导入记录不存在 / no such import")
    return run


def progress_of(run: ImportRun) -> dict[str, Any]:
    """Rows done of rows to check: the worker's last heartbeat while it runs, else the row's counts."""
    done, total = run.rows_done, run.rows_total
    if run.status == "running":
        beat = lease.last_beat(run)
        if beat is not None:
            done, total = beat.rows_done, beat.rows_total
    return {"rows_done": done, "rows_total": total, "progress": (done / total) if total else run.progress}


def run_report(run: ImportRun) -> dict[str, Any]:
    """The run as the API answers it: the CLI's report plus status, progress and the lease."""
    errors = run.errors or ([] if run.message is None else
                            [{"sheet": None, "row": None, "column": None, "message": run.message}])
    return {
        "id": run.id, "status": run.status, "filename": run.filename, "dry_run": run.dry_run,
        "actor": run.actor_label, "created_at": _iso(run.created_at), "started_at": _iso(run.started_at),
        "finished_at": _iso(run.finished_at), "heartbeat_at": _iso(run.heartbeat_at),
        **progress_of(run),
        "attempts": run.attempts, "failure_reason": run.failure_reason,
        "upload_available": upload_available(run),
        "ok": run.status in ("applied", "previewed"),
        "sheets": run.counts or {}, "errors": errors,
        "warnings": run.warnings or [], "ignored_columns": run.ignored_columns or [],
        "changes": run.changes or [],
    }


def _iso(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def purge_uploads(*, days: int | None = None, now: datetime | None = None) -> list[Path]:
    """Delete uploads older than ``days`` (default ``IMPORT_RETENTION_DAYS``; 0 keeps them); the files removed.

    The age is the file's; the upload of a run still queued or running is
    kept whatever its age.  Runs keep their reports; their pages then say
    the upload is gone (no error workbook, no retry, no confirmation).
    """
    days = current_app.config["IMPORT_RETENTION_DAYS"] if days is None else days
    folder = Path(current_app.config["IMPORT_STORAGE_DIR"])
    if days <= 0 or not folder.is_dir():
        return []
    cutoff = (now or utcnow()).timestamp() - days * 86400
    old = {}
    for path in folder.iterdir():
        try:
            if path.is_file() and path.stat().st_mtime < cutoff:
                old[path] = int(path.stem) if path.stem.isdigit() else None
        except FileNotFoundError:  # another worker's purge got there first
            continue
    active = set(db.session.scalars(sa.select(ImportRun.id).where(
        ImportRun.id.in_([i for i in old.values() if i is not None]), ImportRun.status.in_(ACTIVE))))
    removed = []
    for path, run_id in sorted(old.items()):
        if run_id in active:
            continue
        path.unlink(missing_ok=True)
        removed.append(path)
    if removed:
        log.info("deleted %s upload(s) older than %s days from %s", len(removed), days, folder)
    return removed
