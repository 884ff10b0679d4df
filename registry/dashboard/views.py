"""Pages over the coverage services: the regulator's dashboard, the institution home, expiring certificates.

Every figure comes from :mod:`registry.coverage.services` (the functions the
API and the CLI call); the views only read the request and lay the results out.
"""
from __future__ import annotations

import io
import math
from dataclasses import dataclass
from datetime import date

import sqlalchemy as sa
from flask import Blueprint, current_app, redirect, render_template, request, send_file, url_for
from flask_babel import get_locale
from flask_babel import gettext as _
from jinja2 import pass_context
from markupsafe import Markup

from registry.api.schemas import MAX_ID
from registry.auth.policy import is_staff
from registry.coverage import cache, services
from registry.records.dates import EARLIEST, LATEST, within_range
from registry.errors import DomainError
from registry.extensions import db
from registry.i18n import is_english
from registry.institutions.models import Institution
from registry.personnel.queries import persons_query
from registry.reference.queries import regions_query
from registry.standards.queries import standards_query
from registry.web.core import Page, actor, login_required, page_args, staff_required

bp = Blueprint("dashboard", __name__, template_folder="templates")

FORECAST_MONTHS = 24
HOME_EXPIRING_LIMIT = 50
HOME_EXPIRED_LIMIT = 20


class BadInput(Exception):
    """A request argument the page cannot use; shown above the form with a 400."""


@dataclass
class Choice:
    code: str
    name: str
    name_en: str | None


def _as_of() -> date:
    raw = request.args.get("as_of", "").strip()
    if not raw:
        return date.today()
    try:
        day = date.fromisoformat(raw)
    except ValueError:
        raise BadInput(_("日期“%(value)s”无效，请按 年-月-日 填写（如 2025-12-31）。", value=raw)) from None
    if not within_range(day):
        raise BadInput(_("日期应在 %(first)s 至 %(last)s 之间。", first=EARLIEST.isoformat(), last=LATEST.isoformat()))
    return day


def _region_choices() -> list[Choice]:
    """The province and its cities (设区市), as the selector offers them (kept until the data changes)."""
    return [Choice(*row) for row in cache.kept(_choice_rows, (actor().role,), {})]


def _choice_rows(role: str) -> list[tuple[str, str, str | None]]:
    province = services.resolve_region(None)
    cities = db.session.scalars(regions_query({"parent": province.code}, actor=actor()))
    return [(province.code, province.name, province.name_en)] + [(city.code, city.name, city.name_en)
                                                                 for city in cities]


def _region(choices: list[Choice]) -> str:
    raw = request.args.get("region", "").strip()
    if not raw:
        return choices[0].code
    if raw not in {choice.code for choice in choices}:
        raise BadInput(_("地区“%(value)s”不是本省或其设区市的行政区划代码。", value=raw))
    return raw


def _institution_id() -> int | None:
    """One institution's list (staff): a record id, else the page says so."""
    raw = request.args.get("institution_id", "").strip()
    if not raw:
        return None
    if not (raw.isascii() and raw.isdigit() and len(raw) <= 10 and 1 <= int(raw) <= MAX_ID):
        raise BadInput(_("机构编号“%(value)s”无效。", value=raw))
    return int(raw)


def _label(choice: Choice) -> str:
    return choice.name_en if is_english() and choice.name_en else choice.name


def _dashboard_data(report, by_region, forecast, names: dict[str, str]) -> dict:
    """What the charts draw, for the JSON block ``dashboard.js`` reads (the same numbers as the tables)."""
    indicators = [{"key": item.key, "name": item.name, "name_en": item.name_en, "kind": item.kind,
                   "target": item.target, "target_max": item.target_max, "comparator": item.comparator}
                  for item in report.indicators]
    return {
        "indicators": indicators,
        "byRegion": {
            "regions": [names.get(column.region, column.region_name) for column in by_region.regions],
            "codes": [column.region for column in by_region.regions],
            "values": {item["key"]: [column.indicators[i].value for column in by_region.regions]
                       for i, item in enumerate(indicators)},
            "met": {item["key"]: [column.indicators[i].met for column in by_region.regions]
                    for i, item in enumerate(indicators)},
        },
        "forecast": {
            "dates": [day.isoformat() for day in forecast.dates],
            "values": {series.key: [point.value for point in series.points] for series in forecast.indicators},
            # Each month's target: none after the last plan's deadline (that month is not judged).
            "targets": {series.key: [{"target": point.target, "target_max": point.target_max,
                                      "comparator": point.comparator} for point in series.points]
                        for series in forecast.indicators},
        },
        "selected": report.region,
    }


@bp.get("/dashboard")
@staff_required
def index():
    """Every indicator against its target for a date and a region, by city, forecast, gaps and risks."""
    choices = _region_choices()
    form = {"as_of": request.args.get("as_of", ""), "region": request.args.get("region", "")}
    try:
        as_of = _as_of()
        region = _region(choices)
    except BadInput as error:
        return render_template("dashboard/index.html", choices=choices, form=form, error=str(error)), 400
    form = {"as_of": as_of.isoformat(), "region": region}
    province = choices[0].code
    fragment = _fragment(as_of, region)
    context = {}
    if fragment.html is None:  # not drawn yet for this date, region, language and data version
        try:
            context = _report_context(as_of, region, province, choices)
        except DomainError as error:
            db.session.rollback()
            return render_template("dashboard/index.html", choices=choices, form=form, error=error.message), 400
    return render_template("dashboard/index.html", choices=choices, form=form, error=None, as_of=as_of,
                           region=region, province=province, fragment=fragment, **context)


def _report_context(as_of: date, region: str, province: str, choices: list[Choice]) -> dict:
    """What the report part of the dashboard draws (the reports themselves come from the report cache)."""
    report = cache.result("report", as_of, region)
    by_region = cache.result("regions", as_of, province)
    forecast = cache.result("forecast", as_of, region, FORECAST_MONTHS)
    gaps = cache.result("gap_candidates", as_of, province)
    risks = cache.result("single_points", as_of, region)
    expiring = cache.result("renewals", as_of, region, totals_only=True)  # the page links to the list
    # A city's gaps are out of the lines counted for it (its level), not the province's.
    if region == province:
        gap_lines, gap_total = gaps.uncovered, gaps.mandatory_line_count
    else:
        entry = next((entry for entry in gaps.by_region if entry.region == region), None)
        gap_lines, gap_total = (entry.lines, entry.line_count) if entry else ([], 0)
    gap_candidates = {entry.line_id: entry for entry in gaps.candidates if entry.region == region}
    names = {choice.code: _label(choice) for choice in choices}
    # The catalog card says in the page's language what the catalogs' own (bilingual) warnings say.
    said = {w for catalog in (report.catalog, by_region.catalog, gaps.catalog, risks.catalog, *forecast.catalogs)
            if catalog is not None for w in catalog.warnings()}
    warnings = [w for w in dict.fromkeys([*report.warnings, *by_region.warnings, *forecast.warnings,
                                          *gaps.warnings, *risks.warnings]) if w not in said]
    return dict(
        report=report, by_region=by_region, forecast=forecast, gaps=gaps, gap_lines=gap_lines, gap_total=gap_total,
        gap_candidates=gap_candidates, risks=risks, expiring=expiring, warnings=warnings, names=names,
        scope_name=names.get(region, report.region_name),
        chart_data=_dashboard_data(report, by_region, forecast, names),
        forecast_series=[series for series in forecast.indicators
                         if any(point.value is not None for point in series.points)],
    )


@bp.get("/dashboard/report.xlsx")
@staff_required
def report_workbook():
    """The dashboard for the date and region as one workbook (the same file as ``registry report``)."""
    from registry.coverage import workbook

    choices = _region_choices()
    try:
        as_of = _as_of()
        region = _region(choices)
        data = workbook.collect(as_of, region)
    except (BadInput, DomainError) as error:
        db.session.rollback()
        message = error.message if isinstance(error, DomainError) else str(error)
        form = {"as_of": request.args.get("as_of", ""), "region": request.args.get("region", "")}
        return render_template("dashboard/index.html", choices=choices, form=form, error=message), 400
    out = io.BytesIO()
    workbook.write_workbook(data, out, lang="en" if is_english() else "zh")
    out.seek(0)
    return send_file(out, as_attachment=True, download_name=workbook.report_filename(data),
                     mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


@bp.get("/dashboard/metrologists")
@staff_required
def metrologists():
    """Registered metrologists per legal metrology institution against the target, below target first."""
    from registry.coverage.metrologists import SORTS

    choices = _region_choices()
    form = {"as_of": request.args.get("as_of", ""), "region": request.args.get("region", ""),
            "sort": request.args.get("sort", "")}
    try:
        as_of = _as_of()
        region = _region(choices)
        sort = request.args.get("sort", "").strip() or "needed"
        if sort.lstrip("-") not in SORTS:
            raise BadInput(_("排序“%(value)s”无效。", value=sort))
        follow = cache.result("metrologists", as_of, region, sort=sort)
    except (BadInput, DomainError) as error:
        db.session.rollback()
        message = error.message if isinstance(error, DomainError) else str(error)
        return render_template("dashboard/metrologists.html", choices=choices, form=form, error=message,
                               follow=None), 400
    form = {"as_of": as_of.isoformat(), "region": region, "sort": sort}
    names = {choice.code: _label(choice) for choice in choices}
    return render_template("dashboard/metrologists.html", choices=choices, form=form, error=None, follow=follow,
                           scope_name=names.get(region, follow.region_name))


WINDOWS = ("apply_now", "expired", "expiring")


def _window() -> str:
    raw = request.args.get("window", "").strip() or "apply_now"
    if raw not in WINDOWS:
        raise BadInput(_("列表“%(value)s”无效。", value=raw))
    return raw


@dataclass
class Fragment:
    """A part of a page kept drawn: its cache key (None: not kept) and its HTML when found."""
    key: str | None
    html: str | None = None


def _fragment(as_of: date, region: str) -> Fragment:
    """The dashboard's report part as drawn before for this date, region, language, role and data version.

    Not kept while templates reload (a development server: an edited template must show at once).
    """
    if current_app.jinja_env.auto_reload:
        return Fragment(None)
    key = cache.fragment_key("dashboard", as_of, region, str(get_locale()), actor().role, request.script_root)
    return Fragment(key, cache.get_fragment(key))


@pass_context
def cached_fragment(context, caller) -> Markup:
    """``{% call cached_fragment() %}…{% endcall %}``: the block drawn before (the view's ``fragment``), else drawn
    now and kept."""
    fragment = context.get("fragment")
    if fragment is not None and fragment.html is not None:
        return Markup(fragment.html)
    html = caller()
    if fragment is not None and fragment.key is not None:
        cache.set_fragment(fragment.key, html)
    return html


@bp.get("/dashboard/expiring")
@login_required
def expiring():
    """Certificates to apply for re-examination now (by apply-by date), expired ones still in use, or (the list
    before apply-by windows, ``window=expiring``) those expiring within the lead time.

    Staff see a region (or one institution); an institution user always sees their own, as in the API.
    """
    user = actor()
    staff = is_staff(user)
    choices = _region_choices() if staff else []
    form = {"as_of": request.args.get("as_of", ""), "region": request.args.get("region", ""),
            "window": request.args.get("window", "")}
    page, size = page_args()
    try:
        as_of = _as_of()
        window = _window()
        region = _region(choices) if staff else None
        institution_id = _institution_id() if staff else user.institution_id

        def fetch(number: int):
            if window == "expiring":
                return cache.result("expiring", as_of, None, region, institution_id=institution_id,
                                    limit=size, offset=(number - 1) * size)
            return cache.result("renewals", as_of, region, window=window, institution_id=institution_id,
                                limit=size, offset=(number - 1) * size)

        listing = fetch(page)
        if page > 1 and not listing.items and listing.total:  # past the end: the last page, as lists show
            page = math.ceil(listing.total / size)
            listing = fetch(page)
    except (BadInput, DomainError) as error:
        db.session.rollback()
        message = error.message if isinstance(error, DomainError) else str(error)
        return render_template("dashboard/expiring.html", choices=choices, form=form, error=message,
                               listing=None, page=None, staff=staff), 400
    form = {"as_of": as_of.isoformat(), "region": region or "", "window": window}
    result = Page(listing.items, page, size, listing.total)
    names = {choice.code: _label(choice) for choice in choices}
    return render_template("dashboard/expiring.html", choices=choices, form=form, error=None, listing=listing,
                           region_label=names.get(listing.region, listing.region_name),
                           page=result, staff=staff, window=window, apply_by=services.reexamination_apply_by,
                           institution_id=institution_id if staff else None)


def _count(stmt: sa.Select) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(stmt.order_by(None).subquery())) or 0


@bp.get("/home")
@login_required
def institution_home():
    """An institution user's page: their standards, staff, certificates to renew and share in the province."""
    user = actor()
    if is_staff(user):
        return redirect(url_for("dashboard.index"))
    institution = db.session.get(Institution, user.institution_id)
    today = date.today()
    own = {"institution_id": institution.id}
    apply_now = cache.result("renewals", today, None, institution_id=institution.id, limit=HOME_EXPIRING_LIMIT)
    expired = cache.result("renewals", today, None, window="expired", institution_id=institution.id,
                           limit=HOME_EXPIRED_LIMIT)
    return render_template(
        "dashboard/home.html", institution=institution, today=today,
        standards_total=_count(standards_query(own, actor=user)),
        staff_total=_count(persons_query(own, actor=user)),
        apply_now=apply_now, expired=expired, share=cache.result("share", today, institution.id),
        lead_months=current_app.config["REEXAMINATION_LEAD_MONTHS"],
    )


@bp.context_processor
def _labels() -> dict:
    from registry.web.labels import template_helpers
    from registry.standards.models import STATUS_LABELS

    def status_label(code: str) -> str:
        zh, en = STATUS_LABELS.get(code, (code, code))
        return en if is_english() else zh

    return {"status_label": status_label, "cached_fragment": cached_fragment, **template_helpers()}
