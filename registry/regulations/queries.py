"""Regulation lists."""
from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from registry.queries import listing, sort, text_search, where_equal
from registry.regulations.models import Regulation as R


def regulations_query(args: dict[str, Any], *, actor: Any) -> sa.Select:
    stmt = listing(R, actor=actor, include_withdrawn=args.get("include_withdrawn", False))
    stmt = where_equal(stmt, args, {"series": R.series, "level": R.level, "kind": R.kind, "status": R.status,
                                    "is_urgent": R.is_urgent, "is_carbon": R.is_carbon})
    stmt = text_search(stmt, args.get("q"), R.code, R.title)
    return sort(stmt, args.get("sort"), {"code": R.code, "title": R.title, "year": R.year,
                                         "published_on": R.published_on, "id": R.id}, R.id)
