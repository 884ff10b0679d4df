"""Catalog pages: the versions (the one in force first), a version's lines, one line, forms, withdrawal.

Everyone signed in reads the catalog; regulators and admins change it (an
institution user's write is refused with 403, as at the API).
"""
from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from flask import Blueprint, flash, jsonify, redirect, render_template, request, url_for
from flask_babel import gettext as _

from registry.web import forms as web_forms
from registry.audit.queries import history_query
from registry.auth.policy import ensure_can_write
from registry.catalog.forms import FIELD_LABELS, LABELS, LineForm, VersionForm
from registry.catalog.models import CatalogLine, CatalogVersion
from registry.catalog.queries import line_counts, line_suggestions, lines_query, versions_query
from registry.catalog.schemas import CatalogLineQueryArgs, CatalogVersionQueryArgs
from registry.catalog.services import add_line, create_version, update_line, update_version
from registry.coverage.services import catalog_in_force
from registry.extensions import db
from registry.web.forms import form_status, save, withdraw_page
from registry.records.services import get_or_404
from registry.standards.queries import standards_query
from registry.web.core import actor, list_args, login_required, paginate

bp = Blueprint("catalog_pages", __name__, url_prefix="/catalog", template_folder="templates")
web_forms.register(bp)



def _history(obj) -> list:
    return db.session.scalars(history_query(obj)).all()


# --- versions ------------------------------------------------------------------------------

@bp.get("/")
@login_required
def index():
    args, ignored = list_args(CatalogVersionQueryArgs)
    page = paginate(versions_query(args, actor=actor()))
    in_force = catalog_in_force(date.today())
    counts = line_counts(in_force.id, actor=actor()) if in_force else None
    return render_template("catalog/index.html", page=page, ignored=ignored, in_force=in_force, counts=counts)


@bp.get("/suggest")
@login_required
def suggest():
    """A picker's list: lines of the catalog in force by code, name or label containing ``q`` (JSON, at most ten)."""
    return jsonify(line_suggestions(request.args.get("q", "")[:100], today=date.today()))


@bp.get("/<id:version_id>")
@login_required
def detail(version_id: int):
    version = get_or_404(CatalogVersion, version_id, actor=actor())
    args, ignored = list_args(CatalogLineQueryArgs, catalog_version_id=version.id)
    page = paginate(lines_query(args, actor=actor()))
    in_force = catalog_in_force(date.today())
    return render_template("catalog/detail.html", version=version, page=page, ignored=ignored, labels=LABELS,
                           counts=line_counts(version.id, actor=actor()),
                           is_in_force=in_force is not None and in_force.id == version.id,
                           events=_history(version), history_fields=FIELD_LABELS, history_values=LABELS)


@bp.route("/new", methods=["GET", "POST"])
@login_required
def new():
    ensure_can_write(actor(), CatalogVersion)
    form = VersionForm()
    if form.validate_on_submit():
        version = save(form, lambda: create_version(form.service_data(), actor=actor()))
        if version is not None:
            flash(_("已创建目录版本 %(name)s。", name=version.name), "success")
            return redirect(url_for(".detail", version_id=version.id))
    return render_template("catalog/version_form.html", form=form, version=None), form_status(form)


@bp.route("/<id:version_id>/edit", methods=["GET", "POST"])
@login_required
def edit(version_id: int):
    version = get_or_404(CatalogVersion, version_id, actor=actor())
    ensure_can_write(actor(), version)
    form = VersionForm(obj=version)
    if form.validate_on_submit():
        saved = save(form, lambda: update_version(version, form.service_data(), actor=actor(),
                                                  expected_version=form.expected_version()))
        if saved is not None:
            flash(_("已保存目录版本 %(name)s。", name=saved.name), "success")
            return redirect(url_for(".detail", version_id=saved.id))
    return render_template("catalog/version_form.html", form=form, version=version), form_status(form)


@bp.route("/<id:version_id>/withdraw", methods=["GET", "POST"])
@login_required
def withdraw(version_id: int):
    version = get_or_404(CatalogVersion, version_id, actor=actor())
    ensure_can_write(actor(), version)
    detail = url_for(".detail", version_id=version.id)
    return withdraw_page(version, template="catalog/withdraw.html", done=_("已撤回目录版本 %(name)s。", name=version.name),
                         detail=detail, record=version, title=version.name, back=detail)


# --- lines ---------------------------------------------------------------------------------

@bp.get("/lines/<id:line_id>")
@login_required
def line_detail(line_id: int):
    line = get_or_404(CatalogLine, line_id, actor=actor())
    standards = paginate_first(standards_query({"covers_line": line.id}, actor=actor()))
    return render_template("catalog/line_detail.html", line=line, labels=LABELS, standards=standards,
                           events=_history(line), history_fields=FIELD_LABELS, history_values=LABELS)


def paginate_first(stmt, limit: int = 20) -> tuple[list, int]:
    """The first ``limit`` rows of a list and how many there are (a preview on a detail page)."""
    total = db.session.scalar(sa.select(sa.func.count()).select_from(stmt.order_by(None).subquery())) or 0
    return list(db.session.scalars(stmt.limit(limit))), total


@bp.route("/<id:version_id>/lines/new", methods=["GET", "POST"])
@login_required
def line_new(version_id: int):
    version = get_or_404(CatalogVersion, version_id, actor=actor(), include_withdrawn=False)
    ensure_can_write(actor(), CatalogLine)
    form = LineForm()
    if form.validate_on_submit():
        line = save(form, lambda: add_line(version, form.service_data(), actor=actor()))
        if line is not None:
            flash(_("已添加目录条目 %(code)s %(name)s。", code=line.code, name=line.label), "success")
            return redirect(url_for(".line_detail", line_id=line.id))
    return render_template("catalog/line_form.html", form=form, version=version, line=None), form_status(form)


@bp.route("/lines/<id:line_id>/edit", methods=["GET", "POST"])
@login_required
def line_edit(line_id: int):
    line = get_or_404(CatalogLine, line_id, actor=actor())
    ensure_can_write(actor(), line)
    form = LineForm(obj=line)
    if form.validate_on_submit():
        saved = save(form, lambda: update_line(line, form.service_data(), actor=actor(),
                                               expected_version=form.expected_version()))
        if saved is not None:
            flash(_("已保存目录条目 %(code)s %(name)s。", code=saved.code, name=saved.label), "success")
            return redirect(url_for(".line_detail", line_id=saved.id))
    return render_template("catalog/line_form.html", form=form, version=line.catalog_version, line=line), \
        form_status(form)


@bp.route("/lines/<id:line_id>/withdraw", methods=["GET", "POST"])
@login_required
def line_withdraw(line_id: int):
    line = get_or_404(CatalogLine, line_id, actor=actor())
    ensure_can_write(actor(), line)
    detail = url_for(".line_detail", line_id=line.id)
    return withdraw_page(line, template="catalog/withdraw.html",
                         done=_("已撤回目录条目 %(code)s %(name)s。", code=line.code, name=line.label),
                         detail=detail, record=line, title=f"{line.code} {line.label}", back=detail)
