"""Metrologist follow-up: per legal metrology institution, its staff, registered metrologists and shortfall.

The figures are those of ``registered_metrologist_share`` split by employer:
people (not withdrawn) employed on *D* at each non-withdrawn legal metrology
institution (法定计量检定机构) in the region, and those of them holding a
registration valid on *D*.  Summed over the institutions they are the
indicator's numerator and denominator (a test checks it).

``needed`` is how many more registrations the institution needs for its own
share to meet the target the region is judged against (the plan in force on
*D*, else the last plan whose deadline has passed; a city without its own
target uses the province's): the least *k* with (registered + *k*) / staff
meeting the target.  No target, no ``needed``.

Sorted below-target first (most registrations needed first), or by any column.
One grouped query whatever the number of institutions.
"""
from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date
from fractions import Fraction

import sqlalchemy as sa
from flask import current_app

from registry.coverage.services import (
    METROLOGISTS, RATIO_DIGITS, I, P, _employed, _institution_clauses, _met, _registered, _Serialisable, plan_book,
    plan_info, resolve_region, PlanInfo)
from registry.errors import ValidationError
from registry.extensions import db
from registry.indicators.models import Indicator
from registry.reference.models import Region

SORTS = ("needed", "share", "staff", "registered", "name", "city")


@dataclass
class InstitutionMetrologists(_Serialisable):
    institution_id: int
    institution_name: str
    credit_code: str
    region_code: str
    city: str | None
    city_name: str | None
    city_name_en: str | None
    staff: int
    registered: int
    share: float | None
    met: bool | None
    needed: int | None


@dataclass
class MetrologistFollowUp(_Serialisable):
    as_of: date
    region: str
    region_name: str
    plan: PlanInfo | None
    target: float | None
    comparator: str | None
    target_region: str | None
    staff: int
    registered: int
    share: float | None
    needed: int | None
    below_target: int
    sort: str
    institutions: list[InstitutionMetrologists] = field(default_factory=list)


def _needed(registered: int, staff: int, goal: Fraction | None, comparator: str | None) -> int | None:
    """The least k with (registered + k) / staff >= goal (0 when already met; None without a target)."""
    if goal is None or comparator not in (">=", "between"):
        return None
    if not staff:
        return 0
    return max(0, math.ceil(goal * staff) - registered)


def metrologist_follow_up(as_of: date, region: str | None = None, *, sort: str = "needed") -> MetrologistFollowUp:
    """Each legal metrology institution's registered-metrologist share on ``as_of`` against the target."""
    descending = sort.startswith("-")
    key = sort.lstrip("-")
    if key not in SORTS:
        raise ValidationError(f"sort 应为 {', '.join(SORTS)}（可加 -）/ sort must be one of {', '.join(SORTS)} "
                              f"(optionally with -)", field="sort")
    scope = resolve_region(region)
    province = current_app.config["PROVINCE_CODE"]
    book = plan_book()
    plan, status = book.for_day(as_of)
    definition = db.session.get(Indicator, METROLOGISTS)
    target = basis = None
    if definition is not None:
        target, basis = book.target(plan, definition, scope.code)
    goal = Fraction(target.target) if target is not None else None
    comparator = target.comparator if target is not None else None

    city_of = sa.case((Region.parent_code == province, Region.code), else_=Region.parent_code)
    staffed = sa.and_(P.withdrawn_at.is_(None), _employed(as_of))
    rows = db.session.execute(
        sa.select(I.id, I.name, I.credit_code, I.region_code, city_of.label("city"),
                  sa.func.count(P.id).label("staff"),
                  sa.func.count(sa.case((_registered(as_of), P.id))).label("registered"))
        .select_from(I).join(Region, Region.code == I.region_code)
        .outerjoin(P, sa.and_(P.institution_id == I.id, staffed))
        .where(I.kind == "legal_metrology", *_institution_clauses(scope))
        .group_by(I.id, I.name, I.credit_code, I.region_code, city_of)
    ).all()
    names = {code: (name, name_en) for code, name, name_en in db.session.execute(
        sa.select(Region.code, Region.name, Region.name_en).where(Region.parent_code == province))}
    institutions = []
    for row in rows:
        city = row.city if row.city in names else None
        share = Fraction(row.registered, row.staff) if row.staff else None
        institutions.append(InstitutionMetrologists(
            institution_id=row.id, institution_name=row.name, credit_code=row.credit_code,
            region_code=row.region_code, city=city, city_name=names[city][0] if city else None,
            city_name_en=names[city][1] if city else None, staff=row.staff, registered=row.registered,
            share=None if share is None else round(float(share), RATIO_DIGITS),
            met=_met(share, target) if target is not None else None,
            needed=_needed(row.registered, row.staff, goal, comparator)))
    _sort(institutions, key, descending)
    staff = sum(item.staff for item in institutions)
    registered = sum(item.registered for item in institutions)
    return MetrologistFollowUp(
        as_of=as_of, region=scope.code, region_name=scope.name, plan=plan_info(plan, status),
        target=None if target is None else float(target.target), comparator=comparator,
        target_region=None if target is None else target.region_code, staff=staff, registered=registered,
        share=round(registered / staff, RATIO_DIGITS) if staff else None,
        needed=_needed(registered, staff, goal, comparator),
        below_target=sum(1 for item in institutions if item.met is False), sort=sort, institutions=institutions)


def _sort(items: list[InstitutionMetrologists], key: str, descending: bool) -> None:
    """Sort in place; ties (and empty values, last) by name and id."""
    items.sort(key=lambda item: (item.institution_name, item.institution_id))
    if key == "name":
        if descending:
            items.reverse()
        return
    if key == "needed":
        # Below target first, most registrations needed first; then the rest by share.
        items.sort(key=lambda item: (item.met is not False, -(item.needed or 0), item.share is None,
                                     item.share or 0))
        if descending:
            items.reverse()
        return
    column = {"share": "share", "staff": "staff", "registered": "registered", "city": "city"}[key]
    present = [item for item in items if getattr(item, column) is not None]
    missing = [item for item in items if getattr(item, column) is None]
    present.sort(key=lambda item: getattr(item, column), reverse=descending)
    items[:] = present + missing
