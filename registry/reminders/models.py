"""The reminder log (every message, by channel: the inbox and e-mail) and each user's choices."""
from __future__ import annotations

from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from registry.auth.models import User
from registry.db import UTCDateTime, enum_column, utcnow
from registry.extensions import db

# What a reminder is about.
REMINDER_KINDS = ("certificate_apply_by", "registration_lapsing", "application_returned", "application_decided",
                  "rectification_due", "application_overdue")
CHANNELS = ("inbox", "email")
# pending: to send (again at next_attempt_at); sending: claimed by one runner until claimed_until;
# sent; failed: the last try failed (shown to admins).  An inbox message is sent when recorded.
DELIVERY_STATES = ("pending", "sending", "sent", "failed")
LANGUAGES = ("zh", "en")


class Reminder(db.Model):
    """One message to one user on one channel: the sent-log and, for ``inbox``, the user's inbox.

    ``(user_id, kind, item_key, threshold, channel)`` is unique: the same item
    and threshold is recorded once, whoever runs the reminders and however often.
    ``params`` holds the facts the message is written from, so the inbox shows
    it in the reader's language.
    """

    __tablename__ = "reminders"
    __table_args__ = (
        sa.UniqueConstraint("user_id", "kind", "item_key", "threshold", "channel", name="uq_reminders_once"),
        sa.Index("ix_reminders_to_send", "channel", "status", "next_attempt_at"),
        sa.Index("ix_reminders_inbox", "user_id", "channel", "read_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), index=True)
    kind: Mapped[str] = mapped_column(enum_column(REMINDER_KINDS, "reminder_kind"))
    # The item and its occurrence, e.g. "standard:12:2028-06-30" (a renewed certificate starts again).
    item_key: Mapped[str] = mapped_column(sa.String(100))
    # "12m", "9m", "6m", "3m" before the apply-by date, or "passed".
    threshold: Mapped[str] = mapped_column(sa.String(20))
    channel: Mapped[str] = mapped_column(enum_column(CHANNELS, "reminder_channel"))
    recipient: Mapped[str] = mapped_column(sa.String(254))
    institution_id: Mapped[int | None] = mapped_column(sa.ForeignKey("institutions.id"), index=True)
    params: Mapped[dict] = mapped_column(sa.JSON, default=dict)
    subject: Mapped[str | None] = mapped_column(sa.String(300))
    due_on: Mapped[date | None] = mapped_column(sa.Date)
    status: Mapped[str] = mapped_column(enum_column(DELIVERY_STATES, "reminder_status"), default="pending")
    attempts: Mapped[int] = mapped_column(sa.Integer, default=0, nullable=False)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    claimed_until: Mapped[datetime | None] = mapped_column(UTCDateTime)
    last_error: Mapped[str | None] = mapped_column(sa.String(500))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, nullable=False)
    sent_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    read_at: Mapped[datetime | None] = mapped_column(UTCDateTime)

    user: Mapped[User] = relationship()

    def __repr__(self) -> str:
        return f"<Reminder {self.kind} {self.item_key} {self.threshold} {self.channel} {self.status}>"


class ReminderSettings(db.Model):
    """What a user chose to receive: kinds muted, e-mail on or off, the language of e-mails."""

    __tablename__ = "reminder_settings"

    user_id: Mapped[int] = mapped_column(sa.ForeignKey("users.id"), primary_key=True)
    muted_kinds: Mapped[list] = mapped_column(sa.JSON, default=list)
    email: Mapped[bool] = mapped_column(sa.Boolean, default=True, nullable=False)
    language: Mapped[str] = mapped_column(enum_column(LANGUAGES, "reminder_language"), default="zh")
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow, onupdate=utcnow, nullable=False)
