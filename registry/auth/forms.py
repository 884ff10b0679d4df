"""Account forms: they parse and label the input; the rules live in ``auth.services``."""
from __future__ import annotations

from flask_babel import lazy_gettext as _l
from flask_wtf import FlaskForm
from wtforms import EmailField, PasswordField
from wtforms.validators import DataRequired


class LoginForm(FlaskForm):
    email = EmailField(_l("邮箱"), validators=[DataRequired()], render_kw={"autocomplete": "username"})
    password = PasswordField(_l("密码"), validators=[DataRequired()], render_kw={"autocomplete": "current-password"})
