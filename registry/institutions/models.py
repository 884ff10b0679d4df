"""Institutions that hold standards and employ staff."""
from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from registry.database.base import DemoMixin, TimestampMixin, VersionedMixin, WithdrawableMixin, enum_column
from registry.extensions import db
from registry.reference.models import Region

INSTITUTION_KINDS = ("legal_metrology", "authorised", "enterprise", "public_institution", "other")
INSTITUTION_KIND_LABELS = {
    "legal_metrology": ("法定计量检定机构", "Legal metrology verification institution"),
    "authorised": ("授权计量技术机构", "Authorised metrology institution"),
    "enterprise": ("企业", "Enterprise"),
    "public_institution": ("事业单位", "Public institution"),
    "other": ("其他", "Other"),
}


class Institution(TimestampMixin, VersionedMixin, WithdrawableMixin, DemoMixin, db.Model):
    __tablename__ = "institutions"
    # Coverage excludes the few withdrawn institutions; this keeps finding them cheap.
    __table_args__ = (
        sa.Index("ix_institutions_withdrawn", "id", postgresql_where=sa.text("withdrawn_at IS NOT NULL"),
                 sqlite_where=sa.text("withdrawn_at IS NOT NULL")),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    credit_code: Mapped[str] = mapped_column(sa.String(18), unique=True)
    name: Mapped[str] = mapped_column(sa.String(200), index=True)
    region_code: Mapped[str] = mapped_column(sa.ForeignKey("regions.code"), index=True)
    # The region it serves when wider than its own (a provincial institute: the province); NULL: its own.
    serves_region_code: Mapped[str | None] = mapped_column(sa.ForeignKey("regions.code"))
    kind: Mapped[str] = mapped_column(enum_column(INSTITUTION_KINDS, "institution_kind"), index=True)
    contact: Mapped[str | None] = mapped_column(sa.String(100))
    phone: Mapped[str | None] = mapped_column(sa.String(50))

    region: Mapped[Region] = relationship(foreign_keys=[region_code])
    serves_region: Mapped[Region | None] = relationship(foreign_keys=[serves_region_code])

    def __repr__(self) -> str:
        return f"<Institution {self.credit_code} {self.name}>"
