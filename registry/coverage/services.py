"""Indicators against the plan's targets, gaps, single points of failure, forecasts, expiries.

Every function reads only: it takes the date (``as_of``) and a region code,
counts in SQL aggregates, and returns a dataclass whose ``to_dict()`` is the
JSON body the CLI prints and the API returns.

Definitions (docs/coverage.md):

- a standard *covers* a catalog line on a date when it is a social public
  standard (社会公用计量标准), not withdrawn, held by a non-withdrawn
  institution in the region, its certificate is valid that day
  (``certified_from() <= day <= valid_until``: from the start of its unbroken
  run of certificates, see ``registry.standards.validity``) and it is in use that day: its status
  is one of ``COVERING_STATUSES``, or the date is before ``status_since``, and none of its ended
  status periods (``standard_status_periods``, a past 封存) with another status holds the date;
- the lines counted are the V and P+V lines of the catalog version in force
  (the non-withdrawn version with the latest ``effective_from <= day``) that
  are not withdrawn and already in effect;
- a region is the province (every institution) or a region code with its
  direct children (a city and its counties);
- levels (``catalog_lines.levels``) and service areas
  (``institutions.serves_region_code``): the province counts every line,
  covered anywhere in it; a city (or a county) counts the lines expected at
  its level (no levels, or its level among them), covered by a standard whose
  holder serves it: the holder is in it, or serves it or a region above it
  (a provincial institute serving the province covers every city's lines);
- targets come from plans (``plans``/``plan_targets``): on a date the plan
  in force is the one whose period holds it; where none does, the last plan
  whose deadline has passed, judged on its deadline.  A city is judged only
  against a target set for it, or, for a ratio, against the province's; a
  count with no city target gets its share of the province and no verdict.
  Province-wide indicators are not repeated for a city.
"""
from __future__ import annotations

import functools
import re
from dataclasses import dataclass, field, fields, is_dataclass
from datetime import date
from decimal import Decimal
from fractions import Fraction
from typing import Any, Iterable

import sqlalchemy as sa
from flask import current_app
from flask_babel import gettext
from sqlalchemy.orm import aliased

from registry.catalog.models import MANDATORY_MODES, CatalogLine, CatalogVersion
from registry.records.dates import add_months, month_ends_after
from registry.errors import NotFound, ValidationError
from registry.extensions import db
from registry.indicators.models import PROVINCE_WIDE_INDICATORS, Indicator, Plan, PlanTarget, RecordedValue
from registry.institutions.models import Institution
from registry.personnel.models import Person
from registry.reference.models import Region
from registry.regulations.models import Regulation
from registry.standards.models import (
    STANDARD_STATUSES, MeasurementStandard, StandardStatusPeriod, standard_catalog_lines,
)
from registry.standards.validity import (
    certified_from, outside_status_periods, prefetch_status_periods, social_public, status_undated_clause,
    validity,
)

S = MeasurementStandard
I = Institution  # noqa: E741
L = CatalogLine
P = Person
R = Regulation
RV = RecordedValue
SCL = standard_catalog_lines

COVERAGE = "mandatory_item_coverage"
METROLOGISTS = "registered_metrologist_share"
SOCIAL_PUBLIC = "social_public_standards"
LOCAL_REGULATIONS = "local_regulations"
CARBON_STANDARDS = "carbon_standards"
CARBON_SPECIFICATIONS = "carbon_specifications"
REGISTRY_KEYS = frozenset({COVERAGE, METROLOGISTS, SOCIAL_PUBLIC, LOCAL_REGULATIONS, CARBON_STANDARDS,
                           CARBON_SPECIFICATIONS})
# Regulations are made for the whole province: a city report leaves them to the province's.
PROVINCE_WIDE_KEYS = PROVINCE_WIDE_INDICATORS
# Why an indicator has (or has no) verdict, one code per case; pages translate each.
BASIS_TARGET = "target"                    # the region's own target (the province's, or a city's)
BASIS_PROVINCE_RATIO = "province_target"   # a city's ratio judged against the province's target
BASIS_NO_CITY_TARGET = "no_city_target"    # a city's count without a target of its own: share, no verdict
BASIS_PROVINCE_WIDE = "province_wide"      # counted for the province only
BASIS_NO_TARGET = "no_target"              # no plan, or the plan sets no target for it
COUNTED_ANY = "any"  # the province counts the lines expected at any level
PLAN_IN_FORCE = "in_force"
PLAN_DEADLINE_PASSED = "deadline_passed"
UNPUBLISHED_STATUSES = ("planned", "drafting")
RATIO_DIGITS = 4
MAX_FORECAST_MONTHS = 120
MAX_HORIZON_MONTHS = 600
MAX_PAGE_SIZE = 10_000


# --------------------------------------------------------------------------- results


def _number(value: Any) -> int | float | None:
    """Return a JSON number: integral decimals as int, others as float."""
    if value is None:
        return None
    if isinstance(value, Decimal):
        return int(value) if value == value.to_integral_value() else float(value)
    return value


def _jsonable(value: Any) -> Any:
    """``value`` as JSON-able data: results (dataclasses) as dicts of their fields, as ``asdict`` gives them, dates
    as ISO text, decimals as numbers, tuples as lists; walked once, without ``asdict``'s deep copy."""
    if isinstance(value, (str, int, float)) or value is None:
        return value
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return _number(value)
    if isinstance(value, dict):
        return {k: _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(v) for v in value]
    names = _field_names(type(value))
    if names is not None:
        return {name: _jsonable(getattr(value, name)) for name in names}
    return value


@functools.cache
def _field_names(kind: type) -> tuple[str, ...] | None:
    """A result class's fields (every one, as ``asdict`` reads them); None for a type that is not a dataclass."""
    return tuple(f.name for f in fields(kind)) if is_dataclass(kind) else None


class _Serialisable:
    def to_dict(self) -> dict[str, Any]:
        return _jsonable(self)


@dataclass(frozen=True)
class RegionScope(_Serialisable):
    """The region a figure is for; ``codes`` is None for the whole province."""

    code: str
    name: str
    name_en: str | None
    level: str
    codes: tuple[str, ...] | None
    # The regions whose holders' service area reaches it: itself and those above it.
    served_by: tuple[str, ...] = ()

    @property
    def is_province(self) -> bool:
        return self.codes is None

    @property
    def counted_level(self) -> str:
        """Which lines its coverage counts: ``any`` (the province) or its own level."""
        return COUNTED_ANY if self.is_province else self.level


@dataclass
class CatalogInfo(_Serialisable):
    id: int
    name: str
    source_document: str
    effective_from: date
    declared_line_count: int
    loaded_line_count: int
    mandatory_line_count: int | None
    is_partial: bool
    # The lines the coverage counted: ``any`` level (the province) or those expected at a region's level.
    counted_level: str = "any"
    counted_line_count: int | None = None

    def warnings(self) -> list[str]:
        """What a reader must know about the catalog, in the user's language (one language per message)."""
        if self.loaded_line_count < self.declared_line_count:
            if self.is_partial:
                return [gettext("强检目录「%(name)s」（部分目录）仅载入 %(loaded)s 条，声明 %(declared)s 条，"
                                "覆盖率只反映已载入的条目。", name=self.name, loaded=self.loaded_line_count,
                                declared=self.declared_line_count)]
            return [gettext("强检目录「%(name)s」仅载入 %(loaded)s 条，声明 %(declared)s 条，覆盖率只反映已载入的条目。",
                            name=self.name, loaded=self.loaded_line_count, declared=self.declared_line_count)]
        if self.is_partial:
            return [gettext("强检目录「%(name)s」标记为部分目录。", name=self.name)]
        return []


@dataclass
class IndicatorResult(_Serialisable):
    key: str
    name: str
    name_en: str
    kind: str
    value: int | float | None
    numerator: int | None
    denominator: int | None
    target: int | float | None
    target_max: int | float | None
    comparator: str | None
    deadline: date | None
    met: bool | None
    source: str
    value_as_of: date | None = None
    value_source: str | None = None
    basis: str = BASIS_NO_TARGET
    target_region: str | None = None
    judged_on: date | None = None
    judged_value: int | float | None = None
    share_of_province: float | None = None


@dataclass
class PlanInfo(_Serialisable):
    """The plan whose targets a report uses: in force on its date, or the last one, its deadline passed."""

    id: int
    name: str
    source_document: str | None
    starts_on: date
    deadline: date
    status: str


@dataclass
class CoverageReport(_Serialisable):
    as_of: date
    region: str
    region_name: str
    catalog: CatalogInfo | None
    plan: PlanInfo | None
    indicators: list[IndicatorResult]
    warnings: list[str]
    # Social public standards in the region whose status (not in use) has no date: counted on no date.
    undated_status_count: int = 0


@dataclass
class RegionColumn(_Serialisable):
    region: str
    region_name: str
    indicators: list[IndicatorResult]
    # As in CoverageReport: the region's social public standards whose status has no date.
    undated_status_count: int = 0


@dataclass
class RegionTable(_Serialisable):
    """Every indicator for each child region (the 11 cities for the province)."""

    as_of: date
    region: str
    region_name: str
    catalog: CatalogInfo | None
    plan: PlanInfo | None
    regions: list[RegionColumn]
    warnings: list[str]
    # As in CoverageReport, for the whole region (its cities', and those held directly in it).
    undated_status_count: int = 0


@dataclass
class LineRef(_Serialisable):
    id: int
    code: str
    name: str
    sub_name: str | None
    mode: str


@dataclass
class RegionGaps(_Serialisable):
    region: str
    region_name: str
    uncovered_count: int
    lines: list[LineRef]
    # The lines this region counts (those expected at its level): what ``uncovered_count`` is out of.
    line_count: int = 0


@dataclass
class GapList(_Serialisable):
    """Mandatory lines with no covering standard: in the region, and in each child region."""

    as_of: date
    region: str
    region_name: str
    catalog: CatalogInfo | None
    mandatory_line_count: int
    uncovered_count: int
    uncovered: list[LineRef]
    by_region: list[RegionGaps]
    warnings: list[str]


@dataclass
class StandardRef(_Serialisable):
    id: int
    certificate_no: str
    name: str
    category: str
    status: str
    issued_on: date
    valid_until: date
    institution_id: int
    institution_name: str
    credit_code: str
    region_code: str
    status_since: date | None = None
    # registry.standards.validity on the list's date
    validity: str | None = None


@dataclass
class LineAtRisk(_Serialisable):
    line: LineRef
    covered_until: date
    standards: list[StandardRef]


@dataclass
class RiskList(_Serialisable):
    """Covered lines whose covering certificates all expire by ``until``."""

    as_of: date
    region: str
    region_name: str
    months: int
    until: date
    catalog: CatalogInfo | None
    lines: list[LineAtRisk]
    warnings: list[str]


@dataclass
class ForecastPoint(_Serialisable):
    date: date
    value: int | float | None
    numerator: int | None
    denominator: int | None
    met: bool | None
    plan_id: int | None = None
    target: int | float | None = None
    target_max: int | float | None = None
    comparator: str | None = None
    value_as_of: date | None = None
    value_source: str | None = None


@dataclass
class ForecastSeries(_Serialisable):
    key: str
    name: str
    name_en: str
    kind: str
    target: int | float | None
    target_max: int | float | None
    comparator: str | None
    deadline: date | None
    source: str
    basis: str
    first_unmet: date | None
    points: list[ForecastPoint]


@dataclass
class Forecast(_Serialisable):
    """Indicator values at each month-end after ``as_of`` if nothing is renewed."""

    as_of: date
    region: str
    region_name: str
    months: int
    dates: list[date]
    catalogs: list[CatalogInfo]
    plans: list[PlanInfo]
    indicators: list[ForecastSeries]
    warnings: list[str]


@dataclass
class ExpiringList(_Serialisable):
    """Certificates valid on ``as_of`` that expire by ``until``, soonest first."""

    as_of: date
    months: int
    until: date
    region: str
    region_name: str
    institution_id: int | None
    total: int
    limit: int
    offset: int
    items: list[StandardRef] = field(default_factory=list)


@dataclass(frozen=True)
class _Measure:
    """A raw figure before it meets its target: a count, a ratio or a recorded value."""

    value: int | Decimal | None
    denominator: int | None = None
    ratio: bool = False
    value_as_of: date | None = None
    value_source: str | None = None


def _kept(function):
    """Keep what ``function`` answers in the report cache until the data version moves (:func:`cache.kept`).

    For the parts several reports or dates share: the figures at a plan's deadline (the same for every date
    after it), the province's figures a table of cities also reads, the count that no date changes.
    """
    @functools.wraps(function)
    def wrapper(*args, **kwargs):
        from registry.coverage import cache  # the cache module imports this one

        return cache.kept(function, args, kwargs)

    return wrapper


# --------------------------------------------------------------------------- scope and settings

def resolve_region(code: str | None = None) -> RegionScope:
    """Return the region for ``code`` (the province when empty); unknown codes raise NotFound."""
    province = current_app.config["PROVINCE_CODE"]
    code = (code or province).strip()
    if not re.fullmatch(r"\d{6}", code):
        raise ValidationError(f"行政区划代码应为6位数字 / a region code has 6 digits: {code!r}", field="region")
    region = db.session.get(Region, code)
    if region is None:
        raise NotFound(f"未知的行政区划代码 / unknown region code: {code}", field="region")
    codes = None
    served_by = [region.code]
    if code != province:
        codes = tuple(db.session.scalars(
            sa.select(Region.code).where(sa.or_(Region.code == code, Region.parent_code == code)).order_by(Region.code)
        ))
        above = region
        while above.parent_code and above.parent_code not in served_by:
            served_by.append(above.parent_code)
            above = db.session.get(Region, above.parent_code)
            if above is None:
                break
    return RegionScope(code=region.code, name=region.name, name_en=region.name_en, level=region.level, codes=codes,
                       served_by=tuple(served_by))


def covering_statuses(override: Iterable[str] | None = None) -> tuple[str, ...]:
    """Return the statuses in which a standard covers (config ``COVERING_STATUSES``)."""
    statuses = tuple(override if override is not None else current_app.config["COVERING_STATUSES"])
    unknown = set(statuses) - set(STANDARD_STATUSES)
    if unknown or not statuses:
        raise ValidationError(f"COVERING_STATUSES 含未知状态 / unknown covering statuses: {sorted(unknown)}")
    return statuses


def _months(value: int | None, default_key: str | None, maximum: int, name: str = "months") -> int:
    if value is None and default_key is not None:
        value = current_app.config[default_key]
    if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value <= maximum:
        raise ValidationError(f"月数应为 0 到 {maximum} 的整数 / {name} must be a whole number from 0 to {maximum}",
                              field=name)
    return value


def _region_clauses(scope: RegionScope) -> list[sa.ColumnElement[bool]]:
    return [] if scope.codes is None else [I.region_code.in_(scope.codes)]


def _institution_clauses(scope: RegionScope) -> list[sa.ColumnElement[bool]]:
    return [I.withdrawn_at.is_(None), *_region_clauses(scope)]


def _serving_clauses(scope: RegionScope) -> list[sa.ColumnElement[bool]]:
    """Institutions whose standards cover lines in the region: in it, or serving it or a region above it."""
    if scope.is_province:
        return [I.withdrawn_at.is_(None)]
    return [I.withdrawn_at.is_(None),
            sa.or_(I.region_code.in_(scope.codes), I.serves_region_code.in_(scope.served_by))]


def _level_clauses(level: str) -> tuple[sa.ColumnElement[bool], ...]:
    """Lines expected at ``level``: no levels set (every level), or ``level`` among them."""
    if level == COUNTED_ANY:
        return ()
    return (sa.or_(L.levels.is_(None), L.levels.contains(level)),)


def _held_in(scope: RegionScope) -> sa.ColumnElement[bool]:
    """Held by a non-withdrawn institution in the region."""
    if scope.is_province:
        # Every institution is in the province; excluding the few withdrawn
        # ones lets PostgreSQL count from the index alone.
        return S.institution_id.not_in(sa.select(I.id).where(I.withdrawn_at.is_not(None)))
    return S.institution_id.in_(sa.select(I.id).where(*_institution_clauses(scope)))


def _children_and_levels(scope: RegionScope) -> tuple[list[tuple[str, str]], list[str]]:
    """The region's direct children (code, name) and their levels (``city`` for the province's)."""
    rows = db.session.execute(
        sa.select(Region.code, Region.name, Region.level).where(Region.parent_code == scope.code)
        .order_by(Region.code)).all()
    return [(code, name) for code, name, _ in rows], sorted({level for _, _, level in rows})


def _child_line_clause(child: Any, levels: list[str]) -> sa.ColumnElement[bool]:
    """Lines a child region counts: those expected at its level (or at every level)."""
    return sa.or_(L.levels.is_(None), *(sa.and_(child.level == level, L.levels.contains(level)) for level in levels))


def _serving_child(scope: RegionScope, child: Any, child_map: sa.Subquery) -> sa.ColumnElement[bool]:
    """A holder serving the child region: in it (or its counties), or serving it or a region above it."""
    in_child = sa.select(child_map.c.region_code).where(child_map.c.child_code == child.code).correlate(child)
    return sa.or_(I.region_code.in_(in_child),
                  I.serves_region_code == child.code, I.serves_region_code.in_(scope.served_by))


def _children_catalog_info(version: CatalogVersion, as_of: date, levels: list[str]) -> CatalogInfo:
    """The catalog a table of child regions used: the lines expected at the children's level."""
    level = levels[0] if len(levels) == 1 else COUNTED_ANY
    mandatory, counted = _line_counts(version.id, as_of, level)
    return _catalog_info(version, mandatory, level=level, counted=counted)


def _child_map(parent_code: str) -> sa.Subquery:
    """Map every region to the child of ``parent_code`` it counts for: itself, or its parent."""
    return sa.select(
        Region.code.label("region_code"),
        sa.case((Region.parent_code == parent_code, Region.code), else_=Region.parent_code).label("child_code"),
    ).subquery("child_map")


# --------------------------------------------------------------------------- predicates (one definition each)

def _line_clauses(version_id: Any, day: Any, level: str = COUNTED_ANY) -> tuple[sa.ColumnElement[bool], ...]:
    """Lines counted on ``day``: V and P+V, not withdrawn, already in effect (and expected at ``level``)."""
    return (L.catalog_version_id == version_id, L.mode.in_(MANDATORY_MODES), L.withdrawn_at.is_(None),
            sa.or_(L.effective_from.is_(None), L.effective_from <= day), *_level_clauses(level))


def _covering_clauses(day: Any, statuses: tuple[str, ...]) -> tuple[sa.ColumnElement[bool], ...]:
    """Social public, not withdrawn, certificate valid on ``day``, in use on ``day``."""
    return (social_public(), S.withdrawn_at.is_(None), *_covering_on(day, statuses))


def _covering_on(day: Any, statuses: tuple[str, ...]) -> tuple[sa.ColumnElement[bool], ...]:
    """The part of :func:`_covering_clauses` that depends on ``day``: certificate valid, in use."""
    return (certified_from() <= day, S.valid_until >= day,
            sa.or_(S.status.in_(statuses), sa.and_(S.status_since.is_not(None), S.status_since > day)),
            outside_status_periods(day, statuses))


def _covering_window(first: date, last: date, statuses: tuple[str, ...]) -> tuple[sa.ColumnElement[bool], ...]:
    """What every standard covering on some day from ``first`` to ``last`` satisfies (``_covering_clauses`` of
    one day when ``first == last``): the WHERE of a query counting several days at once, each by
    :func:`_covering_on`.  Keep it in step with ``_covering_on``: ranges PostgreSQL reads from
    ``ix_measurement_standards_in_force``."""
    return (social_public(), S.withdrawn_at.is_(None), certified_from() <= last, S.valid_until >= first,
            sa.or_(S.status.in_(statuses), sa.and_(S.status_since.is_not(None), S.status_since > first)),
            outside_status_periods(first, statuses, window_end=last))


def _line_covered(day: Any, statuses: tuple[str, ...], *institution: sa.ColumnElement[bool],
                  by_id: bool = False) -> sa.Exists:
    """A standard covering the line on ``day`` held by an institution meeting ``institution``.

    ``by_id``: each of the line's linked standards looked up by its id (``+ 0``, as
    :func:`_uncovered_child_lines` does), never a merge join reading the standards' primary key in order.
    """
    linked = SCL.c.standard_id + 0 if by_id else SCL.c.standard_id
    return sa.exists().where(SCL.c.catalog_line_id == L.id, S.id == linked, I.id == S.institution_id,
                             *_covering_clauses(day, statuses), *institution)


def _probe(exists: sa.Exists) -> sa.ColumnElement[int]:
    """Return 1 when ``exists`` holds, else 0, checked line by line.

    A bare ``NOT EXISTS`` in WHERE lets PostgreSQL plan an anti-join over
    every catalog link; inside CASE it stays a per-line probe that stops at
    the first covering standard.
    """
    return sa.case((exists, 1), else_=0)


def _employed_clauses(day: Any) -> tuple[sa.ColumnElement[bool], sa.ColumnElement[bool]]:
    """Employed on ``day``: started by then, not left before it (the two bounds, each a clause)."""
    return (sa.or_(P.employed_from.is_(None), P.employed_from <= day),
            sa.or_(P.employed_until.is_(None), P.employed_until >= day))


def _employed(day: Any) -> sa.ColumnElement[bool]:
    return sa.and_(*_employed_clauses(day))


def _registered(day: Any) -> sa.ColumnElement[bool]:
    return sa.and_(P.registration_no.is_not(None), P.registered_on.is_not(None), P.registered_on <= day,
                   sa.or_(P.registration_valid_until.is_(None), P.registration_valid_until >= day))


def _metrologist_clauses(day: Any) -> tuple[sa.ColumnElement[bool], ...]:
    return (P.withdrawn_at.is_(None), I.withdrawn_at.is_(None), I.kind == "legal_metrology", _employed(day))


def _on_legal_staff(scope: RegionScope, *, listed: bool = False) -> sa.ColumnElement[bool]:
    """Employed by a non-withdrawn legal metrology institution (法定计量检定机构) in the region.

    ``listed``: on PostgreSQL, written ``institution_id = ANY(ARRAY(SELECT ...))``, the institutions' ids as an
    index condition, so a count reads those institutions' staff from ``ix_persons_roster`` alone (an
    index-only scan).  As ``IN (SELECT ...)`` PostgreSQL reckons each institution employs the average
    (a dozen persons, where legal metrology institutions employ about half of everyone at 1,000,000
    standards) and hashes the institutions against the whole persons table.  Same rows either way.
    """
    institutions = sa.select(I.id).where(I.kind == "legal_metrology", *_institution_clauses(scope))
    if listed and db.session.get_bind().dialect.name == "postgresql":
        return P.institution_id == sa.any_(sa.func.array(institutions.scalar_subquery()))
    return P.institution_id.in_(institutions)


def _carbon_standard_clauses(start: date, day: Any) -> tuple[sa.ColumnElement[bool], ...]:
    # Plain ``is_carbon`` (not ``IS TRUE``) so the partial index ix_measurement_standards_carbon applies.
    return (S.is_carbon, S.withdrawn_at.is_(None), S.build_kind.is_not(None), S.built_on.is_not(None),
            S.built_on >= start, S.built_on <= day)


def _regulation_clauses(day: Any) -> tuple[sa.ColumnElement[bool], ...]:
    """Published by ``day``, not abolished by then, not withdrawn."""
    return (R.withdrawn_at.is_(None), R.status.not_in(UNPUBLISHED_STATUSES), R.published_on.is_not(None),
            R.published_on <= day, sa.or_(R.abolished_on.is_(None), R.abolished_on > day))


def _local_regulation() -> sa.ColumnElement[bool]:
    return sa.and_(R.level == "local", R.province == current_app.config["PROVINCE_ABBREVIATION"])


# --------------------------------------------------------------------------- definitions and targets

def _definitions() -> list[Indicator]:
    return list(db.session.scalars(
        sa.select(Indicator).where(Indicator.withdrawn_at.is_(None)).order_by(Indicator.position, Indicator.key)
    ))


def _origin(definition: Indicator) -> str:
    return "registry" if definition.source == "registry" and definition.key in REGISTRY_KEYS else "recorded"


def _definition_warnings(definitions: list[Indicator]) -> list[str]:
    return [gettext("指标 %(key)s 标为由登记库计算，但登记库不计算此指标，改用录入值。", key=d.key)
            for d in definitions if d.source == "registry" and d.key not in REGISTRY_KEYS]


def _carbon_start(definitions: list[Indicator]) -> date:
    for d in definitions:
        if d.key == CARBON_STANDARDS and d.counts_from is not None:
            return d.counts_from
    return current_app.config["PLAN_START_DATE"]


def _met(value: Fraction | Decimal | int | None, target: PlanTarget) -> bool | None:
    if value is None:
        return None
    exact = Fraction(value)
    goal = Fraction(target.target)
    if target.comparator == ">=":
        return exact >= goal
    if target.comparator == "<=":
        return exact <= goal
    if target.comparator == "=":
        return exact == goal
    upper = None if target.target_max is None else Fraction(target.target_max)
    return goal <= exact and (upper is None or exact <= upper)


@dataclass(frozen=True)
class _PlanBook:
    """The non-withdrawn plans in date order, with their non-withdrawn targets by (plan, indicator, region)."""

    plans: tuple[Plan, ...]
    targets: dict[tuple[int, str, str], PlanTarget]
    province: str

    def for_day(self, day: date) -> tuple[Plan | None, str | None]:
        """The plan in force on ``day``; else the last plan whose deadline has passed; else none."""
        for plan in self.plans:
            if plan.starts_on <= day <= plan.deadline:
                return plan, PLAN_IN_FORCE
        passed = [plan for plan in self.plans if plan.deadline < day]
        if passed:
            return passed[-1], PLAN_DEADLINE_PASSED
        return None, None

    def target(self, plan: Plan | None, definition: Indicator, region: str) -> tuple[PlanTarget | None, str]:
        """The target ``region`` is judged against in ``plan``, and why (one of the ``BASIS_*`` codes)."""
        is_province = region == self.province
        if not is_province and definition.key in PROVINCE_WIDE_KEYS:
            return None, BASIS_PROVINCE_WIDE
        if plan is None:
            return None, BASIS_NO_TARGET
        own = self.targets.get((plan.id, definition.key, region))
        if own is not None:
            return own, BASIS_TARGET
        if is_province:
            return None, BASIS_NO_TARGET
        if definition.kind == "ratio":
            province = self.targets.get((plan.id, definition.key, self.province))
            return (province, BASIS_PROVINCE_RATIO) if province is not None else (None, BASIS_NO_TARGET)
        return None, BASIS_NO_CITY_TARGET


def plan_book() -> _PlanBook:
    """Read every plan and target once (a few rows): the reports judge from it."""
    plans = tuple(db.session.scalars(
        sa.select(Plan).where(Plan.withdrawn_at.is_(None)).order_by(Plan.starts_on, Plan.id)))
    targets: dict[tuple[int, str, str], PlanTarget] = {}
    if plans:
        for target in db.session.scalars(sa.select(PlanTarget).where(
                PlanTarget.withdrawn_at.is_(None), PlanTarget.plan_id.in_([plan.id for plan in plans]))):
            targets[(target.plan_id, target.indicator_key, target.region_code)] = target
    return _PlanBook(plans, targets, current_app.config["PROVINCE_CODE"])


def plan_info(plan: Plan | None, status: str | None) -> PlanInfo | None:
    if plan is None:
        return None
    return PlanInfo(id=plan.id, name=plan.name, source_document=plan.source_document, starts_on=plan.starts_on,
                    deadline=plan.deadline, status=status)


def _figure(measure: _Measure) -> tuple[int | float | None, int | None, int | None, Fraction | Decimal | int | None]:
    """(shown value, numerator, denominator, exact value) of a measure."""
    if measure.ratio:
        numerator, denominator = int(measure.value or 0), int(measure.denominator or 0)
        if not denominator:
            return None, numerator, denominator, None
        return round(numerator / denominator, RATIO_DIGITS), numerator, denominator, Fraction(numerator, denominator)
    return _number(measure.value), None, None, measure.value


def _judgements(definitions: list[Indicator], book: _PlanBook, day: date,
                region: str) -> tuple[Plan | None, str | None, dict[str, tuple[PlanTarget | None, str]]]:
    plan, status = book.for_day(day)
    return plan, status, {d.key: book.target(plan, d, region) for d in definitions}


def _results(definitions: list[Indicator], measures: dict[str, _Measure], *, day: date, plan: Plan | None,
             status: str | None, judgements: dict[str, tuple[PlanTarget | None, str]],
             at_deadline: dict[str, _Measure] | None = None,
             province: dict[str, _Measure] | None = None) -> list[IndicatorResult]:
    """Each indicator's value on ``day`` against the target ``judgements`` names.

    Past a plan's deadline the verdict is the one on the deadline, from ``at_deadline``;
    a count judged against no city target gets its share of ``province``.
    """
    results = []
    for definition in definitions:
        target, basis = judgements[definition.key]
        measure = _Measure(None) if basis == BASIS_PROVINCE_WIDE else measures.get(definition.key, _Measure(None))
        value, numerator, denominator, exact = _figure(measure)
        met = judged_on = judged_value = share = None
        if target is not None and status == PLAN_DEADLINE_PASSED:
            judged_value, _, _, judged_exact = _figure((at_deadline or {}).get(definition.key, _Measure(None)))
            met, judged_on = _met(judged_exact, target), plan.deadline
        elif target is not None:
            met, judged_on = _met(exact, target), day
        if basis == BASIS_NO_CITY_TARGET and province is not None and exact is not None:
            whole = _figure(province.get(definition.key, _Measure(None)))[3]
            share = round(float(Fraction(exact) / Fraction(whole)), RATIO_DIGITS) if whole else None
        results.append(IndicatorResult(
            key=definition.key, name=definition.name, name_en=definition.name_en, kind=definition.kind,
            value=value, numerator=numerator, denominator=denominator,
            target=None if target is None else _number(target.target),
            target_max=None if target is None else _number(target.target_max),
            comparator=None if target is None else target.comparator,
            deadline=None if target is None else plan.deadline, met=met, source=_origin(definition),
            value_as_of=measure.value_as_of, value_source=measure.value_source, basis=basis,
            target_region=None if target is None else target.region_code, judged_on=judged_on,
            judged_value=judged_value, share_of_province=share,
        ))
    return results


# --------------------------------------------------------------------------- catalog

def catalog_in_force(as_of: date) -> CatalogVersion | None:
    """Return the non-withdrawn catalog version with the latest ``effective_from <= as_of``."""
    return db.session.scalar(
        sa.select(CatalogVersion)
        .where(CatalogVersion.withdrawn_at.is_(None), CatalogVersion.effective_from <= as_of)
        .order_by(CatalogVersion.effective_from.desc(), CatalogVersion.id.desc())
        .limit(1)
    )


def _loaded_line_counts(version_ids: Iterable[int]) -> dict[int, int]:
    ids = list(version_ids)
    if not ids:
        return {}
    rows = db.session.execute(
        sa.select(L.catalog_version_id, sa.func.count())
        .where(L.catalog_version_id.in_(ids), L.withdrawn_at.is_(None))
        .group_by(L.catalog_version_id)
    )
    return {version_id: count for version_id, count in rows}


def _catalog_info(version: CatalogVersion, mandatory: int | None, loaded: int | None = None, *,
                  level: str = COUNTED_ANY, counted: int | None = None) -> CatalogInfo:
    if loaded is None:
        loaded = _loaded_line_counts([version.id]).get(version.id, 0)
    return CatalogInfo(
        id=version.id, name=version.name, source_document=version.source_document,
        effective_from=version.effective_from, declared_line_count=version.declared_line_count,
        loaded_line_count=loaded, mandatory_line_count=mandatory, is_partial=bool(version.is_partial),
        counted_level=level, counted_line_count=mandatory if counted is None else counted,
    )


def _mandatory_line_count(version_id: int, as_of: date, level: str = COUNTED_ANY) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(L)
                             .where(*_line_clauses(version_id, as_of, level)))


def _line_counts(version_id: int, as_of: date, level: str) -> tuple[int, int]:
    """The mandatory lines on ``as_of``, and those of them expected at ``level``: one query."""
    expected = _level_clauses(level)
    mandatory, counted = db.session.execute(
        sa.select(sa.func.count(), sa.func.count(sa.case((sa.and_(*expected), 1))) if expected else sa.func.count())
        .select_from(L).where(*_line_clauses(version_id, as_of))).one()
    return mandatory, counted


def _scope_catalog_info(version: CatalogVersion, as_of: date, scope: RegionScope,
                        counted: int | None = None) -> CatalogInfo:
    """The catalog a region's coverage used: every mandatory line, and those it counted (at its level)."""
    level = scope.counted_level
    if counted is None:
        mandatory, counted = _line_counts(version.id, as_of, level)
    else:
        mandatory = counted if level == COUNTED_ANY else _mandatory_line_count(version.id, as_of)
    return _catalog_info(version, mandatory, level=level, counted=counted)


def _no_catalog_warning(as_of: date) -> str:
    return gettext("%(date)s 无生效的强检目录，覆盖率无法计算。", date=as_of.isoformat())


# --------------------------------------------------------------------------- single region, single date

def _recorded_measures(keys: list[str], as_of: date, region_codes: Iterable[str]) -> dict[tuple[str, str], _Measure]:
    """Return the latest non-withdrawn recorded value up to ``as_of``, per (region, key)."""
    codes = list(region_codes)
    if not keys or not codes:
        return {}
    rank = sa.func.row_number().over(
        partition_by=(RV.region_code, RV.indicator_key),
        order_by=(RV.as_of.desc(), RV.recorded_at.desc(), RV.id.desc()),
    ).label("rank")
    ranked = (
        sa.select(RV.region_code, RV.indicator_key, RV.as_of, RV.value, RV.source, rank)
        .where(RV.withdrawn_at.is_(None), RV.as_of <= as_of, RV.indicator_key.in_(keys), RV.region_code.in_(codes))
        .subquery()
    )
    rows = db.session.execute(
        sa.select(ranked.c.region_code, ranked.c.indicator_key, ranked.c.as_of, ranked.c.value, ranked.c.source)
        .where(ranked.c.rank == 1)
    )
    return {(region, key): _Measure(value, value_as_of=day, value_source=source)
            for region, key, day, value, source in rows}


# The figures a single-date report needs, each for its keys on its date in its region: its own, those on a
# passed plan's deadline, the province's a city's share is taken of.
_Ask = tuple[frozenset[str], date, RegionScope]


def _not_stated(clauses: Iterable[sa.ColumnElement[bool]], where: Iterable[Any]) -> list[sa.ColumnElement[bool]]:
    """The clauses of one date's conditional count that the statement's WHERE does not already state.

    Every row the WHERE lets through meets each of its clauses, so a clause that is one of them (the same SQL
    with the same values, as a window's bound is its first or last date's own bound) need not be tested again
    for each row: past a plan's deadline each date's count tests about half its clauses.  The counts are
    those of the whole conditions.
    """
    where = list(where)
    return [clause for clause in clauses if not any(clause.compare(stated) for stated in where)]


def _count_where(clauses: Iterable[sa.ColumnElement[bool]]) -> sa.ColumnElement[int]:
    """Count the rows meeting every one of ``clauses`` (every row when there are none).

    ``count(*) FILTER (WHERE ...)`` (both databases): PostgreSQL evaluates it a little faster per row than
    ``count(CASE WHEN ... THEN 1 END)``, which matters where a pass counts several dates over 500,000 rows."""
    clauses = list(clauses)
    return sa.func.count().filter(sa.and_(*clauses)) if clauses else sa.func.count()


def _one_scope(asks: list[tuple[int, date, RegionScope]]) -> RegionScope | None:
    """The region every ask is for, when they share one (its clause then goes in WHERE, as for one ask)."""
    codes = {scope.code for _, _, scope in asks}
    return asks[0][2] if len(codes) == 1 else None


def _counts_by_ask(asks: list[tuple[int, date, RegionScope]], where: Iterable[Any], condition: Any,
                   holder: Any) -> dict[int, int]:
    """One count per ask in a single pass: ``condition(day)`` and, when the asks' regions differ, ``holder(scope)``.

    ``where`` must hold for every row any ask counts (the asks' window); one ask is a plain ``count(*)``.
    """
    common = _one_scope(asks)
    where = [*where, *([holder(common)] if common is not None else [])]
    if len(asks) == 1:
        columns = [sa.func.count()]
    else:
        columns = [_count_where([*_not_stated(condition(day), where), *([] if common is not None else [holder(scope)])])
                   for _, day, scope in asks]
    row = db.session.execute(sa.select(*columns).select_from(S).where(*where)).one()
    return {index: int(count) for (index, _, _), count in zip(asks, row)}


def _asks_for(key: str, asks: list[_Ask]) -> list[tuple[int, date, RegionScope]]:
    return [(index, day, scope) for index, (keys, day, scope) in enumerate(asks) if key in keys]


def _measures_together(definitions: list[Indicator], asks: list[_Ask], statuses: tuple[str, ...]
                       ) -> list[tuple[dict[str, _Measure], CatalogVersion | None]]:
    """The measures of each ask (its keys, on its date, in its region), with the catalog its coverage used.

    Every indicator is counted for all the asks in one query (conditional
    counts over the union of their rows), so the figures on a passed plan's
    deadline and the province's a city's share is taken of cost little more
    than the report's own date.  Each figure equals the one a query for that
    ask alone gives (the same predicates, ``_covering_clauses`` and the rest).
    """
    registry = {d.key for d in definitions if _origin(d) == "registry"}
    recorded = [d.key for d in definitions if _origin(d) == "recorded"]
    carbon_start = _carbon_start(definitions)
    out: list[dict[str, _Measure]] = [{} for _ in asks]
    versions: list[CatalogVersion | None] = [None for _ in asks]

    if METROLOGISTS in registry:
        wanting = _asks_for(METROLOGISTS, asks)
        for code in dict.fromkeys(scope.code for _, _, scope in wanting):
            group = [(index, day) for index, day, scope in wanting if scope.code == code]
            scope = next(scope for _, _, scope in wanting if scope.code == code)
            first, last = min(day for _, day in group), max(day for _, day in group)
            # Employed on some day from first to last (on the day itself for one date).
            where = (P.withdrawn_at.is_(None), _employed_clauses(last)[0], _employed_clauses(first)[1],
                     _on_legal_staff(scope, listed=True))
            columns = []
            for _, day in group:
                employed = _not_stated(_employed_clauses(day), where)
                columns += [_count_where(employed), _count_where([*employed, _registered(day)])]
            row = db.session.execute(sa.select(*columns).select_from(P).where(*where)).one()
            for position, (index, _) in enumerate(group):
                staff, registered = row[2 * position], row[2 * position + 1]
                out[index][METROLOGISTS] = _Measure(registered, staff, ratio=True)
    if SOCIAL_PUBLIC in registry and (wanting := _asks_for(SOCIAL_PUBLIC, asks)):
        days = [day for _, day, _ in wanting]
        counts = _counts_by_ask(wanting, _covering_window(min(days), max(days), statuses),
                                lambda day: _covering_on(day, statuses), _held_in)
        for index, count in counts.items():
            out[index][SOCIAL_PUBLIC] = _Measure(count)
    if CARBON_STANDARDS in registry and (wanting := _asks_for(CARBON_STANDARDS, asks)):
        counts = _counts_by_ask(wanting, _carbon_standard_clauses(carbon_start, max(day for _, day, _ in wanting)),
                                lambda day: (S.built_on <= day,), _held_in)  # the day bound of _carbon_standard_clauses
        for index, count in counts.items():
            out[index][CARBON_STANDARDS] = _Measure(count)
    wanting = [(index, day) for index, (keys, day, _) in enumerate(asks) if keys & PROVINCE_WIDE_KEYS & registry]
    if wanting:
        columns = []
        for _, day in wanting:
            published = sa.and_(*_regulation_clauses(day))
            columns += [sa.func.count(sa.case((sa.and_(published, _local_regulation()), 1))),
                        sa.func.count(sa.case((sa.and_(published, R.is_carbon.is_(True)), 1)))]
        row = db.session.execute(sa.select(*columns).where(
            sa.or_(*(sa.and_(*_regulation_clauses(day)) for _, day in wanting)))).one()
        for position, (index, _) in enumerate(wanting):
            out[index][LOCAL_REGULATIONS] = _Measure(row[2 * position])
            out[index][CARBON_SPECIFICATIONS] = _Measure(row[2 * position + 1])

    # Coverage: the lines each ask counts (its catalog in force, its level) and those covered by a holder serving
    # its region; one pass over the lines, one probe per line and ask.
    wanting = _asks_for(COVERAGE, asks)
    probes = []
    in_force: dict[date, CatalogVersion | None] = {}
    for index, day, scope in wanting:
        if day not in in_force:
            in_force[day] = catalog_in_force(day)
        versions[index] = version = in_force[day]
        if version is None:
            out[index][COVERAGE] = _Measure(0, 0, ratio=True)
        else:
            probes.append((index, sa.and_(*_line_clauses(version.id, day, scope.counted_level)),
                           _line_covered(day, statuses, *_serving_clauses(scope), by_id=True)))
    if len(probes) == 1:
        index, counted, covered = probes[0]
        row = db.session.execute(sa.select(sa.func.count(L.id), sa.func.count(sa.case((covered, 1))))
                                 .where(counted)).one()
        out[index][COVERAGE] = _Measure(row[1], row[0], ratio=True)
    elif probes:
        columns = []
        for _, counted, covered in probes:
            columns += [sa.func.count(sa.case((counted, 1))), sa.func.count(sa.case((sa.and_(counted, covered), 1)))]
        row = db.session.execute(sa.select(*columns).select_from(L)
                                 .where(sa.or_(*(counted for _, counted, _ in probes)))).one()
        for position, (index, _, _) in enumerate(probes):
            out[index][COVERAGE] = _Measure(row[2 * position + 1], row[2 * position], ratio=True)

    for index, (keys, day, scope) in enumerate(asks):
        for (_, key), measure in _recorded_measures([k for k in recorded if k in keys], day, [scope.code]).items():
            out[index][key] = measure
    return list(zip(out, versions))


def _region_measures(definitions: list[Indicator], keys: Iterable[str], as_of: date, scope: RegionScope,
                     statuses: tuple[str, ...]) -> tuple[dict[str, _Measure], CatalogVersion | None, int]:
    """The measures of ``keys`` for one region on one date, and the catalog (with its line count) used."""
    keys = frozenset(keys)
    measures, version = _measures_together(definitions, [(keys, as_of, scope)], statuses)[0]
    return measures, version, _catalog_total(measures, version)


def _catalog_total(measures: dict[str, _Measure], version: CatalogVersion | None) -> int:
    """The lines the coverage counted (0 without a catalog in force)."""
    coverage = measures.get(COVERAGE)
    return 0 if version is None or coverage is None else int(coverage.denominator or 0)


def _measure_json(measure: _Measure) -> dict[str, Any]:
    value = measure.value
    return {"value": str(value) if isinstance(value, Decimal) else value, "decimal": isinstance(value, Decimal),
            "denominator": measure.denominator, "ratio": measure.ratio,
            "value_as_of": None if measure.value_as_of is None else measure.value_as_of.isoformat(),
            "value_source": measure.value_source}


def _measure_from_json(data: dict[str, Any]) -> _Measure:
    value = data["value"]
    return _Measure(Decimal(value) if data["decimal"] and value is not None else value, data["denominator"],
                    data["ratio"], None if data["value_as_of"] is None else date.fromisoformat(data["value_as_of"]),
                    data["value_source"])


def _kept_measures(definitions: list[Indicator], keys: Iterable[str], day: date, scope: RegionScope,
                   statuses: tuple[str, ...]) -> dict[str, _Measure]:
    """A region's figures on a date, computed once per (date, region, data version) and kept.

    Used where a report needs figures of another date or region than its own:
    the figures on a passed plan's deadline (the same for every date after
    it) and the province's counts a city's share is taken of (the same for
    every city).  They are kept in the report cache
    (:func:`registry.coverage.cache.memo`), so once kept a report costs its
    own date and region only.
    """
    from registry.coverage import cache

    keys = sorted(set(keys))

    def compute() -> dict[str, Any]:
        measures = _region_measures(definitions, keys, day, scope, statuses)[0]
        return {key: _measure_json(measure) for key, measure in measures.items()}

    stored = cache.memo("measures", compute, day, scope.code, keys, list(statuses))
    return {key: _measure_from_json(data) for key, data in stored.items()}


def _deadline_region_measures(definitions: list[Indicator], keys: set[str], deadline: date, scope: RegionScope,
                              codes: list[str], levels: list[str], statuses: tuple[str, ...],
                              own: tuple[set[str], date] | None = None
                              ) -> tuple[dict[str, dict[str, _Measure]], _ByRegion | None]:
    """Each child region's figures on a passed plan's deadline, kept like :func:`_kept_measures`.

    When they are not kept yet and ``own`` (the table's keys and date) is given, the table's own figures are
    counted with them, in one pass (:func:`_by_region_days`), and returned second (else None: the caller reads
    its own figures from :func:`_by_region_measures`).
    """
    from registry.coverage import cache

    spelled = (deadline, scope.code, codes, levels, sorted(keys), list(statuses))
    stored = cache.peek("deadline_regions", *spelled)
    if stored is not None:
        return {code: {key: _measure_from_json(data) for key, data in measures.items()}
                for code, measures in stored.items()}, None
    figures = _by_region_days(definitions, [(keys, deadline), *([own] if own is not None else [])], scope, codes,
                              levels, statuses)
    per_region = figures[0][0]
    cache.store("deadline_regions", {code: {key: _measure_json(m) for key, m in measures.items()}
                                     for code, measures in per_region.items()}, *spelled)
    return per_region, figures[1] if own is not None else None


def _report_figures(definitions: list[Indicator], asks: dict[str, _Ask], statuses: tuple[str, ...]
                    ) -> tuple[dict[str, dict[str, _Measure]], CatalogVersion | None]:
    """The figures of each ask (``own``, ``deadline``, ``province``) and the catalog in force on ``own``'s date.

    Each is kept in the report cache per (date, region, keys, data version), as
    :func:`_kept_measures` keeps it: the figures on a deadline serve every later
    date, the province's every city.  Those not kept are computed together, in
    one pass (:func:`_measures_together`), so the first report after a change
    costs about one date, not two or three.
    """
    from registry.coverage import cache

    def spelled(ask: _Ask) -> tuple:
        keys, day, scope = ask
        return day, scope.code, sorted(keys), list(statuses)

    figures: dict[str, dict[str, _Measure]] = {}
    missing = []
    for name, ask in asks.items():
        stored = cache.peek("measures", *spelled(ask))
        if stored is None:
            missing.append(name)
        else:
            figures[name] = {key: _measure_from_json(data) for key, data in stored.items()}
    version = None
    if missing:
        for name, (measures, used) in zip(missing, _measures_together(definitions, [asks[n] for n in missing],
                                                                       statuses)):
            figures[name] = measures
            cache.store("measures", {key: _measure_json(m) for key, m in measures.items()}, *spelled(asks[name]))
            if name == "own":
                version = used
    if "own" not in missing and COVERAGE in asks["own"][0]:
        version = catalog_in_force(asks["own"][1])
    return figures, version


def coverage_report(as_of: date, region: str | None = None, *,
                    statuses: Iterable[str] | None = None) -> CoverageReport:
    """Compute every indicator for ``region`` (the province by default) on ``as_of``, judged by its plan."""
    scope = resolve_region(region)
    covering = covering_statuses(statuses)
    definitions = _definitions()
    warnings = _definition_warnings(definitions)
    book = plan_book()
    plan, status, judgements = _judgements(definitions, book, as_of, scope.code)
    counted = [d.key for d in definitions if judgements[d.key][1] != BASIS_PROVINCE_WIDE]

    asks: dict[str, _Ask] = {"own": (frozenset(counted), as_of, scope)}
    if status == PLAN_DEADLINE_PASSED:
        judged = [key for key in counted if judgements[key][0] is not None]
        if judged:
            asks["deadline"] = (frozenset(judged), plan.deadline, scope)
    shared = [key for key in counted if judgements[key][1] == BASIS_NO_CITY_TARGET]
    if shared:
        asks["province"] = (frozenset(shared), as_of, resolve_region(None))
    figures, version = _report_figures(definitions, asks, covering)
    measures = figures["own"]
    total = _catalog_total(measures, version)
    catalog = None
    if version is None:
        warnings.append(_no_catalog_warning(as_of))
    else:
        catalog = _scope_catalog_info(version, as_of, scope, total if COVERAGE in counted else None)
        warnings.extend(catalog.warnings())
    at_deadline = figures.get("deadline", {}) if status == PLAN_DEADLINE_PASSED else None
    province = figures.get("province")
    return CoverageReport(as_of=as_of, region=scope.code, region_name=scope.name, catalog=catalog,
                          plan=plan_info(plan, status),
                          indicators=_results(definitions, measures, day=as_of, plan=plan, status=status,
                                              judgements=judgements, at_deadline=at_deadline, province=province),
                          warnings=warnings, undated_status_count=undated_status_count(scope, covering))


@_kept
def undated_status_count(scope: RegionScope, statuses: tuple[str, ...]) -> int:
    """Social public standards held in ``scope`` whose status does not count as in use and has no date.

    They count as in use on no date (``_covering_clauses``) whatever the
    date asked, so the figure is the same for every date: the list is
    ``/standards?status_undated=true&category=social_public&region=…``.
    """
    return db.session.scalar(
        sa.select(sa.func.count()).select_from(S)
        .where(social_public(), S.withdrawn_at.is_(None), status_undated_clause(statuses),
               _held_in(scope))) or 0


# --------------------------------------------------------------------------- by child region

# A table of child regions' figures on one date: each child's measures, the catalog in force, the most lines a
# child counts, and the province's standards counts a city's share is taken of.
_ByRegion = tuple[dict[str, dict[str, _Measure]], CatalogVersion | None, int, dict[str, int]]


@_kept
def _by_region_measures(definitions: list[Indicator], keys: set[str], as_of: date, scope: RegionScope,
                        codes: list[str], levels: list[str], statuses: tuple[str, ...]) -> _ByRegion:
    """The measures of ``keys`` for each child region in ``codes`` on ``as_of`` (:func:`_by_region_days`), kept."""
    return _by_region_days(definitions, [(keys, as_of)], scope, codes, levels, statuses)[0]


def _by_region_days(definitions: list[Indicator], asks: list[tuple[set[str], date]], scope: RegionScope,
                    codes: list[str], levels: list[str], statuses: tuple[str, ...]) -> list[_ByRegion]:
    """The measures of each ask's keys on its date for each child region in ``codes``: one GROUP BY query per
    indicator for all the dates (conditional counts over the union of their rows, as :func:`_measures_together`
    counts a report's), so the figures on a passed plan's deadline cost little more than the table's own date.

    Also the province's counts of the standards indicators (every holder's, as :func:`_held_in` counts them),
    which the same queries give: what a city's share is taken of.
    """
    registry = {d.key for d in definitions if _origin(d) == "registry"}
    recorded = [d.key for d in definitions if _origin(d) == "recorded"]
    child_map = _child_map(scope.code)
    per_region: list[dict[str, dict[str, _Measure]]] = [{code: {} for code in codes} for _ in asks]
    province_counts: list[dict[str, int]] = [{} for _ in asks]
    versions: list[CatalogVersion | None] = [None for _ in asks]
    totals = [0 for _ in asks]

    def wanting(key: str) -> list[tuple[int, date]]:
        return [(index, day) for index, (keys, day) in enumerate(asks) if key in keys] if codes else []

    def grouped(*columns: Any, select_from: Any, where: Iterable[Any]) -> dict[str, tuple]:
        rows = db.session.execute(
            sa.select(child_map.c.child_code, *columns).select_from(select_from)
            .join(child_map, child_map.c.region_code == I.region_code)
            .where(child_map.c.child_code.in_(codes), *where).group_by(child_map.c.child_code)
        )
        return {row[0]: tuple(row[1:]) for row in rows}

    def standards_by_child(key: str, group: list[tuple[int, date]], where: Iterable[Any], on: Any) -> None:
        """Standards matching ``where`` (and, with several dates, ``on(day)`` for each) held by a non-withdrawn
        holder, per child region and in the whole province (``province_counts``): counted per holder first (from
        the standards alone), so only one row per holder meets the holders and the regions."""
        if len(group) == 1:
            counts = [sa.func.count().label("n0")]
        else:
            counts = [_count_where(on(day)).label(f"n{position}")
                      for position, (_, day) in enumerate(group)]
        # Grouped by ``institution_id + 0``, not the column: SQLite would otherwise read the standards in the
        # order of their institution index (a table row for each) instead of from ix_measurement_standards_in_force
        # alone, twice as slow at 100,000 standards.  PostgreSQL hashes either.
        holder = (S.institution_id + 0).label("holder")
        held = sa.select(holder, *counts).where(*where).group_by(holder).subquery("held")
        rows = db.session.execute(
            sa.select(child_map.c.child_code, *(sa.func.sum(held.c[f"n{position}"]) for position in range(len(group))))
            .select_from(held).join(I, I.id == held.c.holder)
            .outerjoin(child_map, child_map.c.region_code == I.region_code)
            .where(I.withdrawn_at.is_(None)).group_by(child_map.c.child_code)
        ).all()
        for position, (index, _) in enumerate(group):
            province_counts[index][key] = sum(int(row[position + 1]) for row in rows)
            by_code = {row[0]: int(row[position + 1]) for row in rows if row[0] in codes}
            for code in codes:
                per_region[index][code][key] = _Measure(by_code.get(code, 0))

    if METROLOGISTS in registry and (group := wanting(METROLOGISTS)):
        if len(group) == 1:
            day = group[0][1]
            columns = [sa.func.count(), _count_where([_registered(day)])]
            where = _metrologist_clauses(day)
        else:
            first, last = min(day for _, day in group), max(day for _, day in group)
            columns = []
            for _, day in group:
                columns += [_count_where([_employed(day)]), _count_where([_employed(day), _registered(day)])]
            # What _metrologist_clauses(day) holds for every day from first to last.
            where = (P.withdrawn_at.is_(None), I.withdrawn_at.is_(None), I.kind == "legal_metrology",
                     sa.or_(P.employed_from.is_(None), P.employed_from <= last),
                     sa.or_(P.employed_until.is_(None), P.employed_until >= first))
        counts = grouped(*columns, select_from=sa.join(P, I, I.id == P.institution_id), where=where)
        for position, (index, _) in enumerate(group):
            for code in codes:
                row = counts.get(code)
                staff, registered = (row[2 * position], row[2 * position + 1]) if row is not None else (0, 0)
                per_region[index][code][METROLOGISTS] = _Measure(registered, staff, ratio=True)
    if SOCIAL_PUBLIC in registry and (group := wanting(SOCIAL_PUBLIC)):
        days = [day for _, day in group]
        standards_by_child(SOCIAL_PUBLIC, group,
                           _covering_clauses(days[0], statuses) if len(days) == 1
                           else _covering_window(min(days), max(days), statuses),
                           lambda day: _covering_on(day, statuses))
    if CARBON_STANDARDS in registry and (group := wanting(CARBON_STANDARDS)):
        standards_by_child(CARBON_STANDARDS, group,
                           _carbon_standard_clauses(_carbon_start(definitions), max(day for _, day in group)),
                           lambda day: (S.built_on <= day,))  # the day bound of _carbon_standard_clauses

    in_force: dict[date, CatalogVersion | None] = {}
    for index, (keys, day) in enumerate(asks):
        if COVERAGE not in keys:
            continue
        if day not in in_force:
            in_force[day] = catalog_in_force(day)
        versions[index] = version = in_force[day]
        if version is None:
            for code in codes:
                per_region[index][code][COVERAGE] = _Measure(0, 0, ratio=True)
            continue
        # The lines each child counts, less those no holder serving it covers (the gaps read the same list).
        child = aliased(Region, name="child")
        rows = db.session.execute(
            sa.select(child.code, sa.func.count(L.id)).select_from(L).join(child, sa.true())
            .where(child.parent_code == scope.code, *_line_clauses(version.id, day),
                   _child_line_clause(child, levels)).group_by(child.code)
        )
        uncovered: dict[str, int] = {}
        for code, _ in _uncovered_child_lines(scope, day, statuses, version.id, levels):
            uncovered[code] = uncovered.get(code, 0) + 1
        # Every child has a row unless no line is counted at all.
        counts = {code: (lines, lines - uncovered.get(code, 0)) for code, lines in rows}
        for code in codes:
            lines, hits = counts.get(code, (0, 0))
            totals[index] = max(totals[index], lines)
            per_region[index][code][COVERAGE] = _Measure(hits, lines, ratio=True)

    for index, (keys, day) in enumerate(asks):
        for (code, key), measure in _recorded_measures([k for k in recorded if k in keys], day, codes).items():
            per_region[index][code][key] = measure
    return list(zip(per_region, versions, totals, province_counts))


@_kept
def _uncovered_child_lines(scope: RegionScope, as_of: date, statuses: tuple[str, ...], version_id: int,
                           levels: list[str]) -> list[tuple[str, LineRef]]:
    """Each child region's counted lines that no holder serving it covers on ``as_of``, by child and line code.

    One probe per (child, line) for the table of cities (its coverage) and the gaps alike: kept, it runs once.

    The probe walks the line's links and looks each standard up by its id (``+ 0`` keeps the standard's id
    from a merge join: PostgreSQL would otherwise read the standards' primary key in order from the first
    one up to the covering standard it finds, about a hundred rows per link at 1,000,000 standards, where the
    look-ups read one each; 650 -> 45 ms for the 11 cities at that size).
    """
    child = aliased(Region, name="child")
    in_child = sa.exists().where(SCL.c.catalog_line_id == L.id, S.id == SCL.c.standard_id + 0,
                                 I.id == S.institution_id, *_covering_clauses(as_of, statuses),
                                 I.withdrawn_at.is_(None), _serving_child(scope, child, _child_map(scope.code)))
    rows = db.session.execute(
        sa.select(child.code.label("region"), L.id, L.code, L.name, L.sub_name, L.mode)
        .select_from(L).join(child, sa.true())
        .where(child.parent_code == scope.code, *_line_clauses(version_id, as_of),
               _child_line_clause(child, levels), _probe(in_child) == 0)
        .order_by(child.code, L.code, L.id)
    )
    return [(row.region, _line_ref(row)) for row in rows]


def coverage_by_region(as_of: date, region: str | None = None, *,
                       statuses: Iterable[str] | None = None) -> RegionTable:
    """Compute every indicator for each child of ``region`` (the 11 cities of the province), side by side.

    Each child is judged as its own ``coverage_report`` judges it; a fixed
    number of queries whatever the number of regions.
    """
    scope = resolve_region(region)
    covering = covering_statuses(statuses)
    definitions = _definitions()
    warnings = _definition_warnings(definitions)
    children, levels = _children_and_levels(scope)
    codes = [code for code, _ in children]
    book = plan_book()
    plan, status = book.for_day(as_of)
    judgements = {code: _judgements(definitions, book, as_of, code)[2] for code in codes}
    counted = {d.key for d in definitions if d.key not in PROVINCE_WIDE_KEYS}

    at_deadline: dict[str, dict[str, _Measure]] = {code: {} for code in codes}
    own = None
    if status == PLAN_DEADLINE_PASSED:
        judged = {key for code in codes for key, (target, _) in judgements[code].items() if target is not None}
        if judged:
            # Not kept yet, the deadline's figures and the table's own are counted in one pass.
            at_deadline, own = _deadline_region_measures(definitions, judged, plan.deadline, scope, codes, levels,
                                                         covering, own=(counted, as_of))
    own_args = (definitions, counted, as_of, scope, codes, levels, covering)
    if own is None:
        own = _by_region_measures(*own_args)
    else:
        from registry.coverage import cache  # the cache module imports this one

        cache.keep(_by_region_measures, own_args, {}, own)  # what a later call of this date reads
    per_region, version, total, province_counts = own
    catalog = None
    if version is None:
        warnings.append(_no_catalog_warning(as_of))
    else:
        catalog = _children_catalog_info(version, as_of, levels)
        warnings.extend(catalog.warnings())
    shared = {key for code in codes for key, (_, basis) in judgements[code].items() if basis == BASIS_NO_CITY_TARGET}
    province = None
    if shared:
        # The standards counts come with the cities' figures (no query of their own); the rest (recorded values)
        # as a report of the province reads them.
        counted_with_cities = {key: _Measure(province_counts[key]) for key in shared if key in province_counts}
        rest = shared - counted_with_cities.keys()
        province = {**(_kept_measures(definitions, rest, as_of, resolve_region(None), covering) if rest else {}),
                    **counted_with_cities}

    undated = _undated_by_child(scope, codes, covering)
    columns = [RegionColumn(region=code, region_name=name, indicators=_results(
        definitions, per_region[code], day=as_of, plan=plan, status=status, judgements=judgements[code],
        at_deadline=at_deadline[code], province=province), undated_status_count=undated.get(code, 0))
        for code, name in children]
    return RegionTable(as_of=as_of, region=scope.code, region_name=scope.name, catalog=catalog,
                       plan=plan_info(plan, status), regions=columns, warnings=warnings,
                       undated_status_count=undated_status_count(scope, covering))


@_kept
def _undated_by_child(scope: RegionScope, codes: list[str], statuses: tuple[str, ...]) -> dict[str, int]:
    """:func:`undated_status_count` for each child region: one GROUP BY query, kept (no date changes it)."""
    if not codes:
        return {}
    child_map = _child_map(scope.code)
    rows = db.session.execute(
        sa.select(child_map.c.child_code, sa.func.count()).select_from(S).join(I, I.id == S.institution_id)
        .join(child_map, child_map.c.region_code == I.region_code)
        .where(social_public(), S.withdrawn_at.is_(None), status_undated_clause(statuses),
               I.withdrawn_at.is_(None), child_map.c.child_code.in_(codes))
        .group_by(child_map.c.child_code))
    return {code: count for code, count in rows}


# --------------------------------------------------------------------------- gaps and single points of failure

def _line_ref(row: Any) -> LineRef:
    return LineRef(id=row.id, code=row.code, name=row.name, sub_name=row.sub_name, mode=row.mode)


def coverage_gaps(as_of: date, region: str | None = None, *, statuses: Iterable[str] | None = None) -> GapList:
    """List the mandatory lines no standard covers in ``region``, and in each of its child regions."""
    scope = resolve_region(region)
    covering = covering_statuses(statuses)
    version = catalog_in_force(as_of)
    children, levels = _children_and_levels(scope)
    if version is None:
        return GapList(as_of=as_of, region=scope.code, region_name=scope.name, catalog=None,
                       mandatory_line_count=0, uncovered_count=0, uncovered=[],
                       by_region=[RegionGaps(region=code, region_name=name, uncovered_count=0, lines=[])
                                  for code, name in children],
                       warnings=[_no_catalog_warning(as_of)])
    line_columns = (L.id, L.code, L.name, L.sub_name, L.mode)
    level = scope.counted_level
    total = _mandatory_line_count(version.id, as_of, level)
    uncovered = [_line_ref(row) for row in db.session.execute(
        sa.select(*line_columns)
        .where(*_line_clauses(version.id, as_of, level),
               _probe(_line_covered(as_of, covering, *_serving_clauses(scope))) == 0)
        .order_by(L.code, L.id)
    )]

    by_child: dict[str, list[LineRef]] = {code: [] for code, _ in children}
    for code, line in _uncovered_child_lines(scope, as_of, covering, version.id, levels):
        by_child[code].append(line)
    child = aliased(Region, name="child")
    counted = dict(db.session.execute(
        sa.select(child.code, sa.func.count(L.id)).select_from(L).join(child, sa.true())
        .where(child.parent_code == scope.code, *_line_clauses(version.id, as_of), _child_line_clause(child, levels))
        .group_by(child.code)).all())

    catalog = _scope_catalog_info(version, as_of, scope, total)
    return GapList(
        as_of=as_of, region=scope.code, region_name=scope.name, catalog=catalog, mandatory_line_count=total,
        uncovered_count=len(uncovered), uncovered=uncovered,
        by_region=[RegionGaps(region=code, region_name=name, uncovered_count=len(by_child[code]),
                              lines=by_child[code], line_count=counted.get(code, 0)) for code, name in children],
        warnings=catalog.warnings(),
    )


def _standard_ref(row: Any, as_of: date) -> StandardRef:
    return StandardRef(
        id=row.id, certificate_no=row.certificate_no, name=row.name, category=row.category, status=row.status,
        issued_on=row.issued_on, valid_until=row.valid_until, institution_id=row.institution_id,
        institution_name=row.institution_name, credit_code=row.credit_code, region_code=row.region_code,
        status_since=row.status_since, validity=validity(row, as_of),
    )


_STANDARD_COLUMNS = (S.id, S.certificate_no, S.name, S.category, S.status, S.status_since, S.issued_on,
                     S.valid_until, S.has_status_periods, S.institution_id, I.name.label("institution_name"),
                     I.credit_code, I.region_code)


def single_points_of_failure(as_of: date, region: str | None = None, months: int | None = None, *,
                             statuses: Iterable[str] | None = None) -> RiskList:
    """List covered lines whose covering certificates all expire within ``months`` (default: the re-examination lead).

    These lines lose coverage by ``until`` unless a certificate is renewed.
    """
    scope = resolve_region(region)
    covering = covering_statuses(statuses)
    months = _months(months, "REEXAMINATION_LEAD_MONTHS", MAX_HORIZON_MONTHS)
    until = add_months(as_of, months)
    version = catalog_in_force(as_of)
    if version is None:
        return RiskList(as_of=as_of, region=scope.code, region_name=scope.name, months=months, until=until,
                        catalog=None, lines=[], warnings=[_no_catalog_warning(as_of)])
    # The lines the region counts (at its level), covered by holders serving it: the coverage rule.
    institution = _serving_clauses(scope)
    covered_now = _line_covered(as_of, covering, *institution)
    covered_beyond = _line_covered(as_of, covering, *institution, S.valid_until > until)
    line_ids = list(db.session.scalars(
        sa.select(L.id).where(*_line_clauses(version.id, as_of, scope.counted_level), _probe(covered_now) == 1,
                              _probe(covered_beyond) == 0)
    ))
    lines: dict[int, LineAtRisk] = {}
    if line_ids:
        rows = db.session.execute(
            sa.select(L.id.label("line_id"), L.code.label("line_code"), L.name.label("line_name"),
                      L.sub_name.label("line_sub_name"), L.mode.label("line_mode"),
                      sa.func.max(S.valid_until).over(partition_by=L.id).label("covered_until"), *_STANDARD_COLUMNS)
            .select_from(L).join(SCL, SCL.c.catalog_line_id == L.id).join(S, S.id == SCL.c.standard_id)
            .join(I, I.id == S.institution_id)
            .where(L.id.in_(line_ids), *_covering_clauses(as_of, covering), *institution)
            .order_by(L.id, S.valid_until, S.certificate_no, S.id)
        ).all()
        prefetch_status_periods(rows)
        for row in rows:
            if row.line_id not in lines:
                line = LineRef(id=row.line_id, code=row.line_code, name=row.line_name, sub_name=row.line_sub_name,
                               mode=row.line_mode)
                lines[row.line_id] = LineAtRisk(line=line, covered_until=row.covered_until, standards=[])
            lines[row.line_id].standards.append(_standard_ref(row, as_of))
    at_risk = sorted(lines.values(), key=lambda entry: (entry.covered_until, entry.line.code, entry.line.id))
    catalog = _scope_catalog_info(version, as_of, scope)
    return RiskList(
        as_of=as_of, region=scope.code, region_name=scope.name, months=months, until=until, catalog=catalog,
        lines=at_risk, warnings=catalog.warnings(),
    )


# --------------------------------------------------------------------------- forecast

def _dates_table(rows: list[tuple[date, int]]) -> sa.Subquery:
    """A derived table of (d, version_id); UNION ALL because SQLite cannot name VALUES columns."""
    selects = [sa.select(sa.literal(day, sa.Date).label("d"), sa.literal(version_id, sa.Integer).label("version_id"))
               for day, version_id in rows]
    return (sa.union_all(*selects) if len(selects) > 1 else selects[0]).subquery("dates")


def _clamp_low(column: Any, low: date) -> sa.Case:
    return sa.case((column <= low, sa.literal(low, sa.Date)), else_=column)


def _clamp_high(column: Any, high: date) -> sa.Case:
    return sa.case((column >= high, sa.literal(high, sa.Date)), else_=column)


def _forecast_standards(dates: sa.Subquery, first: date, last: date, scope: RegionScope,
                        statuses: tuple[str, ...]) -> dict[date, int]:
    # Dates outside [first, last] never reach the outer predicate, so clamping
    # them to the window leaves every answer unchanged while the GROUP BY
    # collapses the many long-valid standards into a few rows.
    rows = (
        sa.select(
            _clamp_low(certified_from(), first).label("valid_from"),
            _clamp_high(S.valid_until, last).label("valid_until"),
            sa.case((S.status.in_(statuses), sa.null()), (S.status_since > last, sa.null()),
                    else_=S.status_since).label("status_since"),
        )
        .where(social_public(), S.withdrawn_at.is_(None), certified_from() <= last, S.valid_until >= first,
               sa.or_(S.status.in_(statuses), S.status_since > first), _held_in(scope))
        .subquery("spans")
    )
    hist = (sa.select(rows.c.valid_from, rows.c.valid_until, rows.c.status_since, sa.func.count().label("n"))
            .group_by(rows.c.valid_from, rows.c.valid_until, rows.c.status_since).subquery("hist"))
    counted = sa.and_(hist.c.valid_from <= dates.c.d, hist.c.valid_until >= dates.c.d,
                      sa.or_(hist.c.status_since.is_(None), hist.c.status_since > dates.c.d))
    stmt = (sa.select(dates.c.d, sa.func.coalesce(sa.func.sum(hist.c.n), 0))
            .select_from(dates).outerjoin(hist, counted).group_by(dates.c.d))
    counts = {day: int(n) for day, n in db.session.execute(stmt)}
    # Less those an ended status period (a past 封存) holds on the day: few, read from the periods (the
    # standards by their ids: no scan of the standards), none when no period meets the window.
    SP = StandardStatusPeriod
    holding = sa.and_(SP.ended_on > dates.c.d, sa.or_(SP.started_on.is_(None), SP.started_on <= dates.c.d),
                      SP.status.not_in(statuses))
    ids = db.session.scalars(sa.select(SP.standard_id).distinct().where(
        SP.ended_on > first, sa.or_(SP.started_on.is_(None), SP.started_on <= last), SP.status.not_in(statuses))).all()
    if not ids:
        return counts
    in_a_period = (
        sa.select(dates.c.d, sa.func.count(sa.distinct(S.id)))
        .select_from(dates).join(SP, holding).join(S, S.id == SP.standard_id)
        .where(S.id.in_(ids), social_public(), S.withdrawn_at.is_(None),
               certified_from() <= dates.c.d, S.valid_until >= dates.c.d,
               sa.or_(S.status.in_(statuses), sa.and_(S.status_since.is_not(None), S.status_since > dates.c.d)),
               _held_in(scope))
        .group_by(dates.c.d))
    for day, n in db.session.execute(in_a_period):
        counts[day] -= int(n)
    return counts


def _forecast_metrologists(dates: sa.Subquery, first: date, last: date,
                           scope: RegionScope) -> dict[date, tuple[int, int]]:
    lapsed = sa.or_(P.registration_no.is_(None), P.registered_on.is_(None), P.registered_on > last,
                    P.registration_valid_until < first)
    rows = (
        sa.select(
            sa.case((P.employed_from.is_(None), sa.literal(first, sa.Date)),
                    else_=_clamp_low(P.employed_from, first)).label("employed_from"),
            sa.case((P.employed_until.is_(None), sa.literal(last, sa.Date)),
                    else_=_clamp_high(P.employed_until, last)).label("employed_until"),
            sa.case((lapsed, sa.null()), else_=_clamp_low(P.registered_on, first)).label("registered_on"),
            sa.case((lapsed, sa.null()), (P.registration_valid_until.is_(None), sa.literal(last, sa.Date)),
                    else_=_clamp_high(P.registration_valid_until, last)).label("registered_until"),
        )
        .where(P.withdrawn_at.is_(None), _on_legal_staff(scope),
               sa.or_(P.employed_from.is_(None), P.employed_from <= last),
               sa.or_(P.employed_until.is_(None), P.employed_until >= first))
        .subquery("spans")
    )
    hist = (sa.select(rows.c.employed_from, rows.c.employed_until, rows.c.registered_on, rows.c.registered_until,
                      sa.func.count().label("n"))
            .group_by(rows.c.employed_from, rows.c.employed_until, rows.c.registered_on, rows.c.registered_until)
            .subquery("hist"))
    registered = sa.and_(hist.c.registered_on.is_not(None), hist.c.registered_on <= dates.c.d,
                         hist.c.registered_until >= dates.c.d)
    stmt = (
        sa.select(dates.c.d, sa.func.coalesce(sa.func.sum(hist.c.n), 0),
                  sa.func.coalesce(sa.func.sum(sa.case((registered, hist.c.n), else_=0)), 0))
        .select_from(dates)
        .outerjoin(hist, sa.and_(hist.c.employed_from <= dates.c.d, hist.c.employed_until >= dates.c.d))
        .group_by(dates.c.d)
    )
    return {day: (int(staff), int(reg)) for day, staff, reg in db.session.execute(stmt)}


def _forecast_carbon_standards(dates: sa.Subquery, first: date, last: date, scope: RegionScope,
                               start: date) -> dict[date, int]:
    rows = (sa.select(_clamp_low(S.built_on, first).label("built_on"))
            .where(*_carbon_standard_clauses(start, last), _held_in(scope)).subquery("built"))
    hist = sa.select(rows.c.built_on, sa.func.count().label("n")).group_by(rows.c.built_on).subquery("hist")
    stmt = (sa.select(dates.c.d, sa.func.coalesce(sa.func.sum(hist.c.n), 0))
            .select_from(dates).outerjoin(hist, hist.c.built_on <= dates.c.d).group_by(dates.c.d))
    return {day: int(n) for day, n in db.session.execute(stmt)}


def _forecast_regulations(dates: sa.Subquery) -> dict[date, tuple[int, int]]:
    stmt = (
        sa.select(dates.c.d, sa.func.count(sa.case((_local_regulation(), 1))),
                  sa.func.count(sa.case((R.is_carbon.is_(True), 1))))
        .select_from(dates).outerjoin(R, sa.and_(*_regulation_clauses(dates.c.d))).group_by(dates.c.d)
    )
    return {day: (local, carbon) for day, local, carbon in db.session.execute(stmt)}


def _forecast_coverage(dates: sa.Subquery, scope: RegionScope,
                       statuses: tuple[str, ...]) -> dict[date, tuple[int, int]]:
    covered = _line_covered(dates.c.d, statuses, *_serving_clauses(scope))
    stmt = (
        sa.select(dates.c.d, sa.func.count(L.id), sa.func.count(sa.case((covered, 1))))
        .select_from(dates)
        .outerjoin(L, sa.and_(*_line_clauses(dates.c.version_id, dates.c.d, scope.counted_level)))
        .group_by(dates.c.d)
    )
    return {day: (total, hits) for day, total, hits in db.session.execute(stmt)}


def _forecast_recorded(dates: sa.Subquery, keys: list[str], code: str) -> dict[tuple[date, str], _Measure]:
    if not keys:
        return {}
    rank = sa.func.row_number().over(
        partition_by=(dates.c.d, RV.indicator_key),
        order_by=(RV.as_of.desc(), RV.recorded_at.desc(), RV.id.desc()),
    ).label("rank")
    ranked = (
        sa.select(dates.c.d, RV.indicator_key, RV.as_of, RV.value, RV.source, rank)
        .select_from(dates).join(RV, RV.as_of <= dates.c.d)
        .where(RV.withdrawn_at.is_(None), RV.indicator_key.in_(keys), RV.region_code == code)
        .subquery()
    )
    rows = db.session.execute(
        sa.select(ranked.c.d, ranked.c.indicator_key, ranked.c.as_of, ranked.c.value, ranked.c.source)
        .where(ranked.c.rank == 1)
    )
    return {(day, key): _Measure(value, value_as_of=as_of, value_source=source)
            for day, key, as_of, value, source in rows}


def coverage_forecast(as_of: date, region: str | None = None, months: int = 24, *,
                      statuses: Iterable[str] | None = None) -> Forecast:
    """Compute every indicator at each of the next ``months`` month-ends, if nothing is renewed.

    A fixed number of queries whatever ``months`` is: each date's value equals
    ``coverage_report`` on that date.
    """
    scope = resolve_region(region)
    covering = covering_statuses(statuses)
    months = _months(months, None, MAX_FORECAST_MONTHS)
    if months == 0:
        raise ValidationError("预测至少一个月 / a forecast needs at least one month", field="months")
    days = month_ends_after(as_of, months)
    first, last = days[0], days[-1]
    definitions = _definitions()
    warnings = _definition_warnings(definitions)
    keys = {d.key for d in definitions if _origin(d) == "registry"}
    recorded_keys = [d.key for d in definitions if _origin(d) == "recorded"]

    versions = list(db.session.scalars(
        sa.select(CatalogVersion).where(CatalogVersion.withdrawn_at.is_(None), CatalogVersion.effective_from <= last)
        .order_by(CatalogVersion.effective_from, CatalogVersion.id)
    ))
    in_force: dict[date, CatalogVersion | None] = {}
    for day in days:
        in_force[day] = next((v for v in reversed(versions) if v.effective_from <= day), None)
    dates = _dates_table([(day, in_force[day].id if in_force[day] else -1) for day in days])

    measures: dict[date, dict[str, _Measure]] = {day: {} for day in days}
    coverage = _forecast_coverage(dates, scope, covering)
    for day in days:
        total, hits = coverage[day]
        measures[day][COVERAGE] = _Measure(hits, total, ratio=True)
    if METROLOGISTS in keys:
        for day, (staff, registered) in _forecast_metrologists(dates, first, last, scope).items():
            measures[day][METROLOGISTS] = _Measure(registered, staff, ratio=True)
    if SOCIAL_PUBLIC in keys:
        for day, count in _forecast_standards(dates, first, last, scope, covering).items():
            measures[day][SOCIAL_PUBLIC] = _Measure(count)
    if CARBON_STANDARDS in keys:
        start = _carbon_start(definitions)
        for day, count in _forecast_carbon_standards(dates, first, last, scope, start).items():
            measures[day][CARBON_STANDARDS] = _Measure(count)
    if keys & PROVINCE_WIDE_KEYS and scope.is_province:
        for day, (local, carbon) in _forecast_regulations(dates).items():
            measures[day][LOCAL_REGULATIONS] = _Measure(local)
            measures[day][CARBON_SPECIFICATIONS] = _Measure(carbon)
    for (day, key), measure in _forecast_recorded(dates, recorded_keys, scope.code).items():
        measures[day][key] = measure

    used = [v for v in versions if any(in_force[day] is v for day in days)]
    loaded = _loaded_line_counts(v.id for v in used)
    catalogs = [_catalog_info(v, None, loaded.get(v.id, 0), level=scope.counted_level) for v in used]
    for info in catalogs:
        warnings.extend(info.warnings())
    missing = [day for day in days if in_force[day] is None]
    if missing:
        warnings.append(_no_catalog_warning(missing[0]))

    # A month is judged only against a plan in force then: never against a deadline already gone.
    book = plan_book()
    per_date = {}
    for day in days:
        plan, status, judgements = _judgements(definitions, book, day, scope.code)
        if status != PLAN_IN_FORCE:
            judgements = {key: (None, basis) for key, (_, basis) in judgements.items()}
        per_date[day] = (plan if status == PLAN_IN_FORCE else None,
                         _results(definitions, measures[day], day=day, plan=plan, status=status, judgements=judgements))
    plans = []
    for day in days:
        plan = per_date[day][0]
        if plan is not None and all(info.id != plan.id for info in plans):
            plans.append(plan_info(plan, PLAN_IN_FORCE))
    series = []
    for index, definition in enumerate(definitions):
        points = [ForecastPoint(date=day, value=r.value, numerator=r.numerator, denominator=r.denominator,
                                met=r.met, plan_id=per_date[day][0].id if r.target is not None else None,
                                target=r.target, target_max=r.target_max, comparator=r.comparator,
                                value_as_of=r.value_as_of, value_source=r.value_source)
                  for day in days for r in (per_date[day][1][index],)]
        judged = [per_date[day][1][index] for day in days if per_date[day][1][index].target is not None]
        sample = judged[0] if judged else per_date[first][1][index]
        series.append(ForecastSeries(
            key=sample.key, name=sample.name, name_en=sample.name_en, kind=sample.kind, target=sample.target,
            target_max=sample.target_max, comparator=sample.comparator, deadline=sample.deadline,
            source=sample.source, basis=sample.basis,
            first_unmet=next((p.date for p in points if p.met is False), None), points=points,
        ))
    return Forecast(as_of=as_of, region=scope.code, region_name=scope.name, months=months, dates=days,
                    catalogs=catalogs, plans=plans, indicators=series, warnings=warnings)


# --------------------------------------------------------------------------- expiring certificates

def expiring_certificates(as_of: date, months: int | None = None, region: str | None = None, *,
                          institution_id: int | None = None, limit: int = 100, offset: int = 0) -> ExpiringList:
    """List standards valid on ``as_of`` whose certificates expire within ``months``, soonest first.

    Every category and status is listed (the institution renews or lets go);
    withdrawn standards are not.
    """
    scope = resolve_region(region)
    months = _months(months, "REEXAMINATION_LEAD_MONTHS", MAX_HORIZON_MONTHS)
    if not isinstance(limit, int) or not 1 <= limit <= MAX_PAGE_SIZE:
        raise ValidationError(f"limit 应为 1 到 {MAX_PAGE_SIZE} / limit must be 1 to {MAX_PAGE_SIZE}", field="limit")
    if not isinstance(offset, int) or offset < 0:
        raise ValidationError("offset 不能为负 / offset must not be negative", field="offset")
    if institution_id is not None and db.session.get(Institution, institution_id) is None:
        raise NotFound(f"未知的机构 / unknown institution: {institution_id}", field="institution_id")
    until = add_months(as_of, months)
    clauses = [S.withdrawn_at.is_(None), certified_from() <= as_of, S.valid_until >= as_of, S.valid_until <= until]
    if institution_id is not None:
        clauses.append(S.institution_id == institution_id)
    total = db.session.scalar(sa.select(sa.func.count()).select_from(S).where(*clauses, _held_in(scope)))
    rows = db.session.execute(
        sa.select(*_STANDARD_COLUMNS).select_from(S).join(I, I.id == S.institution_id)
        .where(*clauses, *_institution_clauses(scope))
        .order_by(S.valid_until, S.certificate_no, S.id).limit(limit).offset(offset)
    ).all()
    prefetch_status_periods(rows)
    return ExpiringList(as_of=as_of, months=months, until=until, region=scope.code, region_name=scope.name,
                        institution_id=institution_id, total=total, limit=limit, offset=offset,
                        items=[_standard_ref(row, as_of) for row in rows])


# --------------------------------------------------------------------------- one institution's share

@dataclass
class InstitutionShare(_Serialisable):
    """One institution's part in its city's and the province's figures on ``as_of``.

    ``social_public`` counts its covering social public standards (as
    ``social_public_standards`` does); ``lines_covered`` the mandatory lines
    its city counts (those expected at city level) that its standards cover,
    of ``mandatory_line_count`` such lines; ``sole_in_city`` the lines it
    covers and no other holder serving its city does (the coverage rule), so
    its city loses them if it lets go.
    """

    as_of: date
    institution_id: int
    institution_name: str
    city: str
    city_name: str
    city_name_en: str | None
    social_public: int
    city_social_public: int
    province_social_public: int
    catalog: CatalogInfo | None
    mandatory_line_count: int
    lines_covered: int
    sole_in_city_count: int
    sole_in_city: list[LineRef]
    warnings: list[str]


def _city_of(region_code: str) -> str:
    """The child of the province a region counts for (itself, its parent, ...); the province for itself."""
    province = current_app.config["PROVINCE_CODE"]
    code = region_code
    for _ in range(5):  # province, city, county: a few levels at most
        if code == province:
            return province
        parent = db.session.scalar(sa.select(Region.parent_code).where(Region.code == code))
        if parent is None or parent == province:
            return code
        code = parent
    return code


def institution_share(as_of: date, institution_id: int, *, statuses: Iterable[str] | None = None) -> InstitutionShare:
    """Compute ``institution_id``'s standards and covered lines against its city's and the province's.

    A fixed number of queries whatever the data size.
    """
    covering = covering_statuses(statuses)
    institution = db.session.get(Institution, institution_id)
    if institution is None:
        raise NotFound(f"未知的机构 / unknown institution: {institution_id}", field="institution_id")
    city = resolve_region(_city_of(institution.region_code))
    in_city = sa.true() if city.codes is None else I.region_code.in_(city.codes)
    province_total, city_total, own = db.session.execute(
        sa.select(sa.func.count(), sa.func.count(sa.case((in_city, 1))),
                  sa.func.count(sa.case((S.institution_id == institution.id, 1))))
        .select_from(S).join(I, I.id == S.institution_id)
        .where(*_covering_clauses(as_of, covering), I.withdrawn_at.is_(None))
    ).one()

    version = catalog_in_force(as_of)
    if version is None:
        return InstitutionShare(
            as_of=as_of, institution_id=institution.id, institution_name=institution.name, city=city.code,
            city_name=city.name, city_name_en=city.name_en, social_public=own, city_social_public=city_total,
            province_social_public=province_total, catalog=None, mandatory_line_count=0, lines_covered=0,
            sole_in_city_count=0, sole_in_city=[], warnings=[_no_catalog_warning(as_of)])
    # The coverage rule of its city: the lines expected at the city's level, and the other holders serving it.
    level = city.counted_level
    mine = _line_covered(as_of, covering, S.institution_id == institution.id, I.withdrawn_at.is_(None))
    others = _line_covered(as_of, covering, S.institution_id != institution.id, *_serving_clauses(city))
    rows = db.session.execute(
        sa.select(L.id, L.code, L.name, L.sub_name, L.mode, _probe(others).label("shared"))
        .where(*_line_clauses(version.id, as_of, level), _probe(mine) == 1)
        .order_by(L.code, L.id)
    ).all()
    sole = [_line_ref(row) for row in rows if not row.shared]
    catalog = _scope_catalog_info(version, as_of, city)
    total = catalog.counted_line_count
    return InstitutionShare(
        as_of=as_of, institution_id=institution.id, institution_name=institution.name, city=city.code,
        city_name=city.name, city_name_en=city.name_en, social_public=own, city_social_public=city_total,
        province_social_public=province_total, catalog=catalog, mandatory_line_count=total,
        lines_covered=len(rows), sole_in_city_count=len(sole), sole_in_city=sole, warnings=catalog.warnings())


def reexamination_apply_by(valid_until: date, months: int | None = None) -> date:
    """Return the last day to apply for re-examination (复查): ``months`` before expiry.

    ``months`` defaults to ``REEXAMINATION_LEAD_MONTHS``.
    """
    months = _months(months, "REEXAMINATION_LEAD_MONTHS", MAX_HORIZON_MONTHS)
    return add_months(valid_until, -months)
