"""Indicator and recorded-value lists."""
from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from registry.indicators.models import Indicator, Plan, PlanTarget, RecordedValue
from registry.records.queries import in_region, listing, sort, text_search, where_equal


def indicators_query(args: dict[str, Any], *, actor: Any) -> sa.Select:
    stmt = listing(Indicator, actor=actor, include_withdrawn=args.get("include_withdrawn", False))
    stmt = where_equal(stmt, args, {"kind": Indicator.kind, "source": Indicator.source})
    stmt = text_search(stmt, args.get("q"), Indicator.key, Indicator.name, Indicator.name_en)
    return sort(stmt, args.get("sort"), {"position": Indicator.position, "key": Indicator.key}, Indicator.key)


def plans_query(args: dict[str, Any], *, actor: Any) -> sa.Select:
    stmt = listing(Plan, actor=actor, include_withdrawn=args.get("include_withdrawn", False))
    stmt = text_search(stmt, args.get("q"), Plan.name, Plan.source_document)
    return sort(stmt, args.get("sort"), {"starts_on": Plan.starts_on, "name": Plan.name, "id": Plan.id}, Plan.id)


def targets_query(args: dict[str, Any], *, actor: Any) -> sa.Select:
    T = PlanTarget
    stmt = listing(T, actor=actor, include_withdrawn=args.get("include_withdrawn", False))
    stmt = where_equal(stmt, args, {"plan_id": T.plan_id, "indicator_key": T.indicator_key})
    if args.get("region"):
        stmt = stmt.where(T.region_code == args["region"])
    return sort(stmt, args.get("sort"), {"id": T.id, "indicator_key": T.indicator_key}, T.id)


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
