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

from importers.spec import WORKBOOK_ORDER
from registry.api.core import BINARY, XLSX, Blueprint, ProblemSchema, actor
from registry.api.openapi import HEADERS, AsIs
from registry.errors import PROBLEM_JSON, Conflict, ValidationError, problem_type
from registry.imports import services
from registry.imports.models import IMPORT_STATUSES

bp = Blueprint("imports", __name__, url_prefix="/api/v1",
               description="Excel workbooks (工作簿导入导出): import with preview, export, template")


class ImportUploadSchema(ma.Schema):
    """One ``multipart/form-data`` body: the workbook and the options."""

    file = Upload(required=True, metadata={"description": "The workbook (.xlsx, .xls or .ods) or a CSV file "
                                                          "(UTF-8 or GB18030)"})
    dry_run = ma.fields.Boolean(load_default=False, metadata={"description": "Preview only: write nothing"})
    sheet = ma.fields.String(load_default=None, validate=ma.validate.Length(max=40),
                             metadata={"description": "CSV only: the sheet the file is (机构, 计量标准 … or "
                                                      "institutions, standards …); default: told by its header"})


class ExportArgs(ma.Schema):
    region = ma.fields.String(validate=ma.validate.Regexp(r"^\d{6}$"))


class ImportIssueSchema(ma.Schema):
    """One row error or warning (sheet, row and column are null for a problem with the whole file)."""

    sheet = ma.fields.String(allow_none=True)
    row = ma.fields.Integer(allow_none=True)
    column = ma.fields.String(allow_none=True)
    message = ma.fields.String()


class ImportRunSchema(AsIs):
    """An import run: status, progress, and the report (documents :func:`services.run_report`, answered as is)."""

    id = ma.fields.Integer()
    status = ma.fields.String(validate=ma.validate.OneOf(IMPORT_STATUSES))
    filename = ma.fields.String(allow_none=True)
    dry_run = ma.fields.Boolean()
    actor = ma.fields.String(metadata={"description": "Who started it (email, or system)"})
    created_at = ma.fields.DateTime()
    started_at = ma.fields.DateTime(allow_none=True)
    finished_at = ma.fields.DateTime(allow_none=True)
    heartbeat_at = ma.fields.DateTime(allow_none=True)
    rows_total = ma.fields.Integer()
    rows_done = ma.fields.Integer()
    progress = ma.fields.Float(metadata={"description": "Share of rows checked, 0 to 1"})
    attempts = ma.fields.Integer()
    failure_reason = ma.fields.String(allow_none=True)
    upload_available = ma.fields.Boolean(metadata={"description": "The upload is kept (error workbook, retry)"})
    ok = ma.fields.Boolean(metadata={"description": "applied, or previewed without errors"})
    sheets = ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.Dict(keys=ma.fields.String(),
                                                                           values=ma.fields.Integer()),
                            metadata={"description": "Per sheet: created, updated, unchanged"})
    errors = ma.fields.List(ma.fields.Nested(ImportIssueSchema))
    warnings = ma.fields.List(ma.fields.Nested(ImportIssueSchema))
    ignored_columns = ma.fields.List(ma.fields.Dict(keys=ma.fields.String(), values=ma.fields.String()))
    changes = ma.fields.List(ma.fields.Dict(keys=ma.fields.String()), metadata={
        "description": 'A dry run\'s differences: {"sheet", "row", "key", "changes": {field: [old, new]}}'})


class FileRefusedSchema(ProblemSchema):
    """A refused upload: the problem, and the run that records it."""

    id = ma.fields.Integer(required=True, metadata={"description": "The import run (GET /api/v1/imports/{id})"})


LOCATION = {"Location": {**HEADERS["Location"], "required": True}}


def _status(run) -> int:
    if run.status == "queued":
        return 202
    if run.status == "rejected":
        return 413 if "MAX_CONTENT_LENGTH" in (run.message or "") else 400
    return 201


@bp.route("/imports", methods=["POST"])
@bp.arguments(ImportUploadSchema, location="multipart")
@bp.response(201, ImportRunSchema, headers=LOCATION, description="Imported, previewed, or found invalid")
@bp.alt_response(202, schema=ImportRunSchema, headers=LOCATION, success=True,
                 description="Too big for one request: queued for the worker; poll Location")
@bp.alt_response(400, schema=FileRefusedSchema, content_type=PROBLEM_JSON, headers=LOCATION,
                 description="Not a workbook the registry can read")
@bp.alt_response(413, schema=FileRefusedSchema, content_type=PROBLEM_JSON,
                 description="Larger than MAX_CONTENT_LENGTH")
@bp.doc(operationId="createImport")
def create_import(data):
    """Import (or with dry_run, preview) a workbook (.xlsx, .xls, .ods) or a CSV file

    Messages are in the language of ``Accept-Language`` (Chinese unless English is preferred).
    """
    upload = data["file"]
    run = services.start_import(upload.stream, filename=upload.filename, actor=actor(), dry_run=data["dry_run"],
                                sheet=data.get("sheet"))
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
@bp.response(200, ImportRunSchema)
@bp.doc(operationId="getImport")
def read_import(run_id):
    """Read an import: status, progress, report (a run whose worker died is failed here)"""
    return services.run_report(services.check_lease(services.get_run(run_id, actor=actor())))


@bp.route("/imports/<id:run_id>/retry", methods=["POST"])
@bp.response(202, ImportRunSchema, headers=LOCATION)
@bp.problems(403, 409)
@bp.doc(operationId="retryImport")
def retry_import(run_id):
    """Queue a failed background import again (its starter only, while its upload is kept)"""
    run = services.retry_run(services.get_run(run_id, actor=actor()), actor=actor())
    return services.run_report(run), 202, {"Location": url_for("imports.read_import", run_id=run.id)}


@bp.route("/imports/<id:run_id>/errors.xlsx")
@bp.response(200, BINARY, content_type=XLSX)
@bp.problems(409, 422)
@bp.doc(operationId="getImportErrorWorkbook")
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


@bp.route("/exports/<string:kind>.xlsx", parameters=[{
    "in": "path", "name": "kind", "description": "A sheet, or registry for every sheet",
    "schema": {"title": "ExportKind", "type": "string", "enum": ["registry", *(s.kind for s in WORKBOOK_ORDER)]}}])
@bp.arguments(ExportArgs, location="query")
@bp.response(200, BINARY, content_type=XLSX)
@bp.doc(operationId="exportWorkbook")
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
@bp.response(200, BINARY, content_type=XLSX)
@bp.doc(operationId="getImportTemplate")
def template():
    """The empty workbook with instructions, an example row and dropdowns"""
    from importers.export import write_template

    actor()
    out = io.BytesIO()
    write_template(out)
    out.seek(0)
    return send_file(out, mimetype=XLSX, as_attachment=True, download_name="registry-template.xlsx")
