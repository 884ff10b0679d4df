"""Verification regulations (检定规程) and specifications (规范)."""
from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column

from registry.database.base import DemoMixin, TimestampMixin, VersionedMixin, WithdrawableMixin, enum_column
from registry.extensions import db

REGULATION_SERIES = ("JJG", "JJF")
REGULATION_KINDS = ("verification_regulation", "calibration_specification", "technical_specification")
REGULATION_LEVELS = ("national", "local")
REGULATION_STATUSES = ("planned", "drafting", "published", "implemented", "abolished")


class Regulation(TimestampMixin, VersionedMixin, WithdrawableMixin, DemoMixin, db.Model):
    __tablename__ = "regulations"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(sa.String(40), unique=True)
    series: Mapped[str] = mapped_column(enum_column(REGULATION_SERIES, "regulation_series"))
    province: Mapped[str | None] = mapped_column(sa.String(4), index=True)
    number: Mapped[str] = mapped_column(sa.String(20))
    year: Mapped[int] = mapped_column(sa.Integer)
    title: Mapped[str] = mapped_column(sa.String(300), index=True)
    kind: Mapped[str] = mapped_column(enum_column(REGULATION_KINDS, "regulation_kind"))
    level: Mapped[str] = mapped_column(enum_column(REGULATION_LEVELS, "regulation_level"), index=True)
    status: Mapped[str] = mapped_column(enum_column(REGULATION_STATUSES, "regulation_status"))
    published_on: Mapped[date | None] = mapped_column(sa.Date)
    implemented_on: Mapped[date | None] = mapped_column(sa.Date)
    abolished_on: Mapped[date | None] = mapped_column(sa.Date)
    is_urgent: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    is_carbon: Mapped[bool] = mapped_column(sa.Boolean, default=False)

    def __repr__(self) -> str:
        return f"<Regulation {self.code}>"
