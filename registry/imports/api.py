"""``/api/v1/imports``, ``/exports`` and ``/templates``: workbooks in and out over HTTP.

The same functions as ``registry import``, ``registry export`` and
``registry template``; an import too big for one request is queued for
``registry worker`` and polled at ``GET /api/v1/imports/<id>``.
"""
from __future__ import annotations

import io

import marshmallow as ma
from flask import g, jsonify, request, send_file, url_for
from flask_smorest.fields import Upload

from registry.api.core import Blueprint, actor
from registry.errors import PROBLEM_JSON, Conflict, ValidationError, problem_type
from registry.imports import services

bp = Blueprint("imports", __name__, url_prefix="/api/v1",
               description="Excel workbooks (工作簿导入导出): import with preview, export, template")

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class UploadSchema(ma.Schema):
    file = Upload(required=True, metadata={"description": "The workbook (.xlsx, .xls or .ods) or a CSV file "
                                                          "(UTF-8 or GB18030)"})


class ImportOptionsSchema(ma.Schema):
    dry_run = ma.fields.Boolean(load_default=False, metadata={"description": "Preview only: write nothing"})
    sheet = ma.fields.String(load_default=None, validate=ma.validate.Length(max=40),
                             metadata={"description": "CSV only: the sheet the file is (机构, 计量标准 … or "
                                                      "institutions, standards …); default: told by its header"})


class ExportArgs(ma.Schema):
    region = ma.fields.String(validate=ma.validate.Regexp(r"^\d{6}$"))


def _status(run) -> int:
    if run.status == "queued":
        return 202
    if run.status == "rejected":
        return 413 if "MAX_CONTENT_LENGTH" in (run.message or "") else 400
    return 201


@bp.route("/imports", methods=["POST"])
@bp.arguments(UploadSchema, location="files")
@bp.arguments(ImportOptionsSchema, location="form")
@bp.response(201)
def create_import(files, options):
    """Import (or with dry_run, preview) a workbook (.xlsx, .xls, .ods) or a CSV file

    Messages are in the language of ``Accept-Language`` (Chinese unless English is preferred).
    """
    upload = files["file"]
    run = services.start_import(upload.stream, filename=upload.filename, actor=actor(),
                                dry_run=options["dry_run"], sheet=options.get("sheet"))
    headers = {"Location": url_for("imports.read_import", run_id=run.id)}
    if run.status == "rejected":
        return _refused(run, headers)
    return services.run_report(run), _status(run), headers


def _refused(run, headers: dict):
    """A refused file as problem+json (RFC 9457), naming the run that records it.

    Not :func:`registry.errors.problem`, which rolls back: the refused run is kept.
    """
    status = _status(run)
    payload = {"type": problem_type(status, "file-refused"), "title": "File refused", "status": status,
               "detail": run.message, "instance": request.path, "id": run.id}
    if g.get("request_id"):
        payload["request_id"] = g.request_id
    response = jsonify(payload)
    response.status_code = status
    response.mimetype = PROBLEM_JSON
    response.headers.update(headers)
    return response


@bp.route("/imports/<id:run_id>")
@bp.response(200)
def read_import(run_id):
    """Read an import: status, progress, report (a run whose worker died is failed here)"""
    return services.run_report(services.check_lease(services.get_run(run_id, actor=actor())))


@bp.route("/imports/<id:run_id>/retry", methods=["POST"])
@bp.response(202)
def retry_import(run_id):
    """Queue a failed background import again (its starter only, while its upload is kept)"""
    run = services.retry_run(services.get_run(run_id, actor=actor()), actor=actor())
    return services.run_report(run), 202, {"Location": url_for("imports.read_import", run_id=run.id)}


@bp.route("/imports/<id:run_id>/errors.xlsx")
@bp.response(200, content_type=XLSX)
def import_errors(run_id):
    """The upload with its bad cells marked, and a summary sheet"""
    from importers.error_workbook import write_error_workbook

    run = services.get_run(run_id, actor=actor())
    if run.status != "invalid" or not run.errors:
        # A refused file (not a workbook) has nothing to mark; a clean run has no errors.
        raise ValidationError("此次导入没有行错误 / this import has no row errors")
    if not services.upload_available(run):
        raise Conflict(services.upload_gone_message("无法生成标注错误的工作簿", "there is no error workbook"))
    out = io.BytesIO()
    write_error_workbook(services.upload_path(run), run.errors, out, filename=run.filename, sheet=run.sheet)
    out.seek(0)
    return send_file(out, mimetype=XLSX, as_attachment=True, download_name=f"import-{run.id}-errors.xlsx")


@bp.route("/exports/<string:kind>.xlsx")
@bp.arguments(ExportArgs, location="query")
@bp.response(200, content_type=XLSX)
def export(args, kind):
    """Export what you may read, in the import format (kind: registry for every sheet)"""
    from importers.export import export_workbook

    out = io.BytesIO()
    try:
        export_workbook(out, actor=actor(), kinds=None if kind == "registry" else [kind], region=args.get("region"))
    except ValueError as exc:
        raise ValidationError(str(exc), field="kind") from None
    out.seek(0)
    return send_file(out, mimetype=XLSX, as_attachment=True, download_name=f"{kind}.xlsx")


@bp.route("/templates/registry.xlsx")
@bp.response(200, content_type=XLSX)
def template():
    """The empty workbook with instructions, an example row and dropdowns"""
    from importers.export import write_template

    actor()
    out = io.BytesIO()
    write_template(out)
    out.seek(0)
    return send_file(out, mimetype=XLSX, as_attachment=True, download_name="registry-template.xlsx")
