"""Standard forms: they parse and label the input; the rules live in ``standards.services``."""
from __future__ import annotations

from datetime import date
from typing import Any

import sqlalchemy as sa
from flask import request, url_for
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, HiddenField, SelectField, StringField
from wtforms.validators import DataRequired, InputRequired, Length, Optional
from wtforms.validators import ValidationError as FieldError

from registry.records.codes import normalize_regulation_code
from registry.errors import DomainError, ValidationError
from registry.extensions import db
from registry.institutions.models import Institution
from registry.records.queries import listing
from registry.web.labels import label, label_choices, split_codes
from registry.reference.models import Discipline
from registry.regulations.models import Regulation
from registry.standards.models import CATEGORY_LABELS, STATUS_LABELS, MeasurementStandard

BUILD_KIND_LABELS = {"new": ("新建", "New"), "renovated": ("改造", "Renovated")}
# The form fields sent to the service as they are (links and the version are handled apart).
SERVICE_FIELDS = ("certificate_no", "name", "code", "category", "discipline_code", "institution_id", "range_text",
                  "uncertainty_text", "issuer", "issued_on", "valid_until", "responsible_person", "status",
                  "status_since", "is_carbon", "build_kind", "built_on")


def _id_or_none(value: Any) -> int | None:
    return None if value in (None, "") else int(value)


class StandardForm(FlaskForm):
    certificate_no = StringField(_l("证书编号"), validators=[DataRequired(), Length(max=100)],
                                 description=_l("如 [2016]赣量标证字第006号"))
    name = StringField(_l("计量标准名称"), validators=[DataRequired(), Length(max=300)])
    code = StringField(_l("计量标准代码"), validators=[Optional(), Length(max=20)],
                       description=_l("JJF 1022，8 位数字"))
    category = SelectField(_l("类别"), validators=[InputRequired()])
    discipline_code = SelectField(_l("专业"), validators=[Optional()])
    institution_id = SelectField(_l("建标单位"), coerce=_id_or_none, validators=[InputRequired()])
    range_text = StringField(_l("测量范围"), validators=[Optional(), Length(max=300)])
    uncertainty_text = StringField(_l("不确定度/准确度等级/最大允许误差"), validators=[Optional(), Length(max=300)])
    issuer = StringField(_l("发证机关"), validators=[Optional(), Length(max=200)])
    issued_on = DateField(_l("发证日期"), validators=[InputRequired()])
    valid_until = DateField(_l("有效期至"), validators=[Optional()],
                            description=_l("留空则按发证日期加有效期年限计算"))
    responsible_person = StringField(_l("负责人"), validators=[Optional(), Length(max=100)])
    status = SelectField(_l("状态"), validators=[InputRequired()])
    status_since = DateField(_l("状态生效日期"), validators=[Optional()],
                             description=_l("状态生效的日期。封存、撤销或变更中的标准若不知日期请留空：它在任何日期都不计为在用"))
    is_carbon = BooleanField(_l("双碳计量标准"))
    build_kind = SelectField(_l("建设类型"), validators=[Optional()])
    built_on = DateField(_l("建成日期"), validators=[Optional()])
    catalog_lines = StringField(_l("服务的强检目录条目"), validators=[Optional(), Length(max=4000)],
                                description=_l("输入序号或名称（如 压力表）查找，多个以分号或换行分隔"))
    regulations = StringField(_l("依据的检定规程"), validators=[Optional(), Length(max=4000)],
                              description=_l("输入规程编号或名称查找（如 JJG 52-2013），多个以分号或换行分隔"))
    version = HiddenField()

    def __init__(self, *args: Any, actor: Any, staff: bool, editing: bool, **kwargs: Any):
        super().__init__(*args, **kwargs)
        self.actor = actor
        self.missing_national: list[str] = []
        self.category.choices = label_choices(CATEGORY_LABELS)
        self.status.choices = label_choices(STATUS_LABELS)
        self.build_kind.choices = label_choices(BUILD_KIND_LABELS, blank="—")
        self.discipline_code.choices = [("", "—")] + [
            (code, f"{code} {label((name, name_en))}")
            for code, name, name_en in db.session.execute(
                sa.select(Discipline.code, Discipline.name, Discipline.name_en).order_by(Discipline.code))
        ]
        if staff:
            holders = listing(Institution, actor=actor).with_only_columns(Institution.id, Institution.name)
            # No holder preselected: the first of a long list is nobody's choice.
            self.institution_id.choices = [("", gettext("— 请选择 —"))] + [
                (id_, name) for id_, name in db.session.execute(holders.order_by(Institution.name).limit(5000))]
        else:
            del self.institution_id  # an institution files under its own name only
        # A change of status fills in today's date in the browser (static/standard-form.js); still editable.
        self.status_since.render_kw = {"data-today": date.today().isoformat()}
        # Search-as-you-type pickers (static/picker.js); without the script they are plain text fields.
        self.catalog_lines.render_kw = {"data-suggest": url_for("catalog_pages.suggest"),
                                        "data-empty": gettext("现行目录中没有匹配的条目")}
        self.regulations.render_kw = {"data-suggest": url_for("regulations_pages.suggest"),
                                      "data-empty": gettext("没有匹配的规程")}
        self.original_status: tuple[str, date | None] | None = None
        if editing:
            # An edit keeps a date: clearing it would not mean "compute it again".
            self.valid_until.validators = [InputRequired()]
            self.valid_until.flags.required = True
            self.valid_until.description = ""

    def remember_status(self, standard: MeasurementStandard) -> None:
        """The stored status and its date: a change of status must not silently keep the old date."""
        self.original_status = (standard.status, standard.status_since)
        self.status_since.render_kw = {**self.status_since.render_kw, "data-status": standard.status,
                                       "data-since": standard.status_since.isoformat() if standard.status_since else ""}

    def validate_status_since(self, field: DateField) -> None:
        if self.original_status is None:
            return
        status, since = self.original_status
        if self.status.data != status and since is not None and field.data == since:
            raise FieldError(gettext("状态已改变：请填写新状态生效的日期（不知道日期则留空）。"))

    def fill_links(self, standard: MeasurementStandard) -> None:
        self.catalog_lines.data = "；".join(line.code for line in sorted(standard.catalog_lines, key=lambda x: x.code))
        self.regulations.data = "；".join(sorted(reg.code for reg in standard.regulations))

    def service_data(self) -> dict[str, Any]:
        """What the service takes, from the form: empty text is ``None``."""
        data = {}
        for name in SERVICE_FIELDS:
            field = getattr(self, name, None)
            if field is None:
                continue
            value = field.data
            if isinstance(value, str):
                value = value.strip() or None
            data[name] = value
        return data

    def link_ids(self, current: MeasurementStandard | None) -> tuple[dict[str, list[int]], dict[str, list[str]]]:
        """Catalog line and regulation ids for what was typed, and the errors (by field).

        What was typed is read by the importer's own rule
        (:class:`importers.references.WorkbookReferences`), so a form accepts
        what a workbook accepts: a line's code, its 一级·二级 label, a second- or
        first-level name (压力表); a regulation code in any spelling.  A missing
        national regulation is registered first when the user may and gave its title.
        """
        from importers.references import WorkbookReferences, catalog_in_force

        today = date.today()
        refs = WorkbookReferences(today=today, catalog=catalog_in_force(today))
        if current is not None:  # lines of an older catalog the standard already serves stay accepted
            in_force = refs.catalog.id if refs.catalog is not None else None
            for line in current.catalog_lines:
                if line.catalog_version_id != in_force:
                    refs.define_line(line.id, line.code, line.name, line.sub_name)
        errors: dict[str, list[str]] = {}
        links: dict[str, list[int]] = {"catalog_line_ids": [], "regulation_ids": []}
        try:
            links["catalog_line_ids"] = refs.catalog_lines(split_codes(self.catalog_lines.data))
        except ValidationError as error:
            errors["catalog_lines"] = [error.message]
        tokens = split_codes(self.regulations.data)
        self.missing_national = [code for code in _missing(refs, tokens) if _is_national(code)]
        self._register_missing(refs, errors)
        try:
            links["regulation_ids"] = refs.regulations(tokens)
        except ValidationError as error:
            errors.setdefault("regulations", []).append(error.message)
        return links, errors

    @property
    def may_register_regulations(self) -> bool:
        from registry.auth.policy import ensure_can_write

        try:
            ensure_can_write(self.actor, Regulation)
        except DomainError:
            return False
        return True

    def new_regulation_title(self, code: str) -> str:
        return (request.form.get(f"new_regulation:{code}") or "").strip()

    def _register_missing(self, refs: Any, errors: dict[str, list[str]]) -> None:
        """Register the missing national regulations given a title (the save's transaction keeps or drops them)."""
        from registry.regulations.services import create_regulation

        if not self.missing_national or not self.may_register_regulations:
            return
        registered = []
        for code in self.missing_national:
            title = self.new_regulation_title(code)
            if not title:
                continue
            try:
                regulation = create_regulation({"code": code, "title": title}, actor=self.actor)
            except DomainError as error:
                errors.setdefault("regulations", []).extend(
                    f"{code}: {message}" for messages in (error.errors or {"": [error.message]}).values()
                    for message in messages)
                continue
            refs.define_regulation(regulation.code, regulation.id)
            registered.append(code)
        self.missing_national = [code for code in self.missing_national if code not in registered]


def _missing(refs: Any, tokens: list[str]) -> list[str]:
    """The typed regulation codes the importer's rule does not find, in its normal spelling when it has one."""
    out = []
    for token in tokens:
        try:
            refs.regulations([token])
        except ValidationError:
            try:
                out.append(normalize_regulation_code(token))
            except ValidationError:
                out.append(token)
    return out


def _is_national(code: str) -> bool:
    from registry.records.codes import parse_regulation_code

    try:
        return parse_regulation_code(code)["province"] is None
    except ValidationError:
        return False
