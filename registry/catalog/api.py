"""``/api/v1/catalog``: the mandatory-verification catalog (强检目录), its versions and lines."""
from __future__ import annotations

from flask.views import MethodView

from registry.api.core import IF_MATCH, Blueprint, actor, allowed, if_match, paginate, tagged
from registry.api.schemas import WithdrawSchema
from registry.audit.queries import history_query
from registry.audit.schemas import AuditEventSchema
from registry.auth.policy import ensure_can_withdraw, ensure_can_write
from registry.catalog.models import CatalogLine, CatalogVersion
from registry.catalog.queries import lines_query, versions_query
from registry.catalog.schemas import (
    CatalogLineCreateSchema,
    CatalogLineQueryArgs,
    CatalogLineSchema,
    CatalogLineUpdateSchema,
    CatalogVersionCreateSchema,
    CatalogVersionQueryArgs,
    CatalogVersionSchema,
    CatalogVersionUpdateSchema,
)
from registry.catalog.services import add_line, create_version, update_line, update_version
from registry.records.services import get_or_404, withdraw

bp = Blueprint("catalog", __name__, url_prefix="/api/v1/catalog",
               description="The mandatory-verification catalog (实施强制管理的计量器具目录): versions and lines")


@bp.route("/versions")
class CatalogVersions(MethodView):
    @bp.arguments(CatalogVersionQueryArgs, location="query")
    @bp.response(200, CatalogVersionSchema(many=True))
    @bp.paginate()
    @bp.doc(operationId="listCatalogVersions")
    def get(self, args, pagination_parameters):
        """List catalog versions"""
        return paginate(versions_query(args, actor=actor()), pagination_parameters)

    @allowed(ensure_can_write, kind=CatalogVersion)
    @bp.arguments(CatalogVersionCreateSchema)
    @bp.response(201, CatalogVersionSchema)
    @bp.doc(operationId="createCatalogVersion")
    def post(self, data):
        """Create a catalog version (regulators, admins)"""
        return tagged(create_version(data, actor=actor()), 201)


@bp.route("/versions/<id:version_id>")
class CatalogVersionItem(MethodView):
    @bp.response(200, CatalogVersionSchema)
    @bp.doc(operationId="getCatalogVersion")
    def get(self, version_id):
        """Read a catalog version"""
        return tagged(get_or_404(CatalogVersion, version_id, actor=actor()))

    @allowed(ensure_can_write, record=CatalogVersion)
    @bp.arguments(CatalogVersionUpdateSchema)
    @bp.response(200, CatalogVersionSchema)
    @bp.doc(parameters=[IF_MATCH])
    @bp.doc(operationId="updateCatalogVersion")
    def patch(self, data, version_id):
        """Change a catalog version"""
        version = get_or_404(CatalogVersion, version_id, actor=actor())
        return tagged(update_version(version, data, actor=actor(), expected_version=if_match()))


@bp.route("/versions/<id:version_id>/withdraw", methods=["POST"])
@allowed(ensure_can_withdraw, record=CatalogVersion)
@bp.arguments(WithdrawSchema)
@bp.response(200, CatalogVersionSchema)
@bp.doc(parameters=[IF_MATCH])
@bp.doc(operationId="withdrawCatalogVersion")
def withdraw_version(data, version_id):
    """Withdraw a catalog version"""
    version = get_or_404(CatalogVersion, version_id, actor=actor())
    return tagged(withdraw(version, data["reason"], actor=actor(), expected_version=if_match()))


@bp.route("/versions/<id:version_id>/history")
@bp.response(200, AuditEventSchema(many=True))
@bp.paginate()
@bp.doc(operationId="getCatalogVersionHistory")
def version_history(version_id, pagination_parameters):
    """The audit trail of one catalog version"""
    version = get_or_404(CatalogVersion, version_id, actor=actor())
    return paginate(history_query(version), pagination_parameters)


@bp.route("/versions/<id:version_id>/lines", methods=["POST"])
@allowed(ensure_can_write, kind=CatalogLine)
@bp.arguments(CatalogLineCreateSchema)
@bp.response(201, CatalogLineSchema)
@bp.doc(operationId="createCatalogLine")
def add_catalog_line(data, version_id):
    """Add a line to a catalog version"""
    version = get_or_404(CatalogVersion, version_id, actor=actor(), include_withdrawn=False)
    return tagged(add_line(version, data, actor=actor()), 201)


@bp.route("/lines")
@bp.arguments(CatalogLineQueryArgs, location="query")
@bp.response(200, CatalogLineSchema(many=True))
@bp.paginate()
@bp.doc(operationId="listCatalogLines")
def catalog_lines(args, pagination_parameters):
    """List catalog lines"""
    return paginate(lines_query(args, actor=actor()), pagination_parameters)


@bp.route("/lines/<id:line_id>")
class CatalogLineItem(MethodView):
    @bp.response(200, CatalogLineSchema)
    @bp.doc(operationId="getCatalogLine")
    def get(self, line_id):
        """Read a catalog line"""
        return tagged(get_or_404(CatalogLine, line_id, actor=actor()))

    @allowed(ensure_can_write, record=CatalogLine)
    @bp.arguments(CatalogLineUpdateSchema)
    @bp.response(200, CatalogLineSchema)
    @bp.doc(parameters=[IF_MATCH])
    @bp.doc(operationId="updateCatalogLine")
    def patch(self, data, line_id):
        """Change a catalog line"""
        line = get_or_404(CatalogLine, line_id, actor=actor())
        return tagged(update_line(line, data, actor=actor(), expected_version=if_match()))


@bp.route("/lines/<id:line_id>/withdraw", methods=["POST"])
@allowed(ensure_can_withdraw, record=CatalogLine)
@bp.arguments(WithdrawSchema)
@bp.response(200, CatalogLineSchema)
@bp.doc(parameters=[IF_MATCH])
@bp.doc(operationId="withdrawCatalogLine")
def withdraw_line(data, line_id):
    """Withdraw a catalog line"""
    line = get_or_404(CatalogLine, line_id, actor=actor())
    return tagged(withdraw(line, data["reason"], actor=actor(), expected_version=if_match()))


@bp.route("/lines/<id:line_id>/history")
@bp.response(200, AuditEventSchema(many=True))
@bp.paginate()
@bp.doc(operationId="getCatalogLineHistory")
def line_history(line_id, pagination_parameters):
    """The audit trail of one catalog line"""
    line = get_or_404(CatalogLine, line_id, actor=actor())
    return paginate(history_query(line), pagination_parameters)
