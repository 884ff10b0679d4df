"""Plan and target forms: they parse and label the input; the rules live in ``indicators.services``."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from wtforms import DateField, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired

from registry.web.forms import VersionedForm, options

COMPARATOR_LABELS = {">=": "≥", "<=": "≤", "=": "=", "between": _l("区间（下限–上限）")}


class PlanForm(VersionedForm):
    name = StringField(_l("规划名称"), validators=[InputRequired(message=_l("必填"))], description=_l("如 2026–2030"))
    source_document = StringField(_l("依据文件"))
    starts_on = DateField(_l("起始日期"), validators=[InputRequired(message=_l("必填"))])
    deadline = DateField(_l("期限"), validators=[InputRequired(message=_l("必填"))])
    description = TextAreaField(_l("说明"))

    def service_data(self) -> dict:
        data = {name: getattr(self, name).data for name in ("name", "starts_on", "deadline")}
        data["source_document"] = self.source_document.data or None
        data["description"] = self.description.data or None
        return data


class TargetForm(VersionedForm):
    indicator_key = SelectField(_l("指标"))
    region_code = SelectField(_l("地区"), description=_l("全省，或某设区市（全省指标只能设全省目标）"))
    comparator = SelectField(_l("比较"), choices=options(COMPARATOR_LABELS.items()), default=">=")
    target = StringField(_l("目标值"), validators=[InputRequired(message=_l("必填"))],
                         description=_l("比率填小数，如 0.9 表示 90%"))
    target_max = StringField(_l("上限（区间目标）"))

    def service_data(self, plan_id: int) -> dict:
        return {"plan_id": plan_id, "indicator_key": self.indicator_key.data, "region_code": self.region_code.data,
                "comparator": self.comparator.data, "target": self.target.data,
                "target_max": self.target_max.data or None}
