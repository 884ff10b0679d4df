"""Catalog lists."""
from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from registry.catalog.models import MANDATORY_MODES, CatalogLine, CatalogVersion
from registry.queries import listing, sort, text_search, where_equal


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
