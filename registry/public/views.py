"""The public query pages (公开查询): no login, throttled per address, public columns only."""
from __future__ import annotations

from datetime import date

from flask import Blueprint, current_app, render_template
from flask_babel import lazy_gettext as _l
from flask_limiter.util import get_remote_address

from registry.extensions import db, limiter
from registry.public.queries import cities, public_regulations_query, public_standards_query
from registry.record_pages import template_helpers
from registry.web import filter_args, paginate

bp = Blueprint("public", __name__, url_prefix="/public", template_folder="templates")

# Longer search text is cut: no public search needs more, and it keeps the LIKE patterns small.
MAX_QUERY_LENGTH = 200

# The standards and the regulations pages count against one limit per address.
public_limit = limiter.shared_limit(lambda: current_app.config["PUBLIC_QUERY_LIMIT"], scope="public-query",
                                    key_func=get_remote_address)

REGULATION_KIND_LABELS = {
    "verification_regulation": _l("检定规程"),
    "calibration_specification": _l("校准规范"),
    "technical_specification": _l("技术规范"),
}
REGULATION_STATUS_LABELS = {
    "planned": _l("计划"),
    "drafting": _l("起草中"),
    "published": _l("已发布"),
    "implemented": _l("已实施"),
    "abolished": _l("已废止"),
}


@bp.get("/")
@public_limit
def index():
    """Social public standards: search form and results."""
    city_list = db.session.execute(cities(current_app.config["PROVINCE_CODE"])).all()
    args = _search_args("q", "city", "valid")
    if args.get("city") not in {c.code for c in city_list}:
        args.pop("city", None)
    today = date.today()
    results = paginate(public_standards_query(args, today=today), scalars=False)
    return render_template("public/standards.html", results=results, args=args, cities=city_list, today=today,
                           lead_months=current_app.config["REEXAMINATION_LEAD_MONTHS"], **template_helpers())


@bp.get("/regulations")
@public_limit
def regulations():
    """Local regulations and specifications: search by code or title."""
    args = _search_args("q")
    results = paginate(public_regulations_query(args), scalars=False)
    return render_template("public/regulations.html", results=results, args=args,
                           kind_labels=REGULATION_KIND_LABELS, status_labels=REGULATION_STATUS_LABELS)


def _search_args(*names: str) -> dict:
    args = filter_args(*names)
    if "q" in args:
        args["q"] = args["q"][:MAX_QUERY_LENGTH]
    return args


@bp.errorhandler(429)
def too_many_queries(error):
    """A clear page, in the visitor's language, instead of the generic error."""
    item = getattr(getattr(error, "limit", None), "limit", None)
    seconds = item.get_expiry() if item is not None else 60
    return render_template("public/too_many.html", limit=item, seconds=seconds), 429, {"Retry-After": str(seconds)}
