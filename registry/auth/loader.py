"""flask-login's user loader: a session is valid only for the current epoch."""
from __future__ import annotations

from registry.auth.models import User
from registry.extensions import db, login_manager


@login_manager.user_loader
def load_user(session_id: str) -> User | None:
    try:
        user_id, epoch = (int(part) for part in session_id.split(":", 1))
    except ValueError:
        return None
    user = db.session.get(User, user_id)
    if user is None or not user.active or user.session_epoch != epoch:
        return None
    return user
