"""Indicator definitions, the plans that set their targets, and recorded values."""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from registry.database.base import TimestampMixin, UTCDateTime, VersionedMixin, WithdrawableMixin, enum_column, utcnow
from registry.extensions import db

COMPARATORS = (">=", "<=", "=", "between")
INDICATOR_KINDS = ("ratio", "count")
# Where the value comes from: counted from a registry, or entered by a regulator.
INDICATOR_SOURCES = ("registry", "recorded")
# Counted for the whole province only (regulations are made for the province): a city has no figure
# of its own and takes no target.
PROVINCE_WIDE_INDICATORS = frozenset({"local_regulations", "carbon_specifications"})


class Indicator(TimestampMixin, VersionedMixin, WithdrawableMixin, db.Model):
    __tablename__ = "indicators"

    key: Mapped[str] = mapped_column(sa.String(50), primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200))
    name_en: Mapped[str] = mapped_column(sa.String(200))
    kind: Mapped[str] = mapped_column(enum_column(INDICATOR_KINDS, "indicator_kind"))
    source: Mapped[str] = mapped_column(enum_column(INDICATOR_SOURCES, "indicator_source"))
    counts_from: Mapped[date | None] = mapped_column(sa.Date)
    source_document: Mapped[str | None] = mapped_column(sa.String(300))
    description: Mapped[str | None] = mapped_column(sa.Text)
    position: Mapped[int] = mapped_column(sa.Integer, default=0)


class Plan(TimestampMixin, VersionedMixin, WithdrawableMixin, db.Model):
    """A development plan (规划) whose targets are due by its deadline, e.g. 2021–2025.

    Periods of non-withdrawn plans never overlap, so at most one is in force on a date.
    """

    __tablename__ = "plans"
    __table_args__ = (sa.CheckConstraint("deadline >= starts_on", name="deadline_after_start"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200), unique=True)
    source_document: Mapped[str | None] = mapped_column(sa.String(300))
    starts_on: Mapped[date] = mapped_column(sa.Date)
    deadline: Mapped[date] = mapped_column(sa.Date)
    description: Mapped[str | None] = mapped_column(sa.Text)

    targets: Mapped[list["PlanTarget"]] = relationship(back_populates="plan", order_by="PlanTarget.id")


class PlanTarget(TimestampMixin, VersionedMixin, WithdrawableMixin, db.Model):
    """One indicator's target in a plan, for the province or for one city."""

    __tablename__ = "plan_targets"
    __table_args__ = (sa.UniqueConstraint("plan_id", "indicator_key", "region_code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    plan_id: Mapped[int] = mapped_column(sa.ForeignKey("plans.id"))
    indicator_key: Mapped[str] = mapped_column(sa.ForeignKey("indicators.key"))
    region_code: Mapped[str] = mapped_column(sa.ForeignKey("regions.code"))
    comparator: Mapped[str] = mapped_column(enum_column(COMPARATORS, "comparator"))
    target: Mapped[Decimal] = mapped_column(sa.Numeric(14, 4))
    target_max: Mapped[Decimal | None] = mapped_column(sa.Numeric(14, 4))

    plan: Mapped[Plan] = relationship(back_populates="targets")
    indicator: Mapped[Indicator] = relationship()


class RecordedValue(VersionedMixin, db.Model):
    """A value entered for an indicator no registry here counts (versioned: corrections are edits)."""

    __tablename__ = "recorded_values"
    __table_args__ = (sa.Index("ix_recorded_values_lookup", "indicator_key", "region_code", "as_of"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    indicator_key: Mapped[str] = mapped_column(sa.ForeignKey("indicators.key"))
    region_code: Mapped[str] = mapped_column(sa.ForeignKey("regions.code"))
    as_of: Mapped[date] = mapped_column(sa.Date)
    value: Mapped[Decimal] = mapped_column(sa.Numeric(14, 4))
    source: Mapped[str] = mapped_column(sa.String(300))
    note: Mapped[str | None] = mapped_column(sa.Text)
    is_demo: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    recorded_by_id: Mapped[int | None] = mapped_column(sa.ForeignKey("users.id"))
    recorded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)
    withdrawn_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    withdrawn_reason: Mapped[str | None] = mapped_column(sa.String(500))

    indicator: Mapped[Indicator] = relationship()
