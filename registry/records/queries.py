"""Building blocks for list queries: scope, withdrawn records, text search, sorting.

Each feature's ``queries.py`` turns its list filters into one ``select()``;
the caller counts and pages it in SQL.
"""
from __future__ import annotations

from typing import Any, Mapping

import sqlalchemy as sa

from registry.auth.policy import scope
from registry.reference.models import Region


def listing(model: type, *, actor: Any, include_withdrawn: bool = False) -> sa.Select:
    """Every ``model`` row ``actor`` may read; withdrawn ones only on request."""
    stmt = scope(sa.select(model), model, actor)
    if not include_withdrawn and hasattr(model, "withdrawn_at"):
        stmt = stmt.where(model.withdrawn_at.is_(None))
    return stmt


def text_search(stmt: sa.Select, text: str | None, *columns) -> sa.Select:
    """Keep rows where any of ``columns`` contains ``text`` (case-insensitive)."""
    text = (text or "").strip()
    if not text:
        return stmt
    pattern = "%" + text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
    return stmt.where(sa.or_(*(column.ilike(pattern, escape="\\") for column in columns)))


def in_region(column, region: str | None):
    """A condition: ``column`` is ``region`` or a division directly under it."""
    children = sa.select(Region.code).where(Region.parent_code == region)
    return sa.or_(column == region, column.in_(children))


def sort(stmt: sa.Select, key: str | None, columns: Mapping[str, Any], tiebreak) -> sa.Select:
    """Order by a whitelisted column (``-name`` descending), then by ``tiebreak`` for stable pages."""
    if key:
        descending = key.startswith("-")
        column = columns[key.lstrip("-")]
        stmt = stmt.order_by(column.desc() if descending else column.asc())
    return stmt.order_by(tiebreak)


def where_equal(stmt: sa.Select, args: Mapping[str, Any], columns: Mapping[str, Any]) -> sa.Select:
    """Add ``column == value`` for every filter given in ``args``."""
    for name, column in columns.items():
        if args.get(name) is not None:
            stmt = stmt.where(column == args[name])
    return stmt
