"""The mandatory-verification catalog (实施强制管理的计量器具目录), versioned."""
from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from registry.database.base import TimestampMixin, VersionedMixin, WithdrawableMixin, enum_column
from registry.extensions import db

SUPERVISION_MODES = ("P", "V", "P+V")
MANDATORY_MODES = ("V", "P+V")
VERIFICATION_FORMS = ("first_only", "periodic")
# The administrative levels at which a social public standard may be expected for a line
# (SAMR's 2022 guiding catalog assigns each item a level; its contents are data, not code).
LINE_LEVELS = ("province", "city", "county")


class CatalogVersion(TimestampMixin, VersionedMixin, WithdrawableMixin, db.Model):
    """One published catalog, e.g. SAMR announcement 2020 No. 42.

    ``declared_line_count`` is what the source document says it holds; a
    coverage report warns when fewer lines are loaded.
    """

    __tablename__ = "catalog_versions"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(200), unique=True)
    source_document: Mapped[str] = mapped_column(sa.String(300))
    effective_from: Mapped[date] = mapped_column(sa.Date, index=True)
    declared_line_count: Mapped[int] = mapped_column(sa.Integer)
    is_partial: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    description: Mapped[str | None] = mapped_column(sa.Text)

    lines: Mapped[list[CatalogLine]] = relationship(
        back_populates="catalog_version", order_by="CatalogLine.code"
    )


class CatalogLine(TimestampMixin, VersionedMixin, WithdrawableMixin, db.Model):
    __tablename__ = "catalog_lines"
    __table_args__ = (sa.UniqueConstraint("catalog_version_id", "code", name="uq_catalog_lines_version_code"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    catalog_version_id: Mapped[int] = mapped_column(sa.ForeignKey("catalog_versions.id"), index=True)
    code: Mapped[str] = mapped_column(sa.String(20))
    name: Mapped[str] = mapped_column(sa.String(200))
    sub_name: Mapped[str | None] = mapped_column(sa.String(200))
    mode: Mapped[str] = mapped_column(enum_column(SUPERVISION_MODES, "supervision_mode"))
    verification_form: Mapped[str | None] = mapped_column(
        enum_column(VERIFICATION_FORMS, "verification_form")
    )
    scope_note: Mapped[str | None] = mapped_column(sa.Text)
    effective_from: Mapped[date | None] = mapped_column(sa.Date)
    # Comma-separated LINE_LEVELS in their order; NULL: expected at every level.
    levels: Mapped[str | None] = mapped_column(sa.String(40))

    catalog_version: Mapped[CatalogVersion] = relationship(back_populates="lines")

    @property
    def level_list(self) -> list[str]:
        """The levels at which a standard is expected; empty: every level."""
        return [level for level in (self.levels or "").split(",") if level]

    @property
    def is_mandatory(self) -> bool:
        """V and P+V lines are under mandatory verification in use; P is not."""
        return self.mode in MANDATORY_MODES

    @property
    def label(self) -> str:
        return f"{self.name}·{self.sub_name}" if self.sub_name else self.name
