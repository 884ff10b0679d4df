"""Catalog forms: they parse and label the input; the rules live in ``catalog.services``."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import BooleanField, DateField, IntegerField, SelectField, SelectMultipleField, StringField, TextAreaField
from wtforms.validators import InputRequired, Optional

from registry.web.forms import VersionedForm, options
from registry.web.forms import blank as _blank

MODE_LABELS = {"P": _l("P（型式批准）"), "V": _l("V（强制检定）"), "P+V": _l("P+V（型式批准和强制检定）")}
FORM_LABELS = {"first_only": _l("只作首次检定"), "periodic": _l("周期检定")}
LEVEL_LABELS = {"province": _l("省级"), "city": _l("市级"), "county": _l("县级")}
LABELS = {"mode": MODE_LABELS, "verification_form": FORM_LABELS}
# Column labels for the history tables.
FIELD_LABELS = {
    "name": _l("名称"), "source_document": _l("发布文件"), "effective_from": _l("起始日期"),
    "declared_line_count": _l("文件所列条目数"), "is_partial": _l("部分条目"), "description": _l("说明"),
    "code": _l("序号"), "sub_name": _l("二级名称"), "mode": _l("监管方式"), "verification_form": _l("强制检定形式"),
    "scope_note": _l("适用范围说明"), "levels": _l("建标层级"),
    "is_demo": _l("演示数据"), "withdrawn_at": _l("撤回时间"), "withdrawn_reason": _l("撤回原因"),
}


class VersionForm(VersionedForm):
    name = StringField(_l("目录名称"), validators=[InputRequired(message=_l("必填"))])
    source_document = StringField(_l("发布文件"), validators=[InputRequired(message=_l("必填"))],
                                  description=_l("如 市场监管总局公告2020年第42号"))
    effective_from = DateField(_l("施行日期"), validators=[InputRequired(message=_l("必填"))])
    declared_line_count = IntegerField(_l("文件所列条目数"), validators=[InputRequired(message=_l("必填"))],
                                       description=_l("覆盖率报告在已录入条目少于此数时提示"))
    is_partial = BooleanField(_l("条目不完整（只录入了部分条目）"))
    description = TextAreaField(_l("说明"))

    def service_data(self) -> dict:
        return {name: getattr(self, name).data for name in
                ("name", "source_document", "effective_from", "declared_line_count", "is_partial", "description")}


class LevelsField(SelectMultipleField):
    """The levels of a line: stored as ``city,county``, chosen from a list."""

    def process_data(self, value):
        super().process_data([item for item in value.split(",") if item] if isinstance(value, str) else value)

    def process_formdata(self, valuelist):
        super().process_formdata([value for value in valuelist if value])


class LineForm(VersionedForm):
    code = StringField(_l("序号"), validators=[InputRequired(message=_l("必填"))])
    name = StringField(_l("器具名称"), validators=[InputRequired(message=_l("必填"))])
    sub_name = StringField(_l("二级名称"))
    mode = SelectField(_l("监管方式"), choices=options(MODE_LABELS.items()), default="V")
    verification_form = SelectField(_l("强制检定形式"), choices=options([("", "—")] + list(FORM_LABELS.items())),
                                    default="", filters=[_blank])
    effective_from = DateField(_l("起始日期"), validators=[Optional()],
                               description=_l("晚于目录施行日期才纳入的条目填写，如电动汽车充电桩"))
    scope_note = TextAreaField(_l("适用范围说明"))
    levels = LevelsField(_l("建标层级"), choices=options(LEVEL_LABELS.items()),
                         description=_l("应建社会公用计量标准的层级，可多选；不选为各级"))

    def service_data(self) -> dict:
        data = {name: getattr(self, name).data for name in
                ("code", "name", "sub_name", "mode", "effective_from", "scope_note")}
        data["verification_form"] = self.verification_form.data or None
        data["levels"] = self.levels.data or None
        return data
