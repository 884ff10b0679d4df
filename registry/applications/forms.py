"""Application forms: they parse and label what is typed; every rule is ``applications.services``'.

A form never changes an application.  It turns the fields of one step
into the arguments of that step's service call (``proposal``, ``comment``,
``decision`` ...) and carries the version the user read, so a form that
another user overtook is refused as stale by the service.
"""
from __future__ import annotations

from datetime import date
from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l, lazy_pgettext
from flask_wtf import FlaskForm
from flask_wtf.file import FileField, FileRequired
from wtforms import BooleanField, DateField, RadioField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional
from wtforms.widgets import CheckboxInput, ListWidget

from registry.applications.models import DOCUMENT_KIND_LABELS, KIND_LABELS
from registry.extensions import db
from registry.web.forms import VersionedForm, options
from registry.web.labels import label, label_choices
from registry.reference.models import Discipline
from registry.standards.models import CATEGORY_LABELS

COMMENT = _l("办理意见")


class KindForm(FlaskForm):
    """Step 1: which kind of application."""

    kind = RadioField(_l("申请类型"), validators=[InputRequired(message=_l("请选择申请类型"))])

    def __init__(self, *args: Any, kinds: list[str], **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.kind.choices = options((k, label(KIND_LABELS[k])) for k in kinds)


class StandardPickForm(FlaskForm):
    """Step 2: the standard the application is about (none for a new standard)."""

    standard_id = SelectField(lazy_pgettext("one standard", "计量标准"), validators=[InputRequired(message=_l("请选择计量标准"))])

    def __init__(self, *args: Any, standards: list[tuple[int, str]], **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.standard_id.choices = options([("", _l("— 请选择 —"))] + [(str(i), text) for i, text in standards])


# --- Step 3: the details each kind asks for -------------------------------------------------------

# The fields of the standard a new-standard application proposes (they become the standard's; the
# certificate's number and dates are the regulator's, given with the decision).
NEW_FIELDS = ("name", "code", "category", "discipline_code", "range_text", "uncertainty_text", "issuer",
              "responsible_person")
# What another change may set on the standard (``proposal["changes"]``).  A replacement that changes the
# range, uncertainty or class is examined as new (JJF 1033): its form asks, and sends none of these.
CHANGE_FIELDS = ("name", "responsible_person", "issuer")
CHANGE_TOPICS = {
    "regulation": ("检定规程或技术规范", "Regulation or specification"),
    "staff": ("负责人或检定人员", "Person in charge or staff"),
    "environment": ("环境条件及设施", "Environment and facilities"),
    "name": ("计量标准名称", "Name of the standard"),
    "other": ("其他", "Other"),
}


class DetailsForm(VersionedForm):
    """Every detail field of every kind; :data:`KIND_FIELDS` says which a kind shows and sends."""

    title = StringField(_l("申请标题"), validators=[Optional(), Length(max=300)],
                        description=_l("留空则以计量标准名称为标题"))
    # new standard
    name = StringField(_l("计量标准名称"), validators=[Optional(), Length(max=300)])
    code = StringField(_l("计量标准代码"), validators=[Optional(), Length(max=20)],
                       description=_l("JJF 1022，8 位数字"))
    category = SelectField(_l("类别"), validators=[Optional()])
    discipline_code = SelectField(_l("专业"), validators=[Optional()])
    range_text = StringField(_l("测量范围"), validators=[Optional(), Length(max=300)])
    uncertainty_text = StringField(_l("不确定度/准确度等级/最大允许误差"), validators=[Optional(), Length(max=300)])
    responsible_person = StringField(_l("负责人"), validators=[Optional(), Length(max=100)])
    # re-examination
    certificate_no = StringField(_l("新证书编号"), validators=[Optional(), Length(max=100)],
                                 description=_l("已知时填写；留空则沿用原证书编号"))
    issued_on = DateField(_l("新证书发证日期"), validators=[Optional()])
    valid_until = DateField(_l("新证书有效期至"), validators=[Optional()],
                            description=_l("留空则按发证日期加有效期年限计算"))
    # sealing, revocation, resumption
    effective_on = DateField(_l("生效日期"), validators=[Optional()])
    # replacement and other changes
    topic = SelectField(_l("变更事项"), validators=[Optional()])
    description = TextAreaField(_l("变更内容说明"), validators=[Optional(), Length(max=4000)])
    issuer = StringField(_l("发证机关"), validators=[Optional(), Length(max=200)])
    scope_changes = RadioField(_l("更换后测量范围、不确定度或准确度等级是否改变？"), default="no",
                               choices=options([("no", _l("不变")), ("yes", lazy_pgettext("replacement changes", "改变"))]))

    def __init__(self, *args: Any, kind: str, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.kind = kind
        self.category.choices = options(label_choices(CATEGORY_LABELS, blank="—"))
        self.discipline_code.choices = options([("", "—")] + [
            (code, f"{code} {label((name, name_en))}")
            for code, name, name_en in db.session.execute(
                sa.select(Discipline.code, Discipline.name, Discipline.name_en).order_by(Discipline.code))])
        self.topic.choices = options(label_choices(CHANGE_TOPICS, blank="—"))

    @property
    def shown(self) -> tuple[str, ...]:
        return KIND_FIELDS[self.kind]

    def asks_new_examination(self) -> bool:
        """A replacement whose range, uncertainty or class changes is not a replacement: the page says so."""
        return self.kind == "replacement" and self.scope_changes.data == "yes"

    def load(self, application: Any) -> None:
        """Fill the form from a draft's proposal (what was saved before)."""
        proposal = dict(application.proposal or {})
        changes = proposal.get("changes") or {}
        self.title.data = application.title
        description = proposal.get("description") or ""
        for code, (zh, _en) in CHANGE_TOPICS.items():
            if description.startswith(f"【{zh}】"):
                proposal["topic"], proposal["description"] = code, description[len(zh) + 2:]
        for name in self.shown:
            value = changes.get(name) if self.kind == "change" and name in CHANGE_FIELDS else proposal.get(name)
            field = getattr(self, name)
            if isinstance(field, DateField) and isinstance(value, str):
                value = date.fromisoformat(value)
            if value is not None:
                field.data = value
        self.version.data = application.version

    def proposal(self) -> dict[str, Any]:
        """The proposal the service receives: only this kind's fields, dates as ISO text, blanks left out."""
        values: dict[str, Any] = {}
        for name in self.shown:
            value = getattr(self, name).data
            if isinstance(value, date):
                value = value.isoformat()
            if isinstance(value, str):
                value = value.strip()
            if value in (None, ""):
                continue
            values[name] = value
        if self.kind in ("replacement", "change"):
            values["changes"] = {name: values.pop(name) for name in CHANGE_FIELDS if name in values}
        topic = values.pop("topic", None)
        if topic in CHANGE_TOPICS:  # the topic heads the description, in the registry's (Chinese) words
            values["description"] = f"【{CHANGE_TOPICS[topic][0]}】{values.get('description', '')}"
        return values


KIND_FIELDS = {
    "new": NEW_FIELDS,
    "reexamination": ("certificate_no", "issued_on", "valid_until"),
    "replacement": ("description",),
    "change": ("topic", "description", "name", "responsible_person", "issuer"),
    "sealing": ("effective_on",),  # the reason goes with the submission, as its comment
    "revocation": ("effective_on",),
    "resumption": ("effective_on",),
}


# --- Step 4: documents ----------------------------------------------------------------------------

class UploadForm(FlaskForm):
    kind = SelectField(_l("材料类别"), validators=[InputRequired()])
    file = FileField(_l("文件"), validators=[FileRequired(message=_l("请选择文件"))],
                     description=_l("PDF、PNG、JPEG、.xlsx 或 .docx"))

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.kind.choices = options((k, label(v)) for k, v in DOCUMENT_KIND_LABELS.items())


# --- The steps after the details: one small form each ---------------------------------------------

class StepForm(VersionedForm):
    """A step that needs nothing but an optional comment (submit, accept, withdraw, close)."""

    comment = TextAreaField(COMMENT, validators=[Optional(), Length(max=4000)])


class ReturnForm(VersionedForm):
    comment = TextAreaField(_l("退回补正的原因"), validators=[DataRequired(message=_l("请说明需要补正的内容")),
                                                          Length(max=4000)])


class RejectRectificationForm(VersionedForm):
    comment = TextAreaField(_l("整改不合格的理由"), validators=[DataRequired(message=_l("请说明理由")),
                                                           Length(max=4000)])


def _chosen(form, field) -> None:
    """At least one ticked (a check list: no "required" star over the whole list)."""
    if not field.data:
        from wtforms.validators import StopValidation

        raise StopValidation(str(_l("请至少选择一名考评员")))


class AssignForm(VersionedForm):
    examiner_ids = SelectMultipleField(_l("考评员"), coerce=int, validators=[_chosen],
                                       widget=ListWidget(prefix_label=False), option_widget=CheckboxInput())
    comment = TextAreaField(COMMENT, validators=[Optional(), Length(max=4000)])


class DecideForm(VersionedForm):
    decision = RadioField(_l("决定"), validators=[InputRequired(message=_l("请选择决定"))])
    certificate_no = StringField(_l("证书编号"), validators=[Optional(), Length(max=100)])
    issued_on = DateField(_l("发证日期"), validators=[Optional()])
    valid_until = DateField(_l("有效期至"), validators=[Optional()],
                            description=_l("留空则按发证日期加有效期年限计算"))
    effective_on = DateField(_l("生效日期"), validators=[Optional()])
    rectification_deadline = DateField(_l("整改期限"), validators=[Optional()])
    reasons = TextAreaField(_l("决定理由"), validators=[Optional(), Length(max=4000)],
                            description=_l("不予通过时必须说明理由；整改时写明整改要求"))


class RespondForm(VersionedForm):
    response = TextAreaField(_l("整改情况"), validators=[DataRequired(message=_l("请说明整改情况")),
                                                       Length(max=4000)])


# --- The examiner roster --------------------------------------------------------------------------

class ExaminerForm(VersionedForm):
    name = StringField(_l("姓名"), validators=[DataRequired(), Length(max=100)])
    certificate_no = StringField(_l("考评员证号"), validators=[Optional(), Length(max=100)])
    disciplines = SelectMultipleField(_l("专业"), validators=[Optional()],
                                      widget=ListWidget(prefix_label=False), option_widget=CheckboxInput())
    organisation = StringField(_l("工作单位"), validators=[Optional(), Length(max=200)])
    phone = StringField(_l("电话"), validators=[Optional(), Length(max=50)])
    email = StringField(_l("邮箱"), validators=[Optional(), Length(max=254)])
    active = BooleanField(_l("在册"), default=True)

    FIELDS = ("name", "certificate_no", "disciplines", "organisation", "phone", "email", "active")

    def __init__(self, *args: Any, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.disciplines.choices = options(
            (code, f"{code} {label((name, name_en))}")
            for code, name, name_en in db.session.execute(
                sa.select(Discipline.code, Discipline.name, Discipline.name_en).order_by(Discipline.code)))

    def service_data(self) -> dict[str, Any]:
        data = {name: getattr(self, name).data for name in self.FIELDS}
        for name in ("certificate_no", "organisation", "phone", "email"):
            data[name] = (data[name] or "").strip() or None
        data["name"] = data["name"].strip()
        data["disciplines"] = list(data["disciplines"] or [])
        return data
