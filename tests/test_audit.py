"""The audit trail is append-only, enforced by the database itself."""
import pytest
import sqlalchemy as sa

from registry.audit.models import AuditEvent
from registry.institutions.services import create_institution
from tests import factories


def _one_event(session) -> AuditEvent:
    create_institution({"credit_code": factories.credit_code(), "name": "审计测试", "region_code": "360100",
                        "kind": "other"}, actor=None)
    session.flush()
    return session.scalars(sa.select(AuditEvent).order_by(AuditEvent.id.desc())).first()


@pytest.mark.parametrize("statement", [
    "UPDATE audit_events SET action = 'forged' WHERE id = :id",
    "DELETE FROM audit_events WHERE id = :id",
])
def test_database_refuses_to_rewrite_the_audit_trail(session, statement):
    event = _one_event(session)
    nested = session.begin_nested()
    with pytest.raises(sa.exc.DBAPIError, match="append-only"):
        session.execute(sa.text(statement), {"id": event.id})
    nested.rollback()
    assert session.scalar(sa.select(AuditEvent.action).where(AuditEvent.id == event.id)) == "create"


def test_rolled_back_change_leaves_no_audit_row(session):
    before = session.scalar(sa.select(sa.func.count()).select_from(AuditEvent))
    nested = session.begin_nested()
    _one_event(session)
    nested.rollback()
    assert session.scalar(sa.select(sa.func.count()).select_from(AuditEvent)) == before
