"""The standards registry pages (计量标准): list, detail, register, edit, withdraw.

Each view calls what the API calls: ``standards_query``, ``get_or_404``,
``register_standard``, ``update_standard`` and ``withdraw``.
"""
from __future__ import annotations

from datetime import date

import sqlalchemy as sa
from flask import Blueprint, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy.orm import selectinload

from registry.api.schemas import IdConverter
from registry.audit.queries import history_query
from registry.auth.policy import ensure_can_withdraw, ensure_can_write, is_staff
from registry.catalog.models import CatalogLine
from registry.errors import DomainError, StaleEdit, ValidationError
from registry.extensions import db
from registry.institutions.models import Institution
from registry.web.forms import WithdrawForm
from registry.records.queries import listing
from registry.web.labels import (
    changed_values,
    form_version,
    label,
    label_choices,
    template_helpers,
    validity_label,
)
from registry.reference.models import Discipline, Region
from registry.records.services import ensure_not_withdrawn, get_or_404, withdraw as withdraw_record
from registry.standards.forms import BUILD_KIND_LABELS, SERVICE_FIELDS, StandardForm
from registry.standards.models import CATEGORY_LABELS, STATUS_LABELS, MeasurementStandard, StandardStatusPeriod
from registry.standards.queries import standards_query
from registry.standards.schemas import StandardQueryArgs
from registry.standards.services import register_standard, update_standard
from registry.standards.validity import VALIDITY_STATES
from registry.web.core import actor, apply_domain_errors, commit_or_rollback, export_args, list_args, login_required, paginate

bp = Blueprint("standards_pages", __name__, url_prefix="/standards", template_folder="templates")
# Page routes register before the API, which otherwise brings the ``<id:...>`` converter.
bp.record_once(lambda state: state.app.url_map.converters.setdefault("id", IdConverter))

S = MeasurementStandard
# The service names the links by id; the form by the codes typed.
FORM_FIELD_OF = {"catalog_line_ids": "catalog_lines", "regulation_ids": "regulations"}


@bp.context_processor
def _labels() -> dict:
    from registry.applications.models import DECISION_LABELS, DOCUMENT_KIND_LABELS, KIND_LABELS, STATE_LABELS

    return {"category_labels": CATEGORY_LABELS, "status_labels": STATUS_LABELS,
            "build_kind_labels": BUILD_KIND_LABELS, "application_kind_labels": KIND_LABELS,
            "application_state_labels": STATE_LABELS, "application_decision_labels": DECISION_LABELS,
            "application_document_labels": DOCUMENT_KIND_LABELS, **template_helpers()}


@bp.get("/")
@login_required
def index():
    args, dropped = list_args(StandardQueryArgs())
    stmt = standards_query(args, actor=actor()).options(selectinload(S.institution).selectinload(Institution.region))
    return render_template("standards/index.html", page=paginate(stmt), args=args, dropped=dropped,
                           options=_filter_options(), export_args=export_args(), today=date.today())


@bp.get("/<id:standard_id>")
@login_required
def detail(standard_id: int):
    standard = get_or_404(S, standard_id, actor=actor())
    events = db.session.scalars(history_query(standard)).all()
    applications, documents = _applications_of(standard)
    periods = db.session.scalars(sa.select(StandardStatusPeriod).where(StandardStatusPeriod.standard_id == standard.id)
                                 .order_by(StandardStatusPeriod.ended_on, StandardStatusPeriod.id)).all()
    return render_template("standards/detail.html", standard=standard, events=events, today=date.today(),
                           applications=applications, documents=documents, periods=periods,
                           certificates=_certificates_of(standard))


def _certificates_of(standard: MeasurementStandard) -> list:
    """The standard's certificate history (``standard_certificates``), newest issue first."""
    from registry.applications.models import StandardCertificate

    return db.session.scalars(sa.select(StandardCertificate).where(StandardCertificate.standard_id == standard.id)
                              .order_by(StandardCertificate.issued_on.desc(), StandardCertificate.id.desc())).all()


def _applications_of(standard: MeasurementStandard) -> tuple[list, list]:
    """The standard's applications (newest first) and their documents' latest versions, in two queries."""
    from registry.applications.models import Application, ApplicationDocument

    applications = db.session.scalars(sa.select(Application).where(Application.standard_id == standard.id)
                                      .order_by(Application.created_at.desc(), Application.id.desc())).all()
    if not applications:
        return [], []
    latest = (sa.select(ApplicationDocument.application_id, ApplicationDocument.kind,
                        sa.func.max(ApplicationDocument.version_no).label("version_no"))
              .where(ApplicationDocument.application_id.in_([a.id for a in applications]))
              .group_by(ApplicationDocument.application_id, ApplicationDocument.kind).subquery())
    documents = db.session.scalars(
        sa.select(ApplicationDocument).join(latest, sa.and_(
            ApplicationDocument.application_id == latest.c.application_id,
            ApplicationDocument.kind == latest.c.kind, ApplicationDocument.version_no == latest.c.version_no))
        .order_by(ApplicationDocument.uploaded_at.desc(), ApplicationDocument.id.desc())).all()
    return applications, documents


@bp.route("/new", methods=["GET", "POST"])
@login_required
def new():
    ensure_can_write(actor(), S)
    form = StandardForm(actor=actor(), staff=is_staff(actor()), editing=False)
    if form.is_submitted() and form.validate():
        data = form.service_data()
        if "institution_id" not in data:
            data["institution_id"] = actor().institution_id
        links, link_errors = form.link_ids(None)
        data.update(links)
        try:
            standard = _save(lambda: register_standard(data, actor=actor()), link_errors)
        except DomainError as error:
            apply_domain_errors(form, _on_form_fields(error))
        else:
            flash(_("已登记计量标准 %(name)s。", name=standard.name), "success")
            return redirect(url_for(".detail", standard_id=standard.id))
    elif not form.is_submitted():
        form.status.data = "in_use"
        form.status_since.data = date.today()
        form.category.data = "social_public"
        if form.institution_id:
            form.institution_id.data = request.args.get("institution_id", type=int)
    return _form_page(form, None, 422 if form.errors else 200)


@bp.route("/<id:standard_id>/edit", methods=["GET", "POST"])
@login_required
def edit(standard_id: int):
    standard = get_or_404(S, standard_id, actor=actor())
    ensure_can_write(actor(), standard)
    ensure_not_withdrawn(standard)
    form = StandardForm(obj=standard, actor=actor(), staff=is_staff(actor()), editing=True)
    form.remember_status(standard)
    status = 200
    if form.is_submitted() and form.validate():
        submitted = form.service_data()
        data = changed_values(standard, submitted, SERVICE_FIELDS)
        if "status" in data:
            # The date typed (or left empty: not known) goes with the new status.
            data["status_since"] = submitted.get("status_since")
        links, link_errors = form.link_ids(standard)
        data.update(_changed_links(standard, links))
        try:
            _save(lambda: update_standard(standard, data, actor=actor(), expected_version=form_version(form)),
                  link_errors)
        except StaleEdit:
            form.form_errors = [_("此记录已被他人修改，请重新加载后再编辑。")]
            status = 409
        except DomainError as error:
            apply_domain_errors(form, _on_form_fields(error))
        else:
            flash(_("已保存。"), "success")
            return redirect(url_for(".detail", standard_id=standard.id))
    elif not form.is_submitted():
        form.fill_links(standard)
        form.version.data = standard.version
    if form.errors and status == 200:
        status = 422
    return _form_page(form, standard, status)


@bp.route("/<id:standard_id>/withdraw", methods=["GET", "POST"])
@login_required
def withdraw(standard_id: int):
    standard = get_or_404(S, standard_id, actor=actor())
    ensure_can_withdraw(actor(), standard)
    ensure_not_withdrawn(standard)
    form = WithdrawForm()
    status = 200
    if form.is_submitted() and form.validate():
        try:
            commit_or_rollback(lambda: withdraw_record(standard, form.reason.data, actor=actor(),
                                                       expected_version=form_version(form)))
        except StaleEdit:
            form.form_errors = [_("此记录已被他人修改，请重新加载后再编辑。")]
            status = 409
        except DomainError as error:
            apply_domain_errors(form, error)
        else:
            flash(_("已撤回计量标准 %(name)s。", name=standard.name), "success")
            return redirect(url_for(".detail", standard_id=standard.id))
    elif not form.is_submitted():
        form.version.data = standard.version
    if form.errors and status == 200:
        status = 422
    return render_template("standards/withdraw.html", form=form, standard=standard), status


def _form_page(form: StandardForm, standard: MeasurementStandard | None, status: int):
    holder = None if is_staff(actor()) else db.session.get(Institution, actor().institution_id)
    return render_template("standards/form.html", form=form, standard=standard,
                           holder_name=holder.name if holder else ""), status


def _save(action, link_errors: dict[str, list[str]]) -> MeasurementStandard:
    """Run the service and commit; codes that were not found fail the save too, shown with its errors."""

    def run():
        result = action()
        if link_errors:
            raise ValidationError("目录条目或规程编号有误 / unknown catalog lines or regulations", errors=link_errors)
        return result

    try:
        return commit_or_rollback(run)
    except StaleEdit:
        raise
    except DomainError as error:
        if link_errors and error.errors is not link_errors:
            error.errors = {**link_errors, **(error.errors or {})}
        raise


def _on_form_fields(error: DomainError) -> DomainError:
    """Put the service's errors about links on the fields where the codes were typed."""
    error.errors = {FORM_FIELD_OF.get(name, name): messages for name, messages in (error.errors or {}).items()}
    return error



def _changed_links(standard: MeasurementStandard, ids: dict[str, list[int]]) -> dict[str, list[int]]:
    current = {"catalog_line_ids": sorted(line.id for line in standard.catalog_lines),
               "regulation_ids": sorted(reg.id for reg in standard.regulations)}
    return {name: sorted(value) for name, value in ids.items() if sorted(value) != current[name]}


def _filter_options() -> dict:
    """The choices of the list's filter selects (small tables, or one column pair of institutions)."""
    from importers.references import catalog_in_force

    regions = db.session.execute(sa.select(Region.code, Region.name, Region.name_en)
                                 .where(Region.level.in_(("province", "city"))).order_by(Region.code)).all()
    disciplines = db.session.execute(sa.select(Discipline.code, Discipline.name, Discipline.name_en)
                                     .order_by(Discipline.code)).all()
    holders = []
    if is_staff(actor()):
        holders = db.session.execute(listing(Institution, actor=actor())
                                     .with_only_columns(Institution.id, Institution.name)
                                     .order_by(Institution.name).limit(5000)).all()
    catalog = catalog_in_force(date.today())
    lines = []
    if catalog is not None:
        lines = db.session.scalars(sa.select(CatalogLine).where(CatalogLine.catalog_version_id == catalog.id,
                                                               CatalogLine.withdrawn_at.is_(None))
                                   .order_by(CatalogLine.code)).all()
    return {"regions": [(code, label((name, name_en or name))) for code, name, name_en in regions],
            "disciplines": [(code, f"{code} {label((name, name_en))}") for code, name, name_en in disciplines],
            "holders": holders, "lines": [(line.id, f"{line.code} {line.label}") for line in lines],
            "categories": label_choices(CATEGORY_LABELS), "statuses": label_choices(STATUS_LABELS),
            "validity_states": [(s, validity_label(s)) for s in VALIDITY_STATES if s != "withdrawn"]}
