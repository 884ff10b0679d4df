"""Plan pages: every plan with its targets (province and cities), a new plan, a new target.

Everyone signed in reads them; regulators and admins add plans and targets
(through the services the API and the workbook sheet call).
"""
from __future__ import annotations

import sqlalchemy as sa
from sqlalchemy.orm import selectinload
from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _

from registry.auth.policy import ensure_can_write
from registry.coverage.services import plan_book, resolve_region
from registry.extensions import db
from registry.i18n import is_english
from registry.indicators.forms import COMPARATOR_LABELS, PlanForm, TargetForm
from registry.indicators.models import Plan, PlanTarget
from registry.indicators.queries import indicators_query, plans_query
from registry.indicators.services import create_plan, create_target
from registry.web.forms import form_status, options, save
from registry.reference.models import Region
from registry.records.services import get_or_404
from registry.web.core import actor, login_required, paginate

bp = Blueprint("plans_pages", __name__, url_prefix="/plans", template_folder="templates")


def _regions() -> list[tuple[str, str]]:
    province = resolve_region(None)
    cities = db.session.execute(sa.select(Region.code, Region.name, Region.name_en)
                                .where(Region.parent_code == province.code).order_by(Region.code)).all()
    label = (lambda name, en: en if is_english() and en else name)
    return [(province.code, label(province.name, province.name_en))] + [
        (code, label(name, en)) for code, name, en in cities]


@bp.get("/")
@login_required
def index():
    # One page of plans with their targets (a count, the page, its targets): the same queries for any number.
    page = paginate(plans_query({"sort": "starts_on"}, actor=actor()).options(selectinload(Plan.targets)))
    plans = page.items
    book = plan_book()
    indicators = {i.key: i for i in db.session.scalars(indicators_query({}, actor=actor()))}
    targets = {plan.id: sorted((t for t in plan.targets if t.withdrawn_at is None),
                               key=lambda t: (indicators[t.indicator_key].position if t.indicator_key in indicators
                                              else 0, t.indicator_key, t.region_code)) for plan in plans}
    return render_template("indicators/plans.html", page=page, plans=plans, targets=targets, indicators=indicators,
                           regions=dict(_regions()), comparators=COMPARATOR_LABELS, province=book.province)


@bp.route("/new", methods=["GET", "POST"])
@login_required
def new():
    ensure_can_write(actor(), Plan)
    form = PlanForm()
    if form.validate_on_submit():
        plan = save(form, lambda: create_plan(form.service_data(), actor=actor()))
        if plan is not None:
            flash(_("已添加规划 %(name)s。", name=plan.name), "success")
            return redirect(url_for(".index", _anchor=f"plan-{plan.id}"))
    return render_template("indicators/plan_form.html", form=form), form_status(form)


@bp.route("/<id:plan_id>/targets/new", methods=["GET", "POST"])
@login_required
def target_new(plan_id: int):
    plan = get_or_404(Plan, plan_id, actor=actor())
    ensure_can_write(actor(), PlanTarget)
    form = TargetForm()
    indicators = db.session.scalars(indicators_query({}, actor=actor())).all()
    form.indicator_key.choices = options((i.key, i.name_en if is_english() else i.name) for i in indicators)
    form.region_code.choices = options(_regions())
    if form.validate_on_submit():
        target = save(form, lambda: create_target(form.service_data(plan.id), actor=actor()))
        if target is not None:
            flash(_("已添加目标。"), "success")
            return redirect(url_for(".index", _anchor=f"plan-{plan.id}"))
    return render_template("indicators/target_form.html", form=form, plan=plan), form_status(form)


