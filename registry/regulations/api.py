"""``/api/v1/regulations``: verification regulations and technical specifications."""
from __future__ import annotations

from flask.views import MethodView

from registry.api.core import IF_MATCH, Blueprint, actor, allowed, if_match, paginate, tagged
from registry.api.schemas import WithdrawSchema
from registry.audit.queries import history_query
from registry.audit.schemas import AuditEventSchema
from registry.auth.policy import ensure_can_withdraw, ensure_can_write
from registry.regulations.models import Regulation
from registry.regulations.queries import regulations_query
from registry.regulations.schemas import (
    RegulationCreateSchema,
    RegulationQueryArgs,
    RegulationSchema,
    RegulationUpdateSchema,
)
from registry.regulations.services import create_regulation, update_regulation
from registry.records.services import get_or_404, withdraw

bp = Blueprint("regulations", __name__, url_prefix="/api/v1/regulations",
               description="Verification regulations (检定规程) and specifications (规范), national and local")


@bp.route("")
class Regulations(MethodView):
    @bp.arguments(RegulationQueryArgs, location="query")
    @bp.response(200, RegulationSchema(many=True))
    @bp.paginate()
    @bp.doc(operationId="listRegulations")
    def get(self, args, pagination_parameters):
        """List regulations"""
        return paginate(regulations_query(args, actor=actor()), pagination_parameters)

    @allowed(ensure_can_write, kind=Regulation)
    @bp.arguments(RegulationCreateSchema)
    @bp.response(201, RegulationSchema)
    @bp.doc(operationId="createRegulation")
    def post(self, data):
        """Register a regulation (regulators, admins)"""
        return tagged(create_regulation(data, actor=actor()), 201)


@bp.route("/<id:regulation_id>")
class RegulationItem(MethodView):
    @bp.response(200, RegulationSchema)
    @bp.doc(operationId="getRegulation")
    def get(self, regulation_id):
        """Read a regulation"""
        return tagged(get_or_404(Regulation, regulation_id, actor=actor()))

    @allowed(ensure_can_write, record=Regulation)
    @bp.arguments(RegulationUpdateSchema)
    @bp.response(200, RegulationSchema)
    @bp.doc(parameters=[IF_MATCH])
    @bp.doc(operationId="updateRegulation")
    def patch(self, data, regulation_id):
        """Change a regulation (status and dates included)"""
        regulation = get_or_404(Regulation, regulation_id, actor=actor())
        return tagged(update_regulation(regulation, data, actor=actor(), expected_version=if_match()))


@bp.route("/<id:regulation_id>/withdraw", methods=["POST"])
@allowed(ensure_can_withdraw, record=Regulation)
@bp.arguments(WithdrawSchema)
@bp.response(200, RegulationSchema)
@bp.doc(parameters=[IF_MATCH])
@bp.doc(operationId="withdrawRegulation")
def withdraw_regulation(data, regulation_id):
    """Withdraw a regulation record (an abolished regulation is a status, not a withdrawal)"""
    regulation = get_or_404(Regulation, regulation_id, actor=actor())
    return tagged(withdraw(regulation, data["reason"], actor=actor(), expected_version=if_match()))


@bp.route("/<id:regulation_id>/history")
@bp.response(200, AuditEventSchema(many=True))
@bp.paginate()
@bp.doc(operationId="getRegulationHistory")
def regulation_history(regulation_id, pagination_parameters):
    """The audit trail of one regulation"""
    regulation = get_or_404(Regulation, regulation_id, actor=actor())
    return paginate(history_query(regulation), pagination_parameters)
