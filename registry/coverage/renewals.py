"""Re-examination (复查) windows: which certificates must be applied for now, and which have expired.

A certificate's **apply-by date** is its expiry less ``REEXAMINATION_LEAD_MONTHS``
(:func:`registry.coverage.services.reexamination_apply_by`).  On a date *D*, with
a window of *N* months (default: the same lead time):

- **apply now**: valid on *D* (issued on or before, expiring on or after *D*)
  and its apply-by date on or before *D* + *N* months.  One whose apply-by
  date is already before *D* is **overdue**;
- **expired**: expired before *D* and still in a covering status
  (``COVERING_STATUSES``, by default in use): renew it or record its status.

Withdrawn standards are not listed.  Each listed certificate carries the
mandatory lines that **would lose coverage** in its holder's city if it lapsed
(for an expired one: that have lost it): the catalog lines (in force on *D*)
it serves as a covering social public standard for which no other standard
covering on *D*, serving that city and valid beyond this one's expiry exists.
A holder serving the whole province is judged against every holder.

Apply-now certificates are sorted by apply-by date (soonest first), expired
ones most recently expired first.  A fixed number of queries per page.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date, timedelta
from typing import Iterable

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import aliased

from registry.coverage.services import (
    _STANDARD_COLUMNS, MAX_HORIZON_MONTHS, MAX_PAGE_SIZE, SCL, I, L, LineRef, S, StandardRef, _child_map,
    _held_in, _institution_clauses, _line_clauses, _months, _Serialisable, _standard_ref, catalog_in_force,
    covering_statuses, reexamination_apply_by, resolve_region)
from registry.records.dates import add_months
from registry.errors import NotFound, ValidationError
from registry.extensions import db
from registry.institutions.models import Institution
from registry.reference.models import Region
from registry.standards.models import STANDARD_CATEGORIES
from registry.standards.validity import (
    certified_from, outside_status_periods, prefetch_status_periods, social_public,
)

APPLY_NOW = "apply_now"
EXPIRED = "expired"
WINDOWS = (APPLY_NOW, EXPIRED)


@dataclass
class Renewal(_Serialisable):
    """One certificate to act on: the standard, its apply-by date, and the lines its city would lose."""

    standard: StandardRef
    apply_by: date
    overdue: bool
    city: str | None
    city_name: str | None
    city_name_en: str | None
    lines_at_risk: list[LineRef] = field(default_factory=list)


@dataclass
class RenewalList(_Serialisable):
    """One page of a window (``apply_now`` or ``expired``), with both windows' totals."""

    as_of: date
    window: str
    lead_months: int
    months: int
    # Apply now: certificates whose apply-by date is on or before this date.
    apply_by_until: date
    # ... which are those expiring on or before this date.
    expiring_until: date
    region: str
    region_name: str
    institution_id: int | None
    apply_now_total: int
    overdue_total: int
    expired_total: int
    total: int
    limit: int
    offset: int
    items: list[Renewal] = field(default_factory=list)


def latest_expiry_applying_by(day: date, lead_months: int) -> date:
    """The last expiry date whose apply-by date (expiry less ``lead_months``) is on or before ``day``.

    Month arithmetic clamps to the month's end (31 August less six months is
    28 February), so several expiries share an apply-by date: the bound is the
    last of them.
    """
    bound = add_months(day, lead_months)
    while reexamination_apply_by(bound + timedelta(days=1), lead_months) <= day:
        bound += timedelta(days=1)
    return bound


def _window_clauses(window: str, as_of: date, expiring_until: date,
                    statuses: tuple[str, ...]) -> list[sa.ColumnElement[bool]]:
    return [S.withdrawn_at.is_(None), *_window_dates(window, as_of, expiring_until, statuses)]


def _window_dates(window: str, as_of: date, expiring_until: date,
                  statuses: tuple[str, ...]) -> list[sa.ColumnElement[bool]]:
    """A window's clauses but "not withdrawn": its dates and statuses."""
    if window == APPLY_NOW:
        return [certified_from() <= as_of, S.valid_until >= as_of, S.valid_until <= expiring_until]
    return [S.valid_until < as_of,
            sa.or_(S.status.in_(statuses), sa.and_(S.status_since.is_not(None), S.status_since > as_of)),
            outside_status_periods(as_of, statuses)]


def renewals(as_of: date, region: str | None = None, *, window: str = APPLY_NOW, months: int | None = None,
             institution_id: int | None = None, limit: int = 100, offset: int = 0,
             statuses: Iterable[str] | None = None, totals_only: bool = False) -> RenewalList:
    """List the certificates of ``window`` on ``as_of`` in the region (or of one institution); see the module.

    ``totals_only``: the windows' totals (what the dashboard says), without a page or its lines at risk.
    """
    if window not in WINDOWS:
        raise ValidationError(f"window 应为 {' / '.join(WINDOWS)} / window must be one of {', '.join(WINDOWS)}",
                              field="window")
    scope = resolve_region(region)
    covering = covering_statuses(statuses)
    lead = _months(None, "REEXAMINATION_LEAD_MONTHS", MAX_HORIZON_MONTHS, "REEXAMINATION_LEAD_MONTHS")
    months = _months(months, "REEXAMINATION_LEAD_MONTHS", MAX_HORIZON_MONTHS)
    if not isinstance(limit, int) or isinstance(limit, bool) or not 1 <= limit <= MAX_PAGE_SIZE:
        raise ValidationError(f"limit 应为 1 到 {MAX_PAGE_SIZE} / limit must be 1 to {MAX_PAGE_SIZE}", field="limit")
    if not isinstance(offset, int) or isinstance(offset, bool) or offset < 0:
        raise ValidationError("offset 不能为负 / offset must not be negative", field="offset")
    if institution_id is not None and db.session.get(Institution, institution_id) is None:
        raise NotFound(f"未知的机构 / unknown institution: {institution_id}", field="institution_id")
    apply_by_until = add_months(as_of, months)
    expiring_until = latest_expiry_applying_by(apply_by_until, lead)
    overdue_from = latest_expiry_applying_by(as_of - timedelta(days=1), lead)  # expiring by then: overdue
    own = [S.institution_id == institution_id] if institution_id is not None else []
    held = [*_institution_clauses(scope), *own]

    # The windows' clauses (``_window_clauses``) with "not withdrawn" once in WHERE; held in the region as a
    # subquery on the holders (the province: not by a withdrawn one), not a join; what both windows imply
    # spelled out (every category, expiring by ``expiring_until``): the count then reads one index of the
    # standards alone on PostgreSQL (ix_measurement_standards_in_force, an index-only scan).
    apply_now = sa.and_(*_window_dates(APPLY_NOW, as_of, expiring_until, covering))
    expired = sa.and_(*_window_dates(EXPIRED, as_of, expiring_until, covering))
    apply_now_total, overdue_total, expired_total = db.session.execute(
        sa.select(sa.func.count(sa.case((apply_now, 1))),
                  sa.func.count(sa.case((sa.and_(apply_now, S.valid_until <= overdue_from), 1))),
                  sa.func.count(sa.case((expired, 1))))
        .select_from(S)
        .where(S.category.in_(STANDARD_CATEGORIES), S.withdrawn_at.is_(None), S.valid_until <= expiring_until,
               _held_in(scope), *own, sa.or_(apply_now, expired))
    ).one()

    if totals_only:
        return RenewalList(
            as_of=as_of, window=window, lead_months=lead, months=months, apply_by_until=apply_by_until,
            expiring_until=expiring_until, region=scope.code, region_name=scope.name, institution_id=institution_id,
            apply_now_total=apply_now_total, overdue_total=overdue_total, expired_total=expired_total,
            total=apply_now_total if window == APPLY_NOW else expired_total, limit=limit, offset=offset, items=[])
    cities = _child_map(current_app.config["PROVINCE_CODE"])
    city = aliased(Region)
    order = ((S.valid_until, S.certificate_no, S.id) if window == APPLY_NOW
             else (S.valid_until.desc(), S.certificate_no, S.id))
    rows = db.session.execute(
        sa.select(*_STANDARD_COLUMNS, city.code.label("city"), city.name.label("city_name"),
                  city.name_en.label("city_name_en"))
        .select_from(S).join(I, I.id == S.institution_id)
        .outerjoin(cities, cities.c.region_code == I.region_code).outerjoin(city, city.code == cities.c.child_code)
        .where(*held, *_window_clauses(window, as_of, expiring_until, covering))
        .order_by(*order).limit(limit).offset(offset)
    ).all()
    at_risk = _lines_at_risk([row.id for row in rows], as_of, covering)
    prefetch_status_periods(rows)
    items = []
    for row in rows:
        apply_by = reexamination_apply_by(row.valid_until, lead)
        items.append(Renewal(standard=_standard_ref(row, as_of), apply_by=apply_by,
                             overdue=window == APPLY_NOW and apply_by < as_of,
                             city=row.city, city_name=row.city_name, city_name_en=row.city_name_en,
                             lines_at_risk=at_risk.get(row.id, [])))
    return RenewalList(
        as_of=as_of, window=window, lead_months=lead, months=months, apply_by_until=apply_by_until,
        expiring_until=expiring_until, region=scope.code, region_name=scope.name, institution_id=institution_id,
        apply_now_total=apply_now_total, overdue_total=overdue_total, expired_total=expired_total,
        total=apply_now_total if window == APPLY_NOW else expired_total, limit=limit, offset=offset, items=items)


def _lines_at_risk(standard_ids: list[int], as_of: date, covering: tuple[str, ...]) -> dict[int, list[LineRef]]:
    """For each standard, the lines its holder's city loses when it lapses (two queries for the page).

    A line stays covered in the city when another standard covering on ``as_of``, serving the city, is valid
    beyond this one's expiry: so it is enough to know, per line, the latest expiry among the covering
    standards of each (holder's city, service area), read in one grouped query.
    """
    version = catalog_in_force(as_of)
    if not standard_ids or version is None:
        return {}
    province = current_app.config["PROVINCE_CODE"]
    cities = _child_map(province)
    # The holder's city: the child of the province its region counts for (none for the province itself).
    holder_city = sa.case((I.region_code == province, None), else_=cities.c.child_code)
    rows = db.session.execute(
        sa.select(S.id.label("standard_id"), S.valid_until, holder_city.label("city"), L.id, L.code, L.name,
                  L.sub_name, L.mode)
        .select_from(S).join(SCL, SCL.c.standard_id == S.id).join(L, L.id == SCL.c.catalog_line_id)
        .join(I, I.id == S.institution_id).outerjoin(cities, cities.c.region_code == I.region_code)
        # The standard itself counts only as a social public standard in a covering status.
        .where(S.id.in_(standard_ids), social_public(),
               sa.or_(S.status.in_(covering), sa.and_(S.status_since.is_not(None), S.status_since > as_of)),
               outside_status_periods(as_of, covering), *_line_clauses(version.id, as_of))
        .order_by(S.id, L.code, L.id)
    ).all()
    if not rows:
        return {}
    # Per line: the latest expiry of its covering standards, by the holder's city and service area.
    latest = db.session.execute(
        sa.select(SCL.c.catalog_line_id, holder_city.label("city"), I.serves_region_code,
                  sa.func.max(S.valid_until))
        .select_from(SCL).join(S, S.id == SCL.c.standard_id).join(I, I.id == S.institution_id)
        .outerjoin(cities, cities.c.region_code == I.region_code)
        .where(SCL.c.catalog_line_id.in_({row.id for row in rows}), I.withdrawn_at.is_(None),
               *_covering_on(S, as_of, covering))
        .group_by(SCL.c.catalog_line_id, holder_city, I.serves_region_code)
    ).all()
    by_line: dict[int, list[tuple[str | None, str | None, date]]] = {}
    for line_id, city, serves, until in latest:
        by_line.setdefault(line_id, []).append((city, serves, until))
    lines: dict[int, list[LineRef]] = {}
    for row in rows:
        kept = any(until > row.valid_until for city, serves, until in by_line.get(row.id, ())
                   if row.city is None or city == row.city or serves in (row.city, province))
        if not kept:
            lines.setdefault(row.standard_id, []).append(
                LineRef(id=row.id, code=row.code, name=row.name, sub_name=row.sub_name, mode=row.mode))
    return lines


def _covering_on(standard, day: date, statuses: tuple[str, ...]) -> tuple[sa.ColumnElement[bool], ...]:
    """:func:`registry.coverage.services._covering_clauses` for an aliased standard."""
    return (social_public(standard), standard.withdrawn_at.is_(None), certified_from(standard) <= day,
            standard.valid_until >= day,
            sa.or_(standard.status.in_(statuses),
                   sa.and_(standard.status_since.is_not(None), standard.status_since > day)),
            outside_status_periods(day, statuses, standard=standard))


__all__ = ["APPLY_NOW", "EXPIRED", "WINDOWS", "Renewal", "RenewalList", "latest_expiry_applying_by", "renewals"]
