"""Account actions: users, passwords, sessions and API tokens.

Every door (login page, API, CLI) authenticates and ends sessions through
these functions, so the rules hold everywhere: passwords of at least 12
characters that are not common, one generic answer to bad credentials, and a
per-user ``session_epoch`` whose bump ends every session and token at once.
"""
from __future__ import annotations

import hashlib
import logging
import re
import secrets
from datetime import timedelta
from functools import lru_cache
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from flask import current_app
from sqlalchemy.orm import joinedload
from werkzeug.security import check_password_hash, generate_password_hash

from registry.audit.services import record
from registry.auth.models import ROLES, ApiToken, User
from registry.auth.policy import ensure_admin
from registry.records.codes import normalize_credit_code
from registry.database.base import utcnow
from registry.errors import Conflict, DomainError, ValidationError
from registry.extensions import db
from registry.institutions.models import Institution

MIN_PASSWORD_LENGTH = 12
_EMAIL_RE = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
_COMMON_PASSWORDS = Path(__file__).with_name("common_passwords.txt")
TOKEN_PREFIX = "msr_"
# A token's last use is written at most this often, not on every request.
LAST_USED_RESOLUTION = timedelta(minutes=1)

_log = logging.getLogger(__name__)


class InvalidCredentials(DomainError):
    status = 401
    title = "Unauthorized"


BAD_CREDENTIALS = "邮箱或密码错误，或账号已停用 / wrong email or password, or the account is disabled"


@lru_cache(maxsize=1)
def common_passwords() -> frozenset[str]:
    lines = _COMMON_PASSWORDS.read_text(encoding="utf-8").splitlines()
    return frozenset(line.strip().lower() for line in lines if line.strip() and not line.startswith("#"))


def validate_password(password: str, *, email: str | None = None, field: str = "password") -> None:
    """Refuse short, common, one-character and email-derived passwords."""
    if not isinstance(password, str) or len(password) < MIN_PASSWORD_LENGTH:
        raise ValidationError(
            f"密码至少{MIN_PASSWORD_LENGTH}个字符 / the password needs at least {MIN_PASSWORD_LENGTH} characters",
            field=field,
        )
    folded = password.strip().lower()
    local_part = (email or "").strip().lower().partition("@")[0]
    if (folded in common_passwords() or len(set(folded)) == 1
            or (local_part and folded in (local_part, (email or "").strip().lower()))):
        raise ValidationError("密码过于常见或易猜 / the password is too common or easy to guess", field=field)


def create_user(*, email: str, password: str, role: str, credit_code: str | None = None,
                display_name: str | None = None, actor: User | None) -> User:
    """Create an account; an institution user belongs to one institution."""
    ensure_admin(actor)
    email = email.strip().lower()
    if not _EMAIL_RE.match(email):
        raise ValidationError(f"邮箱格式不正确 / not an email address: {email!r}", field="email")
    if role not in ROLES:
        raise ValidationError(f"未知角色 / unknown role {role!r}", field="role")
    validate_password(password, email=email)
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


# --- Signing in and out -------------------------------------------------------

@lru_cache(maxsize=1)
def _dummy_hash() -> str:
    """Checked when the email is unknown, so a miss costs as long as a wrong password.

    Made on first use, not at import (a scrypt hash takes about 0.1 s, which every command paid).
    """
    return generate_password_hash("not a real password, only for timing", method="scrypt")


def authenticate(email: str, password: str, *, remote_addr: str | None) -> User:
    """Return the active user with these credentials, or raise one generic error."""
    folded = (email or "").strip().lower()
    user = db.session.scalar(sa.select(User).where(User.email == folded)) if folded else None
    if user is None:
        check_password_hash(_dummy_hash(), password or "")
        ok = False
    else:
        ok = user.check_password(password or "") and user.active
    if not ok:
        _log.warning("failed login for %r from %s", folded, remote_addr)
        raise InvalidCredentials(BAD_CREDENTIALS)
    # A plain UPDATE: signing in is not an edit, so it must not bump the version (ETag).
    db.session.execute(sa.update(User).where(User.id == user.id).values(last_login_at=utcnow())
                       .execution_options(synchronize_session="fetch"))
    _log.info("login %s from %s", user.email, remote_addr)
    return user


def end_sessions(user: User) -> None:
    """End every session and token of ``user`` (logout everywhere)."""
    user.session_epoch = (user.session_epoch or 0) + 1
    now = utcnow()
    db.session.execute(sa.update(ApiToken).where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None))
                       .values(revoked_at=now).execution_options(synchronize_session="fetch"))
    db.session.flush()


def change_password(user: User, current_password: str, new_password: str, *, actor) -> None:
    """Change one's own password; every other session and token ends."""
    if actor is not None and actor.id != user.id:
        ensure_admin(actor)
    if not user.check_password(current_password or ""):
        raise ValidationError("当前密码不正确 / the current password is wrong", field="current_password")
    validate_password(new_password, email=user.email, field="new_password")
    if user.check_password(new_password):
        raise ValidationError("新密码不能与当前密码相同 / choose a different password", field="new_password")
    user.set_password(new_password)
    end_sessions(user)
    record("password_change", user, actor=actor, before=None, after={"password": "changed"})


def reset_password(user: User, new_password: str, *, actor) -> None:
    """Set a user's password (admins); every session and token of theirs ends."""
    ensure_admin(actor)
    validate_password(new_password, email=user.email)
    user.set_password(new_password)
    end_sessions(user)
    record("password_reset", user, actor=actor, before=None, after={"password": "reset"})


def set_user_active(user: User, active: bool, *, actor) -> None:
    """Enable or disable an account (admins); disabling ends its sessions and tokens."""
    ensure_admin(actor)
    if not isinstance(active, bool):
        raise ValidationError("应为是或否 / must be true or false", field="active")
    if not active and actor is not None and actor.id == user.id:
        raise Conflict("不能停用自己的账号 / you cannot disable your own account", field="active")
    if user.active == active:
        return
    user.active = active
    if not active:
        end_sessions(user)
    db.session.flush()
    record("update", user, actor=actor, before={"active": not active}, after={"active": active})


def update_user(user: User, data: dict[str, Any], *, actor, expected_version: int | None) -> User:
    """Change an account's role, institution, display name or active flag (admins)."""
    from registry.records.services import check_version

    ensure_admin(actor)
    check_version(user, expected_version)
    role = data.get("role", user.role)
    if role not in ROLES:
        raise ValidationError(f"未知角色 / unknown role {role!r}", field="role")
    institution_id = user.institution_id
    if "credit_code" in data or role != user.role:
        code = data.get("credit_code")
        if role == "institution":
            if not code and user.institution_id is None:
                raise ValidationError("机构用户须指定所属机构 / an institution user needs an institution",
                                      field="credit_code")
            if code:
                code = normalize_credit_code(code)
                institution = db.session.scalar(sa.select(Institution).where(Institution.credit_code == code))
                if institution is None:
                    raise ValidationError(f"机构不存在 / no institution with credit code {code}", field="credit_code")
                institution_id = institution.id
        elif code:
            raise ValidationError("只有机构用户属于机构 / only institution users belong to an institution",
                                  field="credit_code")
        else:
            institution_id = None
    if role != user.role and actor is not None and actor.id == user.id:
        raise Conflict("不能更改自己的角色 / you cannot change your own role", field="role")
    before = {"role": user.role, "institution_id": user.institution_id, "display_name": user.display_name}
    user.role, user.institution_id = role, institution_id
    if "display_name" in data:
        user.display_name = (data["display_name"] or "").strip()[:100] or None
    after = {"role": user.role, "institution_id": user.institution_id, "display_name": user.display_name}
    if before != after:
        db.session.flush()
        record("update", user, actor=actor, before={k: v for k, v in before.items() if after[k] != v},
               after={k: v for k, v in after.items() if before[k] != v})
    if "active" in data:
        set_user_active(user, data["active"], actor=actor)
    return user


# --- API tokens -----------------------------------------------------------------


def _token_hash(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8")).hexdigest()


def issue_token(user: User, *, name: str | None = None) -> tuple[str, ApiToken]:
    """Create a token for ``user``; the raw value is returned once and never stored."""
    if not user.active:
        raise InvalidCredentials(BAD_CREDENTIALS)
    raw = TOKEN_PREFIX + secrets.token_urlsafe(32)
    now = utcnow()
    token = ApiToken(user_id=user.id, name=(name or "").strip()[:100] or None, token_hash=_token_hash(raw),
                     session_epoch=user.session_epoch or 0, created_at=now,
                     expires_at=now + timedelta(hours=current_app.config["API_TOKEN_TTL_HOURS"]))
    db.session.add(token)
    db.session.flush()
    return raw, token


def user_for_token(raw: str) -> User | None:
    """The user a bearer token stands for, or ``None`` if it is unknown, expired, revoked or outdated."""
    if not raw or len(raw) > 200:
        return None
    # The token and its user in one statement: every API request asks this first.
    token = db.session.scalar(sa.select(ApiToken).options(joinedload(ApiToken.user))
                              .where(ApiToken.token_hash == _token_hash(raw)))
    now = utcnow()
    if token is None or not token.is_valid(now):
        return None
    if token.last_used_at is None or now - token.last_used_at > LAST_USED_RESOLUTION:
        _note_use(token, now)
    return token.user


def _note_use(token: ApiToken, now) -> None:
    """Note when a token was used, unless the database cannot take the write now.

    A read request on SQLite begins without the write lock
    (:mod:`registry.database.engine`), and taking it mid-transaction cannot wait:
    while another request writes, the time is noted by a later request
    instead of failing this one.
    """
    from registry.database.engine import is_lock_timeout

    try:
        with db.session.begin_nested():
            token.last_used_at = now
    except sa.exc.OperationalError as exc:
        if not is_lock_timeout(exc):
            raise


def user_tokens(user: User) -> sa.Select:
    """The tokens of ``user`` that still work, newest first."""
    return (sa.select(ApiToken)
            .where(ApiToken.user_id == user.id, ApiToken.revoked_at.is_(None), ApiToken.expires_at > utcnow(),
                   ApiToken.session_epoch == user.session_epoch)
            .order_by(ApiToken.id.desc()))


def revoke_token(token_id: int, *, actor: User) -> ApiToken:
    """Revoke one of the actor's own tokens (another's is not found)."""
    from registry.errors import NotFound

    token = db.session.get(ApiToken, token_id)
    if token is None or token.user_id != actor.id:
        raise NotFound("令牌不存在 / no such token")
    if token.revoked_at is None:
        token.revoked_at = utcnow()
        db.session.flush()
    return token
