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
from registry.coverage.schemas import (REPORT_SCHEMAS, CoverageArgs, ExpiringArgs, ForecastArgs, GapsArgs,
                                      MetrologistArgs, MetrologistFollowUpSchema, MonthsArgs, RenewalArgs,
                                      RenewalListSchema)

bp = Blueprint("coverage", __name__, url_prefix="/api/v1/coverage",
               description="Coverage and targets (覆盖率与目标): any date, the province or a city")


@bp.route("")
@allowed(ensure_can_read_coverage)
@bp.arguments(CoverageArgs, location="query")
@bp.response(200, REPORT_SCHEMAS["CoverageReport"])
@bp.problems(404)  # an unknown region
@bp.doc(operationId="getCoverage")
def report(args):
    """Every indicator against its target on a date"""
    return cache.as_dict("report", args.get("as_of") or date.today(), args.get("region"))


@bp.route("/regions")
@allowed(ensure_can_read_coverage)
@bp.arguments(CoverageArgs, location="query")
@bp.response(200, REPORT_SCHEMAS["CoverageByRegion"])
@bp.problems(404)  # an unknown region
@bp.doc(operationId="getCoverageByRegion")
def by_region(args):
    """Every indicator for each city, side by side"""
    return cache.as_dict("regions", args.get("as_of") or date.today(), args.get("region"))


@bp.route("/gaps")
@allowed(ensure_can_read_coverage)
@bp.arguments(GapsArgs, location="query")
@bp.response(200, REPORT_SCHEMAS["CoverageGaps"])
@bp.problems(404)  # an unknown region
@bp.doc(operationId="getCoverageGaps")
def gaps(args):
    """Mandatory-verification lines no standard covers, per region (with ``candidates``: who could close each)"""
    as_of = args.get("as_of") or date.today()
    if args["candidates"]:
        return cache.as_dict("gap_candidates", as_of, args.get("region"))
    # Without candidates=1: the same body with no candidates (and no neighbour used, so none unconfirmed).
    return {**cache.as_dict("gaps", as_of, args.get("region")), "candidates": [], "neighbours_confirmed": True}


@bp.route("/single-points")
@allowed(ensure_can_read_coverage)
@bp.arguments(MonthsArgs, location="query")
@bp.response(200, REPORT_SCHEMAS["SinglePoints"])
@bp.problems(404)  # an unknown region
@bp.doc(operationId="getSinglePoints")
def single_points(args):
    """Covered lines whose covering certificates all expire soon"""
    return cache.as_dict("single_points", args.get("as_of") or date.today(), args.get("region"),
                         args.get("months"))


@bp.route("/forecast")
@allowed(ensure_can_read_coverage)
@bp.arguments(ForecastArgs, location="query")
@bp.response(200, REPORT_SCHEMAS["CoverageForecast"])
@bp.problems(404)  # an unknown region
@bp.doc(operationId="getCoverageForecast")
def forecast(args):
    """Indicator values at each coming month-end if nothing is renewed"""
    return cache.as_dict("forecast", args.get("as_of") or date.today(), args.get("region"),
                         args["months"])


@bp.route("/expiring")
@bp.arguments(ExpiringArgs, location="query")
@bp.response(200, REPORT_SCHEMAS["ExpiringCertificates"])
@bp.problems(404)  # an unknown region
@bp.doc(operationId="listExpiringCertificates")
def expiring(args):
    """Certificates expiring within N months; an institution user gets their own list"""
    user = actor()
    institution_id = args.get("institution_id") if is_staff(user) else user.institution_id
    region = args.get("region") if is_staff(user) else None
    return cache.as_dict(
        "expiring", args.get("as_of") or date.today(), args.get("months"), region,
        institution_id=institution_id, limit=args["limit"], offset=args["offset"],
    )


@bp.route("/renewals")
@bp.arguments(RenewalArgs, location="query")
@bp.response(200, RenewalListSchema)
@bp.problems(404)  # an unknown region (or institution)
@bp.doc(operationId="listRenewals")
def renewals(args):
    """Certificates to apply for re-examination now (by apply-by date), or expired and still in use;
    an institution user gets their own"""
    user = actor()
    institution_id = args.get("institution_id") if is_staff(user) else user.institution_id
    region = args.get("region") if is_staff(user) else None
    return cache.result(
        "renewals", args.get("as_of") or date.today(), region, window=args["window"], months=args.get("months"),
        institution_id=institution_id, limit=args["limit"], offset=args["offset"])


@bp.route("/metrologists")
@allowed(ensure_can_read_coverage)
@bp.arguments(MetrologistArgs, location="query")
@bp.response(200, MetrologistFollowUpSchema)
@bp.problems(404)  # an unknown region (or institution)
@bp.doc(operationId="listMetrologistFollowUp")
def metrologists(args):
    """Registered metrologists per legal metrology institution against the target, below target first"""
    return cache.result("metrologists", args.get("as_of") or date.today(), args.get("region"), sort=args["sort"])
