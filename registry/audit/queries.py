"""Reading the audit trail: one record's history, and the whole trail for staff."""
from __future__ import annotations

from datetime import timezone
from typing import Any

import sqlalchemy as sa

from registry.audit.models import AuditEvent
from registry.auth.policy import ensure_can_read_audit
from registry.records.queries import sort, where_equal


def entity_key(obj: Any) -> tuple[str, str]:
    identity = sa.inspect(obj).identity
    return obj.__tablename__, ":".join(str(part) for part in identity)


def history_query(obj: Any) -> sa.Select:
    """Every audit row of ``obj``, oldest first (the caller has checked it may read ``obj``)."""
    entity_type, entity_id = entity_key(obj)
    return (sa.select(AuditEvent)
            .where(AuditEvent.entity_type == entity_type, AuditEvent.entity_id == entity_id)
            .order_by(AuditEvent.id))


def audit_query(args: dict[str, Any], *, actor: Any) -> sa.Select:
    """The audit trail filtered by entity, actor, action and time (regulators, admins)."""
    ensure_can_read_audit(actor)
    stmt = where_equal(sa.select(AuditEvent), args, {
        "entity_type": AuditEvent.entity_type, "entity_id": AuditEvent.entity_id,
        "actor_id": AuditEvent.actor_id, "actor": AuditEvent.actor_label, "action": AuditEvent.action,
    })
    if args.get("since"):
        stmt = stmt.where(AuditEvent.occurred_at >= _aware(args["since"]))
    if args.get("until"):
        stmt = stmt.where(AuditEvent.occurred_at < _aware(args["until"]))
    return sort(stmt, args.get("sort"), {"occurred_at": AuditEvent.occurred_at, "id": AuditEvent.id},
                AuditEvent.id)


def _aware(moment):
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)
