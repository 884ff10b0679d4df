"""Institution forms: they parse and label the input; the rules live in ``institutions.services``."""
from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import HiddenField, SelectField, StringField
from wtforms.validators import DataRequired, InputRequired, Length, Optional

from registry.extensions import db
from registry.institutions.models import INSTITUTION_KIND_LABELS
from registry.institutions.services import SELF_SERVICE_FIELDS
from registry.web.labels import label, label_choices
from registry.reference.models import Region

SERVICE_FIELDS = ("credit_code", "name", "region_code", "serves_region_code", "kind", "contact", "phone")


class InstitutionForm(FlaskForm):
    credit_code = StringField(_l("统一社会信用代码"), validators=[DataRequired(), Length(max=40)],
                              description=_l("18 位，GB 32100"))
    name = StringField(_l("机构名称"), validators=[DataRequired(), Length(max=200)])
    region_code = SelectField(_l("地区"), validators=[InputRequired()])
    serves_region_code = SelectField(_l("服务区域"), validators=[Optional()],
                                     description=_l("留空为本机构所属地区；省级机构选全省"))
    kind = SelectField(_l("机构类型"), validators=[InputRequired()])
    contact = StringField(_l("联系人"), validators=[Optional(), Length(max=100)])
    phone = StringField(_l("电话"), validators=[Optional(), Length(max=50)])
    version = HiddenField()

    def __init__(self, *args: Any, staff: bool, **kwargs: Any):
        super().__init__(*args, **kwargs)
        if not staff:
            # An institution keeps its own contact details; the rest is the regulator's.
            for name in SERVICE_FIELDS:
                if name not in SELF_SERVICE_FIELDS:
                    delattr(self, name)
            return
        self.kind.choices = label_choices(INSTITUTION_KIND_LABELS)
        regions = [
            (code, ("　" * {"province": 0, "city": 1}.get(level, 2)) + label((name, name_en or name)))
            for code, name, name_en, level in db.session.execute(
                sa.select(Region.code, Region.name, Region.name_en, Region.level).order_by(Region.code))
        ]
        self.region_code.choices = [("", "—")] + regions
        self.serves_region_code.choices = [("", _l("本机构所属地区"))] + regions

    def service_data(self) -> dict[str, Any]:
        data = {}
        for name in SERVICE_FIELDS:
            field = getattr(self, name, None)
            if field is not None:
                value = field.data.strip() if isinstance(field.data, str) else field.data
                data[name] = value or None
        return data
