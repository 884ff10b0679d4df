"""``/api/v1/coverage``: indicators against targets, gaps, risks, forecast, expiring certificates.

Each view is one call to :mod:`registry.coverage.services` through the report
cache (:mod:`registry.coverage.cache`); the body is the service's ``to_dict()``,
the same object ``registry coverage --json`` prints.
"""
from __future__ import annotations

from datetime import date

from registry.api.core import Blueprint, actor, allowed
from registry.auth.policy import ensure_can_read_coverage, is_staff
from registry.coverage import cache
from registry.coverage.schemas import CoverageArgs, ExpiringArgs, ForecastArgs, GapsArgs, MonthsArgs

bp = Blueprint("coverage", __name__, url_prefix="/api/v1/coverage",
               description="Coverage and targets (覆盖率与目标): any date, the province or a city")


@bp.route("")
@allowed(ensure_can_read_coverage)
@bp.arguments(CoverageArgs, location="query")
@bp.response(200)
def report(args):
    """Every indicator against its target on a date"""
    return cache.as_dict("report", args.get("as_of") or date.today(), args.get("region"))


@bp.route("/regions")
@allowed(ensure_can_read_coverage)
@bp.arguments(CoverageArgs, location="query")
@bp.response(200)
def by_region(args):
    """Every indicator for each city, side by side"""
    return cache.as_dict("regions", args.get("as_of") or date.today(), args.get("region"))


@bp.route("/gaps")
@allowed(ensure_can_read_coverage)
@bp.arguments(GapsArgs, location="query")
@bp.response(200)
def gaps(args):
    """Mandatory-verification lines no standard covers, per region (with ``candidates``: who could close each)"""
    kind = "gap_candidates" if args["candidates"] else "gaps"
    return cache.as_dict(kind, args.get("as_of") or date.today(), args.get("region"))


@bp.route("/single-points")
@allowed(ensure_can_read_coverage)
@bp.arguments(MonthsArgs, location="query")
@bp.response(200)
def single_points(args):
    """Covered lines whose covering certificates all expire soon"""
    return cache.as_dict("single_points", args.get("as_of") or date.today(), args.get("region"),
                         args.get("months"))


@bp.route("/forecast")
@allowed(ensure_can_read_coverage)
@bp.arguments(ForecastArgs, location="query")
@bp.response(200)
def forecast(args):
    """Indicator values at each coming month-end if nothing is renewed"""
    return cache.as_dict("forecast", args.get("as_of") or date.today(), args.get("region"),
                         args["months"])


@bp.route("/expiring")
@bp.arguments(ExpiringArgs, location="query")
@bp.response(200)
def expiring(args):
    """Certificates expiring within N months; an institution user gets their own list"""
    user = actor()
    institution_id = args.get("institution_id") if is_staff(user) else user.institution_id
    region = args.get("region") if is_staff(user) else None
    return cache.as_dict(
        "expiring", args.get("as_of") or date.today(), args.get("months"), region,
        institution_id=institution_id, limit=args["limit"], offset=args["offset"],
    )
