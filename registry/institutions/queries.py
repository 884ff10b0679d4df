"""Institution lists: filters, text search and sorting in one query."""
from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from registry.institutions.models import Institution
from registry.records.queries import in_region, listing, sort, text_search, where_equal

SORTS = {"name": Institution.name, "credit_code": Institution.credit_code, "region_code": Institution.region_code,
         "id": Institution.id}


def institutions_query(args: dict[str, Any], *, actor: Any) -> sa.Select:
    stmt = listing(Institution, actor=actor, include_withdrawn=args.get("include_withdrawn", False))
    stmt = where_equal(stmt, args, {"kind": Institution.kind})
    if args.get("region"):
        stmt = stmt.where(in_region(Institution.region_code, args["region"]))
    stmt = text_search(stmt, args.get("q"), Institution.name, Institution.credit_code)
    return sort(stmt, args.get("sort"), SORTS, Institution.id)
