"""Staff pages: the roster, one person with their registration, the forms and withdrawal.

Institution users see and edit only their own staff (the queries and
``get_or_404`` scope by actor, as at the API); another institution's person
is answered 404.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime

import sqlalchemy as sa
from flask import Blueprint, current_app, flash, redirect, render_template, request, url_for
from flask_babel import gettext as _
from sqlalchemy.orm import selectinload

from registry.web import forms as web_forms
from registry.audit.queries import history_query
from registry.auth.policy import ensure_can_write, is_staff
from registry.extensions import db
from registry.i18n import is_english
from registry.institutions.models import INSTITUTION_KIND_LABELS, Institution
from registry.web.forms import form_status, options, save, withdraw_page
from registry.personnel.forms import FIELD_LABELS, LABELS, PersonForm
from registry.personnel.models import Person
from registry.personnel.queries import persons_query, registration_status
from registry.personnel.schemas import PersonQueryArgs
from registry.personnel.services import add_person, update_person
from registry.records.queries import listing
from registry.reference.models import Region
from registry.records.services import get_or_404
from registry.web.core import actor, list_args, login_required, paginate

bp = Blueprint("personnel_pages", __name__, url_prefix="/personnel", template_folder="templates")
web_forms.register(bp)

# Audit fields a page never shows: the keyed hash of an ID number is for matching only.
HIDDEN_HISTORY_FIELDS = frozenset({"id_number_hash"})



def institution_choices() -> list[tuple[int, str]]:
    """The institutions the user may file staff under (only their own for an institution user)."""
    stmt = listing(Institution, actor=actor()).with_only_columns(Institution.id, Institution.name)
    return [(row.id, row.name) for row in db.session.execute(stmt.order_by(Institution.name, Institution.id))]


def city_choices() -> list[tuple[str, str]]:
    return [(row.code, row.name) for row in db.session.execute(
        sa.select(Region.code, Region.name).where(Region.level == "city").order_by(Region.code))]


@dataclass
class ShownEvent:
    """An audit event as a person's page shows it."""

    occurred_at: datetime
    actor_label: str | None
    action: str
    changes: dict


def person_history(person: Person) -> list[ShownEvent]:
    return [ShownEvent(e.occurred_at, e.actor_label, e.action,
                       {k: v for k, v in e.changes.items() if k not in HIDDEN_HISTORY_FIELDS})
            for e in db.session.scalars(history_query(person))]


@bp.get("/")
@login_required
def index():
    args, ignored = list_args(PersonQueryArgs)
    page = paginate(persons_query(args, actor=actor()).options(selectinload(Person.institution)))
    today = date.today()
    english = is_english()
    kinds = [(key, en if english else zh) for key, (zh, en) in INSTITUTION_KIND_LABELS.items()]
    registration_filters = [("registered", _("注册有效")), ("unregistered", _("在职未注册")),
                            ("lapsing", _("注册即将到期"))]
    return render_template("personnel/index.html", page=page, ignored=ignored, labels=LABELS, kinds=kinds,
                           registration_filters=registration_filters,
                           statuses={p.id: registration_status(p, today) for p in page.items},
                           institutions=institution_choices() if is_staff(actor()) else [], cities=city_choices())


@bp.get("/<id:person_id>")
@login_required
def detail(person_id: int):
    person = get_or_404(Person, person_id, actor=actor())
    return render_template("personnel/detail.html", person=person, labels=LABELS,
                           status=registration_status(person, date.today()), events=person_history(person),
                           history_fields=FIELD_LABELS,
                           history_values={"registration_level": LABELS["level"],
                                           "institution_id": {person.institution_id: person.institution.name}})


def _form(person: Person | None = None) -> PersonForm:
    form = PersonForm()
    form.registration_valid_until.description = _("留空则按注册日期起 %(years)s 年计算",
                                                  years=current_app.config["REGISTRATION_VALIDITY_YEARS"])
    choices = institution_choices()
    form.institution_id.choices = options(([("", _("请选择"))] if len(choices) > 1 else []) + choices)
    if request.method == "GET":
        if person is not None:
            form.load(person)
        elif len(choices) == 1:
            form.institution_id.data = choices[0][0]
    return form


@bp.route("/new", methods=["GET", "POST"])
@login_required
def new():
    ensure_can_write(actor(), Person)
    form = _form()
    if form.validate_on_submit():
        person = save(form, lambda: add_person(form.service_data(), actor=actor()))
        if person is not None:
            flash(_("已添加人员 %(name)s。", name=person.name), "success")
            return redirect(url_for(".detail", person_id=person.id))
    return render_template("personnel/form.html", form=form, person=None), form_status(form)


@bp.route("/<id:person_id>/edit", methods=["GET", "POST"])
@login_required
def edit(person_id: int):
    person = get_or_404(Person, person_id, actor=actor())
    ensure_can_write(actor(), person)
    form = _form(person)
    if form.validate_on_submit():
        saved = save(form, lambda: update_person(person, form.service_data(), actor=actor(),
                                                 expected_version=form.expected_version()))
        if saved is not None:
            flash(_("已保存人员 %(name)s。", name=saved.name), "success")
            return redirect(url_for(".detail", person_id=saved.id))
    return render_template("personnel/form.html", form=form, person=person), form_status(form)


@bp.route("/<id:person_id>/withdraw", methods=["GET", "POST"])
@login_required
def withdraw(person_id: int):
    person = get_or_404(Person, person_id, actor=actor())
    ensure_can_write(actor(), person)
    return withdraw_page(person, template="personnel/withdraw.html", done=_("已撤回人员 %(name)s。", name=person.name),
                         detail=url_for(".detail", person_id=person.id), person=person)
