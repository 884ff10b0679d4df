"""``/api/v1/audit``: the audit trail (regulators and admins)."""
from __future__ import annotations

from registry.api.core import Blueprint, actor, allowed, paginate
from registry.audit.queries import audit_query
from registry.audit.schemas import AuditEventSchema, AuditQueryArgs
from registry.auth.policy import ensure_can_read_audit

bp = Blueprint("audit", __name__, url_prefix="/api/v1/audit",
               description="The audit trail (审计记录): who changed what, when, from what to what")


@bp.route("")
@allowed(ensure_can_read_audit)
@bp.arguments(AuditQueryArgs, location="query")
@bp.response(200, AuditEventSchema(many=True))
@bp.paginate()
@bp.doc(operationId="listAuditEvents")
def audit_events(args, pagination_parameters):
    """List audit events, newest first"""
    return paginate(audit_query(args, actor=actor()), pagination_parameters)
