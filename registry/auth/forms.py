"""Account forms: they parse and label the input; the rules live in ``auth.services``.

Field names follow the service's error fields (``current_password``,
``new_password``, ``password``, ``institution``, ``credit_code``), so a
refusal lands next to the field it is about.
"""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import BooleanField, EmailField, HiddenField, PasswordField, SelectField, StringField
from wtforms.validators import DataRequired, EqualTo, Length, Optional

ROLE_LABELS = {"admin": _l("管理员"), "regulator": _l("监管人员"), "institution": _l("机构用户")}


def role_choices():
    return list(ROLE_LABELS.items())


def role_choices_blank():
    """The roles after an empty first option: a new account's role is chosen, never defaulted to admin."""
    return [("", _l("— 请选择 —"))] + role_choices()


class LoginForm(FlaskForm):
    email = EmailField(_l("邮箱"), validators=[DataRequired()], render_kw={"autocomplete": "username"})
    password = PasswordField(_l("密码"), validators=[DataRequired()], render_kw={"autocomplete": "current-password"})


class PasswordChangeForm(FlaskForm):
    current_password = PasswordField(_l("当前密码"), validators=[DataRequired()],
                                     render_kw={"autocomplete": "current-password"})
    new_password = PasswordField(_l("新密码"), validators=[DataRequired()], render_kw={"autocomplete": "new-password"})
    new_password_repeat = PasswordField(
        _l("再次输入新密码"),
        validators=[DataRequired(), EqualTo("new_password", message=_l("两次输入的新密码不一致。"))],
        render_kw={"autocomplete": "new-password"})


class UserCreateForm(FlaskForm):
    email = EmailField(_l("邮箱"), validators=[DataRequired(), Length(max=254)], render_kw={"autocomplete": "off"})
    display_name = StringField(_l("姓名或称呼"), validators=[Optional(), Length(max=100)])
    role = SelectField(_l("角色"), choices=role_choices_blank, validators=[DataRequired()])
    # The service reports a bad credit code under ``institution``.
    institution = StringField(_l("所属机构统一社会信用代码"), validators=[Optional(), Length(max=40)])
    password = PasswordField(_l("初始密码"), validators=[DataRequired()], render_kw={"autocomplete": "new-password"})


class UserEditForm(FlaskForm):
    version = HiddenField()
    display_name = StringField(_l("姓名或称呼"), validators=[Optional(), Length(max=100)])
    role = SelectField(_l("角色"), choices=role_choices, validators=[DataRequired()])
    credit_code = StringField(_l("所属机构统一社会信用代码"), validators=[Optional(), Length(max=40)])
    active = BooleanField(_l("账号启用"))


class PasswordResetForm(FlaskForm):
    password = PasswordField(_l("新密码"), validators=[DataRequired()], render_kw={"autocomplete": "new-password"})

