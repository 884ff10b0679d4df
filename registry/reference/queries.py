"""Reference data lists."""
from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from registry.records.queries import listing, sort, text_search, where_equal
from registry.reference.models import Discipline, Region


def regions_query(args: dict[str, Any], *, actor: Any) -> sa.Select:
    stmt = where_equal(listing(Region, actor=actor), args, {"level": Region.level, "parent": Region.parent_code})
    stmt = text_search(stmt, args.get("q"), Region.code, Region.name, Region.name_en)
    return sort(stmt, args.get("sort"), {"code": Region.code, "name": Region.name}, Region.code)


def disciplines_query(args: dict[str, Any], *, actor: Any) -> sa.Select:
    stmt = where_equal(listing(Discipline, actor=actor), args, {"kind": Discipline.kind})
    stmt = text_search(stmt, args.get("q"), Discipline.code, Discipline.name, Discipline.name_en)
    return sort(stmt, args.get("sort"), {"code": Discipline.code, "name": Discipline.name}, Discipline.code)
