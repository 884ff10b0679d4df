"""Account actions."""
from __future__ import annotations

import re

import sqlalchemy as sa

from registry.audit.services import record
from registry.auth.models import ROLES, User
from registry.codes import normalize_credit_code
from registry.errors import Conflict, ValidationError
from registry.extensions import db
from registry.institutions.models import Institution

MIN_PASSWORD_LENGTH = 12
_EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def validate_password(password: str) -> None:
    if len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationError(
            f"密码至少{MIN_PASSWORD_LENGTH}个字符 / the password needs at least {MIN_PASSWORD_LENGTH} characters",
            field="password",
        )


def create_user(*, email: str, password: str, role: str, credit_code: str | None = None,
                display_name: str | None = None, actor: User | None) -> User:
    """Create an account; an institution user belongs to one institution."""
    email = email.strip().lower()
    if not _EMAIL_RE.match(email):
        raise ValidationError(f"邮箱格式不正确 / not an email address: {email!r}", field="email")
    if role not in ROLES:
        raise ValidationError(f"未知角色 / unknown role {role!r}", field="role")
    validate_password(password)
    institution = None
    if role == "institution":
        if not credit_code:
            raise ValidationError("机构用户须指定所属机构 / an institution user needs --institution", field="institution")
        code = normalize_credit_code(credit_code, field="institution")
        institution = db.session.scalar(sa.select(Institution).where(Institution.credit_code == code))
        if institution is None:
            raise ValidationError(f"机构不存在 / no institution with credit code {code}", field="institution")
    elif credit_code:
        raise ValidationError("只有机构用户属于机构 / only institution users belong to an institution", field="institution")
    if db.session.scalar(sa.select(User.id).where(User.email == email)):
        raise Conflict(f"邮箱已注册 / {email} already has an account", field="email")
    user = User(email=email, role=role, institution=institution, display_name=display_name)
    user.set_password(password)
    db.session.add(user)
    record("create", user, actor=actor, after={"email": email, "role": role,
                                              "institution_id": institution.id if institution else None})
    return user
