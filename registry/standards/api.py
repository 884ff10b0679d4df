"""``/api/v1/standards``: measurement standards (计量标准) and their certificates."""
from __future__ import annotations

from flask.views import MethodView
from sqlalchemy.orm import selectinload

from registry.api.core import IF_MATCH, Blueprint, actor, allowed, if_match, kept_answer, paginate, tagged
from registry.api.schemas import WithdrawSchema
from registry.catalog.models import CatalogLine
from registry.audit.queries import history_query
from registry.audit.schemas import AuditEventSchema
from registry.auth.policy import ensure_can_read, ensure_can_withdraw, ensure_can_write
from registry.records.services import get_or_404, withdraw
from registry.standards.models import MeasurementStandard
from registry.regulations.models import Regulation
from registry.standards.queries import standards_query
from registry.standards.schemas import StandardCreateSchema, StandardQueryArgs, StandardSchema, StandardUpdateSchema
from registry.standards.services import register_standard, update_standard

bp = Blueprint("standards", __name__, url_prefix="/api/v1/standards",
               description="Measurement standards (计量标准) and their examination certificates")
# A page of standards answers each one's catalog line and regulation ids: two queries for the page, not two a row.
LINK_IDS = (selectinload(MeasurementStandard.catalog_lines).load_only(CatalogLine.id),
            selectinload(MeasurementStandard.regulations).load_only(Regulation.id))


@bp.route("")
class Standards(MethodView):
    @kept_answer
    @bp.arguments(StandardQueryArgs, location="query")
    @bp.response(200, StandardSchema(many=True))
    @bp.paginate()
    @bp.doc(operationId="listStandards")
    def get(self, args, pagination_parameters):
        """List standards"""
        return paginate(standards_query(args, actor=actor()).options(*LINK_IDS), pagination_parameters, audited=True)

    @allowed(ensure_can_write, kind=MeasurementStandard)
    @bp.arguments(StandardCreateSchema)
    @bp.response(201, StandardSchema)
    @bp.doc(operationId="createStandard")
    def post(self, data):
        """Register a standard and its certificate"""
        return tagged(register_standard(data, actor=actor()), 201)


@bp.route("/<id:standard_id>")
class StandardItem(MethodView):
    @bp.response(200, StandardSchema)
    @bp.doc(operationId="getStandard")
    def get(self, standard_id):
        """Read a standard"""
        return tagged(get_or_404(MeasurementStandard, standard_id, actor=actor()))

    @allowed(ensure_can_write, record=MeasurementStandard)
    @bp.arguments(StandardUpdateSchema)
    @bp.response(200, StandardSchema)
    @bp.doc(parameters=[IF_MATCH])
    @bp.doc(operationId="updateStandard")
    def patch(self, data, standard_id):
        """Change a standard (status changes included)"""
        standard = get_or_404(MeasurementStandard, standard_id, actor=actor())
        return tagged(update_standard(standard, data, actor=actor(), expected_version=if_match()))


@bp.route("/<id:standard_id>/withdraw", methods=["POST"])
@allowed(ensure_can_withdraw, record=MeasurementStandard)
@bp.arguments(WithdrawSchema)
@bp.response(200, StandardSchema)
@bp.doc(parameters=[IF_MATCH])
@bp.doc(operationId="withdrawStandard")
def withdraw_standard(data, standard_id):
    """Withdraw a standard: it leaves the lists and counts, its history stays"""
    standard = get_or_404(MeasurementStandard, standard_id, actor=actor())
    return tagged(withdraw(standard, data["reason"], actor=actor(), expected_version=if_match()))


@bp.route("/<id:standard_id>/history")
@allowed(ensure_can_read, record=MeasurementStandard)
@bp.response(200, AuditEventSchema(many=True))
@bp.paginate()
@bp.doc(operationId="getStandardHistory")
def standard_history(standard_id, pagination_parameters):
    """The audit trail of one standard, oldest first"""
    standard = get_or_404(MeasurementStandard, standard_id, actor=actor())
    return paginate(history_query(standard), pagination_parameters)
