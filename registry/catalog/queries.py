"""Catalog lists."""
from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from registry.catalog.models import MANDATORY_MODES, CatalogLine, CatalogVersion
from registry.extensions import db
from registry.records.queries import listing, sort, text_search, where_equal


def versions_query(args: dict[str, Any], *, actor: Any) -> sa.Select:
    stmt = listing(CatalogVersion, actor=actor, include_withdrawn=args.get("include_withdrawn", False))
    stmt = text_search(stmt, args.get("q"), CatalogVersion.name, CatalogVersion.source_document)
    return sort(stmt, args.get("sort"), {"name": CatalogVersion.name, "effective_from": CatalogVersion.effective_from,
                                         "id": CatalogVersion.id}, CatalogVersion.id)


def lines_query(args: dict[str, Any], *, actor: Any) -> sa.Select:
    stmt = listing(CatalogLine, actor=actor, include_withdrawn=args.get("include_withdrawn", False))
    stmt = where_equal(stmt, args, {"catalog_version_id": CatalogLine.catalog_version_id, "mode": CatalogLine.mode})
    if args.get("mandatory") is not None:
        mandatory = CatalogLine.mode.in_(MANDATORY_MODES)
        stmt = stmt.where(mandatory if args["mandatory"] else sa.not_(mandatory))
    stmt = text_search(stmt, args.get("q"), CatalogLine.code, CatalogLine.name, CatalogLine.sub_name)
    return sort(stmt, args.get("sort"), {"code": CatalogLine.code, "name": CatalogLine.name, "id": CatalogLine.id},
                CatalogLine.id)


def line_counts(version_id: int, *, actor: Any) -> tuple[int, int]:
    """How many lines of a version are loaded, and how many of them are mandatory (V, P+V)."""
    lines = lines_query({"catalog_version_id": version_id}, actor=actor).order_by(None).subquery()
    return db.session.execute(sa.select(
        sa.func.count(), sa.func.count(sa.case((lines.c.mode.in_(MANDATORY_MODES), 1)))).select_from(lines)).one()


SUGGESTIONS = 10


def line_suggestions(text: str | None, *, today, limit: int = SUGGESTIONS) -> list[dict[str, str]]:
    """Lines of the catalog in force whose code, name or 一级·二级 label contains ``text`` (a picker's list).

    Each suggestion's ``value`` is what the form sends: the line's code, which the
    importer's rule (:meth:`importers.references.WorkbookReferences.catalog_lines`)
    resolves like the names it also accepts.
    """
    from importers.references import catalog_in_force

    text = (text or "").strip()
    catalog = catalog_in_force(today)
    if not text or catalog is None:
        return []
    label = CatalogLine.name + sa.func.coalesce("·" + CatalogLine.sub_name, "")
    stmt = text_search(sa.select(CatalogLine.code, CatalogLine.name, CatalogLine.sub_name)
                       .where(CatalogLine.catalog_version_id == catalog.id, CatalogLine.withdrawn_at.is_(None)),
                       text, CatalogLine.code, CatalogLine.name, CatalogLine.sub_name, label)
    starts = sa.case((CatalogLine.code.ilike(text.replace("%", "") + "%"), 0), else_=1)
    rows = db.session.execute(stmt.order_by(starts, CatalogLine.code).limit(limit))
    return [{"value": code, "label": f"{code} {name}" + (f"·{sub}" if sub else "")} for code, name, sub in rows]
