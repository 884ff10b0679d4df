"""``/api/v1/applications`` and ``/api/v1/examiners``: every step of an examination, one POST each.

Views are thin: each calls one function of :mod:`registry.applications.services`, which holds every rule.
"""
from __future__ import annotations

from flask import Response, request
from flask.views import MethodView
from werkzeug.http import quote_header_value

from registry.api.core import BINARY, IF_MATCH, Blueprint, actor, allowed, if_match, paginate, tagged
from registry.applications import services
from registry.applications.schemas import (
    ApplicationCreateSchema,
    ApplicationDetailSchema,
    ApplicationQueryArgs,
    ApplicationSchema,
    ApplicationUpdateSchema,
    AssignSchema,
    CommentSchema,
    DecisionSchema,
    DocumentSchema,
    DocumentUploadSchema,
    EventSchema,
    ExaminerCreateSchema,
    ExaminerQueryArgs,
    ExaminerSchema,
    ExaminerUpdateSchema,
    RequiredCommentSchema,
    ResponseSchema,
)
from registry.errors import Forbidden

bp = Blueprint("applications", __name__, url_prefix="/api/v1/applications",
               description="Examinations under JJF 1033 (计量标准考核): applications, steps, documents")
examiners_bp = Blueprint("examiners", __name__, url_prefix="/api/v1/examiners",
                         description="The examiner roster (计量标准考评员), kept by regulators")


def signed_in(user) -> None:
    """Any signed-in user: the service decides by side and state (403 or 409), another's is 404."""


def regulators_only(user) -> None:
    if not services.is_regulator(user):
        raise Forbidden("仅限监管人员 / regulators only")


def _named_application(user):
    return services.get_application(request.view_args["application_id"], actor=user)


def applicant_step(user) -> None:
    """The application the URL names is visible (else 404) and the caller is its applicant side (else 403)."""
    if not services.is_applicant(user, _named_application(user)):
        raise Forbidden("此步骤由申请人办理 / this step is the applicant's")


def regulator_step(user) -> None:
    """The application the URL names is visible (else 404) and the caller is a regulator (else 403)."""
    _named_application(user)
    regulators_only(user)


def uploader(user) -> None:
    """The applicant side or a regulator, on an application they can see."""
    application = _named_application(user)
    if not (services.is_applicant(user, application) or services.is_regulator(user)):
        raise Forbidden("无权上传 / you may not upload to this application")


@bp.route("")
class Applications(MethodView):
    @bp.arguments(ApplicationQueryArgs, location="query")
    @bp.response(200, ApplicationSchema(many=True))
    @bp.paginate()
    @bp.doc(operationId="listApplications")
    def get(self, args, pagination_parameters):
        """List applications (an institution: its own; ``queue=true``: the regulators' work queue)"""
        queue = args.pop("queue", False)
        query = services.queue_query if queue else services.list_query
        return paginate(query(actor(), args), pagination_parameters)

    @allowed(signed_in)
    @bp.arguments(ApplicationCreateSchema)
    @bp.response(201, ApplicationDetailSchema)
    @bp.doc(operationId="createApplication")
    def post(self, data):
        """Start an application as a draft"""
        return tagged(services.create_draft(data, actor=actor()), 201)


@bp.route("/<id:application_id>")
class ApplicationItem(MethodView):
    @bp.response(200, ApplicationDetailSchema)
    @bp.doc(operationId="getApplication")
    def get(self, application_id):
        """Read an application"""
        return tagged(services.get_application(application_id, actor=actor()))

    @allowed(applicant_step)
    @bp.arguments(ApplicationUpdateSchema)
    @bp.response(200, ApplicationDetailSchema)
    @bp.doc(parameters=[IF_MATCH])
    @bp.doc(operationId="updateApplication")
    def patch(self, data, application_id):
        """Change a draft (or an application returned for completion)"""
        application = services.get_application(application_id, actor=actor())
        return tagged(services.update_draft(application, data, actor=actor(), expected_version=if_match()))


def _step(name: str, operation: str, schema, check, summary: str, call):
    """One POST per step: ``call(application, data, actor, version)`` is the service."""

    def view(data, application_id):
        application = services.get_application(application_id, actor=actor())
        return tagged(call(application, data, actor(), if_match()))

    view.__name__ = name.replace("-", "_")
    view.__doc__ = summary
    view = bp.doc(operationId=operation)(view)
    view = bp.doc(parameters=[IF_MATCH])(view)
    view = bp.response(200, ApplicationDetailSchema)(view)
    view = bp.arguments(schema)(view)
    view = allowed(check)(view)
    bp.route(f"/<id:application_id>/{name}", methods=["POST"])(view)


_step("submit", "submitApplication", CommentSchema, applicant_step, "Submit to the regulator (the checklist complete)",
      lambda a, d, u, v: services.submit(a, actor=u, comment=d.get("comment"), expected_version=v))
_step("return", "returnApplication", RequiredCommentSchema, regulator_step,
      "Return for completion (补正) with the reason",
      lambda a, d, u, v: services.return_for_completion(a, actor=u, comment=d["comment"], expected_version=v))
_step("accept", "acceptApplication", CommentSchema, regulator_step, "Accept (受理)",
      lambda a, d, u, v: services.accept(a, actor=u, comment=d.get("comment"), expected_version=v))
_step("examiners", "assignExaminers", AssignSchema, regulator_step,
      "Assign examiners (考评员) from the roster: the application is under review",
      lambda a, d, u, v: services.assign_examiners(a, d["examiner_ids"], actor=u, comment=d.get("comment"),
                                                   expected_version=v))
_step("decision", "decideApplication", DecisionSchema, regulator_step,
      "Decide: approved (the standard is written), approved after rectification (整改), or rejected",
      lambda a, d, u, v: services.decide(a, d["outcome"], actor=u, comment=d.get("comment"), values=d.get("values"),
                                         rectification_deadline=d.get("rectification_deadline"),
                                         expected_version=v))
_step("rectification-response", "respondRectification", ResponseSchema, applicant_step,
      "The applicant's response to rectification",
      lambda a, d, u, v: services.respond_rectification(a, d["response"], actor=u, expected_version=v))
_step("rectification-confirmation", "confirmRectification", CommentSchema, regulator_step,
      "Rectification done: the approval takes effect",
      lambda a, d, u, v: services.confirm_rectification(a, actor=u, comment=d.get("comment"), expected_version=v))
_step("rectification-rejection", "rejectRectification", RequiredCommentSchema, regulator_step,
      "Rectification failed: rejected",
      lambda a, d, u, v: services.reject_rectification(a, actor=u, comment=d["comment"], expected_version=v))
_step("close", "closeApplication", CommentSchema, regulator_step, "Close (办结) a decided application",
      lambda a, d, u, v: services.close(a, actor=u, comment=d.get("comment"), expected_version=v))
_step("withdraw", "withdrawApplication", CommentSchema, applicant_step, "Withdraw, before any decision",
      lambda a, d, u, v: services.withdraw(a, actor=u, comment=d.get("comment"), expected_version=v))


@bp.route("/<id:application_id>/events")
@bp.response(200, EventSchema(many=True))
@bp.paginate()
@bp.doc(operationId="listApplicationEvents")
def application_events(application_id, pagination_parameters):
    """The timeline of one application, oldest first"""
    application = services.get_application(application_id, actor=actor())
    return paginate(services.events_query(application), pagination_parameters)


@bp.route("/<id:application_id>/documents")
class Documents(MethodView):
    @bp.response(200, DocumentSchema(many=True))
    @bp.paginate()
    @bp.doc(operationId="listApplicationDocuments")
    def get(self, application_id, pagination_parameters):
        """The documents of one application, every version"""
        application = services.get_application(application_id, actor=actor())
        return paginate(services.documents_query(application), pagination_parameters)

    @allowed(uploader)
    @bp.problems(409)
    @bp.arguments(DocumentUploadSchema, location="multipart")
    @bp.response(201, DocumentSchema)
    @bp.doc(operationId="uploadApplicationDocument")
    def post(self, data, application_id):
        """Upload a document (a new version never replaces the old)"""
        application = services.get_application(application_id, actor=actor())
        upload = data["file"]
        return services.add_document(application, data["kind"], upload.stream, upload.filename, actor=actor()), 201


@bp.route("/<id:application_id>/documents/<id:document_id>")
@bp.response(200, BINARY, content_type="application/octet-stream",
             description="The file, as an attachment (its own content type)")
@bp.doc(operationId="downloadApplicationDocument")
def download_document(application_id, document_id):
    """Download one document (404 for anyone who may not see the application)"""
    document, chunks = services.open_document(application_id, document_id, actor=actor())
    response = Response(chunks, mimetype=document.content_type)
    response.headers["Content-Disposition"] = _attachment(document.original_name)
    response.headers["Content-Length"] = str(document.size)
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


def _attachment(name: str) -> str:
    """``attachment`` with an ASCII fallback and the UTF-8 name (RFC 6266)."""
    from urllib.parse import quote

    fallback = "".join(c if c.isascii() and c.isprintable() and c not in '"\\' else "_" for c in name)
    return f"attachment; filename={quote_header_value(fallback)}; filename*=UTF-8''{quote(name)}"


@examiners_bp.route("")
class Examiners(MethodView):
    @allowed(regulators_only)
    @examiners_bp.arguments(ExaminerQueryArgs, location="query")
    @examiners_bp.response(200, ExaminerSchema(many=True))
    @examiners_bp.paginate()
    @examiners_bp.doc(operationId="listExaminers")
    def get(self, args, pagination_parameters):
        """The examiner roster"""
        return paginate(services.examiners_query(actor(), active=args.get("active"), q=args.get("q")),
                        pagination_parameters)

    @allowed(regulators_only)
    @examiners_bp.arguments(ExaminerCreateSchema)
    @examiners_bp.response(201, ExaminerSchema)
    @examiners_bp.doc(operationId="createExaminer")
    def post(self, data):
        """Add an examiner to the roster"""
        return tagged(services.create_examiner(data, actor=actor()), 201)


@examiners_bp.route("/<id:examiner_id>")
class ExaminerItem(MethodView):
    @allowed(regulators_only)
    @examiners_bp.response(200, ExaminerSchema)
    @examiners_bp.doc(operationId="getExaminer")
    def get(self, examiner_id):
        """Read an examiner"""
        return tagged(services.get_examiner(examiner_id, actor=actor()))

    @allowed(regulators_only)
    @examiners_bp.arguments(ExaminerUpdateSchema)
    @examiners_bp.response(200, ExaminerSchema)
    @examiners_bp.doc(parameters=[IF_MATCH])
    @examiners_bp.doc(operationId="updateExaminer")
    def patch(self, data, examiner_id):
        """Change an examiner (``active: false`` takes them off the roster)"""
        examiner = services.get_examiner(examiner_id, actor=actor())
        return tagged(services.update_examiner(examiner, data, actor=actor(), expected_version=if_match()))
