"""The institutions registry pages (机构): list, detail, register, edit, withdraw.

Each view calls what the API calls: ``institutions_query``, ``get_or_404``,
``create_institution``, ``update_institution`` and ``withdraw``.
"""
from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from flask import Blueprint, flash, redirect, render_template, url_for
from flask_babel import gettext as _
from sqlalchemy.orm import selectinload

from registry.api.schemas import IdConverter
from registry.audit.queries import history_query
from registry.auth.policy import ensure_can_withdraw, ensure_can_write, is_staff
from registry.errors import DomainError, StaleEdit
from registry.extensions import db
from registry.institutions.forms import SERVICE_FIELDS, InstitutionForm
from registry.institutions.models import INSTITUTION_KIND_LABELS, Institution
from registry.institutions.queries import institutions_query
from registry.institutions.schemas import InstitutionQueryArgs
from registry.institutions.services import create_institution, update_institution
from registry.web.forms import WithdrawForm
from registry.personnel.queries import persons_query
from registry.web.labels import (
    changed_values,
    form_version,
    label,
    label_choices,
    template_helpers,
)
from registry.reference.models import Region
from registry.records.services import ensure_not_withdrawn, get_or_404, withdraw as withdraw_record
from registry.standards.models import CATEGORY_LABELS, STATUS_LABELS
from registry.standards.queries import standards_query
from registry.web.core import actor, apply_domain_errors, commit_or_rollback, export_args, list_args, login_required, paginate

bp = Blueprint("institutions_pages", __name__, url_prefix="/institutions", template_folder="templates")
# Page routes register before the API, which otherwise brings the ``<id:...>`` converter.
bp.record_once(lambda state: state.app.url_map.converters.setdefault("id", IdConverter))

# How many of an institution's standards its page lists before linking to the full list.
STANDARDS_ON_DETAIL = 20


@bp.context_processor
def _labels() -> dict:
    return {"kind_labels": INSTITUTION_KIND_LABELS, "category_labels": CATEGORY_LABELS,
            "status_labels": STATUS_LABELS, **template_helpers()}


@bp.get("/")
@login_required
def index():
    args, dropped = list_args(InstitutionQueryArgs())
    stmt = institutions_query(args, actor=actor()).options(selectinload(Institution.region))
    regions = db.session.execute(sa.select(Region.code, Region.name, Region.name_en)
                                 .where(Region.level.in_(("province", "city"))).order_by(Region.code)).all()
    return render_template("institutions/index.html", page=paginate(stmt), args=args, dropped=dropped,
                           regions=[(code, label((name, name_en or name))) for code, name, name_en in regions], kinds=label_choices(INSTITUTION_KIND_LABELS),
                           export_args=export_args())


@bp.get("/<id:institution_id>")
@login_required
def detail(institution_id: int):
    institution = get_or_404(Institution, institution_id, actor=actor())
    held = standards_query({"institution_id": institution.id, "sort": "name"}, actor=actor())
    standards = db.session.scalars(held.limit(STANDARDS_ON_DETAIL)).all()
    roster = persons_query({"institution_id": institution.id}, actor=actor())
    registered = persons_query({"institution_id": institution.id, "registered": True}, actor=actor())
    counts = {"standards": _count(held), "staff": _count(roster), "registered": _count(registered)}
    events = db.session.scalars(history_query(institution)).all()
    return render_template("institutions/detail.html", institution=institution, standards=standards,
                           counts=counts, events=events, today=date.today())


@bp.route("/new", methods=["GET", "POST"])
@login_required
def new():
    ensure_can_write(actor(), Institution)
    form = InstitutionForm(staff=True)
    if form.is_submitted() and form.validate():
        try:
            institution = commit_or_rollback(lambda: create_institution(form.service_data(), actor=actor()))
        except DomainError as error:
            apply_domain_errors(form, error)
        else:
            flash(_("已登记机构 %(name)s。", name=institution.name), "success")
            return redirect(url_for(".detail", institution_id=institution.id))
    return render_template("institutions/form.html", form=form, institution=None), 422 if form.errors else 200


@bp.route("/<id:institution_id>/edit", methods=["GET", "POST"])
@login_required
def edit(institution_id: int):
    institution = get_or_404(Institution, institution_id, actor=actor())
    ensure_can_write(actor(), institution)
    ensure_not_withdrawn(institution)
    form = InstitutionForm(obj=institution, staff=is_staff(actor()))
    status = 200
    if form.is_submitted() and form.validate():
        data = changed_values(institution, form.service_data(), SERVICE_FIELDS)
        try:
            commit_or_rollback(lambda: update_institution(institution, data, actor=actor(),
                                                          expected_version=form_version(form)))
        except StaleEdit:
            form.form_errors = [_("此记录已被他人修改，请重新加载后再编辑。")]
            status = 409
        except DomainError as error:
            apply_domain_errors(form, error)
        else:
            flash(_("已保存。"), "success")
            return redirect(url_for(".detail", institution_id=institution.id))
    if form.errors and status == 200:
        status = 422
    return render_template("institutions/form.html", form=form, institution=institution), status


@bp.route("/<id:institution_id>/withdraw", methods=["GET", "POST"])
@login_required
def withdraw(institution_id: int):
    institution = get_or_404(Institution, institution_id, actor=actor())
    ensure_can_withdraw(actor(), institution)
    ensure_not_withdrawn(institution)
    form = WithdrawForm()
    status = 200
    if form.is_submitted() and form.validate():
        try:
            commit_or_rollback(lambda: withdraw_record(institution, form.reason.data, actor=actor(),
                                                       expected_version=form_version(form)))
        except StaleEdit:
            form.form_errors = [_("此记录已被他人修改，请重新加载后再编辑。")]
            status = 409
        except DomainError as error:
            apply_domain_errors(form, error)
        else:
            flash(_("已撤回机构 %(name)s。", name=institution.name), "success")
            return redirect(url_for(".detail", institution_id=institution.id))
    elif not form.is_submitted():
        form.version.data = institution.version
    if form.errors and status == 200:
        status = 422
    return render_template("institutions/withdraw.html", form=form, institution=institution), status


def _count(stmt: sa.Select) -> int:
    return db.session.scalar(sa.select(sa.func.count()).select_from(stmt.order_by(None).subquery())) or 0
