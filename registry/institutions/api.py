"""``/api/v1/institutions``: the institutions that hold standards and employ staff."""
from __future__ import annotations

from flask import request
from flask.views import MethodView

from registry.api.core import IF_MATCH, Blueprint, actor, allowed, if_match, paginate, tagged
from registry.api.schemas import WithdrawSchema
from registry.audit.queries import history_query
from registry.audit.schemas import AuditEventSchema
from registry.auth.policy import ensure_can_read, ensure_can_withdraw, ensure_can_write
from registry.institutions.models import Institution
from registry.institutions.queries import institutions_query
from registry.institutions.schemas import (
    InstitutionCreateSchema,
    InstitutionQueryArgs,
    InstitutionSchema,
    InstitutionUpdateSchema,
)
from registry.institutions.services import create_institution, ensure_self_service, update_institution
from registry.records.services import get_or_404, withdraw

bp = Blueprint("institutions", __name__, url_prefix="/api/v1/institutions",
               description="Institutions (机构): credit code, region, kind")


def _may_change(user, institution: Institution) -> None:
    """The fields a change names decide whether an institution user may make it, before their values are read."""
    ensure_can_write(user, institution)
    body = request.get_json(silent=True)
    ensure_self_service(user, body if isinstance(body, dict) else {})


@bp.route("")
class Institutions(MethodView):
    @bp.arguments(InstitutionQueryArgs, location="query")
    @bp.response(200, InstitutionSchema(many=True))
    @bp.paginate()
    @bp.doc(operationId="listInstitutions")
    def get(self, args, pagination_parameters):
        """List institutions"""
        return paginate(institutions_query(args, actor=actor()), pagination_parameters)

    @allowed(ensure_can_write, kind=Institution)
    @bp.arguments(InstitutionCreateSchema)
    @bp.response(201, InstitutionSchema)
    @bp.doc(operationId="createInstitution")
    def post(self, data):
        """Register an institution (regulators, admins)"""
        return tagged(create_institution(data, actor=actor()), 201)


@bp.route("/<id:institution_id>")
class InstitutionItem(MethodView):
    @bp.response(200, InstitutionSchema)
    @bp.doc(operationId="getInstitution")
    def get(self, institution_id):
        """Read an institution"""
        return tagged(get_or_404(Institution, institution_id, actor=actor()))

    @allowed(_may_change, record=Institution)
    @bp.arguments(InstitutionUpdateSchema)
    @bp.response(200, InstitutionSchema)
    @bp.doc(parameters=[IF_MATCH])
    @bp.doc(operationId="updateInstitution")
    def patch(self, data, institution_id):
        """Change an institution"""
        institution = get_or_404(Institution, institution_id, actor=actor())
        return tagged(update_institution(institution, data, actor=actor(), expected_version=if_match()))


@bp.route("/<id:institution_id>/withdraw", methods=["POST"])
@allowed(ensure_can_withdraw, record=Institution)
@bp.arguments(WithdrawSchema)
@bp.response(200, InstitutionSchema)
@bp.doc(parameters=[IF_MATCH])
@bp.doc(operationId="withdrawInstitution")
def withdraw_institution(data, institution_id):
    """Withdraw an institution: it leaves the lists, its history stays"""
    institution = get_or_404(Institution, institution_id, actor=actor())
    return tagged(withdraw(institution, data["reason"], actor=actor(), expected_version=if_match()))


@bp.route("/<id:institution_id>/history")
@allowed(ensure_can_read, record=Institution)
@bp.response(200, AuditEventSchema(many=True))
@bp.paginate()
@bp.doc(operationId="getInstitutionHistory")
def institution_history(institution_id, pagination_parameters):
    """The audit trail of one institution, oldest first"""
    institution = get_or_404(Institution, institution_id, actor=actor())
    return paginate(history_query(institution), pagination_parameters)
