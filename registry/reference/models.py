"""Reference tables: regions (GB/T 2260), disciplines (JJF 1022), datasets."""
from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlalchemy.orm import Mapped, mapped_column, relationship

from registry.database.base import UTCDateTime, enum_column, utcnow
from registry.extensions import db

REGION_LEVELS = ("province", "city", "county")
DISCIPLINE_KINDS = ("discipline", "sector")


class ReferenceDataset(db.Model):
    """Which version of a reference table is loaded, and where it came from."""

    __tablename__ = "reference_datasets"

    name: Mapped[str] = mapped_column(sa.String(50), primary_key=True)
    version: Mapped[str] = mapped_column(sa.String(100))
    source: Mapped[str] = mapped_column(sa.String(500))
    note: Mapped[str | None] = mapped_column(sa.Text)
    loaded_at: Mapped[datetime] = mapped_column(UTCDateTime, default=utcnow)


class Region(db.Model):
    """A GB/T 2260 administrative division (行政区划)."""

    __tablename__ = "regions"

    code: Mapped[str] = mapped_column(sa.String(6), primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(50))
    name_en: Mapped[str | None] = mapped_column(sa.String(100))
    level: Mapped[str] = mapped_column(enum_column(REGION_LEVELS, "region_level"))
    parent_code: Mapped[str | None] = mapped_column(sa.ForeignKey("regions.code"), index=True)
    table_version: Mapped[str] = mapped_column(sa.String(100))

    parent: Mapped[Region | None] = relationship(remote_side=[code], back_populates="children")
    children: Mapped[list[Region]] = relationship(back_populates="parent")

    def __repr__(self) -> str:
        return f"<Region {self.code} {self.name}>"


class Discipline(db.Model):
    """A JJF 1022 level-1 code: one of the ten disciplines or a sector."""

    __tablename__ = "disciplines"

    code: Mapped[str] = mapped_column(sa.String(2), primary_key=True)
    name: Mapped[str] = mapped_column(sa.String(50))
    name_en: Mapped[str] = mapped_column(sa.String(100))
    kind: Mapped[str] = mapped_column(enum_column(DISCIPLINE_KINDS, "discipline_kind"))


class RegionAdjacency(db.Model):
    """Two regions that share a border (相邻), stored once: ``region_code`` < ``neighbour_code``.

    Used to suggest who could close a coverage gap from next door.  GB/T 2260
    says nothing about borders: each pair carries whether it was confirmed and
    its source, and the seed's pairs for Jiangxi are marked unconfirmed.
    """

    __tablename__ = "region_adjacency"
    __table_args__ = (
        sa.CheckConstraint("region_code < neighbour_code", name="ordered_pair"),
        sa.Index("ix_region_adjacency_neighbour_code", "neighbour_code"),
    )

    region_code: Mapped[str] = mapped_column(sa.ForeignKey("regions.code"), primary_key=True)
    neighbour_code: Mapped[str] = mapped_column(sa.ForeignKey("regions.code"), primary_key=True)
    confirmed: Mapped[bool] = mapped_column(sa.Boolean, default=False)
    source: Mapped[str] = mapped_column(sa.String(300))
