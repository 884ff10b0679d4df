"""Regulation pages: the list, one regulation, the forms (regulators, admins) and withdrawal."""
from __future__ import annotations

from flask import Blueprint, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _

from registry.web import forms as web_forms
from registry.audit.queries import history_query
from registry.auth.policy import ensure_can_write
from registry.extensions import db
from registry.web.forms import form_status, save, withdraw_page
from registry.regulations.forms import FIELD_LABELS, LABELS, RegulationForm
from registry.regulations.models import Regulation
from registry.regulations.queries import regulation_suggestions, regulations_query, standards_applying
from registry.regulations.schemas import RegulationQueryArgs
from registry.regulations.services import create_regulation, update_regulation
from registry.records.services import get_or_404
from registry.web.core import actor, list_args, login_required, paginate

bp = Blueprint("regulations_pages", __name__, url_prefix="/regulations", template_folder="templates")
web_forms.register(bp)



@bp.get("/")
@login_required
def index():
    args, ignored = list_args(RegulationQueryArgs)
    page = paginate(regulations_query(args, actor=actor()))
    return render_template("regulations/index.html", page=page, ignored=ignored, labels=LABELS)


@bp.get("/suggest")
@login_required
def suggest():
    """A picker's list: regulations whose code or title contains ``q`` (JSON, at most ten)."""
    return jsonify(regulation_suggestions(request.args.get("q", "")[:100]))


@bp.get("/<id:regulation_id>")
@login_required
def detail(regulation_id: int):
    regulation = get_or_404(Regulation, regulation_id, actor=actor())
    standards, standards_total = standards_applying(regulation, actor=actor())
    return render_template("regulations/detail.html", regulation=regulation, labels=LABELS,
                           standards=standards, standards_total=standards_total,
                           events=db.session.scalars(history_query(regulation)).all(),
                           history_fields=FIELD_LABELS, history_values=LABELS)


@bp.route("/new", methods=["GET", "POST"])
@login_required
def new():
    ensure_can_write(actor(), Regulation)  # institution users read regulations only: 403, as at the API
    form = RegulationForm()
    if form.validate_on_submit():
        regulation = save(form, lambda: create_regulation(form.service_data(), actor=actor()))
        if regulation is not None:
            flash(_("已登记规程 %(code)s。", code=regulation.code), "success")
            return redirect(url_for(".detail", regulation_id=regulation.id))
    return render_template("regulations/form.html", form=form, regulation=None), form_status(form)


@bp.route("/<id:regulation_id>/edit", methods=["GET", "POST"])
@login_required
def edit(regulation_id: int):
    regulation = get_or_404(Regulation, regulation_id, actor=actor())
    ensure_can_write(actor(), regulation)
    form = RegulationForm(obj=regulation)
    if form.validate_on_submit():
        saved = save(form, lambda: update_regulation(regulation, form.service_data(), actor=actor(),
                                                     expected_version=form.expected_version()))
        if saved is not None:
            flash(_("已保存规程 %(code)s。", code=saved.code), "success")
            return redirect(url_for(".detail", regulation_id=saved.id))
    return render_template("regulations/form.html", form=form, regulation=regulation), form_status(form)


@bp.route("/<id:regulation_id>/withdraw", methods=["GET", "POST"])
@login_required
def withdraw(regulation_id: int):
    regulation = get_or_404(Regulation, regulation_id, actor=actor())
    ensure_can_write(actor(), regulation)
    return withdraw_page(regulation, template="regulations/withdraw.html",
                         done=_("已撤回规程 %(code)s。", code=regulation.code),
                         detail=url_for(".detail", regulation_id=regulation.id), regulation=regulation)
