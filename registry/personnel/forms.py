"""Staff forms: they parse and label the input; the rules live in ``personnel.services``."""
from __future__ import annotations

import re

from flask_babel import lazy_gettext as _l
from wtforms import DateField, SelectField, StringField, TextAreaField
from wtforms.validators import InputRequired, Optional

from registry.web.forms import VersionedForm, options
from registry.web.forms import blank as _blank

LEVEL_LABELS = {"1": _l("一级注册计量师"), "2": _l("二级注册计量师")}
STATUS_LABELS = {"valid": _l("注册有效"), "expiring": _l("即将到期"), "expired": _l("已过期")}
STATUS_TAGS = {"valid": "tag-ok", "expiring": "tag-warn", "expired": "tag-bad"}
LABELS = {"level": LEVEL_LABELS, "status": STATUS_LABELS, "status_tag": STATUS_TAGS}
# Column labels for the history table (the ID number's hash is never shown).
FIELD_LABELS = {
    "name": _l("姓名"), "institution_id": _l("所在机构"), "employed_from": _l("入职日期"),
    "employed_until": _l("离职日期"), "id_number_mask": _l("身份证号"), "registration_no": _l("注册证号"),
    "registration_level": _l("注册级别"), "registration_items": _l("注册专业项目"), "registered_on": _l("注册日期"),
    "registration_valid_until": _l("注册有效期至"),
    "is_demo": _l("演示数据"), "withdrawn_at": _l("撤回时间"), "withdrawn_reason": _l("撤回原因"),
}

_ITEM_SEPARATORS = re.compile(r"[\n\r;；,，、]+")


def _int_or_none(value):
    return int(value) if value not in (None, "") else None


class PersonForm(VersionedForm):
    name = StringField(_l("姓名"), validators=[InputRequired(message=_l("必填"))])
    institution_id = SelectField(_l("所在机构"), coerce=_int_or_none, validate_choice=False,
                                 validators=[InputRequired(message=_l("必填"))])
    employed_from = DateField(_l("入职日期"), validators=[Optional()])
    employed_until = DateField(_l("离职日期"), validators=[Optional()])
    id_number = StringField(_l("身份证号"), render_kw={"autocomplete": "off"},
                            description=_l("只保存用于比对的散列值和掩码，不保存号码本身；留空则不改变"))
    registration_no = StringField(_l("注册证号"))
    registration_level = SelectField(_l("注册级别"), choices=options([("", _l("未注册"))] + list(LEVEL_LABELS.items())),
                                     default="", filters=[_blank])
    registration_items = TextAreaField(_l("注册专业项目"), description=_l("每行一项，或以顿号、逗号分隔"))
    registered_on = DateField(_l("注册日期"), validators=[Optional()])
    registration_valid_until = DateField(_l("注册有效期至"), validators=[Optional()])

    def load(self, person) -> None:
        """Fill the form from a record (the ID number is never shown, only its mask beside the field)."""
        self.process(obj=person)
        self.id_number.data = ""
        self.registration_items.data = "\n".join(person.registration_items or [])
        self.registration_level.data = person.registration_level or ""

    def service_data(self) -> dict:
        data = {name: getattr(self, name).data for name in
                ("name", "institution_id", "employed_from", "employed_until", "registered_on",
                 "registration_valid_until")}
        data["registration_no"] = (self.registration_no.data or "").strip() or None
        data["registration_level"] = self.registration_level.data or None
        items = [item.strip() for item in _ITEM_SEPARATORS.split(self.registration_items.data or "")]
        data["registration_items"] = [item for item in items if item] or None
        if (self.id_number.data or "").strip():
            data["id_number"] = self.id_number.data.strip()
        return data
