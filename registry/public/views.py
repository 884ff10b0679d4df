"""The public query pages (公开查询): no login, throttled per address, public columns only."""
from __future__ import annotations

import io
import re
from datetime import date

import segno
from flask import Blueprint, abort, current_app, render_template, url_for
from flask_babel import lazy_gettext as _l
from flask_limiter.util import get_remote_address

from registry.extensions import db, limiter
from registry.public.queries import (
    cities,
    public_regulations_query,
    public_standard_items,
    public_standard_query,
    public_standards_query,
)
from registry.web.labels import template_helpers
from registry.standards.validity import validity
from registry.web.core import filter_args, paginate

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


# What new_public_id() makes (URL-safe base64); anything else is refused before the database is asked.
_PUBLIC_ID = re.compile(r"^[A-Za-z0-9_-]{8,24}$")
# A day: the image of an address never changes.
QR_MAX_AGE = 86400


@bp.get("/s/<public_id>")
@public_limit
def standard(public_id: str):
    """A social public standard's permanent public page: holder, items, certificate dates, validity today."""
    row = _public_standard(public_id)
    lines_query, regulations_query = public_standard_items(row.id)
    today = date.today()
    return render_template(
        "public/standard.html", s=row, today=today, state=validity(row, today),
        lines=db.session.execute(lines_query).all(), regulations=db.session.execute(regulations_query).all(),
        page_url=_page_url(row.public_id), lead_months=current_app.config["REEXAMINATION_LEAD_MONTHS"],
        **template_helpers())


@bp.get("/s/<public_id>/qr.<any(png, svg):kind>")
def qr(public_id: str, kind: str):
    """The page's address as a QR code (segno), to print beside the standard: PNG or SVG."""
    row = _public_standard(public_id)
    code = segno.make(_page_url(row.public_id), error="m")
    out = io.BytesIO()
    if kind == "png":
        code.save(out, kind="png", scale=8, border=4)
        mimetype = "image/png"
    else:
        code.save(out, kind="svg", scale=8, border=4, xmldecl=False)
        mimetype = "image/svg+xml"
    response = current_app.response_class(out.getvalue(), mimetype=mimetype)
    response.headers["Cache-Control"] = f"public, max-age={QR_MAX_AGE}"
    response.headers["Content-Disposition"] = f'inline; filename="standard-{row.public_id}.{kind}"'
    return response


def _public_standard(public_id: str):
    if not _PUBLIC_ID.match(public_id):
        abort(404)
    row = db.session.execute(public_standard_query(public_id)).one_or_none()
    if row is None:
        abort(404)
    return row


def _page_url(public_id: str) -> str:
    return url_for("public.standard", public_id=public_id, _external=True)


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
