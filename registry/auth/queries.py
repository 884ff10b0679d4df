"""Reading accounts (admins) and one's own tokens."""
from __future__ import annotations

from typing import Any

import sqlalchemy as sa

from registry.auth.models import User
from registry.auth.policy import ensure_admin
from registry.errors import NotFound
from registry.extensions import db
from registry.records.queries import sort, text_search, where_equal


def users_query(args: dict[str, Any], *, actor: Any) -> sa.Select:
    ensure_admin(actor)
    stmt = where_equal(sa.select(User), args, {"role": User.role, "active": User.active,
                                               "institution_id": User.institution_id})
    stmt = text_search(stmt, args.get("q"), User.email, User.display_name)
    return sort(stmt, args.get("sort"), {"email": User.email, "id": User.id, "last_login_at": User.last_login_at},
                User.id)


def get_user(user_id: int, *, actor: Any) -> User:
    ensure_admin(actor)
    user = db.session.get(User, user_id)
    if user is None:
        raise NotFound("用户不存在 / no such user")
    return user
