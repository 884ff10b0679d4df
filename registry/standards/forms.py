"""Standard forms: they parse and label the input; the rules live in ``standards.services``."""
from __future__ import annotations

from datetime import date
from typing import Any

import sqlalchemy as sa
from flask_babel import gettext
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, DateField, HiddenField, SelectField, StringField, TextAreaField
from wtforms.validators import DataRequired, InputRequired, Length, Optional
from wtforms.validators import ValidationError as FieldError

from registry.catalog.models import CatalogLine
from registry.codes import normalize_regulation_code
from registry.errors import ValidationError
from registry.extensions import db
from registry.institutions.models import Institution
from registry.queries import listing
from registry.record_pages import label, label_choices, split_codes
from registry.reference.models import Discipline
from registry.regulations.models import Regulation
from registry.standards.models import CATEGORY_LABELS, STATUS_LABELS, MeasurementStandard

BUILD_KIND_LABELS = {"new": ("新建", "New"), "renovated": ("改造", "Renovated")}
# The form fields sent to the service as they are (links and the version are handled apart).
SERVICE_FIELDS = ("certificate_no", "name", "code", "category", "discipline_code", "institution_id", "range_text",
                  "uncertainty_text", "issuer", "issued_on", "valid_until", "responsible_person", "status",
                  "status_since", "is_carbon", "build_kind", "built_on")


class StandardForm(FlaskForm):
    certificate_no = StringField(_l("证书编号"), validators=[DataRequired(), Length(max=100)],
                                 description=_l("如 [2016]赣量标证字第006号"))
    name = StringField(_l("计量标准名称"), validators=[DataRequired(), Length(max=300)])
    code = StringField(_l("计量标准代码"), validators=[Optional(), Length(max=20)],
                       description=_l("JJF 1022，8 位数字"))
    category = SelectField(_l("类别"), validators=[InputRequired()])
    discipline_code = SelectField(_l("专业"), validators=[Optional()])
    institution_id = SelectField(_l("建标单位"), coerce=int, validators=[InputRequired()])
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
    catalog_lines = TextAreaField(_l("服务的强检目录条目"), validators=[Optional(), Length(max=4000)],
                                  description=_l("目录条目编号，每行一个或以逗号分隔"))
    regulations = TextAreaField(_l("依据的检定规程"), validators=[Optional(), Length(max=4000)],
                                description=_l("规程编号，如 JJG 225-2001，每行一个或以逗号分隔"))
    version = HiddenField()

    def __init__(self, *args: Any, actor: Any, staff: bool, editing: bool, **kwargs: Any):
        super().__init__(*args, **kwargs)
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
            self.institution_id.choices = [(id_, name) for id_, name in
                                           db.session.execute(holders.order_by(Institution.name).limit(5000))]
        else:
            del self.institution_id  # an institution files under its own name only
        # A change of status fills in today's date in the browser (static/standard-form.js); still editable.
        self.status_since.render_kw = {"data-today": date.today().isoformat()}
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
        self.catalog_lines.data = "\n".join(line.code for line in sorted(standard.catalog_lines, key=lambda x: x.code))
        self.regulations.data = "\n".join(sorted(reg.code for reg in standard.regulations))

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
        """Catalog line and regulation ids for the codes typed, and the codes not found (by field)."""
        errors: dict[str, list[str]] = {}
        lines, missing_lines = _line_ids(split_codes(self.catalog_lines.data), current)
        if missing_lines:
            errors["catalog_lines"] = [gettext("强检目录中没有：%(codes)s", codes="、".join(missing_lines))]
        regulations, missing_regulations = _regulation_ids(split_codes(self.regulations.data))
        if missing_regulations:
            errors["regulations"] = [gettext("规程不存在：%(codes)s", codes="、".join(missing_regulations))]
        return {"catalog_line_ids": lines, "regulation_ids": regulations}, errors


def _line_ids(codes: list[str], current: MeasurementStandard | None) -> tuple[list[int], list[str]]:
    """Codes in the catalog in force, or among the lines the standard already serves (an older catalog)."""
    from importers.references import catalog_in_force

    if not codes:
        return [], []
    by_code: dict[str, int] = {}
    if current is not None:
        by_code.update({line.code: line.id for line in current.catalog_lines})
    catalog = catalog_in_force(date.today())
    if catalog is not None:
        by_code.update(db.session.execute(
            sa.select(CatalogLine.code, CatalogLine.id)
            .where(CatalogLine.catalog_version_id == catalog.id, CatalogLine.withdrawn_at.is_(None),
                   CatalogLine.code.in_(codes))).all())
    return [by_code[c] for c in codes if c in by_code], [c for c in codes if c not in by_code]


def _regulation_ids(codes: list[str]) -> tuple[list[int], list[str]]:
    normal: dict[str, str] = {}
    missing = []
    for code in codes:
        try:
            normal[code] = normalize_regulation_code(code)
        except ValidationError:
            missing.append(code)
    found = dict(db.session.execute(
        sa.select(Regulation.code, Regulation.id)
        .where(Regulation.code.in_(set(normal.values())), Regulation.withdrawn_at.is_(None))).all()) if normal else {}
    missing += [code for code, n in normal.items() if n not in found]
    return sorted({found[n] for n in normal.values() if n in found}), missing

