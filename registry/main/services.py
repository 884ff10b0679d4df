"""Figures for the front page."""
from __future__ import annotations

import sqlalchemy as sa
from flask import g

from registry.catalog.models import CatalogLine
from registry.extensions import db
from registry.institutions.models import Institution
from registry.personnel.models import Person
from registry.regulations.models import Regulation
from registry.standards.models import MeasurementStandard


def registry_summary() -> dict:
    """Count the records in each registry, and whether demo data is loaded."""
    counts = {}
    for key, model in (
        ("institutions", Institution),
        ("standards", MeasurementStandard),
        ("regulations", Regulation),
        ("personnel", Person),
        ("catalog_lines", CatalogLine),
    ):
        counts[key] = db.session.scalar(
            sa.select(sa.func.count()).select_from(model).where(model.withdrawn_at.is_(None))
        )
    return {"counts": counts, "has_demo": has_demo_data()}


def has_demo_data() -> bool:
    """Whether any demo record is loaded (asked once per request: every page shows the label)."""
    if "has_demo_data" not in g:
        g.has_demo_data = bool(db.session.scalar(sa.select(sa.exists().where(Institution.is_demo.is_(True)))))
    return g.has_demo_data
