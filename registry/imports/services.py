"""Import runs started from the web: keep the upload, run it now or in the background.

The API and the import wizard call these; the work itself is
:func:`importers.run.run_import`, the same function the CLI calls.
"""
from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import IO, Any

import sqlalchemy as sa
from flask import current_app

from registry.auth.policy import is_staff
from registry.errors import Conflict, Forbidden, NotFound
from registry.extensions import db
from registry.imports.models import ImportRun

# Live progress of runs executing in this process: {run_id: (done, total)}.
_progress: dict[int, tuple[int, int]] = {}


def upload_path(run: ImportRun) -> Path:
    return Path(current_app.config["IMPORT_STORAGE_DIR"]) / f"{run.id}.xlsx"


def start_import(upload: IO[bytes], *, filename: str | None, actor: Any, dry_run: bool,
                 source_run: ImportRun | None = None) -> ImportRun:
    """Store the upload and run it: inline when small, else in a background thread.

    An inline run is finished when this returns (the caller commits); a
    background run is ``queued`` and committed here so a poller can see it.
    ``source_run`` is the preview this run confirms (see :func:`apply_previewed`).
    """
    run = ImportRun(actor_id=getattr(actor, "id", None), actor_label=getattr(actor, "email", None) or "system",
                    filename=(filename or "upload.xlsx")[:255], dry_run=dry_run, status="queued",
                    source_run_id=source_run.id if source_run is not None else None)
    db.session.add(run)
    db.session.flush()
    path = upload_path(run)
    _store(upload, path)
    if path.stat().st_size <= current_app.config["IMPORT_INLINE_MAX_BYTES"] or current_app.config["IMPORT_INLINE_ONLY"]:
        _execute(run, actor)
        return run
    db.session.commit()
    app = current_app._get_current_object()
    threading.Thread(target=_background, args=(app, run.id), name=f"import-{run.id}", daemon=True).start()
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

    def progress(done: int, total: int) -> None:
        _progress[run.id] = (done, total)

    try:
        run_import(upload_path(run), actor=actor, dry_run=run.dry_run, filename=run.filename, run=run,
                   progress=progress)
    finally:
        _progress.pop(run.id, None)


def _background(app, run_id: int) -> None:
    from registry.auth.models import User

    with app.app_context():
        run = db.session.get(ImportRun, run_id)
        actor = db.session.get(User, run.actor_id) if run.actor_id else None
        try:
            _execute(run, actor)
            db.session.commit()
        except Exception:
            db.session.rollback()
            app.logger.exception("import run %s failed", run_id)
            run = db.session.get(ImportRun, run_id)
            run.status, run.message = "failed", "导入失败，请联系管理员 / the import failed; see the server log"
            db.session.commit()
        finally:
            db.session.remove()


def apply_previewed(run: ImportRun, *, actor: Any) -> ImportRun:
    """Import for real the workbook of a clean preview (确认导入), as its starter saw it.

    Only the user who ran the preview may confirm it (another institution
    user is told it does not exist; staff are refused), only a dry run that
    finished without errors, and only once.  The rows are validated again:
    what changed since the preview is reported, not overwritten blindly.
    """
    if run.actor_id is None or run.actor_id != getattr(actor, "id", None):
        if not is_staff(actor):
            raise NotFound("导入记录不存在 / no such import")
        raise Forbidden("只能确认自己预览的导入 / only the user who previewed an import may confirm it")
    if not run.dry_run or run.status != "previewed" or run.errors:
        raise Conflict("只能确认没有错误的预览 / only a preview without errors can be confirmed")
    if confirmation_of(run) is not None:
        raise Conflict("此预览已确认导入 / this preview has already been imported")
    path = upload_path(run)
    if not path.exists():
        raise Conflict("预览的文件已不在服务器上，请重新上传 / the previewed file is gone; upload it again")
    with path.open("rb") as upload:
        return start_import(upload, filename=run.filename, actor=actor, dry_run=False, source_run=run)


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
    done, total = _progress.get(run.id, (run.rows_done, run.rows_total))
    return {"rows_done": done, "rows_total": total, "progress": (done / total) if total else run.progress}


def run_report(run: ImportRun) -> dict[str, Any]:
    """The run as the API answers it: the CLI's report plus status and progress."""
    errors = run.errors or ([] if run.message is None else
                            [{"sheet": None, "row": None, "column": None, "message": run.message}])
    return {
        "id": run.id, "status": run.status, "filename": run.filename, "dry_run": run.dry_run,
        "actor": run.actor_label, "created_at": run.created_at.isoformat() if run.created_at else None,
        "finished_at": run.finished_at.isoformat() if run.finished_at else None,
        **progress_of(run),
        "ok": run.status in ("applied", "previewed"),
        "sheets": run.counts or {}, "errors": errors,
        "warnings": run.warnings or [], "ignored_columns": run.ignored_columns or [],
        "changes": run.changes or [],
    }
