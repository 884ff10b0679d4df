"""Application pages (计量标准考核申请): the institution's applications and the regulator's work.

- institution: "my applications" (drafts, waiting, decided), a new application
  in steps (kind → standard → details → documents → submit), one
  application's timeline, its rectification response and withdrawal;
- regulator: the work queue, an application's review page (documents, the
  standard's current record beside what the application changes, and the
  accept / return / assign / decide forms), the examiner roster;
- both: document downloads (404 for whoever may not see the application)
  and the list as an Excel file.

Every change is one call of :mod:`registry.applications.services`, the same
the API calls; the buttons a page shows are the service's ``allowed_actions``.
"""
from __future__ import annotations

import io
from datetime import date, datetime
from typing import Any, Callable

import sqlalchemy as sa

from flask import Blueprint, Response, abort, flash, redirect, render_template, request, send_file, url_for
from flask_babel import gettext as _
from sqlalchemy.orm import selectinload
from werkzeug.datastructures import Headers

from registry.web import forms as web_forms
from registry.applications import services
from registry.applications.forms import (
    KIND_FIELDS,
    AssignForm,
    DecideForm,
    DetailsForm,
    ExaminerForm,
    KindForm,
    RejectRectificationForm,
    RespondForm,
    ReturnForm,
    StandardPickForm,
    StepForm,
    UploadForm,
)
from registry.applications.models import (
    ACTION_LABELS,
    DECISION_LABELS,
    DOCUMENT_KIND_LABELS,
    EVENT_LABELS,
    KIND_LABELS,
    KINDS,
    STATE_LABELS,
    Application,
    ApplicationDocument,
    Examiner,
)
from registry.applications.services import REQUIRED_DOCUMENTS, STATUS_KINDS
from registry.auth.policy import is_staff
from registry.errors import DomainError, StaleEdit
from registry.extensions import db
from registry.i18n import is_english
from registry.institutions.models import Institution
from registry.web.forms import form_status, options
from registry.web.labels import label, template_helpers
from registry.reference.models import Discipline, Region
from registry.standards.models import CATEGORY_LABELS, STATUS_LABELS, MeasurementStandard
from registry.web.core import actor, apply_domain_errors, commit_or_rollback, login_required, paginate, staff_required

bp = Blueprint("applications_pages", __name__, url_prefix="/applications", template_folder="templates")
web_forms.register(bp)

STALE = "此记录已被他人修改，请重新加载后再编辑。"
# "my applications" in three tabs, by state.
GROUPS = {
    "drafts": ("draft", "returned"),
    "waiting": ("submitted", "accepted", "under_review", "rectification"),
    "decided": ("decided", "closed", "withdrawn"),
}
GROUP_LABELS = {"drafts": ("草稿和待补正", "Drafts and returned"), "waiting": ("办理中", "In progress"),
                "decided": ("已办结", "Decided")}
# The standard's fields a page compares with what an application proposes, with their labels.
FIELD_LABELS = {
    "certificate_no": ("证书编号", "Certificate number"),
    "name": ("计量标准名称", "Name"),
    "code": ("计量标准代码", "Standard code"),
    "category": ("类别", "Category"),
    "discipline_code": ("专业", "Discipline"),
    "range_text": ("测量范围", "Measurement range"),
    "uncertainty_text": ("不确定度/准确度等级/最大允许误差", "Uncertainty, accuracy class or MPE"),
    "responsible_person": ("负责人", "Person in charge"),
    "issuer": ("发证机关", "Issuing authority"),
    "issued_on": ("发证日期", "Issued on"),
    "valid_until": ("有效期至", "Valid until"),
    "status": ("状态", "Status"),
    "status_since": ("状态生效日期", "Status since"),
}
# What each kind is for, under its name on the first step (what a decision in favour does).
KIND_HINTS = {
    "new": ("尚未取得证书的计量标准；通过后登记该计量标准及其证书", "A standard without a certificate; approval registers it with its certificate"),
    "reexamination": ("证书有效期届满前申请；通过后更新证书日期（及编号）", "Before the certificate expires; approval renews its dates (and number)"),
    "replacement": ("更换计量标准器或主要配套设备", "Replacing the standard or its main equipment"),
    "change": ("检定规程、人员、环境、名称等其他变更", "Other changes: regulation, staff, environment, name"),
    "sealing": ("自决定的日期起封存", "Sealed from the decided date"),
    "revocation": ("自决定的日期起撤销，证书终止", "Revoked from the decided date; the certificate ends"),
    "resumption": ("证书有效期内恢复使用；证书已过期的应申请复查", "In use again while the certificate is valid; after expiry, apply for re-examination"),
}
# The states an applicant may still upload in; a regulator uploads review documents (the certificate ...).
UPLOAD_ACTIONS = ("add_document",)


@bp.context_processor
def _labels() -> dict:
    return {"kind_labels": KIND_LABELS, "state_labels": STATE_LABELS, "decision_labels": DECISION_LABELS,
            "document_labels": DOCUMENT_KIND_LABELS, "group_labels": GROUP_LABELS, "field_labels": FIELD_LABELS,
            "action_labels": ACTION_LABELS, "status_labels": STATUS_LABELS, "kind_hints": KIND_HINTS, **template_helpers()}


def _application(application_id: int) -> Application:
    """The application, or 404 when the actor may not see it (another institution's)."""
    return services.get_application(application_id, actor=actor())


def _may_upload(allowed: set[str]) -> bool:
    return any(action in allowed for action in UPLOAD_ACTIONS)


def _run(form, action: Callable[[], Any]) -> tuple[Any, int]:
    """Run one step's service and commit; errors go on the form (a stale form says so in one sentence)."""
    try:
        return commit_or_rollback(action), 200
    except StaleEdit:
        form.form_errors = [_(STALE)]
        return None, 409
    except DomainError as error:
        if error.status in (403, 404):
            raise
        missing = (error.errors or {}).get("documents")
        if missing:  # the checklist's codes, named as the checklist names them
            separator = ", " if is_english() else "、"
            form.form_errors = [_("还缺以下材料，补齐后才能提交：") + separator.join(
                label(DOCUMENT_KIND_LABELS.get(kind), kind) for kind in missing)]
            return None, 422
        apply_domain_errors(form, error)
        return None, error.status if error.status == 409 else 422


# --- Lists ------------------------------------------------------------------------------------------

def _list_filters() -> dict[str, Any]:
    filters: dict[str, Any] = {}
    for name in ("state", "kind", "city", "group"):
        value = request.args.get(name, "").strip()
        if value:
            filters[name] = value
    if filters.get("state") not in STATE_LABELS:
        filters.pop("state", None)
    if filters.get("kind") not in KIND_LABELS:
        filters.pop("kind", None)
    if filters.get("group") not in GROUPS:
        filters.pop("group", None)
    if request.args.get("late") == "true":
        filters["late"] = True
    try:
        waited = int(request.args.get("waited", ""))
    except ValueError:
        waited = None
    if waited is not None and 0 < waited <= 3650:
        filters["waited"] = waited
    return filters


def _apply_waited(stmt_filters: dict[str, Any]) -> dict[str, Any]:
    """"Waiting at least N days" is the service's ``submitted_before`` today less N days."""
    waited = stmt_filters.pop("waited", None)
    if waited:
        from datetime import timedelta

        stmt_filters["submitted_before"] = date.today() - timedelta(days=waited)
    return stmt_filters


def _with_rows(stmt: sa.Select) -> sa.Select:
    return stmt.options(selectinload(Application.institution).selectinload(Institution.region),
                        selectinload(Application.standard))


@bp.get("/")
@login_required
def index():
    """An institution's applications (drafts, waiting, decided); a regulator sees everyone's the same way."""
    filters = _list_filters()
    group = filters.pop("group", None) or "waiting"
    filters.pop("city", None)
    filters.pop("waited", None)
    filters.setdefault("state", list(GROUPS[group]))
    page = paginate(_with_rows(services.list_query(actor(), filters)))
    counted = services.list_query(actor()).order_by(None).subquery()
    counts = dict(db.session.execute(sa.select(counted.c.state, sa.func.count()).group_by(counted.c.state)).all())
    group_counts = {name: sum(counts.get(s, 0) for s in states) for name, states in GROUPS.items()}
    return render_template("applications/index.html", page=page, group=group, group_counts=group_counts,
                           ages=_ages(page.items), today=date.today())


@bp.get("/queue")
@staff_required
def queue():
    """The regulator's work: applications by state, age, city and kind, the oldest first."""
    filters = _list_filters()
    filters.pop("group", None)
    shown = dict(filters)
    page = paginate(_with_rows(services.queue_query(actor(), _apply_waited(filters))))
    cities = db.session.execute(sa.select(Region.code, Region.name, Region.name_en)
                                .where(Region.level == "city").order_by(Region.code)).all()
    return render_template("applications/queue.html", page=page, filters=shown, ages=_ages(page.items),
                           cities=[(code, label((name, name_en or name))) for code, name, name_en in cities],
                           today=date.today())


def _ages(items: list[Application]) -> dict[int, services.Age | None]:
    return services.ages(items, date.today())


@bp.get("/export.xlsx")
@login_required
def export():
    """Every application the list's filters match, as one sheet (the page's language)."""
    from registry.applications.pages_workbook import write_applications

    filters = _list_filters()
    if is_staff(actor()):
        filters.pop("group", None)
        stmt = services.queue_query(actor(), _apply_waited(filters))
    else:
        group = filters.pop("group", None)
        filters.pop("city", None)
        filters.pop("waited", None)
        if group:
            filters.setdefault("state", list(GROUPS[group]))
        stmt = services.list_query(actor(), filters)
    out = io.BytesIO()
    rows = db.session.scalars(_with_rows(stmt)).all()
    write_applications(out, rows, ages=_ages(rows))
    out.seek(0)
    return send_file(out, as_attachment=True, download_name=f"applications-{date.today().isoformat()}.xlsx",
                     mimetype="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")


# --- A new application, in steps ------------------------------------------------------------------

def _standards_of_actor() -> list[tuple[int, str]]:
    stmt = sa.select(MeasurementStandard.id, MeasurementStandard.certificate_no, MeasurementStandard.name) \
        .where(MeasurementStandard.withdrawn_at.is_(None)).order_by(MeasurementStandard.name, MeasurementStandard.id)
    if not is_staff(actor()):
        stmt = stmt.where(MeasurementStandard.institution_id == actor().institution_id)
    else:
        stmt = stmt.limit(2000)
    return [(row.id, f"{row.name}（{row.certificate_no}）") for row in db.session.execute(stmt)]


def _kinds_for_actor() -> list[str]:
    """An institution applies for every kind; a regulator files only sealings and revocations."""
    if is_staff(actor()):
        return ["sealing", "revocation"]
    return list(KINDS)


@bp.route("/new", methods=["GET", "POST"])
@login_required
def new():
    """Steps 1 and 2: the kind, then the standard (none for a new standard); then the draft exists."""
    kinds = _kinds_for_actor()
    if not kinds:
        abort(404)
    kind = request.args.get("kind")  # step 1 posts its choice in the body, step 2 is at ?kind=
    if kind not in kinds:
        form = KindForm(kinds=kinds)
        standard_id = request.args.get("standard_id", type=int)  # from a standard's page: kept for step 2
        if form.is_submitted() and form.validate():
            return redirect(url_for(".new", kind=form.kind.data, standard_id=standard_id))
        return render_template("applications/new_kind.html", form=form, step=1, standard_id=standard_id,
                               examination_hint=bool({"new", "reexamination"} & set(kinds))), form_status(form)
    pick = StandardPickForm(standards=_standards_of_actor()) if kind != "new" else None
    form = StepForm()
    if request.method == "POST" and (pick.validate() if pick else form.validate()):
        data = {"kind": kind}
        if pick:
            data["standard_id"] = int(pick.standard_id.data)
        target = pick or form
        created, status = _run(target, lambda: services.create_draft(data, actor=actor()))
        if created is not None:
            flash(_("已创建申请草稿，请填写申请内容。"), "success")
            return redirect(url_for(".details", application_id=created.id))
        return render_template("applications/new_standard.html", pick=pick, form=form, kind=kind, step=2), status
    elif request.method == "GET" and pick is not None:
        pick.standard_id.data = request.args.get("standard_id", "")
    return render_template("applications/new_standard.html", pick=pick, form=form, kind=kind, step=2), \
        form_status(pick or form) if request.method == "POST" else 200


@bp.route("/<id:application_id>/details", methods=["GET", "POST"])
@login_required
def details(application_id: int):
    """Step 3: what this kind asks for; saved on the draft through ``update_draft``."""
    application = _application(application_id)
    if "update_draft" not in services.allowed_actions(actor(), application):
        abort(404)
    form = DetailsForm(kind=application.kind)
    status = 200
    if form.is_submitted() and form.validate() and not form.asks_new_examination():
        data = {"proposal": form.proposal(), "title": (form.title.data or "").strip() or None}
        saved, status = _run(form, lambda: services.update_draft(application, data, actor=actor(),
                                                                 expected_version=form.expected_version()))
        if saved is not None:
            flash(_("已保存申请内容。"), "success")
            return redirect(url_for(".documents", application_id=application.id))
    elif not form.is_submitted():
        form.load(application)
    if form.errors and status == 200:
        status = 422
    return render_template("applications/details.html", application=application, form=form,
                           shown=KIND_FIELDS[application.kind], step=3, current=_current_values(application)), status


@bp.route("/<id:application_id>/documents", methods=["GET", "POST"])
@login_required
def documents(application_id: int):
    """Step 4: the checklist of this kind's documents, the upload, and the submit button."""
    application = _application(application_id)
    allowed = services.allowed_actions(actor(), application)
    if not _may_upload(allowed):
        abort(404)
    form = UploadForm()
    status = 200
    if form.is_submitted() and form.validate():
        upload = form.file.data
        saved, status = _run(form, lambda: services.add_document(application, form.kind.data, upload.stream,
                                                                 upload.filename, actor=actor()))
        if saved is not None:
            flash(_("已上传 %(name)s。", name=saved.original_name), "success")
            return redirect(url_for(".documents", application_id=application.id))
    elif form.is_submitted():
        status = 422
    elif request.args.get("kind") in DOCUMENT_KIND_LABELS:
        form.kind.data = request.args["kind"]
    submit = StepForm(formdata=None)
    submit.version.data = application.version
    return render_template("applications/documents.html", application=application, form=form, submit=submit,
                           allowed=allowed, step=4, **_documents_context(application)), status


# --- One application: its timeline, and for the regulator its review -------------------------------

def _documents_context(application: Application) -> dict[str, Any]:
    docs = db.session.scalars(sa.select(ApplicationDocument)
                              .where(ApplicationDocument.application_id == application.id)
                              .order_by(ApplicationDocument.kind, ApplicationDocument.version_no.desc())).all()
    by_kind: dict[str, list[ApplicationDocument]] = {}
    for doc in docs:
        by_kind.setdefault(doc.kind, []).append(doc)
    required = [] if application.filed_by == "regulator" else list(REQUIRED_DOCUMENTS[application.kind])
    missing = [k for k in required if k not in by_kind]
    return {"docs": docs, "by_kind": by_kind, "required": required, "missing": missing}


def _current_values(application: Application) -> dict[str, Any]:
    standard = application.standard
    if standard is None:
        return {}
    return {name: getattr(standard, name) for name in FIELD_LABELS}


def _shown(name: str, value: Any) -> str:
    if value in (None, ""):
        return "—"
    if name == "category":
        return label(CATEGORY_LABELS.get(value), value)
    if name == "status":
        return label(STATUS_LABELS.get(value), value)
    if name == "discipline_code":
        row = db.session.get(Discipline, value)
        return f"{value} {label((row.name, row.name_en))}" if row else str(value)
    if isinstance(value, (date, datetime)):
        return value.isoformat()[:10]
    if isinstance(value, bool):
        return _("是") if value else _("否")
    return str(value)


def _proposed(application: Application) -> dict[str, Any]:
    """What the standard would receive: the proposal, overridden by what the decision fixed."""
    values = {**(application.proposal or {}), **(application.decided_values or {})}
    kind = application.kind
    if kind in STATUS_KINDS:
        return {"status": STATUS_KINDS[kind], "status_since": values.get("effective_on")}
    if kind in ("replacement", "change"):
        return {k: v for k, v in (values.get("changes") or {}).items() if k in FIELD_LABELS}
    return {k: v for k, v in values.items() if k in FIELD_LABELS}


def _applied(application: Application) -> bool:
    """Whether the decision has been written to the standard (its record now holds the new values)."""
    return application.decided_at is not None and application.decision in ("approved",
                                                                             "approved_after_rectification")


def _diff(application: Application) -> list[dict[str, Any]]:
    """Each field the application changes: the standard's value now beside the proposed one.

    Once the decision is written, the record already holds the new values: they are shown as decided.
    """
    proposed = _proposed(application)
    current = {} if _applied(application) else _current_values(application)
    rows = []
    if application.kind in ("new", "reexamination") and application.decided_at is None:
        # The certificate is the regulator's to give: named now, filled by the decision.
        for name in ("certificate_no", "issued_on", "valid_until"):
            if name not in proposed:
                rows.append({"name": name, "label": label(FIELD_LABELS[name]), "before": _shown(name, current.get(name)),
                             "after": _("由决定确定"), "changed": True, "pending": True})
    for name, value in proposed.items():
        before = current.get(name)
        before_text, after_text = _shown(name, before), _shown(name, value)
        rows.append({"name": name, "label": label(FIELD_LABELS.get(name), name), "before": before_text,
                     "after": after_text, "changed": before_text != after_text})
    return rows


def _timeline(application: Application, docs: list[ApplicationDocument]) -> list[dict[str, Any]]:
    events = db.session.scalars(services.events_query(application)).all()
    rows = [{"at": e.at, "actor": e.actor_label, "action": label(EVENT_LABELS.get(e.action), e.action),
             "from_state": e.from_state, "to_state": e.to_state, "comment": e.comment, "documents": []}
            for e in events]
    # Each document version goes with the step it was uploaded before (or the last one).
    for doc in sorted(docs, key=lambda d: d.uploaded_at):
        target = None
        for row in rows:
            if row["at"] >= doc.uploaded_at:
                target = row
                break
        if target is None and rows:
            target = rows[-1]
        if target is not None:
            target["documents"].append(doc)
    return rows


def _action_forms(application: Application, allowed: set[str]) -> dict[str, Any]:
    version = application.version
    forms: dict[str, Any] = {}

    def make(cls, name, **kwargs):
        form = cls(formdata=None, prefix=name, **kwargs)
        form.version.data = version
        return form

    for name in ("submit", "accept", "close", "withdraw", "confirm_rectification"):
        if name in allowed:
            forms[name] = make(StepForm, name)
    if "return_for_completion" in allowed:
        forms["return_for_completion"] = make(ReturnForm, "return_for_completion")
    if "reject_rectification" in allowed:
        forms["reject_rectification"] = make(RejectRectificationForm, "reject_rectification")
    if "assign_examiners" in allowed:
        form = make(AssignForm, "assign_examiners")
        _examiner_choices(form, application)
        forms["assign_examiners"] = form
    if "decide" in allowed:
        form = make(DecideForm, "decide")
        _decision_choices(form)
        forms["decide"] = form
    if "respond_rectification" in allowed:
        forms["respond_rectification"] = make(RespondForm, "respond_rectification")
    return forms


def _examiner_choices(form: AssignForm, application: Application) -> None:
    examiners = db.session.scalars(sa.select(Examiner).where(Examiner.active.is_(True))
                                   .order_by(Examiner.name, Examiner.id)).all()
    form.examiner_ids.choices = options((e.id, f"{e.name}{'（' + e.certificate_no + '）' if e.certificate_no else ''}"
                                          f"{' · ' + '、'.join(e.disciplines) if e.disciplines else ''}")
                                         for e in examiners)
    if form.examiner_ids.data is None:
        form.examiner_ids.data = [e.id for e in application.examiners]


def _decision_choices(form: DecideForm) -> None:
    form.decision.choices = options((k, label(v)) for k, v in DECISION_LABELS.items())


def _detail_page(application: Application, forms: dict[str, Any] | None = None, status: int = 200):
    allowed = services.allowed_actions(actor(), application)
    shown_forms = _action_forms(application, allowed)
    shown_forms.update(forms or {})
    docs_context = _documents_context(application)
    return render_template(
        "applications/detail.html", application=application, allowed=allowed, forms=shown_forms,
        may_upload=_may_upload(allowed), diff=_diff(application), applied=_applied(application),
        timeline=_timeline(application, docs_context["docs"]), age=services.age(application, date.today()),
        **docs_context), status


@bp.get("/<id:application_id>")
@login_required
def detail(application_id: int):
    """One application: its state, what it changes, its documents, its timeline and the next steps."""
    return _detail_page(_application(application_id))


# Each step's form and how its fields become the service call.
def _step_call(name: str, application: Application, form) -> Callable[[], Any]:
    common = {"actor": actor(), "expected_version": form.expected_version()}
    comment = (getattr(form, "comment", None) and (form.comment.data or "").strip()) or None
    if name == "submit":
        return lambda: services.submit(application, comment=comment, **common)
    if name == "accept":
        return lambda: services.accept(application, comment=comment, **common)
    if name == "close":
        return lambda: services.close(application, comment=comment, **common)
    if name == "confirm_rectification":
        return lambda: services.confirm_rectification(application, comment=comment, **common)
    if name == "reject_rectification":
        return lambda: services.reject_rectification(application, comment=comment, **common)
    if name == "withdraw":
        return lambda: services.withdraw(application, comment=comment, **common)
    if name == "return_for_completion":
        return lambda: services.return_for_completion(application, comment=comment, **common)
    if name == "assign_examiners":
        return lambda: services.assign_examiners(application, list(form.examiner_ids.data or []),
                                                 comment=comment, **common)
    if name == "respond_rectification":
        return lambda: services.respond_rectification(application, form.response.data.strip(), **common)
    if name == "decide":
        values = {key: getattr(form, key).data for key in ("certificate_no", "issued_on", "valid_until",
                                                           "effective_on")}
        values = {key: value.strip() if isinstance(value, str) else value for key, value in values.items()}
        values = {key: value for key, value in values.items() if value not in (None, "")}
        deadline = form.rectification_deadline.data
        return lambda: services.decide(application, form.decision.data, actor=actor(),
                                       comment=(form.reasons.data or "").strip() or None,
                                       rectification_deadline=deadline.isoformat() if deadline else None,
                                       values=_json_values(values), expected_version=form.expected_version())
    abort(404)


def _json_values(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v.isoformat() if isinstance(v, date) else v for k, v in values.items()}


STEP_FORMS = {"submit": StepForm, "accept": StepForm, "close": StepForm, "withdraw": StepForm,
              "confirm_rectification": StepForm, "reject_rectification": RejectRectificationForm,
              "return_for_completion": ReturnForm, "assign_examiners": AssignForm, "decide": DecideForm,
              "respond_rectification": RespondForm}
STEP_DONE = {
    "submit": ("已提交申请。", "Submitted."), "accept": ("已受理。", "Accepted."), "close": ("已办结。", "Closed."),
    "withdraw": ("已撤回申请。", "Withdrawn."), "return_for_completion": ("已退回补正。", "Returned for completion."),
    "assign_examiners": ("已指派考评员。", "Examiners assigned."), "decide": ("已作出决定。", "Decided."),
    "respond_rectification": ("已提交整改情况。", "Rectification reported."),
    "confirm_rectification": ("已确认整改完成。", "Rectification confirmed."),
    "reject_rectification": ("已确认整改不合格，申请不予通过。", "Rectification rejected; the application is refused."),
}


@bp.post("/<id:application_id>/<any(submit, accept, close, withdraw, return_for_completion, assign_examiners, "
         "decide, respond_rectification, confirm_rectification, reject_rectification):step>")
@login_required
def act(application_id: int, step: str):
    """One step of the life cycle, when the service allows it to this user in this state (else 403)."""
    application = _application(application_id)
    if step not in services.allowed_actions(actor(), application):
        abort(403)
    form = STEP_FORMS[step](prefix=step)
    if step == "assign_examiners":
        _examiner_choices(form, application)
    if step == "decide":
        _decision_choices(form)
    status = 422
    if form.validate():
        done, status = _run(form, _step_call(step, application, form))
        if done is not None:
            flash(label(STEP_DONE[step]), "success")
            return redirect(url_for(".detail", application_id=application.id))
        db.session.refresh(application)
    if step == "submit" and request.form.get("from") == "documents":
        upload = UploadForm(formdata=None)
        return render_template("applications/documents.html", application=application, form=upload, submit=form,
                               allowed=services.allowed_actions(actor(), application), step=4,
                               **_documents_context(application)), status
    return _detail_page(application, {step: form}, status)


@bp.get("/<id:application_id>/documents/<id:document_id>")
@login_required
def download(application_id: int, document_id: int):
    """One document version, as an attachment; 404 unless the user may see the application."""
    doc, chunks = services.open_document(application_id, document_id, actor=actor())
    headers = Headers()
    headers.set("Content-Disposition", "attachment", filename=doc.original_name)
    headers.set("Cache-Control", "private, no-store")
    headers.set("X-Content-Type-Options", "nosniff")
    return Response(chunks, mimetype=doc.content_type, headers=headers, direct_passthrough=True)


# --- The examiner roster (regulators) -------------------------------------------------------------

@bp.get("/examiners")
@staff_required
def examiners():
    stmt = services.examiners_query(actor(), active=None if request.args.get("all") == "true" else True,
                                    q=request.args.get("q", "").strip() or None)
    page = paginate(stmt)
    names = dict(db.session.execute(sa.select(Discipline.code, Discipline.name)).all())
    return render_template("applications/examiners.html", page=page, discipline_names=names)


@bp.route("/examiners/new", methods=["GET", "POST"])
@staff_required
def examiner_new():
    form = ExaminerForm()
    status = 200
    if form.validate_on_submit():
        saved, status = _run(form, lambda: services.create_examiner(form.service_data(), actor=actor()))
        if saved is not None:
            flash(_("已添加考评员 %(name)s。", name=saved.name), "success")
            return redirect(url_for(".examiners"))
    elif form.is_submitted():
        status = 422
    return render_template("applications/examiner_form.html", form=form, examiner=None), status


@bp.route("/examiners/<id:examiner_id>/edit", methods=["GET", "POST"])
@staff_required
def examiner_edit(examiner_id: int):
    examiner = services.get_examiner(examiner_id, actor=actor())
    form = ExaminerForm(obj=examiner) if request.method == "GET" else ExaminerForm()
    status = 200
    if request.method == "GET":
        form.version.data = examiner.version
    elif form.validate():
        saved, status = _run(form, lambda: services.update_examiner(
            examiner, form.service_data(), actor=actor(), expected_version=form.expected_version()))
        if saved is not None:
            flash(_("已保存考评员 %(name)s。", name=saved.name), "success")
            return redirect(url_for(".examiners"))
    else:
        status = 422
    return render_template("applications/examiner_form.html", form=form, examiner=examiner), status
