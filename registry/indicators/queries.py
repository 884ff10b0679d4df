"""Indicator and recorded-value lists."""
from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from registry.indicators.models import Indicator, RecordedValue
from registry.queries import in_region, listing, sort, text_search, where_equal


def indicators_query(args: dict[str, Any], *, actor: Any) -> sa.Select:
    stmt = listing(Indicator, actor=actor, include_withdrawn=args.get("include_withdrawn", False))
    stmt = where_equal(stmt, args, {"kind": Indicator.kind, "source": Indicator.source})
    stmt = text_search(stmt, args.get("q"), Indicator.key, Indicator.name, Indicator.name_en)
    return sort(stmt, args.get("sort"), {"position": Indicator.position, "key": Indicator.key,
                                         "deadline": Indicator.deadline}, Indicator.key)


def recorded_values_query(args: dict[str, Any], *, actor: Any) -> sa.Select:
    V = RecordedValue
    stmt = listing(V, actor=actor, include_withdrawn=args.get("include_withdrawn", False))
    stmt = where_equal(stmt, args, {"indicator_key": V.indicator_key})
    if args.get("region"):
        stmt = stmt.where(in_region(V.region_code, args["region"]))
    if args.get("as_of_from"):
        stmt = stmt.where(V.as_of >= args["as_of_from"])
    if args.get("as_of_until"):
        stmt = stmt.where(V.as_of <= args["as_of_until"])
    stmt = text_search(stmt, args.get("q"), V.source, V.note)
    return sort(stmt, args.get("sort"), {"as_of": V.as_of, "id": V.id}, V.id)
