"""The roster of technical staff and their 注册计量师 registrations."""
from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from registry.database.base import DemoMixin, TimestampMixin, VersionedMixin, WithdrawableMixin, enum_column
from registry.extensions import db
from registry.institutions.models import Institution

REGISTRATION_LEVELS = ("1", "2")
LEVEL_LABELS = {"1": ("一级注册计量师", "Level 1"), "2": ("二级注册计量师", "Level 2")}


class Person(TimestampMixin, VersionedMixin, WithdrawableMixin, DemoMixin, db.Model):
    """A member of technical staff, employed from one date to another.

    The roster is the denominator of the registered-metrologist share, so
    employment dates are explicit.  A national ID number is never stored:
    only a keyed hash for matching and a mask for display.
    """

    __tablename__ = "persons"
    __table_args__ = (
        sa.Index("ix_persons_employment", "institution_id", "employed_from", "employed_until"),
        # The registered-metrologist share reads only these columns: an index-only scan on PostgreSQL.
        sa.Index("ix_persons_roster", "institution_id", "employed_from", "employed_until", "registered_on",
                 "registration_valid_until", "registration_no", postgresql_where=sa.text("withdrawn_at IS NULL"),
                 sqlite_where=sa.text("withdrawn_at IS NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(100), index=True)
    institution_id: Mapped[int] = mapped_column(sa.ForeignKey("institutions.id"), index=True)
    employed_from: Mapped[date | None] = mapped_column(sa.Date)
    employed_until: Mapped[date | None] = mapped_column(sa.Date)
    id_number_hash: Mapped[str | None] = mapped_column(sa.String(64), index=True)
    id_number_mask: Mapped[str | None] = mapped_column(sa.String(18))

    registration_no: Mapped[str | None] = mapped_column(sa.String(50), unique=True)
    registration_level: Mapped[str | None] = mapped_column(enum_column(REGISTRATION_LEVELS, "registration_level"))
    registration_items: Mapped[list[str] | None] = mapped_column(sa.JSON)
    registered_on: Mapped[date | None] = mapped_column(sa.Date)
    registration_valid_until: Mapped[date | None] = mapped_column(sa.Date)

    institution: Mapped[Institution] = relationship()

    def is_employed(self, on: date) -> bool:
        return (self.employed_from is None or self.employed_from <= on) and (
            self.employed_until is None or on <= self.employed_until
        )

    def is_registered(self, on: date) -> bool:
        return (
            self.registration_no is not None
            and self.registered_on is not None
            and self.registered_on <= on
            and (self.registration_valid_until is None or on <= self.registration_valid_until)
        )
