"""The append-only audit trail."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from registry.database.base import UTCDateTime, utcnow
from registry.extensions import db


class AuditEvent(db.Model):
    """Who changed what, when, from what to what.

    Written in the same transaction as the change it records; UPDATE and
    DELETE on this table are refused by a database trigger (see the initial
    migration), so the trail cannot be rewritten through the application.
    """

    __tablename__ = "audit_events"
    __table_args__ = (sa.Index("ix_audit_events_entity", "entity_type", "entity_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, index=True)
    actor_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"), index=True)
    actor_label: Mapped[str] = mapped_column(sa.String(254))
    action: Mapped[str] = mapped_column(sa.String(30))
    entity_type: Mapped[str] = mapped_column(sa.String(50))
    entity_id: Mapped[str] = mapped_column(sa.String(50))
    before: Mapped[dict | None] = mapped_column(sa.JSON)
    after: Mapped[dict | None] = mapped_column(sa.JSON)
    note: Mapped[str | None] = mapped_column(sa.Text)
    request_id: Mapped[str | None] = mapped_column(sa.String(64))

    @property
    def changes(self) -> dict[str, tuple]:
        """The fields this event changed: name → (before, after); a creation lists what it set."""
        before, after = self.before or {}, self.after or {}
        return {name: (before.get(name), after.get(name))
                for name in sorted(set(before) | set(after))
                if before.get(name) != after.get(name)}
