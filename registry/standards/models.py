"""Measurement standards (计量标准) and their examination certificates."""
from __future__ import annotations

import base64
import os
from datetime import date, datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from registry.catalog.models import CatalogLine
from registry.records.codes import certificate_search_key
from registry.database.base import (
    DemoMixin, TimestampMixin, UTCDateTime, VersionedMixin, WithdrawableMixin, enum_column, utcnow,
)
from registry.extensions import db
from registry.institutions.models import Institution
from registry.reference.models import Discipline
from registry.regulations.models import Regulation

# Metrology Law art. 9.  Only social public standards count for coverage.
STANDARD_CATEGORIES = ("social_public", "department_highest", "enterprise_highest")
CATEGORY_LABELS = {
    "social_public": ("社会公用计量标准", "Social public standard"),
    "department_highest": ("部门最高计量标准", "Department highest standard"),
    "enterprise_highest": ("企事业单位最高计量标准", "Enterprise or institution highest standard"),
}
# "Expired" is never stored: it follows from valid_until.
STANDARD_STATUSES = ("in_use", "sealed", "revoked", "changing")
STATUS_LABELS = {
    "in_use": ("在用", "In use"),
    "sealed": ("封存", "Sealed"),
    "revoked": ("撤销", "Revoked"),
    "changing": ("变更中", "Under change"),
}
BUILD_KINDS = ("new", "renovated")
# 16 URL-safe characters (96 random bits): a public page's address cannot be guessed or counted through.
PUBLIC_ID_BYTES = 12


# Ids are drawn from the operating system's random source a batch at a time (an import makes one
# per new standard: one ``os.urandom`` call each cost about 2 µs, a tenth of checking the row).
# Each id is the URL-safe base64 of its own 12 random bytes, as ``secrets.token_urlsafe(12)``
# makes it (12 bytes are whole base64 groups, so slices of the batch's encoding are the same).
# A forked process starts with an empty pool: parent and child never hand out the same ids.
_POOL_SIZE = 1024
_pool: list[str] = []
os.register_at_fork(after_in_child=_pool.clear)


def new_public_id() -> str:
    """A fresh id for a standard's permanent public page (never the database id)."""
    while True:
        try:
            return _pool.pop()  # atomic: two threads never get the same id
        except IndexError:
            encoded = base64.urlsafe_b64encode(os.urandom(PUBLIC_ID_BYTES * _POOL_SIZE)).decode("ascii")
            width = PUBLIC_ID_BYTES * 4 // 3
            _pool.extend(encoded[i:i + width] for i in range(0, len(encoded), width))


def _certificate_key_default(context) -> str | None:
    """A row inserted in bulk (``insert(MeasurementStandard)``) gets its search key from its number."""
    return certificate_search_key(context.get_current_parameters().get("certificate_no"))
UNCERTAINTY_KINDS = ("uncertainty", "accuracy_class", "mpe")

standard_catalog_lines = sa.Table(
    "standard_catalog_lines",
    db.metadata,
    sa.Column("standard_id", sa.ForeignKey("measurement_standards.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("catalog_line_id", sa.ForeignKey("catalog_lines.id", ondelete="CASCADE"), primary_key=True),
    sa.Index("ix_standard_catalog_lines_catalog_line_id", "catalog_line_id", "standard_id"),
)

standard_regulations = sa.Table(
    "standard_regulations",
    db.metadata,
    sa.Column("standard_id", sa.ForeignKey("measurement_standards.id", ondelete="CASCADE"), primary_key=True),
    sa.Column("regulation_id", sa.ForeignKey("regulations.id", ondelete="CASCADE"), primary_key=True),
    sa.Index("ix_standard_regulations_regulation_id", "regulation_id"),
)


class MeasurementStandard(TimestampMixin, VersionedMixin, WithdrawableMixin, DemoMixin, db.Model):
    """A standard held by an institution, with its 计量标准考核证书.

    ``status`` is the current status and ``status_since`` the date it took
    effect; before that date the standard counts as in use, so an indicator
    computed for an earlier date still sees it, unless the date falls in
    one of its ended status periods (:class:`StandardStatusPeriod`: sealed
    from March to September, then in use again).  ``status_since`` is empty
    when the date is not known: a status other than in use then holds on
    every date.  The audit trail keeps every change.  What a standard's
    certificate is worth on a date is :mod:`registry.standards.validity`.
    """

    __tablename__ = "measurement_standards"
    __table_args__ = (
        sa.CheckConstraint("valid_until >= issued_on", name="validity_order"),
        sa.Index("ix_measurement_standards_coverage", "category", "status", "valid_until", "issued_on",
                 "certified_since"),
        # Coverage counts read only these columns of the social public standards not withdrawn: an
        # index-only scan on PostgreSQL (the id and the flag for the ended status periods' clause,
        # ``has_status_periods IS false OR id <> ALL (...)``).  Partial by category, so a third the size of
        # one keyed by it; a query uses it only when it states ``category = 'social_public'`` as a literal
        # (``registry.standards.validity.social_public``).
        sa.Index("ix_measurement_standards_in_force", "valid_until", "issued_on", "status",
                 "status_since", "institution_id", "certified_since", "has_status_periods", "id",
                 postgresql_where=sa.text("withdrawn_at IS NULL AND category = 'social_public'"),
                 sqlite_where=sa.text("withdrawn_at IS NULL AND category = 'social_public'")),
        # Standards whose status (not in use) has no date: few, counted by every coverage report.
        sa.Index("ix_measurement_standards_undated_status", "category", "institution_id",
                 postgresql_where=sa.text("status_since IS NULL AND status <> 'in_use' AND withdrawn_at IS NULL"),
                 sqlite_where=sa.text("status_since IS NULL AND status <> 'in_use' AND withdrawn_at IS NULL")),
        sa.Index("ix_measurement_standards_carbon", "built_on", "institution_id", "build_kind",
                 postgresql_where=sa.text("is_carbon AND withdrawn_at IS NULL"),
                 sqlite_where=sa.text("is_carbon = 1 AND withdrawn_at IS NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    certificate_no: Mapped[str] = mapped_column(sa.String(100), unique=True)
    # codes.certificate_search_key(certificate_no), kept by the services (follow_on_values): the public
    # query finds a number in any printed spelling with one index look-up.
    certificate_key: Mapped[str | None] = mapped_column(sa.String(100), index=True, default=_certificate_key_default)
    # The permanent public page's id (/public/s/<public_id>): random, never the database id.
    public_id: Mapped[str | None] = mapped_column(sa.String(24), unique=True, default=new_public_id)
    name: Mapped[str] = mapped_column(sa.String(300), index=True)
    # Not indexed: the list searches it only as a substring (ILIKE '%q%'), which no B-tree serves.
    code: Mapped[str | None] = mapped_column(sa.String(8))
    category: Mapped[str] = mapped_column(enum_column(STANDARD_CATEGORIES, "standard_category"))
    discipline_code: Mapped[str | None] = mapped_column(sa.ForeignKey("disciplines.code"), index=True)
    institution_id: Mapped[int] = mapped_column(sa.ForeignKey("institutions.id"), index=True)

    range_text: Mapped[str | None] = mapped_column(sa.String(300))
    range_lower: Mapped[float | None] = mapped_column(sa.Float)
    range_upper: Mapped[float | None] = mapped_column(sa.Float)
    range_unit: Mapped[str | None] = mapped_column(sa.String(30))

    uncertainty_text: Mapped[str | None] = mapped_column(sa.String(300))
    uncertainty_kind: Mapped[str | None] = mapped_column(enum_column(UNCERTAINTY_KINDS, "uncertainty_kind"))
    uncertainty_value: Mapped[float | None] = mapped_column(sa.Float)
    uncertainty_unit: Mapped[str | None] = mapped_column(sa.String(30))
    coverage_factor: Mapped[float | None] = mapped_column(sa.Float)

    issuer: Mapped[str | None] = mapped_column(sa.String(200))
    issued_on: Mapped[date] = mapped_column(sa.Date)
    valid_until: Mapped[date] = mapped_column(sa.Date, index=True)
    # The start of the unbroken run of certificates (registry.applications.models.StandardCertificate)
    # when a re-examination renewed the certificate before it expired; empty means the issue date.
    # Coverage and validity count the standard from coalesce(certified_since, issued_on)
    # (registry.standards.validity.certified_from), so a renewal never loses past days.
    certified_since: Mapped[date | None] = mapped_column(sa.Date)
    responsible_person: Mapped[str | None] = mapped_column(sa.String(100))
    status: Mapped[str] = mapped_column(enum_column(STANDARD_STATUSES, "standard_status"), default="in_use")
    status_since: Mapped[date | None] = mapped_column(sa.Date)
    # Whether :class:`StandardStatusPeriod` holds an ended status period of this standard: the coverage
    # predicate looks the periods up only for the few standards that have one (an index-only scan otherwise).
    has_status_periods: Mapped[bool] = mapped_column(sa.Boolean, default=False, server_default=sa.false())

    is_carbon: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    build_kind: Mapped[str | None] = mapped_column(enum_column(BUILD_KINDS, "build_kind"))
    built_on: Mapped[date | None] = mapped_column(sa.Date)

    institution: Mapped[Institution] = relationship()
    discipline: Mapped[Discipline | None] = relationship()
    catalog_lines: Mapped[list[CatalogLine]] = relationship(secondary=standard_catalog_lines)
    regulations: Mapped[list[Regulation]] = relationship(secondary=standard_regulations)

    def __repr__(self) -> str:
        return f"<MeasurementStandard {self.certificate_no}>"


class StandardStatusPeriod(db.Model):
    """An ended period in which a standard held a status other than in use (封存 from March to September).

    Written by :func:`registry.standards.services.record_status_period` when a
    standard leaves such a status (a resumption 恢复使用, an edit, an import),
    so the days of the period keep counting as not in use after the standard
    is in use again.  ``started_on`` empty: the start is not known, the status
    holds on every day before ``ended_on``; ``ended_on`` is exclusive (the
    first day of the next status).
    """

    __tablename__ = "standard_status_periods"
    __table_args__ = (
        sa.CheckConstraint("started_on IS NULL OR started_on < ended_on", name="status_period_order"),
        sa.Index("ix_standard_status_periods_standard", "standard_id", "ended_on", "started_on", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    standard_id: Mapped[int] = mapped_column(sa.ForeignKey("measurement_standards.id", ondelete="CASCADE"))
    status: Mapped[str] = mapped_column(enum_column(STANDARD_STATUSES, "standard_status"))
    started_on: Mapped[date | None] = mapped_column(sa.Date)
    ended_on: Mapped[date] = mapped_column(sa.Date)
    application_id: Mapped[int | None] = mapped_column(
        sa.ForeignKey("applications.id", ondelete="SET NULL"))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)

    def __repr__(self) -> str:
        return f"<StandardStatusPeriod {self.standard_id} {self.status} {self.started_on}..{self.ended_on}>"
