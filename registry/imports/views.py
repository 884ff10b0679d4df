"""The import wizard (模板 → 上传预览 → 确认导入) and exports of what a list shows.

Every step calls :mod:`registry.imports.services` (the API's functions): an
upload is first a dry run; a clean preview is confirmed with
:func:`~registry.imports.services.apply_previewed`.  Exports take a list
page's filters through the API's query schemas and the features' list
queries, and write them with :func:`importers.export.export_workbook`.
"""
from __future__ import annotations

import io
import tempfile
from datetime import date

from flask import Blueprint, abort, current_app, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from werkzeug.exceptions import RequestEntityTooLarge

from importers.safety import ACCEPTED
from importers.spec import WORKBOOK_ORDER, find_sheet
from registry.catalog.queries import lines_query
from registry.catalog.schemas import CatalogLineQueryArgs
from registry.errors import Conflict
from registry.database.base import utcnow
from registry.extensions import db
from registry.imports import services
from registry.imports.forms import UploadForm
from registry.imports.models import ImportRun
from registry.imports.queries import runs_query
from registry.institutions.queries import institutions_query
from registry.institutions.schemas import InstitutionQueryArgs
from registry.personnel.queries import persons_query
from registry.personnel.schemas import PersonQueryArgs
from registry.regulations.queries import regulations_query
from registry.regulations.schemas import RegulationQueryArgs
from registry.standards.queries import standards_query
from registry.standards.schemas import StandardQueryArgs
from registry.web.core import actor, commit_or_rollback, list_args, login_required, paginate

bp = Blueprint("imports_pages", __name__, template_folder="templates")

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
RUNNING = ("queued", "running")
# A run queued this long without a worker taking it gets a note (is `registry worker` running?).
WAIT_NOTE_SECONDS = 30
# Rows of errors and of diffs shown on the page; the error workbook holds every error.
SHOWN = 500
# kind -> (the list's query arguments, the list's query): the same pair the API's list endpoint uses.
EXPORTS = {
    "institutions": (InstitutionQueryArgs, institutions_query),
    "standards": (StandardQueryArgs, standards_query),
    "regulations": (RegulationQueryArgs, regulations_query),
    "personnel": (PersonQueryArgs, persons_query),
    "catalog": (CatalogLineQueryArgs, lines_query),
}


def _upload_limit() -> str | None:
    """``MAX_CONTENT_LENGTH`` as people read it (``50 MB``, ``512 KB``)."""
    limit = current_app.config.get("MAX_CONTENT_LENGTH") or 0
    if not limit:
        return None
    if limit >= 1024 * 1024:
        return f"{limit / 1024 / 1024:.0f} MB"
    return f"{max(limit // 1024, 1)} KB"


def _wizard(form: UploadForm, status: int = 200):
    return render_template("imports/index.html", form=form, runs=paginate(runs_query(actor=actor())),
                           sheets=WORKBOOK_ORDER, limit=_upload_limit(), accepted=ACCEPTED), status


@bp.get("/imports")
@login_required
def index():
    return _wizard(UploadForm())


@bp.post("/imports")
@login_required
def upload():
    """Step 2: store the upload and preview it (a dry run writes nothing)."""
    form = UploadForm()
    if not form.validate_on_submit():
        return _wizard(form, 422)
    upload = form.file.data
    run = commit_or_rollback(lambda: services.start_import(upload.stream, filename=upload.filename, actor=actor(),
                                                           dry_run=True, sheet=form.sheet.data or None))
    if run.status == "rejected":
        form.file.errors = [_("无法读取此文件：%(reason)s", reason=run.message)]
        return _wizard(form, 422)
    return redirect(url_for(".run", run_id=run.id))


@bp.errorhandler(RequestEntityTooLarge)
def too_large(error):
    """An upload over ``MAX_CONTENT_LENGTH``: say so on the wizard, not with a bare 413."""
    if request.endpoint != "imports_pages.upload":
        from registry.errors import handle_http_exception

        return handle_http_exception(error)
    form = UploadForm(formdata=None)
    form.file.errors = [_("文件太大：上传上限为 %(size)s。请拆分工作簿后分批导入。", size=_upload_limit())]
    return _wizard(form, 413)


@bp.get("/imports/<int:run_id>")
@login_required
def run(run_id: int):
    """Step 3: the preview (or the result) of one run; a progress bar while it runs."""
    run = commit_or_rollback(lambda: services.check_lease(services.get_run(run_id, actor=actor())))
    report = services.run_report(run)
    confirmation = services.confirmation_of(run) if run.dry_run else None
    source = db.session.get(ImportRun, run.source_run_id) if run.source_run_id else None
    has_work = any(c.get("created") or c.get("updated") for c in (run.counts or {}).values())
    own = run.actor_id == actor().id
    upload_kept = report["upload_available"]
    can_confirm = (run.dry_run and run.status == "previewed" and not run.errors and confirmation is None
                   and own and has_work and upload_kept)
    waiting = run.status == "queued" and (utcnow() - run.created_at).total_seconds() > WAIT_NOTE_SECONDS
    return render_template("imports/run.html", run=run, report=report, running=run.status in RUNNING,
                           confirmation=confirmation, source=source, can_confirm=can_confirm, shown=SHOWN,
                           has_work=has_work, upload_kept=upload_kept, waiting=waiting,
                           can_retry=run.status == "failed" and own and upload_kept,
                           changes=_readable_changes((run.changes or [])[:SHOWN]),
                           changes_total=len(run.changes or []))


@bp.post("/imports/<int:run_id>/confirm")
@login_required
def confirm(run_id: int):
    """Step 4: import the previewed workbook for real."""
    run = services.get_run(run_id, actor=actor())
    try:
        applied = commit_or_rollback(lambda: services.apply_previewed(run, actor=actor()))
    except Conflict as exc:
        flash(exc.message, "error")
        return redirect(url_for(".run", run_id=run_id))
    return redirect(url_for(".run", run_id=applied.id))


@bp.post("/imports/<int:run_id>/retry")
@login_required
def retry(run_id: int):
    """Queue a failed background import again."""
    run = services.get_run(run_id, actor=actor())
    try:
        commit_or_rollback(lambda: services.retry_run(run, actor=actor()))
    except Conflict as exc:
        flash(exc.message, "error")
    return redirect(url_for(".run", run_id=run_id))


@bp.get("/imports/<int:run_id>/errors.xlsx")
@login_required
def errors(run_id: int):
    """The upload with its bad cells marked, and a summary sheet."""
    from importers.error_workbook import write_error_workbook

    run = services.get_run(run_id, actor=actor())
    if run.status != "invalid" or not run.errors or not services.upload_path(run).exists():
        abort(404)
    out = io.BytesIO()
    write_error_workbook(services.upload_path(run), run.errors, out, filename=run.filename, sheet=run.sheet)
    out.seek(0)
    return send_file(out, mimetype=XLSX, as_attachment=True, download_name=f"import-{run.id}-errors.xlsx")


@bp.get("/exports/<dataset>.xlsx")
@login_required
def export(dataset: str):
    """Every row a list's filters match (not just one page), in the import format.

    The sheet is named ``dataset`` in the URL so that a list's own ``kind`` filter passes through.
    """
    from importers.export import export_workbook

    kind = dataset
    if kind not in EXPORTS:
        abort(404)
    schema, query = EXPORTS[kind]
    args, _dropped = list_args(schema)
    shown = [(k, v) for k, v in request.args.items() if k in args and k != "sort"]
    selection = query(args, actor=actor())
    note = ("筛选 / filter: " + ", ".join(f"{k}={v}" for k, v in shown)) if shown else None
    out = tempfile.SpooledTemporaryFile(max_size=16 << 20)
    export_workbook(out, actor=actor(), kinds=[kind], selections={kind: selection}, scope_note=note)
    out.seek(0)
    return send_file(out, mimetype=XLSX, as_attachment=True, download_name=f"{kind}-{date.today().isoformat()}.xlsx")


def _readable_changes(changes: list[dict]) -> list[dict]:
    """A preview's per-field differences with the column headers people see in the workbook."""
    out = []
    for entry in changes:
        sheet = find_sheet(entry.get("sheet") or "")
        labels = {c.field: c.header for c in sheet.columns} if sheet else {}
        out.append({**entry, "fields": [(labels.get(name, name), name, pair[0], pair[1])
                                        for name, pair in (entry.get("changes") or {}).items()]})
    return out
