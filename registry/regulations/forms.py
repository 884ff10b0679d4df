"""Regulation forms: they parse and label the input; the rules live in ``regulations.services``."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_babel import lazy_pgettext
from wtforms import BooleanField, DateField, SelectField, StringField
from wtforms.validators import InputRequired, Optional

from registry.web.forms import VersionedForm, options
from registry.web.forms import blank as _blank

SERIES_LABELS = {"JJG": _l("JJG 检定规程"), "JJF": _l("JJF 技术规范")}
KIND_LABELS = {
    "verification_regulation": lazy_pgettext("regulation kind", "检定规程"),
    "calibration_specification": _l("校准规范"),
    "technical_specification": _l("技术规范"),
}
LEVEL_LABELS = {"national": _l("国家"), "local": _l("地方")}
STATUS_LABELS = {"planned": _l("计划"), "drafting": _l("起草中"), "published": _l("已发布"),
                 "implemented": _l("已实施"), "abolished": _l("已废止")}
LABELS = {"series": SERIES_LABELS, "kind": KIND_LABELS, "level": LEVEL_LABELS, "status": STATUS_LABELS}
# Column labels for the history table.
FIELD_LABELS = {
    "code": _l("规程编号"), "series": _l("系列"), "province": _l("省份"), "number": _l("编号"), "year": _l("年份"),
    "title": _l("规程名称"), "kind": _l("类别"), "level": _l("级别"), "status": _l("状态"),
    "published_on": _l("发布日期"), "implemented_on": _l("实施日期"), "abolished_on": _l("废止日期"),
    "is_urgent": _l("地方急需"), "is_carbon": _l("双碳相关"),
    "is_demo": _l("演示数据"), "withdrawn_at": _l("撤回时间"), "withdrawn_reason": _l("撤回原因"),
}


class RegulationForm(VersionedForm):
    code = StringField(_l("规程编号"), validators=[InputRequired(message=_l("必填"))],
                       description=_l("如 JJG 225-2001、JJG(赣) 123-2024；全角括号、各种破折号均可，保存为统一格式"))
    title = StringField(_l("规程名称"), validators=[InputRequired(message=_l("必填"))])
    kind = SelectField(_l("类别"), choices=options([("", _l("按编号判断"))] + list(KIND_LABELS.items())),
                       default="", filters=[_blank])
    status = SelectField(_l("状态"), choices=options([("", _l("按发布日期判断"))] + list(STATUS_LABELS.items())),
                         default="", filters=[_blank])
    published_on = DateField(_l("发布日期"), validators=[Optional()])
    implemented_on = DateField(_l("实施日期"), validators=[Optional()])
    abolished_on = DateField(_l("废止日期"), validators=[Optional()])
    is_urgent = BooleanField(_l("地方急需"))
    is_carbon = BooleanField(_l("双碳相关"))

    def service_data(self) -> dict:
        """What the service takes; an empty choice lets the service derive it (create) or keep it (edit)."""
        data = {name: getattr(self, name).data for name in
                ("code", "title", "published_on", "implemented_on", "abolished_on", "is_urgent", "is_carbon")}
        for name in ("kind", "status"):
            if getattr(self, name).data:
                data[name] = getattr(self, name).data
        return data
